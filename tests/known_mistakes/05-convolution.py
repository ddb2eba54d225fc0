"""Plausible wrong answers to the exercises of 05-convolution, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole cell (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: kernel flipped, bias missing or added once per channel, padding on one side
only, stride ignored in the backward pass, pooling gradient spread to every cell."""

from known_mistakes.mistakes import edits_of, whole

edit = edits_of("05-convolution")

# maxpool2d_backward's routing of a window's gradient, which most of its mistakes replace
_TO_ARGMAX = ("                    u, v = np.unravel_index(np.argmax(window), window.shape)\n"
              "                    dx[n, c, i * stride + u, j * stride + v] += dout[n, c, i, j]")
_WINDOW = "dx[n, c, i * stride:i * stride + size, j * stride:j * stride + size]"

MISTAKES = {
    "ex1_by_hand": {
        "kernel flipped in the cross-correlation": edit("ex1_by_hand",
                                                        ("    kh, kw = w.shape\n",
                                                         "    kh, kw = w.shape\n    w = w[::-1, ::-1]\n"),
                                                        ("correlate2d(x, w[::-1, ::-1])", "correlate2d(x, w)")),
        "convolution flips one axis only": edit("ex1_by_hand", ("w[::-1, ::-1]", "w[::-1, :]")),
        "convolution without the flip": edit("ex1_by_hand", ("correlate2d(x, w[::-1, ::-1])", "correlate2d(x, w)")),
    },
    "ex2_output_size": {
        "padding counted once": edit("ex2_output_size", ("h + 2 * pad - k", "h + pad - k")),
        "no rounding down (a float)": edit("ex2_output_size", ("//", "/")),
        "rounded up": edit("ex2_output_size", (
            "(h + 2 * pad - k) // stride + 1", "-(-(h + 2 * pad - k) // stride) + 1")),
    },
    "ex3_conv_forward": {
        "kernel flipped": edit("ex3_conv_forward", ("np.sum(window * w[f])", "np.sum(window * w[f][:, ::-1, ::-1])")),
        "bias missing": edit("ex3_conv_forward", (" + b[f]", "")),
        "bias added once per channel": edit("ex3_conv_forward", ("+ b[f]", "+ C * b[f]")),
        "padding on one side only": edit("ex3_conv_forward", ("(pad, pad), (pad, pad)", "(pad, 0), (pad, 0)")),
        "stride ignored": edit("ex3_conv_forward", (
            "xp[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]", "xp[n, :, i:i + KH, j:j + KW]")),
    },
    "ex4_conv_backward": {
        "stride ignored in the backward pass": edit("ex4_conv_backward", (
            "slice(i * stride, i * stride + KH), slice(j * stride, j * stride + KW)",
            "slice(i, i + KH), slice(j, j + KW)")),
        "db summed over positions but not over the batch": edit("ex4_conv_backward", (
            "dout.sum(axis=(0, 2, 3))", "dout.sum(axis=(2, 3))[0]")),
        "padding not cut off (wrong side)": edit("ex4_conv_backward", (
            "dxp[:, :, pad:pad + H, pad:pad + W]", "dxp[:, :, :H, :W]")),
    },
    "ex5_im2col": {
        "stride ignored": edit("ex5_im2col", (
            "xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]", "xp[n, :, i:i + kh, j:j + kw]")),
        "columns ordered by position, then sample": edit("ex5_im2col", (
            "n * OH * OW + i * OW + j", "(i * OW + j) * N + n")),
        "window flattened kernel-position first": edit("ex5_im2col", (
            "window.reshape(-1)", "window.transpose(1, 2, 0).reshape(-1)")),
    },
    "ex6_maxpool_backward": {
        "gradient to every tied maximum": edit("ex6_maxpool_backward", (
            _TO_ARGMAX, f"                    {_WINDOW} += (window == window.max()) * dout[n, c, i, j]")),
        'delegates to the library': whole("""
def maxpool2d_backward(dout, x, size=2, stride=2):
    return np_conv.maxpool2d_backward(dout, np_conv.maxpool2d_forward(x, size=size, stride=stride)[1])
"""),
        "gradient spread to every cell": edit("ex6_maxpool_backward", (
            _TO_ARGMAX, f"                    {_WINDOW} += dout[n, c, i, j] / size**2")),
        "gradient to every maximum on ties and overwritten": edit("ex6_maxpool_backward", (
            _TO_ARGMAX, f"                    {_WINDOW} = (window == window.max()) * dout[n, c, i, j]")),
        "argmax position taken relative to the image": edit("ex6_maxpool_backward", (
            "dx[n, c, i * stride + u, j * stride + v]", "dx[n, c, u, v]")),
    },
    "ex7_counts": {
        "the notes' count without input channels": edit("ex7_counts", (
            "weights = n_filters * c_in * k * k", "weights = n_filters * k * k")),
        "multiply-adds counted on the input size": edit("ex7_counts", (
            "n_filters * ((h + 2 * pad - k) // stride + 1) * ((w + 2 * pad - k) // stride + 1)",
            "n_filters * h * w")),
        "biases counted as weights": edit("ex7_counts", (
            "weights = n_filters * c_in * k * k", "weights = n_filters * (c_in * k * k + 1)")),
    },
}
