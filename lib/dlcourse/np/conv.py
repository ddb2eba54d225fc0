"""Convolution and pooling layers as forward/backward pairs with a cache (CS231n's conv layers).

Legend: N batch, C input channels, H, W input height and width, F filters, KH, KW kernel
height and width, OH, OW output height and width, S stride, P zero padding (on all four sides).

    OH = conv_output_size(H, KH, stride=S, pad=P) = (H + 2P - KH) // S + 1, and OW likewise

    out, cache = conv2d_forward_naive(x, w, b)   x: (N, C, H, W), w: (F, C, KH, KW), b: (F,)
                                                 -> out: (N, F, OH, OW), explicit loops
    out, cache = conv2d_forward(x, w, b)         the same numbers via im2col and one matmul
    dx, dw, db = conv2d_backward(dout, cache)    gradients in the order of forward's arrays
    cols = im2col(x, KH, KW)                     x: (N, C, H, W) -> cols: (C*KH*KW, N*OH*OW)
    dx = col2im(cols, x.shape, KH, KW)           the adjoint: overlapping windows add up
    maxpool2d_forward(x, size=2, stride=2)       x: (N, C, H, W) -> out: (N, C, OH, OW)
    avgpool2d_forward(x, size=2, stride=2)       (pooling: no padding, size plays KH = KW)

Cross-correlation, as torch.nn.functional.conv2d (the kernel is not flipped):
out[n, f, i, j] = b[f] + sum_{c, di, dj} x_pad[n, c, i*S + di, j*S + dj] * w[f, c, di, dj].
w has nn.Conv2d(C, F, (KH, KW)).weight's layout and b its bias. Rows and columns that no
window reaches (when (H + 2P - KH) is not a multiple of S) are dropped, as in torch.
"""

import numpy as np

from dlcourse.check import shown
from dlcourse.validate import (
    check_conv_shapes,
    check_int,
    check_nchw_shape,
    check_output_size,
    check_pool_shapes,
)


def conv_output_size(h, k, *, stride=1, pad=0):
    """The output size along one axis: (h + 2 pad - k) // stride + 1.

    h: input size (height or width); k: kernel size; stride >= 1; pad >= 0 zeros on each side.
    Windows that do not fit are dropped (floor), as in torch. Raises a ValueError naming
    h, k, stride or pad when the window does not fit once or an argument is out of range.
    """
    h = check_int("h", h, 1, "the input needs at least one row")
    k = check_int("k", k, 1, "a kernel needs at least one row")
    return check_output_size(h, k, stride, pad, h_name="h", k_name="k", out_name="the output size")


def _check_x(x):
    x = np.asarray(x, dtype=np.float64)
    check_nchw_shape(x.shape)
    return x


def _pad(x, pad):
    """x: (N, C, H, W) -> (N, C, H + 2 pad, W + 2 pad) with zeros around each image."""
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


# ---------------------------------------------------------------- convolution, with loops


def conv2d_forward_naive(x, w, b, *, stride=1, pad=0):
    """Convolution (cross-correlation, as torch) with explicit loops, to be read.

    For every image n, filter f and output position (i, j), the window of x_pad under the
    filter, x_pad[n, :, i*S : i*S + KH, j*S : j*S + KW]: (C, KH, KW), is multiplied by the
    filter w[f]: (C, KH, KW) elementwise, summed, and b[f] added.
    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,); stride >= 1; pad >= 0.
    Returns (out: (N, F, OH, OW), cache = (x, w, b, stride, pad)).
    """
    x = _check_x(x)
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    oh, ow = check_conv_shapes(x.shape, w.shape, b.shape, stride, pad)
    n_images = x.shape[0]
    n_filters, _, kh, kw = w.shape
    x_pad = _pad(x, pad)
    out = np.zeros((n_images, n_filters, oh, ow))
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(oh):
                for j in range(ow):
                    window = x_pad[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]  # (C, KH, KW)
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, stride, pad)


def conv2d_backward_naive(dout, cache):
    """dout: (N, F, OH, OW). Returns dx: (N, C, H, W), dw: (F, C, KH, KW), db: (F,).

    Each output out[n, f, i, j] used one window of x_pad and the whole filter w[f], so its
    gradient dout[n, f, i, j] adds dout * window to dw[f] and dout * w[f] to that window of
    dx_pad; windows that overlap add up. db sums dout over n, i and j. dx is dx_pad with
    the padding cut off.
    """
    x, w, b, stride, pad = cache
    dout = np.asarray(dout, dtype=np.float64)
    n_images, n_filters, oh, ow = dout.shape
    _, _, kh, kw = w.shape
    _, _, h, width = x.shape
    x_pad = _pad(x, pad)
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(oh):
                for j in range(ow):
                    rows = slice(i * stride, i * stride + kh)
                    cols = slice(j * stride, j * stride + kw)
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    return dx_pad[:, :, pad:pad + h, pad:pad + width], dw, db


