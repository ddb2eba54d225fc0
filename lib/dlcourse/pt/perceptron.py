"""Torch twin of ``dlcourse.np.perceptron``: Rosenblatt's perceptron and the delta rule.

Legend: N samples, D input features; inputs carry the bias as a leading column of ones.

    X: (N, D+1)   rows (1, x1, ..., xD), see add_bias_column
    W: (D+1,)     (w0, w1, ..., wD), w0 the bias; nn.Linear(D, 1) holds w1..wD as
                  weight[0] and w0 as bias[0]
    t: (N,)       targets in {0, 1}

Tensors stay on the device of X and take its floating dtype; NumPy arrays and lists
become float64 CPU tensors.
"""

from dataclasses import dataclass

import torch


def _as_float(value, like: torch.Tensor | None = None) -> torch.Tensor:
    if like is not None:
        return torch.as_tensor(value, dtype=like.dtype, device=like.device)
    tensor = torch.as_tensor(value)
    return tensor if tensor.is_floating_point() else tensor.to(torch.float64)


def add_bias_column(X) -> torch.Tensor:
    """Torch twin of np.perceptron.add_bias_column: X: (N, D) -> (N, D+1)."""
    X = _as_float(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, D), got shape {tuple(X.shape)}")
    ones = torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)
    return torch.cat([ones, X], dim=1)


def _as_weights(W, like: torch.Tensor | None = None) -> torch.Tensor:
    W = _as_float(W, like)
    if W.ndim != 1:
        raise ValueError(f"W must be 1-D (D+1,), got shape {tuple(W.shape)}")
    return W


def _as_design(X, W: torch.Tensor, *, name: str = "X") -> torch.Tensor:
    X = _as_float(X, W)
    if X.ndim not in (1, 2) or X.shape[-1] != W.shape[0]:
        raise ValueError(
            f"{name} must be (N, {W.shape[0]}) or ({W.shape[0]},) to match W: ({W.shape[0]},), "
            f"got shape {tuple(X.shape)}; did you forget the bias column (add_bias_column)?"
        )
    return X


def _as_targets(t, X: torch.Tensor, *, binary: bool = False) -> torch.Tensor:
    """Targets as floats of shape (N,); with ``binary`` they must be class labels 0 or 1."""
    t = _as_float(t, X)
    if t.shape != X.shape[:1]:
        raise ValueError(
            f"t must be ({X.shape[0]},) to match X: {tuple(X.shape)}, got shape {tuple(t.shape)}"
        )
    if binary and not ((t == 0) | (t == 1)).all():
        raise ValueError(
            f"targets must be 0 or 1, got {t.unique()[:5].tolist()}: map -1/+1 labels with (t + 1) // 2"
        )
    return t


def _weights_and_design(W, X, *, name: str = "X") -> tuple[torch.Tensor, torch.Tensor]:
    """W on X's device and dtype when X is a tensor, else X on W's."""
    like = X if isinstance(X, torch.Tensor) and X.is_floating_point() else None
    W = _as_weights(W, like)
    return W, _as_design(X, W, name=name)


def perceptron_predict(W, X) -> torch.Tensor:
    """Torch twin of np.perceptron.perceptron_predict: y = 1 where X @ W > 0, else 0.

    W: (D+1,); X: (N, D+1) or (D+1,). Returns y: (N,) int64 (0-d for one sample).
    """
    W, X = _weights_and_design(W, X)
    return (X @ W > 0).to(torch.int64)


def perceptron_update(W, x, t, *, eta: float = 1.0) -> tuple[torch.Tensor, int]:
    """Torch twin of np.perceptron.perceptron_update: W' = W + eta * x * (t - y).

    W: (D+1,); x: (D+1,); t: 0 or 1. Returns (W', y), y predicted before the update.
    """
    W, x = _weights_and_design(W, x, name="x")
    if x.ndim != 1:
        raise ValueError(f"x must be one sample ({W.shape[0]},), got shape {tuple(x.shape)}")
    y = int(perceptron_predict(W, x))
    return W + eta * x * (float(t) - y), y


@dataclass(frozen=True)
class PerceptronStep:
    """Torch twin of np.perceptron.PerceptronStep: one presentation of one sample."""

    epoch: int  # counted from 1
    x: torch.Tensor  # (D+1,)
    w_before: torch.Tensor  # (D+1,)
    y: int
    t: int
    w_after: torch.Tensor  # (D+1,)

    @property
    def error(self) -> bool:
        return self.y != self.t


