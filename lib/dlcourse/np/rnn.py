"""Recurrent layers as forward/backward pairs with a cache (CS231n's rnn_layers.py), batch first.

Legend: N batch, T time steps, D input features, H hidden units; G = 1 (RNN), 4 (LSTM) or
3 (GRU) blocks of H gate units side by side in the weights.

    h, cache = rnn_step_forward(x, h_prev, Wx, Wh, b)   x: (N, D), h_prev: (N, H), Wx: (D, H),
                                                        Wh: (H, H), b: (H,) -> h: (N, H)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)            x: (N, T, D), h0: (N, H) -> h: (N, T, H)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)     dh: (N, T, H), on every hidden state
    h, c, cache = lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)   Wx: (D, 4H), Wh: (H, 4H), b: (4H,)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)           c0 = 0 -> h: (N, T, H)
    h, cache = gru_step_forward(x, h_prev, Wx, Wh, bx, bh)          Wx: (D, 3H), Wh: (H, 3H), bx, bh: (3H,)
    clipped, total_norm = clip_gradients(grads, max_norm)

Backward functions return the gradients in the order of forward's arrays (c0 = 0 is no
argument of lstm_forward, so lstm_backward has no dc0). The gate blocks are in torch's
order: LSTM i, f, g, o and GRU r, z, n, each H columns wide. torch.nn.RNN, LSTM and GRUCell
hold the transposes as their weights: weight_ih = Wx.T (G*H, D), weight_hh = Wh.T (G*H, H),
and two biases, bias_ih and bias_hh, that the RNN and the LSTM only ever add (b = bias_ih +
bias_hh; lstm_weights_to_torch and lstm_weights_from_torch convert), while the GRU puts
bias_hh's n block inside r * (...), so gru_step_forward keeps bx and bh apart.
"""

import numpy as np

from dlcourse.validate import (
    check_recurrent_weights,
    check_sequence_shapes,
    check_step_shapes,
    check_upstream,
    lstm_parameters,
)


def _sigmoid(a):
    """1 / (1 + e^-a), computed as (1 + tanh(a/2)) / 2 to avoid overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _as_float(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


# ---------------------------------------------------------------- vanilla RNN


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One step of a tanh RNN: h = tanh(x @ Wx + h_prev @ Wh + b).

    x: (N, D); h_prev: (N, H); Wx: (D, H); Wh: (H, H); b: (H,).
    Returns (h: (N, H), cache = (x, h_prev, Wx, Wh, h)).
    """
    x, h_prev, Wx, Wh, b = _as_float(x, h_prev, Wx, Wh, b)
    check_step_shapes(x.shape, {"h_prev": h_prev.shape}, Wx.shape, Wh.shape, {"b": b.shape}, 1,
                       sequence_fn="rnn_forward")
    h = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h, (x, h_prev, Wx, Wh, h)


