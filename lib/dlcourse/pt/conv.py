"""Torch twin of ``dlcourse.np.conv``: the same convolution and pooling forward/backward pairs.

Legend: N batch, C input channels, H, W input height and width, F filters, KH, KW kernel
height and width, OH, OW output height and width, S stride, P zero padding. Tensors stay
on their device and dtype; w has nn.Conv2d(C, F, (KH, KW)).weight's layout and b its bias.
im2col and col2im are torch.nn.functional.unfold and fold with the columns of all N
images side by side, (C*KH*KW, N*OH*OW), as in the NumPy version. The backward passes are
written out (no autograd). conv_output_size, conv2d_cost, vgg16_layers and vgg16_totals
count with Python ints and are NumPy's own; the shape checks and their messages are
``dlcourse.validate``'s, shared with NumPy.
"""

import torch
import torch.nn.functional as F

from dlcourse.np.conv import (  # noqa: F401  (re-exported: they count, no tensors involved)
    conv2d_cost,
    conv_output_size,
    vgg16_layers,
    vgg16_totals,
)
from dlcourse.validate import (
    check_conv_shapes,
    check_int,
    check_nchw_shape,
    check_output_size,
    check_pool_shapes,
)


def _kernel_output(h, w, kh, kw, stride, pad):
    kh = check_int("kh", kh, 1, "a kernel needs at least one row")
    kw = check_int("kw", kw, 1, "a kernel needs at least one column")
    oh = check_output_size(h, kh, stride, pad, h_name="input height H", k_name="kernel height KH", out_name="OH")
    ow = check_output_size(w, kw, stride, pad, h_name="input width W", k_name="kernel width KW", out_name="OW")
    return kh, kw, oh, ow


def _pad(x, pad):
    """x: (N, C, H, W) -> (N, C, H + 2 pad, W + 2 pad) with zeros around each image."""
    return F.pad(x, (pad, pad, pad, pad))


def conv2d_forward_naive(x, w, b, *, stride=1, pad=0):
    """Torch twin of np.conv.conv2d_forward_naive: loops over n, f, i, j.

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,); stride >= 1; pad >= 0.
    Returns (out: (N, F, OH, OW), cache = (x, w, b, stride, pad)).
    """
    oh, ow = check_conv_shapes(x.shape, w.shape, b.shape, stride, pad)
    n_images = x.shape[0]
    n_filters, _, kh, kw = w.shape
    x_pad = _pad(x, pad)
    out = torch.zeros((n_images, n_filters, oh, ow), dtype=x.dtype, device=x.device)
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(oh):
                for j in range(ow):
                    window = x_pad[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]  # (C, KH, KW)
                    out[n, f, i, j] = torch.sum(window * w[f]) + b[f]
    return out, (x, w, b, stride, pad)


def conv2d_backward_naive(dout, cache):
    """Torch twin of np.conv.conv2d_backward_naive: (dx, dw, db), window by window."""
    x, w, b, stride, pad = cache
    n_images, n_filters, oh, ow = dout.shape
    _, _, kh, kw = w.shape
    _, _, h, width = x.shape
    x_pad = _pad(x, pad)
    dx_pad = torch.zeros_like(x_pad)
    dw = torch.zeros_like(w)
    db = dout.sum(dim=(0, 2, 3))
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(oh):
                for j in range(ow):
                    rows = slice(i * stride, i * stride + kh)
                    cols = slice(j * stride, j * stride + kw)
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    return dx_pad[:, :, pad:pad + h, pad:pad + width], dw, db


def im2col(x, kh, kw, *, stride=1, pad=0):
    """Torch twin of np.conv.im2col: rows in (c, di, dj) order.

    x: (N, C, H, W). Returns cols: (C*KH*KW, N*OH*OW). F.unfold gives (N, C*KH*KW, OH*OW)
    with its rows in the same (c, di, dj) order; moving N next to OH*OW puts the images'
    columns side by side in (n, i, j) order.
    """
    check_nchw_shape(x.shape)
    n_images, c, h, w = x.shape
    kh, kw, oh, ow = _kernel_output(h, w, kh, kw, stride, pad)
    cols = F.unfold(x, (kh, kw), padding=pad, stride=stride)       # (N, C*KH*KW, OH*OW)
    return cols.permute(1, 0, 2).reshape(c * kh * kw, n_images * oh * ow)


