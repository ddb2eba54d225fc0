"""Argument checks shared by the NumPy references (``dlcourse.np``) and their torch twins
(``dlcourse.pt``), so that both sides reject the same inputs with the same message.

Legend: N batch, D input features; images N, C, H, W (channels, height, width), F filters,
KH, KW kernel height and width, OH, OW output height and width; recurrent layers N, T time
steps, D input features, H hidden units, G gate blocks (1 RNN, 3 GRU, 4 LSTM); attention T
query and S key positions, Dk key and Dv value width.

    check_int("stride", stride, 1, why)             -> int(stride), or TypeError / ValueError
    check_nonnegative("eps", eps)                   a number >= 0 (NaN rejected)
    check_same_shape("grad", grad, "x", x)          grad: the shape of x
    check_clip(clip)                                (low, high) with low <= high, or None
    check_logistic(x, w, b, y)                      x: (N, D), w: (D,), b scalar, y: (N,)
    check_nchw_shape(x.shape)                       x: (N, C, H, W)
    oh, ow = check_conv_shapes(x.shape, w.shape, b.shape, stride, pad)
    oh, ow = check_pool_shapes(x.shape, size, stride)
    h = check_step_shapes(x.shape, {"h_prev": h_prev.shape}, Wx.shape, Wh.shape, {"b": b.shape}, g)
    h = check_sequence_shapes(x.shape, h0.shape, Wx.shape, Wh.shape, b.shape, g, step_fn="rnn_step_forward")
    weight_ih, weight_hh, bias_ih, bias_hh = lstm_parameters(lstm)
    t, s = check_attention_shapes(q.shape, k.shape, v.shape, mask.shape)   q: (..., T, Dk), ...
    dh = check_heads(D, n_heads)                    D / H

The checks read shapes (tuples) and Python numbers only, so NumPy arrays and torch tensors
on any device pass through them alike. Each error names the argument, the shape expected
and the shape received, and where it helps, what to do about it.
"""

import numbers

import numpy as np

from dlcourse.check import shown

# ---------------------------------------------------------------- numbers and shapes


def check_int(name, value, minimum, why):
    """int(value) when value is an integer >= minimum; else a TypeError or a ValueError
    that ends with ``why`` (the reason for the minimum)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {shown(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}: {why}")
    return int(value)


def check_nonnegative(name: str, value) -> None:
    """value: a number (or a 0-d array) >= 0; NaN is rejected."""
    if not np.isscalar(value) and np.ndim(value) != 0:
        raise ValueError(f"{name} must be a number, got an array of shape {tuple(np.shape(value))}")
    if not float(value) >= 0:  # also rejects NaN
        raise ValueError(f"{name} must be >= 0, got {value}")


def check_same_shape(name: str, a, ref_name: str, ref) -> None:
    """a: the shape of ref (any shape)."""
    if np.shape(a) != np.shape(ref):
        raise ValueError(f"{name} must have the shape of {ref_name}, {tuple(np.shape(ref))}, "
                         f"got {tuple(np.shape(a))}")


# ---------------------------------------------------------------- adversarial examples


def check_clip(clip) -> None:
    """clip: a pair (low, high) with low <= high, or None (no box)."""
    if clip is None:
        return
    if not (isinstance(clip, (tuple, list)) and len(clip) == 2):
        raise ValueError(f"clip must be a pair (low, high) or None, got {shown(clip)}")
    if not float(clip[0]) <= float(clip[1]):
        raise ValueError(f"clip must have low <= high, got {shown(clip)}")


def check_logistic(x, w, b, y=None) -> None:
    """Logistic regression's arguments: x: (N, D), w: (D,), b scalar and, if given, y: (N,)."""
    if np.ndim(x) != 2:
        raise ValueError(f"x must be (N, D), got shape {tuple(np.shape(x))}")
    if np.shape(w) != (np.shape(x)[1],):
        raise ValueError(f"w must be (D,) = ({np.shape(x)[1]},) for x of shape {tuple(np.shape(x))}, "
                         f"got {tuple(np.shape(w))}")
    if np.ndim(b) != 0:
        raise ValueError(f"b must be a scalar, got shape {tuple(np.shape(b))}")
    if y is not None and np.shape(y) != (np.shape(x)[0],):
        raise ValueError(f"y must be (N,) = ({np.shape(x)[0]},) labels in {{0, 1}}, got {tuple(np.shape(y))}")


