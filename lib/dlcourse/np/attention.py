"""Attention as forward/backward pairs with a cache (Vaswani et al., 2017), in float64.

Legend: N batch, T query positions, S key (and value) positions, D model width, H heads,
Dh = D / H the width of one head, Dk key width, Dv value width. Leading axes before the
last two may be more than one (N, H, ...): they are carried along as batch axes.

    softmax(x, *, axis=-1)                                 any shape -> the same shape
    out, cache = scaled_dot_product_attention(q, k, v, *, mask=None)
        q: (N, T, Dk), k: (N, S, Dk), v: (N, S, Dv), mask: (T, S) or (N, T, S) -> out: (N, T, Dv)
    dq, dk, dv = scaled_dot_product_attention_backward(dout, cache)
    causal_mask(T)                                         -> (T, T) bool, True on and below the diagonal
    split_heads(x, n_heads)                                (N, T, D) -> (N, H, T, Dh)
    merge_heads(x)                                         (N, H, T, Dh) -> (N, T, D)
    out, cache = multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, *, n_heads, mask=None)
        x_q: (N, T, D), x_kv: (N, S, D), every w: (D, D) -> out: (N, T, D)
    dx_q, dx_kv, dw_q, dw_k, dw_v, dw_o = multi_head_attention_backward(dout, cache)
    sinusoidal_positional_encoding(T, D)                   -> (T, D)
    out, cache = layer_norm_forward(x, gamma, beta, *, eps=1e-5)   x: (..., D), gamma, beta: (D,)
    dx, dgamma, dbeta = layer_norm_backward(dout, cache)

Masks are boolean and True where a query may attend to a key, as the boolean ``attn_mask`` of
``torch.nn.functional.scaled_dot_product_attention``. ``nn.MultiheadAttention``'s boolean
``attn_mask`` means the opposite (True: may NOT attend): pass it ``~mask``. Weights follow the
x @ w convention of dlcourse.np.layers (nn.Linear holds w.T).
"""

import numpy as np

from dlcourse.validate import (
    check_attention_shapes,
    check_heads,
    check_int,
    check_mask_lets_every_query_attend,
    check_nonnegative,
    check_upstream,
)


def softmax(x, *, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, computed after subtracting the maximum so that
    large entries never overflow (the result is the same: the shift cancels). -inf entries
    get probability 0."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def _bool_mask(mask):
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"mask must be boolean (True where a query may attend), got dtype {mask.dtype}")
    return mask


def scaled_dot_product_attention(q, k, v, *, mask=None):
    """softmax(q k^T / sqrt(Dk)) v, the softmax over the keys.

    q: (N, T, Dk), k: (N, S, Dk), v: (N, S, Dv); mask: (T, S) or (N, T, S) bool, True where a
    query may attend (torch.nn.functional.scaled_dot_product_attention's boolean attn_mask; for
    nn.MultiheadAttention pass ~mask). Every query must be allowed at least one key.
    Returns (out: (N, T, Dv), cache); the attention weights (N, T, S) are cache[3].
    """
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    check_attention_shapes(q.shape, k.shape, v.shape, None if mask is None else np.shape(mask))
    scale = 1.0 / np.sqrt(q.shape[-1])
    scores = q @ np.swapaxes(k, -1, -2) * scale                      # (N, T, S)
    if mask is not None:
        mask = _bool_mask(mask)
        check_mask_lets_every_query_attend(bool(mask.any(axis=-1).all()))
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)                              # (N, T, S), rows sum to 1
    return weights @ v, (q, k, v, weights, scale)