def col2im(cols, x_shape, kh, kw, *, stride=1, pad=0):
    """Torch twin of np.conv.col2im: F.fold adds overlapping windows and cuts the padding off.

    cols: (C*KH*KW, N*OH*OW) in im2col's layout; x_shape: (N, C, H, W). Returns (N, C, H, W).
    """
    check_nchw_shape(x_shape)
    n_images, c, h, w = (int(s) for s in x_shape)
    kh, kw, oh, ow = _kernel_output(h, w, kh, kw, stride, pad)
    if tuple(cols.shape) != (c * kh * kw, n_images * oh * ow):
        raise ValueError(f"cols must be (C*KH*KW, N*OH*OW) = ({c * kh * kw}, {n_images * oh * ow}) for x_shape"
                         f" {tuple(x_shape)}, a {kh}x{kw} kernel, stride {stride} and pad {pad},"
                         f" got shape {tuple(cols.shape)}")
    per_image = cols.reshape(c * kh * kw, n_images, oh * ow).permute(1, 0, 2)  # (N, C*KH*KW, OH*OW)
    return F.fold(per_image, (h, w), (kh, kw), padding=pad, stride=stride)


def conv2d_forward(x, w, b, *, stride=1, pad=0):
    """Torch twin of np.conv.conv2d_forward: w.reshape(F, -1) @ im2col(x) + b.

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,). Returns (out: (N, F, OH, OW),
    cache = (x.shape, w, cols, stride, pad)) with cols: (C*KH*KW, N*OH*OW).
    """
    oh, ow = check_conv_shapes(x.shape, w.shape, b.shape, stride, pad)
    n_images = x.shape[0]
    n_filters, _, kh, kw = w.shape
    cols = im2col(x, kh, kw, stride=stride, pad=pad)                 # (C*KH*KW, N*OH*OW)
    out = w.reshape(n_filters, -1) @ cols + b[:, None]               # (F, N*OH*OW)
    out = out.reshape(n_filters, n_images, oh, ow).permute(1, 0, 2, 3).contiguous()
    return out, (tuple(x.shape), w, cols, stride, pad)


def conv2d_backward(dout, cache):
    """Torch twin of np.conv.conv2d_backward: (dx, dw, db) through col2im."""
    x_shape, w, cols, stride, pad = cache
    n_filters, _, kh, kw = w.shape
    dout_mat = dout.permute(1, 0, 2, 3).reshape(n_filters, -1)      # (F, N*OH*OW)
    db = dout_mat.sum(dim=1)
    dw = (dout_mat @ cols.T).reshape(w.shape)
    dcols = w.reshape(n_filters, -1).T @ dout_mat
    return col2im(dcols, x_shape, kh, kw, stride=stride, pad=pad), dw, db


def _windows(x, size, stride):
    """(N, C, H, W) -> (N, C, OH, OW, size*size), the last axis in row-major (di, dj) order."""
    windows = x.unfold(2, size, stride).unfold(3, size, stride)     # (N, C, OH, OW, size, size)
    return windows.reshape(*windows.shape[:4], size * size)


def maxpool2d_forward(x, *, size=2, stride=2):
    """Torch twin of np.conv.maxpool2d_forward: the first maximum on ties.

    x: (N, C, H, W). Returns (out: (N, C, OH, OW), cache = (x.shape, argmax, size, stride)).
    """
    check_pool_shapes(x.shape, size, stride)
    out, argmax = torch.max(_windows(x, size, stride), dim=-1)
    return out, (tuple(x.shape), argmax, size, stride)


def maxpool2d_backward(dout, cache):
    """Torch twin of np.conv.maxpool2d_backward: dout to each window's (first) maximum, overlaps add up.

    dout: (N, C, OH, OW). Returns dx: (N, C, H, W).
    """
    x_shape, argmax, size, stride = cache
    oh, ow = argmax.shape[2:]
    dx = torch.zeros(x_shape, dtype=dout.dtype, device=dout.device)
    for di in range(size):
        for dj in range(size):
            hit = argmax == di * size + dj
            dx[:, :, di:di + stride * oh:stride, dj:dj + stride * ow:stride] += dout * hit
    return dx


def avgpool2d_forward(x, *, size=2, stride=2):
    """Torch twin of np.conv.avgpool2d_forward: the mean of each size x size window.

    x: (N, C, H, W). Returns (out: (N, C, OH, OW), cache = (x.shape, size, stride)).
    """
    check_pool_shapes(x.shape, size, stride)
    return _windows(x, size, stride).mean(dim=-1), (tuple(x.shape), size, stride)


def avgpool2d_backward(dout, cache):
    """Torch twin of np.conv.avgpool2d_backward: dout / size^2 to every element of each window.

    dout: (N, C, OH, OW). Returns dx: (N, C, H, W).
    """
    x_shape, size, stride = cache
    oh, ow = dout.shape[2:]
    dx = torch.zeros(x_shape, dtype=dout.dtype, device=dout.device)
    share = dout / (size * size)
    for di in range(size):
        for dj in range(size):
            dx[:, :, di:di + stride * oh:stride, dj:dj + stride * ow:stride] += share
    return dx
