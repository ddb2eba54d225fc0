"""Torch twin of ``dlcourse.np.layers``: the same forward/backward pairs in torch ops.

Legend: N batch, D input features, M output features, H hidden features, C classes, p the
probability of dropping a unit. Tensors stay on their device and dtype; nn.Linear(D, M)
holds w.T as its weight and b as its bias.
"""

import torch


def _check_2d(name, tensor, width=None):
    if tensor.ndim != 2 or (width is not None and tensor.shape[1] != width):
        expected = f"(N, {width})" if width is not None else "(N, D)"
        raise ValueError(f"{name} must be {expected}, got shape {tuple(tensor.shape)}")
    return tensor


def _check_vector(name, tensor, length, why):
    if tuple(tensor.shape) != (length,):
        raise ValueError(f"{name} must be ({length},) {why}, got shape {tuple(tensor.shape)}")
    return tensor


def affine_forward(x, w, b):
    """Torch twin of np.layers.affine_forward: out = x @ w + b.

    x: (N, D); w: (D, M); b: (M,). Returns (out: (N, M), cache).
    """
    _check_2d("w", w)
    _check_2d("x", x, w.shape[0])
    if tuple(b.shape) != (w.shape[1],):
        raise ValueError(f"b must be ({w.shape[1]},) to match w: {tuple(w.shape)}, got shape {tuple(b.shape)}")
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    """Torch twin of np.layers.affine_backward: (dx, dw, db)."""
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(dim=0)


def sigmoid_forward(x):
    """Torch twin of np.layers.sigmoid_forward."""
    out = torch.sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    """Torch twin of np.layers.sigmoid_backward."""
    return dout * cache * (1 - cache)


def tanh_forward(x):
    """Torch twin of np.layers.tanh_forward."""
    out = torch.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """Torch twin of np.layers.tanh_backward."""
    return dout * (1 - cache * cache)


def bce_loss(p, y):
    """Torch twin of np.layers.bce_loss: (loss as a float, dp)."""
    if p.shape != y.shape:
        raise ValueError(f"p and y must have one shape, got {tuple(p.shape)} and {tuple(y.shape)}")
    if torch.any((p < 0) | (p > 1)):
        raise ValueError("p must hold probabilities in [0, 1]: apply the sigmoid first")
    y = y.to(p.dtype)
    log_p, log_q = torch.clamp(torch.log(p), min=-100.0), torch.clamp(torch.log1p(-p), min=-100.0)
    loss = -(y * log_p + (1 - y) * log_q).mean()
    dp = (p - y) / torch.clamp(p * (1 - p), min=1e-12) / p.numel()
    return float(loss), dp


def softmax_cross_entropy(logits, y):
    """Torch twin of np.layers.softmax_cross_entropy: (loss as a float, dlogits)."""
    _check_2d("logits", logits)
    if tuple(y.shape) != (logits.shape[0],) or y.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"y must be ({logits.shape[0]},) integer class indices,"
                         f" got shape {tuple(y.shape)}, dtype {y.dtype}")
    log_probs = torch.log_softmax(logits, dim=1)
    n = len(y)
    rows = torch.arange(n, device=logits.device)
    loss = -log_probs[rows, y].mean()
    dlogits = log_probs.exp()
    dlogits[rows, y] -= 1.0
    return float(loss), dlogits / n


# ---------------------------------------------------------------- deeper networks


def relu_forward(x):
    """Torch twin of np.layers.relu_forward: out = max(0, x), cache = x."""
    return torch.clamp(x, min=0), x


def relu_backward(dout, cache):
    """Torch twin of np.layers.relu_backward: dout where x > 0, else 0 (0 at x == 0)."""
    x = cache
    return dout * (x > 0)


def leaky_relu_forward(x, *, slope=0.01):
    """Torch twin of np.layers.leaky_relu_forward: x where x > 0, else slope * x."""
    slope = float(slope)
    return torch.where(x > 0, x, slope * x), (x, slope)


def leaky_relu_backward(dout, cache):
    """Torch twin of np.layers.leaky_relu_backward: dout where x > 0, else slope * dout."""
    x, slope = cache
    return torch.where(x > 0, dout, slope * dout)


