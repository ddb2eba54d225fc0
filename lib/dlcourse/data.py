"""Offline datasets and synthetic tasks: the one place that knows where each lives.

Nothing here downloads: synthetic tasks are generated from a seeded ``rng``, real data
sets come from files that ship inside installed packages.
"""

import numpy as np

_GATES = {
    "or": (0, 1, 1, 1),
    "and": (0, 0, 0, 1),
    "nand": (1, 1, 1, 0),
    "xor": (0, 1, 1, 0),
}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a two-input logic gate.

    Returns X: (4, 2) float64, the inputs in the order (0,0), (0,1), (1,0), (1,1), and
    t: (4,) int64, the gate's output for each row. ``name`` is one of "or", "and",
    "nand", "xor" (any case).
    """
    key = str(name).lower()
    if key not in _GATES:
        raise ValueError(f"unknown logic gate {name!r}: choose one of {sorted(_GATES)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array(_GATES[key], dtype=np.int64)


def two_blobs(
    n: int,
    *,
    rng: np.random.Generator,
    separation: float = 2.0,
    std: float = 1.0,
    label_noise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian clouds in the plane, half of the points in each.

    The two centres lie ``separation`` apart on the diagonal x1 = x2, symmetric about the
    origin, class 1 up and to the right. With ``label_noise = p`` each label is flipped
    independently with probability p (about a fraction p of them, not exactly), so the
    data need not be linearly separable.
    Returns X: (n, 2) float64 and t: (n,) int64 in {0, 1}.
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not 0.0 <= label_noise <= 1.0:
        raise ValueError(f"label_noise is a probability in [0, 1], got {label_noise}")
    t = np.arange(n) % 2
    t = rng.permutation(t).astype(np.int64)
    centre = np.full(2, separation / (2 * np.sqrt(2)))
    X = rng.normal(scale=std, size=(n, 2)) + np.where(t[:, None] == 1, centre, -centre)
    flip = rng.random(n) < label_noise
    t = np.where(flip, 1 - t, t).astype(np.int64)
    return X, t
