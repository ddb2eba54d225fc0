"""Torch twin of ``dlcourse.np.attention``: the same forward/backward pairs in torch ops.

Legend: N batch, T query positions, S key (and value) positions, D model width, H heads,
Dh = D / H the width of one head, Dk key width, Dv value width. Tensors stay on their device
and dtype; masks are boolean, True where a query may attend (as the boolean attn_mask of
torch.nn.functional.scaled_dot_product_attention; nn.MultiheadAttention's means the opposite).
"""

import math

import torch

from dlcourse.validate import (
    check_attention_shapes,
    check_heads,
    check_int,
    check_mask_lets_every_query_attend,
    check_nonnegative,
    check_upstream,
)


def softmax(x, *, axis=-1):
    """Torch twin of np.attention.softmax: exp(x) / sum(exp(x)) along ``axis``, max subtracted."""
    shifted = x - x.amax(dim=axis, keepdim=True)
    e = torch.exp(shifted)
    return e / e.sum(dim=axis, keepdim=True)


def _bool_mask(mask):
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        dtype = mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise TypeError(f"mask must be boolean (True where a query may attend), got dtype {dtype}")
    return mask


def scaled_dot_product_attention(q, k, v, *, mask=None):
    """Torch twin of np.attention.scaled_dot_product_attention: softmax(q k^T / sqrt(Dk)) v.

    q: (N, T, Dk), k: (N, S, Dk), v: (N, S, Dv); mask: (T, S) or (N, T, S) bool, True where a
    query may attend. Returns (out: (N, T, Dv), cache); the weights (N, T, S) are cache[3].
    """
    check_attention_shapes(q.shape, k.shape, v.shape, None if mask is None else mask.shape)
    scale = 1.0 / math.sqrt(q.shape[-1])
    scores = q @ k.transpose(-1, -2) * scale
    if mask is not None:
        mask = _bool_mask(mask).to(scores.device)
        check_mask_lets_every_query_attend(bool(mask.any(dim=-1).all()))
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = softmax(scores, axis=-1)
    return weights @ v, (q, k, v, weights, scale)


def scaled_dot_product_attention_backward(dout, cache):
    """Torch twin of np.attention.scaled_dot_product_attention_backward: (dq, dk, dv)."""
    q, k, v, weights, scale = cache
    check_upstream("dout", dout.shape, (*weights.shape[:-1], v.shape[-1]), "(the shape of out)")
    dv = weights.transpose(-1, -2) @ dout
    dweights = dout @ v.transpose(-1, -2)
    dscores = weights * (dweights - (dweights * weights).sum(dim=-1, keepdim=True))
    return dscores @ k * scale, dscores.transpose(-1, -2) @ q * scale, dv


def causal_mask(T, *, device=None):
    """Torch twin of np.attention.causal_mask: (T, T) bool, True where key s <= query t."""
    T = check_int("T", T, 1, "a sequence has at least one position")
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def split_heads(x, n_heads):
    """Torch twin of np.attention.split_heads: (N, T, D) -> (N, H, T, D / H)."""
    if x.ndim != 3:
        raise ValueError(f"x must be (N, T, D), got shape {tuple(x.shape)}")
    dh = check_heads(x.shape[-1], n_heads)
    n, t, _ = x.shape
    return x.reshape(n, t, n_heads, dh).transpose(1, 2)


def merge_heads(x):
    """Torch twin of np.attention.merge_heads: (N, H, T, Dh) -> (N, T, H * Dh)."""
    if x.ndim != 4:
        raise ValueError(f"x must be (N, H, T, Dh), got shape {tuple(x.shape)}")
    n, h, t, dh = x.shape
    return x.transpose(1, 2).reshape(n, t, h * dh)


def _check_projection(name, w, d):
    if tuple(w.shape) != (d, d):
        raise ValueError(f"{name} must be (D, D) = {(d, d)} for inputs of width D = {d}, got shape {tuple(w.shape)}")
    return w


def multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, *, n_heads, mask=None):
    """Torch twin of np.attention.multi_head_attention: H heads of scaled dot-product
    attention between x_q @ w_q and x_kv @ w_k, x_kv @ w_v, merged and projected by w_o.

    x_q: (N, T, D), x_kv: (N, S, D), every w: (D, D); mask (T, S) or (N, T, S) bool. As
    nn.MultiheadAttention(D, H, bias=False, batch_first=True) with in_proj_weight =
    cat([w_q.T, w_k.T, w_v.T]), out_proj.weight = w_o.T and attn_mask = ~mask.
    Returns (out: (N, T, D), cache).
    """
    if x_q.ndim != 3 or x_kv.ndim != 3 or x_q.shape[0] != x_kv.shape[0] or x_q.shape[2] != x_kv.shape[2]:
        raise ValueError(f"x_q must be (N, T, D) and x_kv (N, S, D), got {tuple(x_q.shape)} and {tuple(x_kv.shape)}")
    d = x_q.shape[2]
    for name, w in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v), ("w_o", w_o)):
        _check_projection(name, w, d)
    check_heads(d, n_heads)
    if mask is not None:
        _bool_mask(mask)
        check_attention_shapes((x_q.shape[0], x_q.shape[1], d), (x_kv.shape[0], x_kv.shape[1], d),
                               (x_kv.shape[0], x_kv.shape[1], d), mask.shape)
        mask = mask if mask.ndim == 2 else mask[:, None]
    q, k, v = split_heads(x_q @ w_q, n_heads), split_heads(x_kv @ w_k, n_heads), split_heads(x_kv @ w_v, n_heads)
    heads, attention_cache = scaled_dot_product_attention(q, k, v, mask=mask)
    merged = merge_heads(heads)
    return merged @ w_o, (x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, merged, attention_cache)


def multi_head_attention_backward(dout, cache):
    """Torch twin of np.attention.multi_head_attention_backward: (dx_q, dx_kv, dw_q, dw_k, dw_v, dw_o)."""
    x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, merged, attention_cache = cache
    check_upstream("dout", dout.shape, merged.shape, "(the shape of out)")
    d = merged.shape[-1]
    dw_o = merged.reshape(-1, d).T @ dout.reshape(-1, d)
    dq, dk, dv = scaled_dot_product_attention_backward(split_heads(dout @ w_o.T, n_heads), attention_cache)
    dq, dk, dv = merge_heads(dq), merge_heads(dk), merge_heads(dv)
    dw_q = x_q.reshape(-1, d).T @ dq.reshape(-1, d)
    dw_k = x_kv.reshape(-1, d).T @ dk.reshape(-1, d)
    dw_v = x_kv.reshape(-1, d).T @ dv.reshape(-1, d)
    return dq @ w_q.T, dk @ w_k.T + dv @ w_v.T, dw_q, dw_k, dw_v, dw_o


def sinusoidal_positional_encoding(T, D, *, device=None, dtype=None):
    """Torch twin of np.attention.sinusoidal_positional_encoding: (T, D), sin in even
    columns, cos in odd ones, column pair i turning at 10000^(-2i / D) radians per position."""
    T = check_int("T", T, 1, "a sequence has at least one position")
    D = check_int("D", D, 1, "a code has at least one feature")
    dtype = dtype or torch.get_default_dtype()
    position = torch.arange(T, dtype=torch.float64, device=device)[:, None]
    rates = 10000.0 ** (-torch.arange(0, D, 2, dtype=torch.float64, device=device) / D)
    angles = position * rates
    code = torch.empty(T, D, dtype=torch.float64, device=device)
    code[:, 0::2] = torch.sin(angles)
    code[:, 1::2] = torch.cos(angles[:, : D // 2])
    return code.to(dtype)


def layer_norm_forward(x, gamma, beta, *, eps=1e-5):
    """Torch twin of np.attention.layer_norm_forward: over the last axis, as F.layer_norm.

    x: (..., D); gamma, beta: (D,). Returns (out: x's shape, cache)."""
    d = x.shape[-1] if x.ndim else 0
    if x.ndim < 1 or tuple(gamma.shape) != (d,) or tuple(beta.shape) != (d,):
        raise ValueError(f"x must be (..., D) with gamma and beta (D,), got x: {tuple(x.shape)}, "
                         f"gamma: {tuple(gamma.shape)}, beta: {tuple(beta.shape)}")
    check_nonnegative("eps", eps)
    mean = x.mean(dim=-1, keepdim=True)
    inv_std = torch.rsqrt(x.var(dim=-1, unbiased=False, keepdim=True) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)


def layer_norm_backward(dout, cache):
    """Torch twin of np.attention.layer_norm_backward: (dx, dgamma, dbeta)."""
    x_hat, inv_std, gamma = cache
    check_upstream("dout", dout.shape, x_hat.shape, "(the shape of x)")
    d = x_hat.shape[-1]
    dgamma, dbeta = (dout * x_hat).reshape(-1, d).sum(dim=0), dout.reshape(-1, d).sum(dim=0)
    dx_hat = dout * gamma
    dx = inv_std / d * (d * dx_hat - dx_hat.sum(dim=-1, keepdim=True)
                        - x_hat * (dx_hat * x_hat).sum(dim=-1, keepdim=True))
    return dx, dgamma, dbeta