# ---------------------------------------------------------------- convolution as a matrix product


def im2col(x, kh, kw, *, stride=1, pad=0):
    """Every KH x KW window of the zero-padded x as one column of a matrix.

    x: (N, C, H, W). Returns cols: (C*KH*KW, N*OH*OW): row c*KH*KW + di*KW + dj holds
    x_pad[n, c, i*S + di, j*S + dj], the (c, di, dj) order of w.reshape(F, -1), and column
    n*OH*OW + i*OW + j is the window of output position (n, i, j). Then
    w.reshape(F, -1) @ cols is the convolution, (F, N*OH*OW). One strided slice per kernel
    offset (di, dj) fills KH*KW rows at once: no loop over the N*OH*OW windows.
    """
    x = _check_x(x)
    kh = check_int("kh", kh, 1, "a kernel needs at least one row")
    kw = check_int("kw", kw, 1, "a kernel needs at least one column")
    n_images, c, h, w = x.shape
    oh = check_output_size(h, kh, stride, pad, h_name="input height H", k_name="kernel height KH", out_name="OH")
    ow = check_output_size(w, kw, stride, pad, h_name="input width W", k_name="kernel width KW", out_name="OW")
    x_pad = _pad(x, pad)
    cols = np.empty((c, kh, kw, n_images, oh, ow))
    for di in range(kh):
        for dj in range(kw):
            # x_pad[n, c, i*S + di, j*S + dj] for all n, c, i, j: (N, C, OH, OW)
            patch = x_pad[:, :, di:di + stride * oh:stride, dj:dj + stride * ow:stride]
            cols[:, di, dj] = patch.transpose(1, 0, 2, 3)
    return cols.reshape(c * kh * kw, n_images * oh * ow)


def col2im(cols, x_shape, kh, kw, *, stride=1, pad=0):
    """The adjoint of im2col: adds every column back onto the window it came from.

    cols: (C*KH*KW, N*OH*OW) in im2col's layout; x_shape: (N, C, H, W). Where windows
    overlap (stride < KH or KW) their values add up, which is what the backward pass needs:
    dx = col2im(dcols). The padding is cut off at the end. Returns an (N, C, H, W) array.
    """
    check_nchw_shape(x_shape)
    n_images, c, h, w = (int(s) for s in x_shape)
    kh = check_int("kh", kh, 1, "a kernel needs at least one row")
    kw = check_int("kw", kw, 1, "a kernel needs at least one column")
    oh = check_output_size(h, kh, stride, pad, h_name="input height H", k_name="kernel height KH", out_name="OH")
    ow = check_output_size(w, kw, stride, pad, h_name="input width W", k_name="kernel width KW", out_name="OW")
    cols = np.asarray(cols, dtype=np.float64)
    if cols.shape != (c * kh * kw, n_images * oh * ow):
        raise ValueError(f"cols must be (C*KH*KW, N*OH*OW) = ({c * kh * kw}, {n_images * oh * ow}) for x_shape"
                         f" {tuple(x_shape)}, a {kh}x{kw} kernel, stride {stride} and pad {pad},"
                         f" got shape {cols.shape}")
    cols = cols.reshape(c, kh, kw, n_images, oh, ow)
    dx_pad = np.zeros((n_images, c, h + 2 * pad, w + 2 * pad))
    for di in range(kh):
        for dj in range(kw):
            patch = cols[:, di, dj].transpose(1, 0, 2, 3)  # (N, C, OH, OW)
            # one offset reaches each position at most once, so += does not drop repeats
            dx_pad[:, :, di:di + stride * oh:stride, dj:dj + stride * ow:stride] += patch
    return dx_pad[:, :, pad:pad + h, pad:pad + w]


def conv2d_forward(x, w, b, *, stride=1, pad=0):
    """conv2d_forward_naive's numbers with one matrix product: out = w.reshape(F, -1) @ im2col(x).

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,). Returns (out: (N, F, OH, OW),
    cache = (x.shape, w, cols, stride, pad)) with cols = im2col(x): (C*KH*KW, N*OH*OW).
    """
    x = _check_x(x)
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    oh, ow = check_conv_shapes(x.shape, w.shape, b.shape, stride, pad)
    n_images = x.shape[0]
    n_filters, _, kh, kw = w.shape
    cols = im2col(x, kh, kw, stride=stride, pad=pad)               # (C*KH*KW, N*OH*OW)
    out = w.reshape(n_filters, -1) @ cols + b[:, None]             # (F, N*OH*OW)
    out = out.reshape(n_filters, n_images, oh, ow).transpose(1, 0, 2, 3)  # (N, F, OH, OW)
    return np.ascontiguousarray(out), (x.shape, w, cols, stride, pad)