def rnn_step_backward(dh, cache):
    """dh: (N, H), the gradient on this step's h. Returns (dx, dh_prev, dWx, dWh, db).

    Through the tanh, da = dh * (1 - h^2) (read from the cached output); then as for an
    affine layer: dx = da @ Wx.T, dh_prev = da @ Wh.T, dWx = x.T @ da, dWh = h_prev.T @ da,
    db = da summed over the batch.
    """
    x, h_prev, Wx, Wh, h = cache
    dh = np.asarray(dh, dtype=np.float64)
    check_upstream("dh", dh.shape, h.shape, "(N, H), the gradient on this step's h")
    da = dh * (1.0 - h * h)                      # (N, H)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """A tanh RNN over a whole sequence: h[:, t] = tanh(x[:, t] @ Wx + h[:, t-1] @ Wh + b).

    x: (N, T, D); h0: (N, H) the state before the first step; Wx: (D, H); Wh: (H, H); b: (H,).
    The same weights serve every step. As torch.nn.RNN(D, H, batch_first=True) with
    weight_ih = Wx.T, weight_hh = Wh.T, bias_ih = b and bias_hh = 0.
    Returns (h: (N, T, H), every hidden state, cache = the T step caches).
    """
    x, h0, Wx, Wh, b = _as_float(x, h0, Wx, Wh, b)
    check_sequence_shapes(x.shape, h0.shape, Wx.shape, Wh.shape, b.shape, 1, step_fn="rnn_step_forward")
    n, t_steps, _ = x.shape
    h = np.empty((n, t_steps, h0.shape[1]))
    caches, h_t = [], h0
    for t in range(t_steps):
        h_t, step_cache = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        h[:, t] = h_t
        caches.append(step_cache)
    return h, caches


def rnn_backward(dh, cache):
    """Backpropagation through time. dh: (N, T, H), the upstream gradient on EVERY hidden state
    (zeros where a step feeds no loss). Returns (dx: (N, T, D), dh0: (N, H), dWx, dWh, db).

    h[:, t] feeds the loss directly (dh[:, t]) and the next step (h[:, t] is its h_prev), so
    going backwards from t = T-1, step t receives dh[:, t] + dh_prev of step t+1. The weights
    are shared by all steps: their gradients add up over t. dh0 is step 0's dh_prev.
    """
    caches = cache
    x0, h_prev0, Wx, Wh, _ = caches[0]
    n, d = x0.shape
    h = h_prev0.shape[1]
    dh = np.asarray(dh, dtype=np.float64)
    check_upstream("dh", dh.shape, (n, len(caches), h),
                    "(N, T, H), the gradient on every hidden state (zeros where a step feeds no loss)")
    dx = np.empty((n, len(caches), d))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(h)
    dh_next = np.zeros((n, h))                   # from step t+1; nothing comes after the last step
    for t in reversed(range(len(caches))):
        dx[:, t], dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_next, caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_next, dWx, dWh, db


# ---------------------------------------------------------------- LSTM


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step, with torch.nn.LSTM's gate order i, f, g, o.

    a = x @ Wx + h_prev @ Wh + b: (N, 4H) is cut into four (N, H) blocks a_i, a_f, a_g, a_o;
    i = sigmoid(a_i) (input gate), f = sigmoid(a_f) (forget gate), g = tanh(a_g) (the
    candidate), o = sigmoid(a_o) (output gate); then c = f * c_prev + i * g and h = o * tanh(c).
    x: (N, D); h_prev, c_prev: (N, H); Wx: (D, 4H); Wh: (H, 4H); b: (4H,).
    Returns (h: (N, H), c: (N, H), cache).
    """
    x, h_prev, c_prev, Wx, Wh, b = _as_float(x, h_prev, c_prev, Wx, Wh, b)
    h = check_step_shapes(x.shape, {"h_prev": h_prev.shape, "c_prev": c_prev.shape}, Wx.shape, Wh.shape,
                           {"b": b.shape}, 4, sequence_fn="lstm_forward")
    a = x @ Wx + h_prev @ Wh + b                 # (N, 4H)
    i = _sigmoid(a[:, :h])
    f = _sigmoid(a[:, h:2 * h])
    g = np.tanh(a[:, 2 * h:3 * h])
    o = _sigmoid(a[:, 3 * h:])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h_new = o * tanh_c
    return h_new, c, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c)


def lstm_step_backward(dh, dc, cache):
    """dh: (N, H), the gradient on this step's h; dc: (N, H), the gradient arriving on c from
    the next step (zeros after the last step). Returns (dx, dh_prev, dc_prev, dWx, dWh, db).

    c reaches the loss along two paths, directly (dc) and through h = o * tanh(c), so
    dc_total = dc + dh * o * (1 - tanh(c)^2). Then do = dh * tanh(c), di = dc_total * g,
    df = dc_total * c_prev, dg = dc_total * i and dc_prev = dc_total * f; each gate's
    derivative gives da (sigmoid' = s (1 - s), tanh' = 1 - g^2), and as for an affine layer
    dx = da @ Wx.T, dh_prev = da @ Wh.T, dWx = x.T @ da, dWh = h_prev.T @ da, db = sum da.
    """
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c = cache
    dh, dc = _as_float(dh, dc)
    why = "(N, H), like this step's h and c"
    check_upstream("dh", dh.shape, i.shape, why)
    check_upstream("dc", dc.shape, i.shape, why)
    dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c)
    da = np.concatenate([
        dc_total * g * i * (1.0 - i),            # a_i
        dc_total * c_prev * f * (1.0 - f),       # a_f
        dc_total * i * (1.0 - g * g),            # a_g
        dh * tanh_c * o * (1.0 - o),             # a_o
    ], axis=1)                                   # (N, 4H)
    return da @ Wx.T, da @ Wh.T, dc_total * f, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def lstm_forward(x, h0, Wx, Wh, b):
    """An LSTM over a whole sequence, starting from h0 and c0 = 0.

    x: (N, T, D); h0: (N, H); Wx: (D, 4H); Wh: (H, 4H); b: (4H,), gate blocks i, f, g, o.
    As torch.nn.LSTM(D, H, batch_first=True) with weight_ih = Wx.T, weight_hh = Wh.T,
    bias_ih = b and bias_hh = 0 (lstm_weights_to_torch), called on (x, (h0[None], 0)).
    Returns (h: (N, T, H), every hidden state (torch's output), cache = the T step caches).
    """
    x, h0, Wx, Wh, b = _as_float(x, h0, Wx, Wh, b)
    check_sequence_shapes(x.shape, h0.shape, Wx.shape, Wh.shape, b.shape, 4, step_fn="lstm_step_forward")
    n, t_steps, _ = x.shape
    h = np.empty((n, t_steps, h0.shape[1]))
    caches, h_t, c_t = [], h0, np.zeros_like(h0)
    for t in range(t_steps):
        h_t, c_t, step_cache = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)
        h[:, t] = h_t
        caches.append(step_cache)
    return h, caches