def softplus_forward(x):
    """Torch twin of np.layers.softplus_forward: log(1 + e^x) as logaddexp(0, x), cache = x."""
    return torch.logaddexp(torch.zeros_like(x), x), x


def softplus_backward(dout, cache):
    """Torch twin of np.layers.softplus_backward: dout * sigmoid(x)."""
    return dout * torch.sigmoid(cache)


def dropout_forward(x, *, p, generator=None, train=True):
    """Torch twin of np.layers.dropout_forward: inverted dropout, cache = keep / (1 - p).

    The uniforms are drawn with ``generator`` (None: torch's global generator) on the
    generator's own device and then moved to x's device, since a CPU generator cannot
    sample on CUDA: a seeded CPU generator gives the same mask on every device.
    With train=False: (x, None), and backward is the identity.
    """
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(
            f"p (the probability of dropping a unit) must satisfy 0 <= p < 1, got {p}:"
            " p = 1 would drop every unit and the inverted scaling 1 / (1 - p) would divide by zero")
    if not train:
        return x, None
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    device = generator.device if generator is not None else x.device
    uniform = torch.rand(x.shape, generator=generator, device=device, dtype=x.dtype).to(x.device)
    mask = (uniform >= p).to(x.dtype) / (1.0 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    """Torch twin of np.layers.dropout_backward: dout * cache, or dout when cache is None."""
    mask = cache
    return dout if mask is None else dout * mask


def batchnorm_forward(x, gamma, beta, *, eps=1e-5):
    """Torch twin of np.layers.batchnorm_forward: training mode, biased batch variance.

    Returns (out: (N, D), cache = (x_hat, gamma, inv_std)).
    """
    _check_2d("x", x)
    n, d = x.shape
    if n < 2:
        raise ValueError(f"x must hold at least 2 samples, got shape {tuple(x.shape)}: one sample has no batch"
                         " statistics (its variance is 0 and x_hat would be 0 whatever x is)")
    _check_vector("gamma", gamma, d, f"to match x: {tuple(x.shape)}")
    _check_vector("beta", beta, d, f"to match x: {tuple(x.shape)}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}: it keeps a constant feature (variance 0)"
                         " from dividing by zero")
    mean = x.mean(dim=0)
    var = x.var(dim=0, correction=0)  # biased: divides by N
    inv_std = torch.rsqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """Torch twin of np.layers.batchnorm_backward: (dx, dgamma, dbeta)."""
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(dim=0)
    dgamma = (dout * x_hat).sum(dim=0)
    dx = (gamma * inv_std / n) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def residual_forward(x, w1, b1, w2, b2):
    """Torch twin of np.layers.residual_forward: y = x + relu(x @ w1 + b1) @ w2 + b2.

    x: (N, D); w1: (D, H); b1: (H,); w2: (H, D); b2: (D,). Returns (out: (N, D), cache).
    """
    _check_2d("w1", w1)
    _check_2d("x", x, w1.shape[0])
    d, h = w1.shape
    if tuple(w2.shape) != (h, d):
        raise ValueError(f"w2 must be ({h}, {d}) to map the hidden width H = {h} back to x's width D = {d}"
                         f" (the block adds x to R(x)), got shape {tuple(w2.shape)}")
    _check_vector("b1", b1, h, f"to match w1: {tuple(w1.shape)}")
    _check_vector("b2", b2, d, f"to match w2: {tuple(w2.shape)}")
    a, affine1_cache = affine_forward(x, w1, b1)
    hidden, relu_cache = relu_forward(a)
    r, affine2_cache = affine_forward(hidden, w2, b2)
    return x + r, (affine1_cache, relu_cache, affine2_cache)


def residual_backward(dout, cache):
    """Torch twin of np.layers.residual_backward: (dx, dw1, db1, dw2, db2), dx = dout + through R."""
    affine1_cache, relu_cache, affine2_cache = cache
    dhidden, dw2, db2 = affine_backward(dout, affine2_cache)
    da = relu_backward(dhidden, relu_cache)
    dx_r, dw1, db1 = affine_backward(da, affine1_cache)
    return dout + dx_r, dw1, db1, dw2, db2