def conv2d_backward(dout, cache):
    """dout: (N, F, OH, OW). Returns dx: (N, C, H, W), dw: (F, C, KH, KW), db: (F,).

    With out_mat = w_mat @ cols + b (w_mat = w.reshape(F, -1)), as for an affine layer:
    dw_mat = dout_mat @ cols.T, dcols = w_mat.T @ dout_mat, db = dout_mat summed over its
    columns, and dx = col2im(dcols).
    """
    x_shape, w, cols, stride, pad = cache
    n_filters, _, kh, kw = w.shape
    dout = np.asarray(dout, dtype=np.float64)
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(n_filters, -1)  # (F, N*OH*OW), cols' column order
    db = dout_mat.sum(axis=1)
    dw = (dout_mat @ cols.T).reshape(w.shape)
    dcols = w.reshape(n_filters, -1).T @ dout_mat                   # (C*KH*KW, N*OH*OW)
    return col2im(dcols, x_shape, kh, kw, stride=stride, pad=pad), dw, db


# ---------------------------------------------------------------- pooling


def _windows(x, size, stride, oh, ow):
    """The size*size window values of x: (N, C, H, W) as (N, C, OH, OW, size*size),
    the last axis in row-major (di, dj) order."""
    return np.stack([x[:, :, di:di + stride * oh:stride, dj:dj + stride * ow:stride]
                     for di in range(size) for dj in range(size)], axis=-1)


def maxpool2d_forward(x, *, size=2, stride=2):
    """Max pooling over size x size windows, moved by stride, per image and channel.

    x: (N, C, H, W). No padding; windows that do not fit are dropped, as in torch.
    Returns (out: (N, C, OH, OW), cache = (x.shape, argmax, size, stride)): argmax holds,
    for each window, the position di*size + dj of its maximum (the first one on ties, the
    element torch's max_pool2d picks too).
    """
    x = _check_x(x)
    oh, ow = check_pool_shapes(x.shape, size, stride)
    windows = _windows(x, size, stride, oh, ow)                    # (N, C, OH, OW, size*size)
    argmax = np.argmax(windows, axis=-1)                           # the first maximum on ties
    out = np.take_along_axis(windows, argmax[..., None], axis=-1)[..., 0]
    return out, (x.shape, argmax, size, stride)


def maxpool2d_backward(dout, cache):
    """dout: (N, C, OH, OW). Returns dx: (N, C, H, W).

    Each window passes its gradient to its (first) maximum only; the other elements get 0.
    Where windows overlap (stride < size) an element can be the maximum of several windows,
    and their gradients add up.
    """
    x_shape, argmax, size, stride = cache
    dout = np.asarray(dout, dtype=np.float64)
    oh, ow = argmax.shape[2:]
    dx = np.zeros(x_shape)
    for di in range(size):
        for dj in range(size):
            hit = argmax == di * size + dj                         # windows whose maximum sits at (di, dj)
            dx[:, :, di:di + stride * oh:stride, dj:dj + stride * ow:stride] += dout * hit
    return dx


def avgpool2d_forward(x, *, size=2, stride=2):
    """Average pooling over size x size windows, moved by stride, per image and channel.

    x: (N, C, H, W). No padding; windows that do not fit are dropped, as in torch.
    Returns (out: (N, C, OH, OW), cache = (x.shape, size, stride)).
    """
    x = _check_x(x)
    oh, ow = check_pool_shapes(x.shape, size, stride)
    return _windows(x, size, stride, oh, ow).mean(axis=-1), (x.shape, size, stride)


def avgpool2d_backward(dout, cache):
    """dout: (N, C, OH, OW). Returns dx: (N, C, H, W): every element of a window gets
    dout / size^2 of it, summed over the windows it belongs to."""
    x_shape, size, stride = cache
    dout = np.asarray(dout, dtype=np.float64)
    oh, ow = dout.shape[2:]
    dx = np.zeros(x_shape)
    share = dout / (size * size)
    for di in range(size):
        for dj in range(size):
            dx[:, :, di:di + stride * oh:stride, dj:dj + stride * ow:stride] += share
    return dx


# ---------------------------------------------------------------- counting