# ---------------------------------------------------------------- convolution and pooling


def check_output_size(h, k, stride, pad, *, h_name, k_name, out_name):
    """(h + 2 pad - k) // stride + 1, or a ValueError that names h_name and k_name."""
    stride = check_int("stride", stride, 1, "a stride of 0 would never move the window")
    pad = check_int("pad", pad, 0, "padding adds that many rows and columns of zeros on each side")
    if k > h + 2 * pad:
        raise ValueError(
            f"{k_name} = {k} is larger than the padded {h_name} + 2*pad = {h} + 2*{pad} = {h + 2 * pad}:"
            f" {out_name} = ({h_name.split()[-1]} + 2*pad - {k_name.split()[-1]}) // stride + 1 would be below 1;"
            f" use a smaller kernel or more padding")
    return (h + 2 * pad - k) // stride + 1


def check_nchw_shape(shape) -> None:
    """shape: x's shape, (N, C, H, W)."""
    shape = tuple(shape)
    if len(shape) == 3:
        raise ValueError(f"x must be 4-D (N, C, H, W), got shape {shape}: add a batch axis with x[None]")
    if len(shape) != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W), got shape {shape}")


def check_conv_shapes(x_shape, w_shape, b_shape, stride, pad):
    """x: (N, C, H, W), w: (F, C, KH, KW) and b: (F,), given as shapes; returns (OH, OW)."""
    check_nchw_shape(x_shape)
    x_shape, w_shape, b_shape = tuple(x_shape), tuple(w_shape), tuple(b_shape)
    if len(w_shape) != 4:
        raise ValueError(f"w must be 4-D (F, C, KH, KW), got shape {w_shape}")
    n_filters, c_w, kh, kw = w_shape
    c = x_shape[1]
    if c_w != c:
        raise ValueError(f"w must be (F, {c}, KH, KW) to match x: {x_shape}, got shape {w_shape}:"
                         f" the filters have {c_w} channels but x has {c}")
    if b_shape != (n_filters,):
        raise ValueError(f"b must be ({n_filters},) to match w: {w_shape} (one bias per filter), got shape {b_shape}")
    if min(w_shape) < 1:
        raise ValueError(f"w must have at least one filter, channel, row and column, got shape {w_shape}")
    _, _, h, w = x_shape
    oh = check_output_size(h, kh, stride, pad, h_name="input height H", k_name="kernel height KH", out_name="OH")
    ow = check_output_size(w, kw, stride, pad, h_name="input width W", k_name="kernel width KW", out_name="OW")
    return oh, ow


def check_pool_shapes(x_shape, size, stride):
    """x: (N, C, H, W), given as a shape, a size x size window and a stride; returns (OH, OW)."""
    check_nchw_shape(x_shape)
    size = check_int("size", size, 1, "a pooling window needs at least one row")
    _, _, h, w = tuple(x_shape)
    for name, value, out_name in (("height H", h, "OH"), ("width W", w, "OW")):
        if size > value:
            raise ValueError(f"the pooling window size = {size} is larger than the input {name} = {value}:"
                             f" {out_name} = ({name[-1]} - size) // stride + 1 would be below 1"
                             f" (pooling does not pad); use a smaller window")
    return (check_output_size(h, size, stride, 0, h_name="H", k_name="size", out_name="OH"),
            check_output_size(w, size, stride, 0, h_name="W", k_name="size", out_name="OW"))


# ---------------------------------------------------------------- recurrent layers

_GATES = {1: "", 3: " r, z, n", 4: " i, f, g, o"}


def _width(g):
    return "H" if g == 1 else f"{g}H"


