"""Layers as forward/backward pairs with a cache (CS231n's layers.py).

Legend: N batch, D input features, M output features, C classes.

    out, cache = affine_forward(x, w, b)       x: (N, D), w: (D, M), b: (M,) -> out: (N, M)
    dx, dw, db = affine_backward(dout, cache)  gradients in the order of forward's arrays

nn.Linear(D, M) holds w.T as its weight and b as its bias. Losses return the loss (a
float, the mean over the batch) and its gradient with respect to their first argument.
"""

import numpy as np


def _check_2d(name, array, width=None):
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2 or (width is not None and array.shape[1] != width):
        expected = f"(N, {width})" if width is not None else "(N, D)"
        raise ValueError(f"{name} must be {expected}, got shape {array.shape}")
    return array


def affine_forward(x, w, b):
    """out = x @ w + b. x: (N, D); w: (D, M); b: (M,). Returns (out: (N, M), cache)."""
    w = _check_2d("w", w)
    x = _check_2d("x", x, w.shape[0])
    b = np.asarray(b, dtype=np.float64)
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must be ({w.shape[1]},) to match w: {w.shape}, got shape {b.shape}")
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    """dout: (N, M). Returns dx: (N, D), dw: (D, M), db: (M,) (db summed over the batch)."""
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def sigmoid_forward(x):
    """out = 1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2 to avoid overflow."""
    out = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))
    return out, out


def sigmoid_backward(dout, cache):
    """sigma' = sigma (1 - sigma), read from the cached output."""
    out = cache
    return dout * out * (1.0 - out)


def tanh_forward(x):
    out = np.tanh(np.asarray(x, dtype=np.float64))
    return out, out


def tanh_backward(dout, cache):
    """tanh' = 1 - tanh^2, read from the cached output."""
    out = cache
    return dout * (1.0 - out * out)


def bce_loss(p, y):
    """Binary cross-entropy of probabilities p: (N,) against targets y: (N,) in {0, 1}:
    loss = -mean(y log p + (1 - y) log(1 - p)); dp = (-y / p + (1 - y) / (1 - p)) / N.
    As torch.nn.functional.binary_cross_entropy, each log is clamped at -100."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if p.shape != y.shape:
        raise ValueError(f"p and y must have one shape, got {p.shape} and {y.shape}")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must hold probabilities in [0, 1]: apply the sigmoid first")
    with np.errstate(divide="ignore"):
        log_p, log_q = np.maximum(np.log(p), -100.0), np.maximum(np.log1p(-p), -100.0)
    loss = -np.mean(y * log_p + (1 - y) * log_q)
    eps = 1e-12  # torch's guard against 0 / 0 at p = 0 or 1
    dp = (p - y) / np.maximum(p * (1 - p), eps) / p.size
    return float(loss), dp


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of logits: (N, C) against class indices y: (N,) int.
    Returns (loss, dlogits) with dlogits = (softmax(logits) - onehot(y)) / N."""
    logits = _check_2d("logits", logits)
    y = np.asarray(y)
    if y.shape != (logits.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be ({logits.shape[0]},) integer class indices, got shape {y.shape}, dtype {y.dtype}")
    if np.any((y < 0) | (y >= logits.shape[1])):
        raise ValueError(f"class indices must lie in [0, {logits.shape[1] - 1}]")
    shifted = logits - logits.max(axis=1, keepdims=True)  # softmax is shift-invariant; this avoids overflow
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    n = len(y)
    loss = -log_probs[np.arange(n), y].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), y] -= 1.0
    return float(loss), dlogits / n
