"""Plausible wrong answers to the exercises of 05-convolution, as whole answer cells (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: kernel flipped, bias missing or added once per channel, padding on one side
only, stride ignored in the backward pass, pooling gradient spread to every cell."""

_BY_HAND = '''
def correlate2d(x, w):
    kh, kw = w.shape
    w = CORRELATE_KERNEL
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i:i + kh, j:j + kw] * w)
    return out


def convolve2d(x, w):
    return correlate2d(x, CONVOLVE_KERNEL)
'''


def _by_hand(correlate="w", convolve="w[::-1, ::-1]"):
    return _BY_HAND.replace("CORRELATE_KERNEL", correlate).replace("CONVOLVE_KERNEL", convolve)


_FORWARD = '''
def conv2d_forward_naive(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = w.shape
    OH, OW = conv_output_size(H, KH, stride, pad), conv_output_size(W, KW, stride, pad)
    xp = np.pad(x, PADDING)
    out = np.zeros((N, n_filters, OH, OW))
    for n in range(N):
        for f in range(n_filters):
            for i in range(OH):
                for j in range(OW):
                    window = xp[n, :, i * STEP:i * STEP + KH, j * STEP:j * STEP + KW]
                    out[n, f, i, j] = SUM
    return out
'''


def _forward(padding="((0, 0), (0, 0), (pad, pad), (pad, pad))", step="stride", total="np.sum(window * w[f]) + b[f]"):
    return _FORWARD.replace("PADDING", padding).replace("STEP", step).replace("SUM", total)


_BACKWARD = '''
def conv2d_backward_naive(dout, x, w, stride=1, pad=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = w.shape
    _, _, OH, OW = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    db = DB
    for n in range(N):
        for f in range(n_filters):
            for i in range(OH):
                for j in range(OW):
                    rows, cols = slice(i * STEP, i * STEP + KH), slice(j * STEP, j * STEP + KW)
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
    dx = DX
    return dx, dw, db
'''


def _backward(db="dout.sum(axis=(0, 2, 3))", step="stride", dx="dxp[:, :, pad:pad + H, pad:pad + W]"):
    return _BACKWARD.replace("DB", db).replace("STEP", step).replace("DX", dx)


_IM2COL = '''
def im2col(x, kh, kw, stride=1, pad=0):
    N, C, H, W = x.shape
    OH, OW = conv_output_size(H, kh, stride, pad), conv_output_size(W, kw, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((C * kh * kw, N * OH * OW))
    for n in range(N):
        for i in range(OH):
            for j in range(OW):
                window = xp[n, :, i * STEP:i * STEP + kh, j * STEP:j * STEP + kw]
                cols[:, COLUMN] = WINDOW
    return cols
'''


def _im2col(step="stride", column="n * OH * OW + i * OW + j", window="window.reshape(-1)"):
    return _IM2COL.replace("STEP", step).replace("COLUMN", column).replace("WINDOW", window)


_MAXPOOL = '''
def maxpool2d_backward(dout, x, size=2, stride=2):
    N, C, H, W = x.shape
    _, _, OH, OW = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    window = x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
                    UPDATE
    return dx
'''


def _maxpool(update):
    return _MAXPOOL.replace("UPDATE", update)


_COUNTS = '''
def conv_layer_counts(c_in, h, w, n_filters, k, stride=1, pad=0):
    weights = WEIGHTS
    outputs = OUTPUTS
    return weights, n_filters, outputs * c_in * k * k
'''


def _counts(weights="n_filters * c_in * k * k",
            outputs="n_filters * conv_output_size(h, k, stride, pad) * conv_output_size(w, k, stride, pad)"):
    return _COUNTS.replace("WEIGHTS", weights).replace("OUTPUTS", outputs)


MISTAKES = {
    "ex1_by_hand": {
        "kernel flipped in the cross-correlation": _by_hand(correlate="w[::-1, ::-1]", convolve="w"),
        "convolution flips one axis only": _by_hand(convolve="w[::-1, :]"),
        "convolution without the flip": _by_hand(convolve="w"),
    },
    "ex2_output_size": {
        "padding counted once": '''
def conv_output_size(h, k, stride=1, pad=0):
    return (h + pad - k) // stride + 1
''',
        "no rounding down (a float)": '''
def conv_output_size(h, k, stride=1, pad=0):
    return (h + 2 * pad - k) / stride + 1
''',
        "rounded up": '''
def conv_output_size(h, k, stride=1, pad=0):
    return -(-(h + 2 * pad - k) // stride) + 1
''',
    },
    "ex3_conv_forward": {
        "kernel flipped": _forward(total="np.sum(window * w[f][:, ::-1, ::-1]) + b[f]"),
        "bias missing": _forward(total="np.sum(window * w[f])"),
        "bias added once per channel": _forward(total="np.sum(window * w[f]) + C * b[f]"),
        "padding on one side only": _forward(padding="((0, 0), (0, 0), (pad, 0), (pad, 0))"),
        "stride ignored": _forward(step="1"),
    },
    "ex4_conv_backward": {
        "stride ignored in the backward pass": _backward(step="1"),
        "db summed over positions but not over the batch": _backward(db="dout.sum(axis=(2, 3))[0]"),
        "padding not cut off (wrong side)": _backward(dx="dxp[:, :, :H, :W]"),
    },
    "ex5_im2col": {
        "stride ignored": _im2col(step="1"),
        "columns ordered by position, then sample": _im2col(column="(i * OW + j) * N + n"),
        "window flattened kernel-position first": _im2col(window="window.transpose(1, 2, 0).reshape(-1)"),
    },
    "ex6_maxpool_backward": {
        "gradient to every tied maximum": _maxpool(
            "dx[n, c, i * stride:i * stride + size, j * stride:j * stride + size] += "
            "(window == window.max()) * dout[n, c, i, j]"),
        'delegates to the library': """
def maxpool2d_backward(dout, x, size=2, stride=2):
    return np_conv.maxpool2d_backward(dout, np_conv.maxpool2d_forward(x, size=size, stride=stride)[1])
""",
        "gradient spread to every cell": _maxpool(
            "dx[n, c, i * stride:i * stride + size, j * stride:j * stride + size] += dout[n, c, i, j] / size**2"),
        "gradient to every maximum on ties and overwritten": _maxpool(
            "dx[n, c, i * stride:i * stride + size, j * stride:j * stride + size] = "
            "(window == window.max()) * dout[n, c, i, j]"),
        "argmax position taken relative to the image": _maxpool(
            "u, v = np.unravel_index(np.argmax(window), window.shape); dx[n, c, u, v] += dout[n, c, i, j]"),
    },
    "ex7_counts": {
        "the notes' count without input channels": _counts(weights="n_filters * k * k"),
        "multiply-adds counted on the input size": _counts(outputs="n_filters * h * w"),
        "biases counted as weights": _counts(weights="n_filters * (c_in * k * k + 1)"),
    },
}