def scaled_dot_product_attention_backward(dout, cache):
    """dout: (N, T, Dv). Returns dq: (N, T, Dk), dk: (N, S, Dk), dv: (N, S, Dv). Masked
    scores get no gradient: their weights are 0."""
    q, k, v, weights, scale = cache
    check_upstream("dout", np.shape(dout), (*weights.shape[:-1], v.shape[-1]), "(the shape of out)")
    dout = np.asarray(dout, dtype=np.float64)
    dv = np.swapaxes(weights, -1, -2) @ dout                        # (N, S, Dv)
    dweights = dout @ np.swapaxes(v, -1, -2)                        # (N, T, S)
    # softmax backward, row by row: J = diag(p) - p p^T
    dscores = weights * (dweights - np.sum(dweights * weights, axis=-1, keepdims=True))
    dq = dscores @ k * scale
    dk = np.swapaxes(dscores, -1, -2) @ q * scale
    return dq, dk, dv


def causal_mask(T):
    """(T, T) bool, True where query t may attend to key s, that is s <= t: each position sees
    itself and the past, never the future."""
    T = check_int("T", T, 1, "a sequence has at least one position")
    return np.tril(np.ones((T, T), dtype=bool))


def split_heads(x, n_heads):
    """(N, T, D) -> (N, H, T, D / H): head h gets features h * Dh to (h + 1) * Dh - 1. A
    reshape to (N, T, H, Dh) then a transpose, so that each head's positions stay together."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must be (N, T, D), got shape {x.shape}")
    dh = check_heads(x.shape[-1], n_heads)
    n, t, _ = x.shape
    return x.reshape(n, t, n_heads, dh).transpose(0, 2, 1, 3)


def merge_heads(x):
    """(N, H, T, Dh) -> (N, T, H * Dh): the inverse of split_heads."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"x must be (N, H, T, Dh), got shape {x.shape}")
    n, h, t, dh = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, t, h * dh)


def _check_projection(name, w, d):
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (d, d):
        raise ValueError(f"{name} must be (D, D) = {(d, d)} for inputs of width D = {d}, got shape {w.shape}")
    return w


def multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, *, n_heads, mask=None):
    """Multi-head attention without biases: queries x_q @ w_q, keys x_kv @ w_k, values
    x_kv @ w_v, each split into H heads of width D / H, scaled dot-product attention per head,
    the heads merged and projected by w_o. x_q is x_kv for self-attention.

    x_q: (N, T, D), x_kv: (N, S, D), w_q, w_k, w_v, w_o: (D, D); mask: (T, S) or (N, T, S) bool,
    True where a query may attend (the same mask for every head). Returns (out: (N, T, D), cache).

    As nn.MultiheadAttention(D, H, bias=False, batch_first=True): its in_proj_weight is
    concatenate([w_q.T, w_k.T, w_v.T]) (3D, D), out_proj.weight is w_o.T, and its boolean
    attn_mask is ~mask ((N * H, T, S), each sample's mask repeated per head, for a per-sample one).
    """
    x_q, x_kv = np.asarray(x_q, dtype=np.float64), np.asarray(x_kv, dtype=np.float64)
    if x_q.ndim != 3 or x_kv.ndim != 3 or x_q.shape[0] != x_kv.shape[0] or x_q.shape[2] != x_kv.shape[2]:
        raise ValueError(f"x_q must be (N, T, D) and x_kv (N, S, D), got {x_q.shape} and {x_kv.shape}")
    d = x_q.shape[2]
    w_q, w_k, w_v, w_o = (_check_projection(name, w, d) for name, w in
                          (("w_q", w_q), ("w_k", w_k), ("w_v", w_v), ("w_o", w_o)))
    check_heads(d, n_heads)
    if mask is not None:
        mask = _bool_mask(mask)
        check_attention_shapes((x_q.shape[0], x_q.shape[1], d), (x_kv.shape[0], x_kv.shape[1], d),
                               (x_kv.shape[0], x_kv.shape[1], d), mask.shape)
        mask = mask if mask.ndim == 2 else mask[:, None]            # (N, 1, T, S): one mask for all heads
    q, k, v = split_heads(x_q @ w_q, n_heads), split_heads(x_kv @ w_k, n_heads), split_heads(x_kv @ w_v, n_heads)
    heads, attention_cache = scaled_dot_product_attention(q, k, v, mask=mask)   # (N, H, T, Dh)
    merged = merge_heads(heads)                                     # (N, T, D)
    return merged @ w_o, (x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, merged, attention_cache)