def perceptron_train(
    X, t, W0, *, eta: float = 1.0, max_epochs: int = 100
) -> tuple[torch.Tensor, list[PerceptronStep]]:
    """Torch twin of np.perceptron.perceptron_train.

    Samples in order, an update after each error, stopping after the first epoch with no
    error (kept in the trace) or after ``max_epochs``.
    X: (N, D+1); t: (N,); W0: (D+1,), not modified. Returns (W, trace).
    """
    W, X = _weights_and_design(W0, X)
    W = W.clone()
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, {W.shape[0]}), got shape {tuple(X.shape)}")
    t = _as_targets(t, X, binary=True)
    if max_epochs < 1:
        raise ValueError(f"max_epochs must be at least 1, got {max_epochs}")
    trace = []
    for epoch in range(1, max_epochs + 1):
        errors = 0
        for x, target in zip(X, t.tolist()):
            W_new, y = perceptron_update(W, x, target, eta=eta)
            trace.append(PerceptronStep(epoch, x.clone(), W, y, int(target), W_new))
            errors += y != target
            W = W_new
        if errors == 0:
            break
    return W, trace


def format_trace(trace: list[PerceptronStep], *, names: tuple[str, ...] | None = None) -> str:
    """Torch twin of np.perceptron.format_trace: the trace as a fixed-width text table."""
    from dlcourse.np.perceptron import format_trace as format_numpy_trace

    return format_numpy_trace(trace, names=names)  # 0-d tensors format like numbers


def delta_rule_loss(W, X, t) -> torch.Tensor:
    """Torch twin of np.perceptron.delta_rule_loss: E = 1/2 sum_n (t_n - X[n] . W)^2.
    W: (D+1,); X: (N, D+1); t: (N,). Returns a 0-d tensor."""
    W, X = _weights_and_design(W, X)
    residual = _as_targets(t, X) - X @ W  # (N,)
    return 0.5 * residual @ residual


def delta_rule_gradient(W, X, t) -> torch.Tensor:
    """Torch twin of np.perceptron.delta_rule_gradient: dE/dW = -X^T (t - X W).

    W: (D+1,); X: (N, D+1); t: (N,). Returns dW: (D+1,).
    """
    W, X = _weights_and_design(W, X)
    residual = _as_targets(t, X) - X @ W  # (N,)
    return -X.T @ residual


def delta_rule_train(
    X, t, W0, *, eta: float = 0.01, epochs: int = 50, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Torch twin of np.perceptron.delta_rule_train: W += eta * x * (t - W . x) per sample.

    Samples in order, or shuffled each epoch by ``generator`` (a CPU torch.Generator).
    X: (N, D+1); t: (N,); W0: (D+1,). Returns (W, losses: (epochs + 1,)).
    """
    W, X = _weights_and_design(W0, X)
    W = W.clone()
    t = _as_targets(t, X)
    losses = [delta_rule_loss(W, X, t)]
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator) if generator is not None else range(len(X))
        for n in order:
            W = W + eta * X[n] * (t[n] - X[n] @ W)
        losses.append(delta_rule_loss(W, X, t))
    return W, torch.stack(losses)


def signed_distance(W, X) -> torch.Tensor:
    """Torch twin of np.perceptron.signed_distance: X @ W / ||W[1:]||.

    W: (D+1,); X: (N, D+1). Returns (N,), positive on the side predicted 1.
    """
    W, X = _weights_and_design(W, X)
    norm = torch.linalg.vector_norm(W[1:])
    if norm == 0:
        raise ValueError("W[1:] is zero: the boundary W . x = 0 is not a hyperplane")
    return X @ W / norm


def margin(W, X, t) -> float:
    """Torch twin of np.perceptron.margin: min_n s_n * signed_distance_n, s_n = 2 t_n - 1.

    W: (D+1,); X: (N, D+1); t: (N,) in {0, 1}. Returns a float.
    """
    W, X = _weights_and_design(W, X)
    sign = 2 * _as_targets(t, X, binary=True) - 1  # (N,)
    return float(torch.min(sign * signed_distance(W, X)))
