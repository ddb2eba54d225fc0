"""Rosenblatt's perceptron and the Widrow-Hoff delta rule.

Legend: N samples, D input features. Inputs carry the bias as a leading column of ones,
x0 = 1, so a weight vector W: (D+1,) holds the bias in W[0] and the prediction is
y = 1 if W . x > 0 else 0.

    X: (N, D+1)   rows (1, x1, ..., xD), see add_bias_column
    W: (D+1,)     (w0, w1, ..., wD), w0 the bias
    t: (N,)       targets in {0, 1}
"""

from dataclasses import dataclass

import numpy as np


def add_bias_column(X) -> np.ndarray:
    """Prepend the constant input x0 = 1. X: (N, D) -> (N, D+1) float64."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, D), got shape {X.shape}")
    return np.hstack([np.ones((X.shape[0], 1)), X])


def _as_weights(W) -> np.ndarray:
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 1:
        raise ValueError(f"W must be 1-D (D+1,), got shape {W.shape}")
    return W


def _as_design(X, W: np.ndarray, *, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim not in (1, 2) or X.shape[-1] != W.shape[0]:
        raise ValueError(
            f"{name} must be (N, {W.shape[0]}) or ({W.shape[0]},) to match W: ({W.shape[0]},), "
            f"got shape {X.shape}; did you forget the bias column (add_bias_column)?"
        )
    return X


def _as_targets(t, X: np.ndarray, *, binary: bool = False) -> np.ndarray:
    """Targets as floats of shape (N,); with ``binary`` they must be class labels 0 or 1."""
    t = np.asarray(t)
    if t.shape != X.shape[:1]:
        raise ValueError(f"t must be ({X.shape[0]},) to match X: {X.shape}, got shape {t.shape}")
    if binary and not np.isin(t, (0, 1)).all():
        raise ValueError(f"targets must be 0 or 1, got {np.unique(t)[:5].tolist()}: map -1/+1 labels with (t + 1) // 2")
    return t.astype(np.float64)


def perceptron_predict(W, X) -> np.ndarray:
    """Threshold unit: y = 1 where X @ W > 0 (strictly), else 0.

    W: (D+1,); X: (N, D+1), or one sample (D+1,). Returns y: (N,) int64, or a 0-d array
    for one sample.
    """
    W = _as_weights(W)
    X = _as_design(X, W)
    return (X @ W > 0).astype(np.int64)


def perceptron_update(W, x, t, *, eta: float = 1.0) -> tuple[np.ndarray, int]:
    """One step of the perceptron rule on one sample: W' = W + eta * x * (t - y).

    W: (D+1,); x: (D+1,) with x[0] = 1; t: 0 or 1. Returns (W', y) where y is the
    prediction made before the update. W is not modified.
    """
    W = _as_weights(W)
    x = _as_design(x, W, name="x")
    if x.ndim != 1:
        raise ValueError(f"x must be one sample ({W.shape[0]},), got shape {x.shape}")
    y = int(perceptron_predict(W, x))
    return W + eta * x * (float(t) - y), y


@dataclass(frozen=True)
class PerceptronStep:
    """One presentation of one sample: what the rule saw and what it did."""

    epoch: int  # counted from 1
    x: np.ndarray  # (D+1,)
    w_before: np.ndarray  # (D+1,)
    y: int
    t: int
    w_after: np.ndarray  # (D+1,)

    @property
    def error(self) -> bool:
        return self.y != self.t


def perceptron_train(
    X, t, W0, *, eta: float = 1.0, max_epochs: int = 100
) -> tuple[np.ndarray, list[PerceptronStep]]:
    """Rosenblatt's training loop.

    Presents the samples in their order, one epoch after another, updating after each
    error, and stops after the first epoch in which no sample was misclassified (that
    clean epoch is in the trace), or after ``max_epochs`` epochs if none is clean, as on
    data that are not linearly separable: check ``trace[-1].epoch`` and the errors of the
    last epoch to tell.
    X: (N, D+1); t: (N,) in {0, 1}; W0: (D+1,), not modified.
    Returns (W, trace): the final weights and one PerceptronStep per presentation.
    """
    W = _as_weights(W0).copy()
    X = _as_design(X, W)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, {W.shape[0]}), got shape {X.shape}")
    t = _as_targets(t, X, binary=True)
    if max_epochs < 1:
        raise ValueError(f"max_epochs must be at least 1, got {max_epochs}")
    trace = []
    for epoch in range(1, max_epochs + 1):
        errors = 0
        for x, target in zip(X, t):
            W_new, y = perceptron_update(W, x, target, eta=eta)
            trace.append(PerceptronStep(epoch, x.copy(), W, y, int(target), W_new))
            errors += y != target
            W = W_new
        if errors == 0:
            break
    return W, trace


def format_trace(trace: list[PerceptronStep], *, names: tuple[str, ...] | None = None) -> str:
    """The trace as a fixed-width text table: epoch, x, W before, y, t, W after."""
    if not trace:
        return "(empty trace)"
    width = trace[0].x.shape[0]
    names = names or tuple(f"x{i}" for i in range(width))
    weights = tuple("w" + n[1:] for n in names)

    def row(values):
        return " ".join(f"{v:>5}" for v in values)

    def number(v):
        return f"{v:g}"

    lines = [row(("epoch", *names, *weights, "y", "t", *(w + "'" for w in weights)))]
    for step in trace:
        lines.append(row((
            step.epoch,
            *map(number, step.x),
            *map(number, step.w_before),
            step.y,
            step.t,
            *map(number, step.w_after),
        )))
    return "\n".join(lines)


def delta_rule_loss(W, X, t) -> float:
    """Squared error of the linear unit y = X @ W: E = 1/2 sum_n (t_n - y_n)^2.
    W: (D+1,); X: (N, D+1); t: (N,). Returns a float."""
    W = _as_weights(W)
    X = _as_design(X, W)
    residual = _as_targets(t, X) - X @ W  # (N,)
    return 0.5 * float(residual @ residual)


def delta_rule_gradient(W, X, t) -> np.ndarray:
    """dE/dW for E = 1/2 sum_n (t_n - X[n] . W)^2, which is -X^T (t - X W).

    The unit is linear here (no threshold): that is what makes E differentiable.
    W: (D+1,); X: (N, D+1); t: (N,). Returns dW: (D+1,).
    """
    W = _as_weights(W)
    X = _as_design(X, W)
    residual = _as_targets(t, X) - X @ W  # (N,)
    return -X.T @ residual


def delta_rule_train(
    X, t, W0, *, eta: float = 0.01, epochs: int = 50, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Widrow-Hoff (LMS) learning: after each sample, W += eta * x * (t - W . x).

    This is stochastic gradient descent on E, one sample at a time, presented in order
    (shuffled each epoch when an ``rng`` is given). X: (N, D+1); t: (N,); W0: (D+1,).
    Returns (W, losses): losses: (epochs + 1,), E before training and after each epoch.
    """
    W = _as_weights(W0).copy()
    X = _as_design(X, W)
    t = _as_targets(t, X)
    losses = [delta_rule_loss(W, X, t)]
    for _ in range(epochs):
        order = rng.permutation(len(X)) if rng is not None else range(len(X))
        for n in order:
            W = W + eta * X[n] * (t[n] - X[n] @ W)
        losses.append(delta_rule_loss(W, X, t))
    return W, np.array(losses)


def signed_distance(W, X) -> np.ndarray:
    """Signed Euclidean distance of each input point to the boundary W . x = 0.

    The bias w0 shifts the boundary but is not part of its normal vector, so the norm is
    taken over W[1:] only. Positive on the side predicted 1.
    W: (D+1,); X: (N, D+1). Returns (N,).
    """
    W = _as_weights(W)
    X = _as_design(X, W)
    norm = np.linalg.norm(W[1:])
    if norm == 0:
        raise ValueError("W[1:] is zero: the boundary W . x = 0 is not a hyperplane")
    return X @ W / norm


def margin(W, X, t) -> float:
    """Geometric margin of the boundary on a labelled set: min_n s_n * distance_n,
    with s_n = +1 for t_n = 1 and -1 for t_n = 0.

    Positive exactly when every point is on its own side (strictly); its size is how far
    the closest point is from the boundary. W: (D+1,); X: (N, D+1); t: (N,).
    """
    W = _as_weights(W)
    X = _as_design(X, W)
    sign = 2 * _as_targets(t, X, binary=True) - 1  # (N,)
    return float(np.min(sign * signed_distance(W, X)))