def check_recurrent_weights(wx_shape, wh_shape, b_shapes, d, g, *, x_name="x", x_shape=None):
    """Wx: (D, G*H), Wh: (H, G*H) and each bias in b_shapes ({name: shape}): (G*H,).

    d: the input width D read from x (None: Wx's rows). Returns H (Wh's number of rows).
    """
    wx_shape, wh_shape = tuple(wx_shape), tuple(wh_shape)
    width = _width(g)
    if len(wh_shape) != 2 or wh_shape[0] < 1 or wh_shape[1] != g * wh_shape[0]:
        what = "square: hidden to hidden" if g == 1 else f"one (H, H) block per gate{_GATES[g]}"
        raise ValueError(f"Wh must be (H, {width}) ({what}), got shape {wh_shape}")
    h = wh_shape[0]
    if len(wx_shape) != 2:
        raise ValueError(f"Wx must be 2-D (D, {width}), one row per input feature, got shape {wx_shape}")
    d = wx_shape[0] if d is None else d
    x_what = f"{x_name}: {tuple(x_shape)}" if x_shape is not None else f"D = {d}"
    if wx_shape[0] != d:
        raise ValueError(f"Wx must be (D, {width}) with D = {d} rows to match {x_what}"
                         f" (one row per input feature), got shape {wx_shape}")
    if wx_shape[1] != g * h:
        raise ValueError(f"Wx must be (D, {width}) = ({d}, {g * h}) to match Wh: {wh_shape} (H = {h}),"
                         f" got shape {wx_shape}")
    for name, shape in b_shapes.items():
        if tuple(shape) != (g * h,):
            blocks = f", blocks{_GATES[g]}," if g > 1 else ""
            raise ValueError(f"{name} must be ({width},) = ({g * h},){blocks} to match Wh: {wh_shape},"
                             f" got shape {tuple(shape)}")
    return h


def _check_state(name, shape, n, h, *, x_name, x_shape, wh_shape):
    if tuple(shape) != (n, h):
        raise ValueError(f"{name} must be (N, H) = ({n}, {h}) to match {x_name}: {tuple(x_shape)} and"
                         f" Wh: {tuple(wh_shape)}, got shape {tuple(shape)}")


def check_step_shapes(x_shape, states, wx_shape, wh_shape, b_shapes, g, *, sequence_fn=None):
    """One step's shapes: x: (N, D), each state in states ({name: shape}): (N, H), and the
    weights (see check_recurrent_weights). Returns H."""
    x_shape = tuple(x_shape)
    if len(x_shape) == 3:
        tail = f", or call {sequence_fn} for the whole sequence" if sequence_fn else " and loop over t"
        raise ValueError(f"x must be 2-D (N, D) for one time step, got shape {x_shape}: pass one step x[:, t]{tail}")
    if len(x_shape) != 2:
        raise ValueError(f"x must be 2-D (N, D) for one time step, got shape {x_shape}")
    h = check_recurrent_weights(wx_shape, wh_shape, b_shapes, x_shape[1], g, x_shape=x_shape)
    for name, shape in states.items():
        _check_state(name, shape, x_shape[0], h, x_name="x", x_shape=x_shape, wh_shape=wh_shape)
    return h


def check_sequence_shapes(x_shape, h0_shape, wx_shape, wh_shape, b_shape, g, *, step_fn):
    """x: (N, T, D) with T >= 1, h0: (N, H) and the weights. Returns H."""
    x_shape = tuple(x_shape)
    if len(x_shape) == 2:
        raise ValueError(f"x must be 3-D (N, T, D), got shape {x_shape}: add a time axis with x[:, None]"
                         f" (a sequence of one step), or call {step_fn} for a single step")
    if len(x_shape) != 3:
        raise ValueError(f"x must be 3-D (N, T, D), got shape {x_shape}")
    if x_shape[1] < 1:
        raise ValueError(f"x must hold at least one time step, got shape {x_shape}")
    h = check_recurrent_weights(wx_shape, wh_shape, {"b": b_shape}, x_shape[2], g, x_shape=x_shape)
    _check_state("h0", h0_shape, x_shape[0], h, x_name="x", x_shape=x_shape, wh_shape=wh_shape)
    return h


