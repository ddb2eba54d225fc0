"""Torch twin of ``dlcourse.np.rnn``: the same recurrent forward/backward pairs in torch ops.

Legend: N batch, T time steps, D input features, H hidden units; G = 1 (RNN), 4 (LSTM,
blocks i, f, g, o) or 3 (GRU, blocks r, z, n). Tensors stay on their device and dtype; the
backward passes are written out (no autograd). torch.nn.RNN, LSTM and GRUCell hold
weight_ih = Wx.T and weight_hh = Wh.T; the shape checks and their messages are
``dlcourse.validate``'s, shared with NumPy.
"""

import torch

from dlcourse.validate import (
    check_recurrent_weights,
    check_sequence_shapes,
    check_step_shapes,
    check_upstream,
    lstm_parameters,
)

_WHY_SEQUENCE = "(N, T, H), the gradient on every hidden state (zeros where a step feeds no loss)"


# ---------------------------------------------------------------- vanilla RNN


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """Torch twin of np.rnn.rnn_step_forward: h = tanh(x @ Wx + h_prev @ Wh + b).

    x: (N, D); h_prev: (N, H); Wx: (D, H); Wh: (H, H); b: (H,).
    Returns (h: (N, H), cache = (x, h_prev, Wx, Wh, h)).
    """
    check_step_shapes(x.shape, {"h_prev": h_prev.shape}, Wx.shape, Wh.shape, {"b": b.shape}, 1,
                       sequence_fn="rnn_forward")
    h = torch.tanh(x @ Wx + h_prev @ Wh + b)
    return h, (x, h_prev, Wx, Wh, h)


