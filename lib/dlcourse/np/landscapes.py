"""Loss surfaces for watching optimizers, and a loop that records their path.

Legend: D parameters, N examples (for logistic regression's loss). Each surface comes as
f(w) -> float, grad(w) -> (D,), and where the notebooks need it hessian(w) -> (D, D);
w: (D,) float64.

    f, grad, hessian = quadratic(H, b)                 H: (D, D) symmetric, b: (D,)
    H = rotated_hessian([1.0, 10.0], angle)            (2, 2)
    rosenbrock(w), rosenbrock_grad(w), rosenbrock_hessian(w)   w: (2,)
    path = run_optimizer(np_optim.sgd, grad, w0, steps=100, lr=0.1)   (steps + 1, D)
    mean_logistic_loss(w, X, y), mean_logistic_gradient(w, X, y, batch)   X: (N, D), y: (N,)
"""

from collections.abc import Callable

import numpy as np


def quadratic(H, b=None):
    """f(w) = 1/2 w^T H w - b^T w for a symmetric H: (D, D). Returns (f, grad, hessian).
    With H positive definite the minimum is at H^-1 b."""
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or not np.allclose(H, H.T):
        raise ValueError(f"H must be a symmetric square matrix, got shape {H.shape}")
    b = np.zeros(H.shape[0]) if b is None else np.asarray(b, dtype=np.float64)

    def f(w):
        w = np.asarray(w, dtype=np.float64)
        return float(0.5 * w @ H @ w - b @ w)

    def grad(w):
        return H @ np.asarray(w, dtype=np.float64) - b

    def hessian(w):
        return H.copy()

    return f, grad, hessian


def rotated_hessian(eigenvalues, angle: float) -> np.ndarray:
    """A 2x2 symmetric matrix with the given eigenvalues whose eigenvectors are the axes
    turned by ``angle`` radians: R diag(eigenvalues) R^T."""
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    return R @ np.diag(np.asarray(eigenvalues, dtype=np.float64)) @ R.T


def rosenbrock(w) -> float:
    """Rosenbrock's banana valley f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1).
    w: (2,) = (x, y)."""
    x, y = w
    return float((1 - x) ** 2 + 100 * (y - x * x) ** 2)


def rosenbrock_grad(w) -> np.ndarray:
    """The gradient of rosenbrock at w: (2,). Returns (2,)."""
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def rosenbrock_hessian(w) -> np.ndarray:
    """The Hessian of rosenbrock at w: (2,). Returns (2, 2)."""
    x, y = w
    return np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])


def run_optimizer(optimizer: Callable, grad: Callable, w0, *, steps: int, **settings) -> np.ndarray:
    """Apply ``optimizer`` (a dlcourse.np.optim function) ``steps`` times from w0.
    Returns the path: (steps + 1, D), row 0 = w0. Stops early, padding with the last finite
    point, if the iterate overflows (a diverging run)."""
    w = np.asarray(w0, dtype=np.float64).copy()
    path, state = [w], None
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            w, state = optimizer(w, grad(w), state, **settings)
            if not np.all(np.isfinite(w)) or np.max(np.abs(w)) > 1e12:
                path.extend([path[-1]] * (steps + 1 - len(path)))
                break
            path.append(w)
    return np.array(path)


def mean_logistic_loss(w, X, y) -> float:
    """Mean binary cross-entropy of logistic regression, p = sigmoid(X @ w), as a function of
    the weights, computed stably as mean(log(1 + e^z) - y z) with z = X @ w.
    w: (D,); X: (N, D); y: (N,) in {0, 1}. (dlcourse.np.adversarial.logistic_loss is the
    per-example loss, as a function of the inputs.)"""
    z = np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64)
    return float(np.mean(np.logaddexp(0.0, z) - np.asarray(y, dtype=np.float64) * z))


def mean_logistic_gradient(w, X, y, batch=None) -> np.ndarray:
    """Gradient of mean_logistic_loss with respect to w over the rows ``batch`` (all rows
    when None): X_B^T (sigmoid(X_B w) - y_B) / |B|. w: (D,); X: (N, D); y: (N,);
    batch: (B,) row indices. Returns (D,)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if batch is not None:
        X, y = X[batch], y[batch]
    p = 0.5 * (1.0 + np.tanh(0.5 * (X @ np.asarray(w, dtype=np.float64))))  # sigmoid without overflow
    return X.T @ (p - y) / len(y)