def conv2d_cost(c_in, h, w, n_filters, kh, kw=None, *, stride=1, pad=0):
    """What one conv layer costs on a (c_in, h, w) input with n_filters kh x kw filters.

    kw=None: a square kh x kh kernel. Returns a dict with "out_shape": (F, OH, OW),
    "weights": F*C*KH*KW, "biases": F and "multiply_adds": F*OH*OW*C*KH*KW (one
    multiply-add per weight per output position; the biases not counted).
    conv2d_cost(3, 32, 32, 6, 3, pad=1): 162 weights, 6 biases, 165,888 multiply-adds.
    """
    kw = kh if kw is None else kw
    c_in = check_int("c_in", c_in, 1, "the input needs at least one channel")
    n_filters = check_int("n_filters", n_filters, 1, "a layer needs at least one filter")
    kh = check_int("kh", kh, 1, "a kernel needs at least one row")
    kw = check_int("kw", kw, 1, "a kernel needs at least one column")
    h = check_int("h", h, 1, "the input needs at least one row")
    w = check_int("w", w, 1, "the input needs at least one column")
    oh = check_output_size(h, kh, stride, pad, h_name="input height h", k_name="kernel height kh", out_name="OH")
    ow = check_output_size(w, kw, stride, pad, h_name="input width w", k_name="kernel width kw", out_name="OW")
    weights = n_filters * c_in * kh * kw
    return {"out_shape": (n_filters, oh, ow), "weights": weights, "biases": n_filters,
            "multiply_adds": oh * ow * weights}


# VGG16, configuration D of Simonyan & Zisserman (2015): conv3 filters per layer, "P" a 2x2 max-pool
_VGG16_CONFIG = (64, 64, "P", 128, 128, "P", 256, 256, 256, "P", 512, 512, 512, "P", 512, 512, 512, "P")
_VGG16_FC = (4096, 4096, 1000)


def vgg16_layers(*, conv_output_size=conv_output_size):
    """VGG16 (configuration D) on a 3 x 224 x 224 image, layer by layer.

    13 conv layers with 3x3 filters, stride 1 and pad 1 (which keep H and W), five 2x2
    max-pools with stride 2 (which halve them), then fc6 (7*7*512 -> 4096), fc7
    (4096 -> 4096) and fc8 (4096 -> 1000). Returns a list of dicts, one per layer, with
    "name" (conv1_1, ..., pool1, ..., fc8), "out_shape" ((C, H, W), or (M,) after an fc),
    "activations" (the number of output values) and "params" (weights + biases). The input
    image is not a layer: vgg16_totals adds its 224*224*3 values.

    conv_output_size: ``conv_output_size(h, k, stride=S)``, the size a pool leaves of each
    axis (05's Exercise 2 writes one); by default this module's. It must return a positive
    int, else a ValueError names it.
    """
    layers = []
    c, h, w = 3, 224, 224
    block, index = 1, 1
    for item in _VGG16_CONFIG:
        if item == "P":
            h, w = conv_output_size(h, 2, stride=2), conv_output_size(w, 2, stride=2)
            if not all(isinstance(size, (int, np.integer)) and size >= 1 for size in (h, w)):
                raise ValueError(f"conv_output_size must return a positive int: after a 2x2 pool with stride 2"
                                 f" it returned {shown((h, w))} for pool{block}")
            layers.append({"name": f"pool{block}", "out_shape": (c, h, w), "activations": c * h * w, "params": 0})
            block, index = block + 1, 1
            continue
        cost = conv2d_cost(c, h, w, item, 3, pad=1)
        c, h, w = cost["out_shape"]
        layers.append({"name": f"conv{block}_{index}", "out_shape": (c, h, w), "activations": c * h * w,
                       "params": cost["weights"] + cost["biases"]})
        index += 1
    width = c * h * w  # the last pool's output, flattened: 7*7*512 = 25,088
    for number, m in enumerate(_VGG16_FC, start=6):
        layers.append({"name": f"fc{number}", "out_shape": (m,), "activations": m, "params": width * m + m})
        width = m
    return layers


def vgg16_totals(*, conv_output_size=conv_output_size):
    """VGG16's parameter count and the activations of one forward pass (CS231n's count).

    Returns a dict with "params" (138,357,544 weights and biases), "activations" (the
    output values of every layer plus the input image's 224*224*3 = 150,528 values) and
    "activation_megabytes" (activations * 4 bytes / 2**20, for float32). CS231n's notes
    quote "24M * 4 bytes ~= 93MB"; their own per-layer numbers add up to 15.2M, ~58 MB.
    Only the forward pass of one image is counted: training keeps about as much again for
    the backward pass. conv_output_size: as in vgg16_layers.
    """
    layers = vgg16_layers(conv_output_size=conv_output_size)
    activations = 3 * 224 * 224 + sum(layer["activations"] for layer in layers)
    return {"params": sum(layer["params"] for layer in layers), "activations": activations,
            "activation_megabytes": activations * 4 / 2**20}