def lstm_backward(dh, cache):
    """Backpropagation through time. dh: (N, T, H), the upstream gradient on every hidden state.
    Returns (dx: (N, T, D), dh0: (N, H), dWx, dWh, db).

    As rnn_backward, with two states carried backwards: step t receives dh[:, t] + dh_prev
    of step t+1 on h and dc_prev of step t+1 on c (zeros for the last step). The gradient
    on c0 is dropped: c0 = 0 is a constant.
    """
    caches = cache
    x0, h_prev0, _, Wx, Wh = caches[0][:5]
    n, d = x0.shape
    h = h_prev0.shape[1]
    dh = np.asarray(dh, dtype=np.float64)
    check_upstream("dh", dh.shape, (n, len(caches), h),
                    "(N, T, H), the gradient on every hidden state (zeros where a step feeds no loss)")
    dx = np.empty((n, len(caches), d))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * h)
    dh_next, dc_next = np.zeros((n, h)), np.zeros((n, h))
    for t in reversed(range(len(caches))):
        dx[:, t], dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dh_next, dc_next, caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_next, dWx, dWh, db


def lstm_weights_to_torch(Wx, Wh, b):
    """Our LSTM weights Wx: (D, 4H), Wh: (H, 4H), b: (4H,) as torch.nn.LSTM(D, H)'s state
    dict (NumPy arrays, float64): {"weight_ih_l0": Wx.T (4H, D), "weight_hh_l0": Wh.T
    (4H, H), "bias_ih_l0": b (4H,), "bias_hh_l0": zeros (4H,)}. Load it with
    lstm.load_state_dict({k: torch.tensor(v) for k, v in lstm_weights_to_torch(Wx, Wh, b).items()})
    (a float64 LSTM, or cast the tensors to the LSTM's dtype). The gate order needs no change:
    both use i, f, g, o."""
    Wx, Wh, b = _as_float(Wx, Wh, b)
    check_recurrent_weights(Wx.shape, Wh.shape, {"b": b.shape}, None, 4)
    return {"weight_ih_l0": Wx.T.copy(), "weight_hh_l0": Wh.T.copy(), "bias_ih_l0": b.copy(),
            "bias_hh_l0": np.zeros_like(b)}


def lstm_weights_from_torch(lstm):
    """(Wx: (D, 4H), Wh: (H, 4H), b: (4H,)) as float64 NumPy arrays from a one-layer,
    one-direction torch.nn.LSTM with biases: Wx = weight_ih_l0.T, Wh = weight_hh_l0.T and
    b = bias_ih_l0 + bias_hh_l0 (torch adds the two biases; so does one b). Any device.
    torch is not imported here: the module's attributes are read."""
    weights = lstm_parameters(lstm)
    weight_ih, weight_hh, bias_ih, bias_hh = (w.detach().cpu().double().numpy() for w in weights)
    return weight_ih.T.copy(), weight_hh.T.copy(), bias_ih + bias_hh