def rnn_step_backward(dh, cache):
    """Torch twin of np.rnn.rnn_step_backward: (dx, dh_prev, dWx, dWh, db) through da = dh * (1 - h^2)."""
    x, h_prev, Wx, Wh, h = cache
    check_upstream("dh", dh.shape, h.shape, "(N, H), the gradient on this step's h")
    da = dh * (1 - h * h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(dim=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """Torch twin of np.rnn.rnn_forward: h: (N, T, H), every hidden state; cache = the T step caches."""
    check_sequence_shapes(x.shape, h0.shape, Wx.shape, Wh.shape, b.shape, 1, step_fn="rnn_step_forward")
    n, t_steps, _ = x.shape
    h = torch.empty((n, t_steps, h0.shape[1]), dtype=h0.dtype, device=h0.device)
    caches, h_t = [], h0
    for t in range(t_steps):
        h_t, step_cache = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        h[:, t] = h_t
        caches.append(step_cache)
    return h, caches


def rnn_backward(dh, cache):
    """Torch twin of np.rnn.rnn_backward: (dx, dh0, dWx, dWh, db); step t gets dh[:, t] + dh_prev of step t+1."""
    caches = cache
    x0, h_prev0, Wx, Wh, _ = caches[0]
    n, d = x0.shape
    h = h_prev0.shape[1]
    check_upstream("dh", dh.shape, (n, len(caches), h), _WHY_SEQUENCE)
    dx = torch.empty((n, len(caches), d), dtype=dh.dtype, device=dh.device)
    dWx, dWh = torch.zeros_like(Wx), torch.zeros_like(Wh)
    db = torch.zeros(h, dtype=dh.dtype, device=dh.device)
    dh_next = torch.zeros((n, h), dtype=dh.dtype, device=dh.device)
    for t in reversed(range(len(caches))):
        dx[:, t], dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_next, caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_next, dWx, dWh, db


# ---------------------------------------------------------------- LSTM


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Torch twin of np.rnn.lstm_step_forward: gates i, f, g, o; c = f * c_prev + i * g, h = o * tanh(c).

    x: (N, D); h_prev, c_prev: (N, H); Wx: (D, 4H); Wh: (H, 4H); b: (4H,).
    Returns (h: (N, H), c: (N, H), cache).
    """
    h = check_step_shapes(x.shape, {"h_prev": h_prev.shape, "c_prev": c_prev.shape}, Wx.shape, Wh.shape,
                           {"b": b.shape}, 4, sequence_fn="lstm_forward")
    a = x @ Wx + h_prev @ Wh + b
    i = torch.sigmoid(a[:, :h])
    f = torch.sigmoid(a[:, h:2 * h])
    g = torch.tanh(a[:, 2 * h:3 * h])
    o = torch.sigmoid(a[:, 3 * h:])
    c = f * c_prev + i * g
    tanh_c = torch.tanh(c)
    return o * tanh_c, c, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c)


def lstm_step_backward(dh, dc, cache):
    """Torch twin of np.rnn.lstm_step_backward: (dx, dh_prev, dc_prev, dWx, dWh, db);
    dc_total = dc + dh * o * (1 - tanh(c)^2)."""
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c = cache
    why = "(N, H), like this step's h and c"
    check_upstream("dh", dh.shape, i.shape, why)
    check_upstream("dc", dc.shape, i.shape, why)
    dc_total = dc + dh * o * (1 - tanh_c * tanh_c)
    da = torch.cat([
        dc_total * g * i * (1 - i),
        dc_total * c_prev * f * (1 - f),
        dc_total * i * (1 - g * g),
        dh * tanh_c * o * (1 - o),
    ], dim=1)
    return da @ Wx.T, da @ Wh.T, dc_total * f, x.T @ da, h_prev.T @ da, da.sum(dim=0)


def lstm_forward(x, h0, Wx, Wh, b):
    """Torch twin of np.rnn.lstm_forward: c0 = 0, h: (N, T, H); cache = the T step caches."""
    check_sequence_shapes(x.shape, h0.shape, Wx.shape, Wh.shape, b.shape, 4, step_fn="lstm_step_forward")
    n, t_steps, _ = x.shape
    h = torch.empty((n, t_steps, h0.shape[1]), dtype=h0.dtype, device=h0.device)
    caches, h_t, c_t = [], h0, torch.zeros_like(h0)
    for t in range(t_steps):
        h_t, c_t, step_cache = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)
        h[:, t] = h_t
        caches.append(step_cache)
    return h, caches


def lstm_backward(dh, cache):
    """Torch twin of np.rnn.lstm_backward: (dx, dh0, dWx, dWh, db), h and c gradients carried backwards."""
    caches = cache
    x0, h_prev0, _, Wx, Wh = caches[0][:5]
    n, d = x0.shape
    h = h_prev0.shape[1]
    check_upstream("dh", dh.shape, (n, len(caches), h), _WHY_SEQUENCE)
    dx = torch.empty((n, len(caches), d), dtype=dh.dtype, device=dh.device)
    dWx, dWh = torch.zeros_like(Wx), torch.zeros_like(Wh)
    db = torch.zeros(4 * h, dtype=dh.dtype, device=dh.device)
    dh_next = torch.zeros((n, h), dtype=dh.dtype, device=dh.device)
    dc_next = torch.zeros_like(dh_next)
    for t in reversed(range(len(caches))):
        dx[:, t], dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dh_next, dc_next, caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_next, dWx, dWh, db


def lstm_weights_to_torch(Wx, Wh, b):
    """Torch twin of np.rnn.lstm_weights_to_torch: a state dict of tensors for
    lstm.load_state_dict, {"weight_ih_l0": Wx.T, "weight_hh_l0": Wh.T, "bias_ih_l0": b,
    "bias_hh_l0": zeros}, on Wx's device and in its dtype. Wx: (D, 4H); Wh: (H, 4H); b: (4H,)."""
    check_recurrent_weights(Wx.shape, Wh.shape, {"b": b.shape}, None, 4)
    return {"weight_ih_l0": Wx.T.contiguous(), "weight_hh_l0": Wh.T.contiguous(), "bias_ih_l0": b.clone(),
            "bias_hh_l0": torch.zeros_like(b)}


def lstm_weights_from_torch(lstm):
    """Torch twin of np.rnn.lstm_weights_from_torch: (Wx, Wh, b = bias_ih + bias_hh) as
    detached tensors on the LSTM's device and in its dtype."""
    weight_ih, weight_hh, bias_ih, bias_hh = (w.detach() for w in lstm_parameters(lstm))
    return weight_ih.T.contiguous(), weight_hh.T.contiguous(), bias_ih + bias_hh


# ---------------------------------------------------------------- GRU


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """Torch twin of np.rnn.gru_step_forward: gates r, z, n as torch.nn.GRUCell; h = (1 - z) * n + z * h_prev.

    x: (N, D); h_prev: (N, H); Wx: (D, 3H); Wh: (H, 3H); bx, bh: (3H,). Returns (h: (N, H), cache).
    """
    h = check_step_shapes(x.shape, {"h_prev": h_prev.shape}, Wx.shape, Wh.shape, {"bx": bx.shape, "bh": bh.shape},
                           3)
    ax = x @ Wx + bx
    ah = h_prev @ Wh + bh
    r = torch.sigmoid(ax[:, :h] + ah[:, :h])
    z = torch.sigmoid(ax[:, h:2 * h] + ah[:, h:2 * h])
    ah_n = ah[:, 2 * h:]
    n = torch.tanh(ax[:, 2 * h:] + r * ah_n)
    return (1 - z) * n + z * h_prev, (x, h_prev, Wx, Wh, r, z, n, ah_n)


def gru_step_backward(dh, cache):
    """Torch twin of np.rnn.gru_step_backward: (dx, dh_prev, dWx, dWh, dbx, dbh)."""
    x, h_prev, Wx, Wh, r, z, n, ah_n = cache
    check_upstream("dh", dh.shape, z.shape, "(N, H), the gradient on this step's h")
    da_n = dh * (1 - z) * (1 - n * n)
    da_r = da_n * ah_n * r * (1 - r)
    da_z = dh * (h_prev - n) * z * (1 - z)
    dax = torch.cat([da_r, da_z, da_n], dim=1)
    dah = torch.cat([da_r, da_z, r * da_n], dim=1)
    dh_prev = dh * z + dah @ Wh.T
    return dax @ Wx.T, dh_prev, x.T @ dax, h_prev.T @ dah, dax.sum(dim=0), dah.sum(dim=0)


# ---------------------------------------------------------------- gradient clipping


def clip_gradients(grads, max_norm, *, eps=0.0):
    """Torch twin of np.rnn.clip_gradients: (clipped: a list of new tensors, total_norm).

    total_norm is a 0-d tensor on the gradients' device, as torch.nn.utils.clip_grad_norm_
    returns it (float(total_norm) reads it); the inputs are not modified (clip_grad_norm_
    works in place on .grad). eps=1e-6 gives clip_grad_norm_'s numbers.
    """
    if isinstance(grads, torch.Tensor) or not isinstance(grads, (list, tuple)):
        raise TypeError(f"grads must be a list of tensors (one per parameter), got {type(grads).__name__}")
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    if not grads:
        return [], torch.tensor(0.0)
    total_norm = torch.sqrt(sum((g * g).sum() for g in grads))
    scale = torch.clamp(max_norm / (total_norm + eps), max=1.0)  # 1 where no clipping is needed
    return [g * scale.to(g.dtype) for g in grads], total_norm