def multi_head_attention_backward(dout, cache):
    """dout: (N, T, D). Returns dx_q, dx_kv, dw_q, dw_k, dw_v, dw_o. For self-attention (x_q
    and x_kv the same array) the input's gradient is dx_q + dx_kv."""
    x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, merged, attention_cache = cache
    check_upstream("dout", np.shape(dout), merged.shape, "(the shape of out)")
    dout = np.asarray(dout, dtype=np.float64)
    d = merged.shape[-1]
    dw_o = merged.reshape(-1, d).T @ dout.reshape(-1, d)
    dq, dk, dv = scaled_dot_product_attention_backward(split_heads(dout @ w_o.T, n_heads), attention_cache)
    dq, dk, dv = merge_heads(dq), merge_heads(dk), merge_heads(dv)  # (N, T, D), (N, S, D), (N, S, D)
    dw_q = x_q.reshape(-1, d).T @ dq.reshape(-1, d)
    dw_k = x_kv.reshape(-1, d).T @ dk.reshape(-1, d)
    dw_v = x_kv.reshape(-1, d).T @ dv.reshape(-1, d)
    return dq @ w_q.T, dk @ w_k.T + dv @ w_v.T, dw_q, dw_k, dw_v, dw_o


def sinusoidal_positional_encoding(T, D):
    """(T, D): position t's code, sin(t / 10000^(2i / D)) in column 2i and cos of the same angle
    in column 2i + 1 (Vaswani et al., 2017, section 3.5). Each pair of columns turns at its own
    frequency, from one radian per position down to 1/10000, so that a shift by k positions is
    the same rotation of every pair whatever t."""
    T = check_int("T", T, 1, "a sequence has at least one position")
    D = check_int("D", D, 1, "a code has at least one feature")
    position = np.arange(T, dtype=np.float64)[:, None]               # (T, 1)
    rates = 10000.0 ** (-np.arange(0, D, 2, dtype=np.float64) / D)   # (ceil(D / 2),)
    angles = position * rates                                      # (T, ceil(D / 2))
    code = np.empty((T, D))
    code[:, 0::2] = np.sin(angles)
    code[:, 1::2] = np.cos(angles[:, : D // 2])
    return code


def layer_norm_forward(x, gamma, beta, *, eps=1e-5):
    """Each sample's features normalised to mean 0 and variance 1 (the biased variance, as
    torch.nn.functional.layer_norm), then scaled by gamma and shifted by beta: unlike batch
    normalisation, over the last axis, so a sample's output never depends on the others.

    x: (..., D); gamma, beta: (D,). Returns (out: x's shape, cache)."""
    x = np.asarray(x, dtype=np.float64)
    d = x.shape[-1] if x.ndim else 0
    gamma, beta = np.asarray(gamma, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    if x.ndim < 1 or gamma.shape != (d,) or beta.shape != (d,):
        raise ValueError(f"x must be (..., D) with gamma and beta (D,), got x: {x.shape}, gamma: {gamma.shape}, "
                         f"beta: {beta.shape}")
    check_nonnegative("eps", eps)
    mean = x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)


def layer_norm_backward(dout, cache):
    """dout: x's shape. Returns dx (x's shape), dgamma (D,), dbeta (D,)."""
    x_hat, inv_std, gamma = cache
    check_upstream("dout", np.shape(dout), x_hat.shape, "(the shape of x)")
    dout = np.asarray(dout, dtype=np.float64)
    d = x_hat.shape[-1]
    dgamma, dbeta = (dout * x_hat).reshape(-1, d).sum(axis=0), dout.reshape(-1, d).sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std / d * (d * dx_hat - dx_hat.sum(axis=-1, keepdims=True)
                        - x_hat * np.sum(dx_hat * x_hat, axis=-1, keepdims=True))
    return dx, dgamma, dbeta