# ---------------------------------------------------------------- GRU


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One GRU step with torch.nn.GRUCell's equations and gate order r, z, n.

    ax = x @ Wx + bx and ah = h_prev @ Wh + bh: (N, 3H), each cut into blocks r, z, n;
    r = sigmoid(ax_r + ah_r) (reset gate), z = sigmoid(ax_z + ah_z) (update gate),
    n = tanh(ax_n + r * ah_n) (the candidate: the reset gate scales h_prev @ Wh_n + bh_n,
    bias included, which is why bx and bh stay apart), h = (1 - z) * n + z * h_prev.
    x: (N, D); h_prev: (N, H); Wx: (D, 3H); Wh: (H, 3H); bx, bh: (3H,). GRUCell(D, H) holds
    weight_ih = Wx.T, weight_hh = Wh.T, bias_ih = bx, bias_hh = bh.
    Returns (h: (N, H), cache).
    """
    x, h_prev, Wx, Wh, bx, bh = _as_float(x, h_prev, Wx, Wh, bx, bh)
    h = check_step_shapes(x.shape, {"h_prev": h_prev.shape}, Wx.shape, Wh.shape, {"bx": bx.shape, "bh": bh.shape},
                           3)
    ax = x @ Wx + bx                             # (N, 3H)
    ah = h_prev @ Wh + bh                        # (N, 3H)
    r = _sigmoid(ax[:, :h] + ah[:, :h])
    z = _sigmoid(ax[:, h:2 * h] + ah[:, h:2 * h])
    ah_n = ah[:, 2 * h:]
    n = np.tanh(ax[:, 2 * h:] + r * ah_n)
    h_new = (1.0 - z) * n + z * h_prev
    return h_new, (x, h_prev, Wx, Wh, r, z, n, ah_n)


def gru_step_backward(dh, cache):
    """dh: (N, H). Returns (dx, dh_prev, dWx, dWh, dbx, dbh).

    From h = (1 - z) * n + z * h_prev: dn = dh * (1 - z), dz = dh * (h_prev - n) and a direct
    dh * z to h_prev. Through n's tanh, da_n = dn * (1 - n^2) reaches ax_n as it is and
    ah_n times r, and dr = da_n * ah_n. With da_r = dr * r (1 - r) and da_z = dz * z (1 - z):
    dax = [da_r, da_z, da_n], dah = [da_r, da_z, r * da_n]; then dx = dax @ Wx.T,
    dh_prev = dh * z + dah @ Wh.T, dWx = x.T @ dax, dWh = h_prev.T @ dah, dbx, dbh = the sums.
    """
    x, h_prev, Wx, Wh, r, z, n, ah_n = cache
    dh = np.asarray(dh, dtype=np.float64)
    check_upstream("dh", dh.shape, z.shape, "(N, H), the gradient on this step's h")
    da_n = dh * (1.0 - z) * (1.0 - n * n)
    da_r = da_n * ah_n * r * (1.0 - r)
    da_z = dh * (h_prev - n) * z * (1.0 - z)
    dax = np.concatenate([da_r, da_z, da_n], axis=1)       # (N, 3H)
    dah = np.concatenate([da_r, da_z, r * da_n], axis=1)   # (N, 3H)
    dh_prev = dh * z + dah @ Wh.T
    return dax @ Wx.T, dh_prev, x.T @ dax, h_prev.T @ dah, dax.sum(axis=0), dah.sum(axis=0)


# ---------------------------------------------------------------- gradient clipping


def clip_gradients(grads, max_norm, *, eps=0.0):
    """Rescales all gradients together when their global L2 norm exceeds max_norm.

    total_norm = sqrt(sum over all arrays of sum(g^2)); with scale = max_norm / (total_norm + eps),
    every g becomes g * scale if scale < 1 and is left as it is otherwise, so the direction
    of the whole gradient is kept and its norm becomes max_norm. eps = 0 by default: exactly
    max_norm / total_norm, applied when total_norm > max_norm. torch.nn.utils.clip_grad_norm_
    divides by total_norm + 1e-6; eps=1e-6 gives its numbers.
    grads: a list of arrays of any shapes; max_norm > 0. Returns (clipped: a list of new
    arrays, the inputs untouched, total_norm: float, the norm BEFORE clipping, as torch returns).
    """
    if isinstance(grads, np.ndarray) or not isinstance(grads, (list, tuple)):
        raise TypeError(f"grads must be a list of arrays (one per parameter), got {type(grads).__name__}")
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    grads = _as_float(*grads)
    total_norm = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    denominator = total_norm + eps
    scale = 1.0 if denominator == 0 else min(max_norm / denominator, 1.0)  # a NaN norm stays NaN, as in torch
    return [g * scale for g in grads], total_norm
