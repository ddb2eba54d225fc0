"""Torch twin of ``dlcourse.np.layers``: the same forward/backward pairs in torch ops.

Legend: N batch, D input features, M output features, C classes. Tensors stay on their
device; nn.Linear(D, M) holds w.T as its weight and b as its bias.
"""

import torch


def _check_2d(name, tensor, width=None):
    if tensor.ndim != 2 or (width is not None and tensor.shape[1] != width):
        expected = f"(N, {width})" if width is not None else "(N, D)"
        raise ValueError(f"{name} must be {expected}, got shape {tuple(tensor.shape)}")
    return tensor


def affine_forward(x, w, b):
    """Torch twin of np.layers.affine_forward: out = x @ w + b."""
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
        raise ValueError(f"y must be ({logits.shape[0]},) integer class indices, got shape {tuple(y.shape)}, dtype {y.dtype}")
    log_probs = torch.log_softmax(logits, dim=1)
    n = len(y)
    rows = torch.arange(n, device=logits.device)
    loss = -log_probs[rows, y].mean()
    dlogits = log_probs.exp()
    dlogits[rows, y] -= 1.0
    return float(loss), dlogits / n