# ---------------------------------------------------------------- attention


def check_attention_shapes(q_shape, k_shape, v_shape, mask_shape=None):
    """q: (..., T, Dk), k: (..., S, Dk), v: (..., S, Dv) with the same leading axes, and a mask
    (T, S) or (..., T, S) (its leading axes broadcast against q's). Returns (T, S)."""
    q_shape, k_shape, v_shape = tuple(q_shape), tuple(k_shape), tuple(v_shape)
    for name, shape in (("q", q_shape), ("k", k_shape), ("v", v_shape)):
        if len(shape) < 3:
            raise ValueError(f"{name} must be at least 3-D (N, positions, width), got shape {shape}: "
                             f"add a batch axis with {name}[None]")
    if not (q_shape[:-2] == k_shape[:-2] == v_shape[:-2]):
        raise ValueError(f"q, k and v must share their leading (batch) axes, got {q_shape}, {k_shape}, {v_shape}")
    if q_shape[-1] != k_shape[-1]:
        raise ValueError(f"q and k must have the same width Dk (q @ k^T compares them), got q: {q_shape}, "
                         f"k: {k_shape}")
    if k_shape[-2] != v_shape[-2]:
        raise ValueError(f"k and v must hold the same positions S (one value per key), got k: {k_shape}, "
                         f"v: {v_shape}")
    t, s = q_shape[-2], k_shape[-2]
    if mask_shape is not None:
        mask_shape = tuple(mask_shape)
        fits = len(mask_shape) >= 2 and mask_shape[-2:] == (t, s) and len(mask_shape) <= len(q_shape) and all(
            m in (1, d) for m, d in zip(reversed(mask_shape[:-2]), reversed(q_shape[:-2])))
        if not fits:
            raise ValueError(f"mask must be (T, S) = {(t, s)} or (N, T, S) = {(*q_shape[:-2], t, s)}, True where a "
                             f"query may attend to a key, got shape {mask_shape}")
    return t, s


def check_mask_lets_every_query_attend(every_query_has_a_key: bool) -> None:
    """A mask whose row is all False leaves a query nothing to attend to (softmax of nothing)."""
    if not every_query_has_a_key:
        raise ValueError("mask leaves a query with no key to attend to (a row of False): its softmax would "
                         "divide by zero; every query needs at least one True in its row")


def check_heads(d, n_heads) -> int:
    """The width per head, D / H, when n_heads divides the model width d."""
    n_heads = check_int("n_heads", n_heads, 1, "at least one head")
    if d % n_heads:
        raise ValueError(f"n_heads = {n_heads} must divide the model width D = {d} (each head gets D / H features)")
    return d // n_heads


def check_upstream(name, shape, expected, why) -> None:
    """An upstream gradient's shape: ``expected``, for the reason ``why``."""
    if tuple(shape) != tuple(expected):
        raise ValueError(f"{name} must be {tuple(expected)} {why}, got shape {tuple(shape)}")


def lstm_parameters(lstm):
    """weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 of a one-layer, one-direction
    nn.LSTM with biases, or a ValueError (TypeError for something else) saying what differs.
    torch is not imported here: the module's attributes are read."""
    if getattr(lstm, "mode", None) != "LSTM" or not hasattr(lstm, "weight_ih_l0"):
        raise TypeError(f"lstm must be a torch.nn.LSTM, got {type(lstm).__name__}")
    if lstm.num_layers != 1 or lstm.bidirectional:
        raise ValueError(f"lstm must have one layer and one direction, got num_layers={lstm.num_layers},"
                         f" bidirectional={lstm.bidirectional}: our Wx, Wh, b hold one layer's weights")
    if not lstm.bias:
        raise ValueError("lstm must have biases (bias=True): b = bias_ih_l0 + bias_hh_l0")
    if getattr(lstm, "proj_size", 0):
        raise ValueError(f"lstm must have no projection (proj_size=0), got proj_size={lstm.proj_size}")
    return lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0
