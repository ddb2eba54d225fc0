"""Layers as forward/backward pairs with a cache (CS231n's layers.py).

Legend: N batch, D input features, M output features, H hidden features, C classes,
p the probability of dropping a unit.

    out, cache = affine_forward(x, w, b)       x: (N, D), w: (D, M), b: (M,) -> out: (N, M)
    dx, dw, db = affine_backward(dout, cache)  gradients in the order of forward's arrays

    relu, leaky_relu, softplus, dropout       elementwise: out has x's shape, any shape
    batchnorm_forward(x, gamma, beta)          x: (N, D), gamma, beta: (D,) -> out: (N, D)
    residual_forward(x, w1, b1, w2, b2)        x: (N, D), w1: (D, H), b1: (H,), w2: (H, D),
                                               b2: (D,) -> out = x + R(x): (N, D)

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


def _check_vector(name, array, length, why):
    array = np.asarray(array, dtype=np.float64)
    if array.shape != (length,):
        raise ValueError(f"{name} must be ({length},) {why}, got shape {array.shape}")
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
    """out = tanh(x), elementwise; the output is the cache (tanh_backward reads it)."""
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


# ---------------------------------------------------------------- deeper networks


def relu_forward(x):
    """out = max(0, x), elementwise. x: any shape. Returns (out, cache = x)."""
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    """dx = dout where x > 0, else 0. At x == 0 exactly the gradient is 0, as in torch."""
    x = cache
    return dout * (x > 0)


def leaky_relu_forward(x, *, slope=0.01):
    """out = x where x > 0, else slope * x (torch's negative_slope). Returns (out, cache)."""
    x = np.asarray(x, dtype=np.float64)
    slope = float(slope)
    return np.where(x > 0, x, slope * x), (x, slope)


def leaky_relu_backward(dout, cache):
    """dx = dout where x > 0, else slope * dout (slope at x == 0 exactly, as in torch)."""
    x, slope = cache
    return np.where(x > 0, dout, slope * dout)


def softplus_forward(x):
    """out = log(1 + e^x), computed as np.logaddexp(0, x) so that large x does not overflow.

    torch.nn.functional.softplus returns x itself above its threshold (x > 20), where the
    two differ by less than 1e-9 relative. Returns (out, cache = x).
    """
    x = np.asarray(x, dtype=np.float64)
    return np.logaddexp(0.0, x), x


def softplus_backward(dout, cache):
    """softplus'(x) = sigmoid(x) = 1 / (1 + e^-x), computed as exp(x - softplus(x)), which
    neither overflows nor loses the small values of sigmoid at very negative x."""
    x = cache
    return dout * np.exp(x - np.logaddexp(0.0, x))


def dropout_forward(x, *, p, rng, train=True):
    """Inverted dropout: drop each unit with probability p and scale the kept ones by 1/(1-p).

    In training, keep = rng.random(x.shape) >= p and out = x * keep / (1 - p), so that
    E[out] = x and nothing needs rescaling at test time. With train=False the layer is the
    identity (rng is not used and may be None). p = 0 gives the identity too.
    x: any shape; p: float in [0, 1); rng: np.random.Generator.
    Returns (out: x's shape, cache): cache is the scaled mask keep / (1 - p), x's shape,
    holding 0 where a unit was dropped and 1 / (1 - p) where it was kept (out == x * cache);
    with train=False the cache is None, and backward passes dout through unchanged.
    """
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(
            f"p (the probability of dropping a unit) must satisfy 0 <= p < 1, got {p}:"
            " p = 1 would drop every unit and the inverted scaling 1 / (1 - p) would divide by zero")
    x = np.asarray(x, dtype=np.float64)
    if not train:
        return x, None
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    mask = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    """dx = dout * cache (the scaled mask); dx = dout when forward ran with train=False."""
    mask = cache
    return dout if mask is None else dout * mask


def batchnorm_forward(x, gamma, beta, *, eps=1e-5):
    """Batch normalisation in training mode, per feature over the batch.

    mean and var are the batch mean and the BIASED variance (divided by N, as torch
    normalises), x_hat = (x - mean) / sqrt(var + eps) and out = gamma * x_hat + beta.
    No running averages are kept (nn.BatchNorm1d keeps them for eval mode, its running_var
    with the unbiased variance). x: (N, D) with N >= 2; gamma, beta: (D,).
    Returns (out: (N, D), cache = (x_hat, gamma, inv_std)) with inv_std = 1 / sqrt(var + eps): (D,).
    """
    x = _check_2d("x", x)
    n, d = x.shape
    if n < 2:
        raise ValueError(f"x must hold at least 2 samples, got shape {x.shape}: one sample has no batch statistics"
                         " (its variance is 0 and x_hat would be 0 whatever x is)")
    gamma = _check_vector("gamma", gamma, d, f"to match x: {x.shape}")
    beta = _check_vector("beta", beta, d, f"to match x: {x.shape}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}: it keeps a constant feature (variance 0)"
                         " from dividing by zero")
    mean = x.mean(axis=0)                        # (D,)
    var = x.var(axis=0)                          # (D,), biased: divides by N
    inv_std = 1.0 / np.sqrt(var + eps)           # (D,)
    x_hat = (x - mean) * inv_std                 # (N, D)
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """dout: (N, D). Returns dx: (N, D), dgamma: (D,), dbeta: (D,).

    dbeta = sum_n dout, dgamma = sum_n dout * x_hat, and through the batch statistics
    dx = (gamma * inv_std / N) * (N * dout - dbeta - x_hat * dgamma).
    """
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = (gamma * inv_std / n) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def residual_forward(x, w1, b1, w2, b2):
    """A residual block y = x + R(x) with R(x) = relu(x @ w1 + b1) @ w2 + b2.

    x: (N, D); w1: (D, H); b1: (H,); w2: (H, D); b2: (D,). The block keeps the width D so
    that x can be added to R(x). Returns (out: (N, D), cache).
    """
    w1 = _check_2d("w1", w1)
    x = _check_2d("x", x, w1.shape[0])
    d, h = w1.shape
    w2 = np.asarray(w2, dtype=np.float64)
    if w2.shape != (h, d):
        raise ValueError(f"w2 must be ({h}, {d}) to map the hidden width H = {h} back to x's width D = {d}"
                         f" (the block adds x to R(x)), got shape {w2.shape}")
    b1 = _check_vector("b1", b1, h, f"to match w1: {w1.shape}")
    b2 = _check_vector("b2", b2, d, f"to match w2: {w2.shape}")
    a, affine1_cache = affine_forward(x, w1, b1)  # (N, H)
    hidden, relu_cache = relu_forward(a)          # (N, H)
    r, affine2_cache = affine_forward(hidden, w2, b2)  # (N, D)
    return x + r, (affine1_cache, relu_cache, affine2_cache)


def residual_backward(dout, cache):
    """dout: (N, D). Returns (dx, dw1, db1, dw2, db2) in the shapes of forward's arrays.

    The skip connection adds the identity to the Jacobian: dl/dx = dl/dy (1 + dR/dx), so
    dx = dout + (dout back-propagated through R), and the gradient reaches x even where R's
    is small.
    """
    affine1_cache, relu_cache, affine2_cache = cache
    dhidden, dw2, db2 = affine_backward(dout, affine2_cache)
    da = relu_backward(dhidden, relu_cache)
    dx_r, dw1, db1 = affine_backward(da, affine1_cache)
    return dout + dx_r, dw1, db1, dw2, db2
