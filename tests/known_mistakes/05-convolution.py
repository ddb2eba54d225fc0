"""Plausible wrong answers to the exercises of 05-convolution, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole cell (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: kernel flipped, bias missing or added once per channel, padding on one side
only, stride ignored in the backward pass, pooling gradient spread to every cell; and those
that show only on the inputs issue 25 added: non-square inputs and kernels, stride and padding
together, overlapping pooling windows, tied maxima. Each is tagged with how the student hears
of it before grading: ``visible`` with the words the failing visible check prints, or
``hidden_only`` with the reason no visible check can see it."""

from known_mistakes.mistakes import edits_of, hidden_only, visible, whole

edit = edits_of("05-convolution")

# maxpool2d_backward's routing of a window's gradient, which most of its mistakes replace
_TO_ARGMAX = ("                    u, v = np.unravel_index(np.argmax(window), window.shape)\n"
              "                    dx[n, c, i * stride + u, j * stride + v] += dout[n, c, i, j]")
_WINDOW = "dx[n, c, i * stride:i * stride + size, j * stride:j * stride + size]"
_OUTPUTS = "n_filters * ((h + 2 * pad - k) // stride + 1) * ((w + 2 * pad - k) // stride + 1)"

MISTAKES = {
    "ex1_by_hand": {
        "kernel flipped in the cross-correlation": visible(edit(
            "ex1_by_hand", ("    kh, kw = w.shape\n", "    kh, kw = w.shape\n    w = w[::-1, ::-1]\n"),
            ("correlate2d(x, w[::-1, ::-1])", "correlate2d(x, w)")), hint="without flipping"),
        "convolution flips one axis only": visible(
            edit("ex1_by_hand", ("w[::-1, ::-1]", "w[::-1, :]")), hint="flips the kernel in both directions"),
        "convolution without the flip": visible(
            edit("ex1_by_hand", ("correlate2d(x, w[::-1, ::-1])", "correlate2d(x, w)")),
            hint="flips the kernel in both directions"),
        # new (issue 25): what only a non-square input or kernel shows
        "output columns counted from the rows": visible(
            edit("ex1_by_hand", ("x.shape[1] - kw + 1", "x.shape[0] - kw + 1")), hint="W - KW + 1 columns"),
        "convolution flips the kernel by transposing it": visible(
            edit("ex1_by_hand", ("w[::-1, ::-1]", "w.T")), hint="flips the kernel in both directions"),
    },
    "ex2_output_size": {
        "padding counted once": visible(edit("ex2_output_size", (
            "(h + 2 * pad - span) // stride", "(h + pad - span) // stride")),
            hint="padding adds P zeros on both sides"),
        "no rounding down (a float)": visible(edit("ex2_output_size", ("//", "/")), hint="round down"),
        "rounded up": visible(edit("ex2_output_size", (
            "(h + 2 * pad - span) // stride + 1", "-(-(h + 2 * pad - span) // stride) + 1")), hint="round down"),
        # new (issue 25): right at stride 1, wrong once the stride divides
        "the +1 inside the division": visible(edit("ex2_output_size", (
            "(h + 2 * pad - span) // stride + 1", "(h + 2 * pad - span + 1) // stride")),
            hint="then one more every S pixels"),
        "padding added after the division by the stride": visible(edit("ex2_output_size", (
            "(h + 2 * pad - span) // stride + 1", "(h - span) // stride + 1 + 2 * pad")),
            hint="the padding inside the division"),
        # new (issue 26): dilation, the fit check and the stack
        "dilation ignored": visible(edit("ex2_output_size", ("span = dilation * (k - 1) + 1", "span = k")),
                                    hint="a dilated window spans more pixels than it has taps"),
        "the span taken as dilation * k": visible(edit("ex2_output_size", (
            "span = dilation * (k - 1) + 1", "span = dilation * k")),
            hint="3 taps at dilation 2 reach from pixel 0 to pixel 4, a span of 5"),
        "no check that the window fits": visible(edit("ex2_output_size", (
            "    if span > h + 2 * pad:\n        raise ValueError(", "    if False:\n        raise ValueError(")),
            hint="raise a ValueError when its span is larger"),
        "fit checked against the unpadded input": visible(edit("ex2_output_size", (
            "if span > h + 2 * pad:", "if span > h:")), hint="the window must fit in the padded input"),
        "every layer fed the input size": visible(edit("ex2_output_size", (
            "h = conv_output_size(h, **layer)", "size = conv_output_size(h, **layer)"),
            ("sizes.append(h)", "sizes.append(size)")), hint="each layer's input is the previous layer's output"),
        "dilation not passed on to the layer": visible(edit("ex2_output_size", (
            "h = conv_output_size(h, **layer)",
            "h = conv_output_size(h, layer['k'], stride=layer.get('stride', 1), pad=layer.get('pad', 0))")),
            hint="pass every key of the layer's dict on"),
        "the error does not name the layer": visible(edit("ex2_output_size", (
            'raise ValueError(f"layer {index}: input size {h}: {error}") from error', "raise")),
            hint="name the layer by its position in the list, from 0"),
        "layers counted from 1 in the error": visible(edit("ex2_output_size", ("layer {index}:", "layer {index + 1}:")),
                                                      hint="name the layer by its position in the list, from 0"),
    },
    "ex3_conv_forward": {
        "kernel flipped": visible(
            edit("ex3_conv_forward", ("np.sum(window * w[f])", "np.sum(window * w[f][:, ::-1, ::-1])")),
            hint="without flipping"),
        "bias missing": visible(edit("ex3_conv_forward", (" + b[f]", "")), hint="then add b[f] once"),
        "bias added once per channel": visible(edit("ex3_conv_forward", ("+ b[f]", "+ C * b[f]")),
                                               hint="add b[f] once"),
        "padding on one side only": visible(edit("ex3_conv_forward", ("(pad, pad), (pad, pad)", "(pad, 0), (pad, 0)")),
                                            hint="pad every side of H and W"),
        "stride ignored": visible(edit("ex3_conv_forward", (
            "xp[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]", "xp[n, :, i:i + KH, j:j + KW]")),
            hint="starting at (i * stride, j * stride)"),
        # new (issue 25)
        "output size without the padding": visible(edit("ex3_conv_forward", (
            "(H + 2 * pad - KH) // stride + 1, (W + 2 * pad - KW) // stride + 1",
            "(H - KH) // stride + 1, (W - KW) // stride + 1")), hint="OH = (H + 2P - KH) // S + 1"),
        "output width from the height": visible(edit("ex3_conv_forward", (
            "(W + 2 * pad - KW) // stride + 1", "(H + 2 * pad - KW) // stride + 1")), hint="OW from W and KW"),
    },
    "ex4_conv_backward": {
        "stride ignored in the backward pass": visible(edit("ex4_conv_backward", (
            "slice(i * stride, i * stride + KH), slice(j * stride, j * stride + KW)",
            "slice(i, i + KH), slice(j, j + KW)")), hint="starting at row i * stride, column j * stride"),
        "db summed over positions but not over the batch": visible(edit("ex4_conv_backward", (
            "dout.sum(axis=(0, 2, 3))", "dout.sum(axis=(2, 3))[0]")), hint="in every sample"),
        "padding not cut off (wrong side)": visible(edit("ex4_conv_backward", (
            "dxp[:, :, pad:pad + H, pad:pad + W]", "dxp[:, :, :H, :W]")), hint="cut P rows and columns off every side"),
        # new (issue 25): slips that show only with padding or stride, and the accumulations
        "output positions counted without the padding": visible(edit("ex4_conv_backward", (
            "_, _, OH, OW = dout.shape", "OH, OW = (H - KH) // stride + 1, (W - KW) // stride + 1")),
            hint="at every output position of dout"),
        "padding cut off with pad:-pad (nothing left at pad 0)": visible(edit("ex4_conv_backward", (
            "dxp[:, :, pad:pad + H, pad:pad + W]", "dxp[:, :, pad:-pad, pad:-pad]")), hint="cut the padding off"),
        "dx overwritten where windows overlap": visible(edit("ex4_conv_backward", (
            "dxp[n, :, rows, cols] += ", "dxp[n, :, rows, cols] = ")), hint="use +="),
        "dw overwritten instead of accumulated": visible(edit("ex4_conv_backward", ("dw[f] += ", "dw[f] = ")),
                                                         hint="accumulates dout[n, f, i, j] * window over n, i, j"),
        "dx sent through the flipped kernel": visible(edit("ex4_conv_backward", (
            "dout[n, f, i, j] * w[f]", "dout[n, f, i, j] * w[f][:, ::-1, ::-1]")),
            hint="receives dout[n, f, i, j] * w[f]"),
    },
    "ex5_im2col": {
        "stride ignored": visible(edit("ex5_im2col", (
            "xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]", "xp[n, :, i:i + kh, j:j + kw]")),
            hint="starting at (i * stride, j * stride)"),
        "columns ordered by position, then sample": visible(edit("ex5_im2col", (
            "n * OH * OW + i * OW + j", "(i * OW + j) * N + n")), hint="columns run over samples first"),
        "window flattened kernel-position first": visible(edit("ex5_im2col", (
            "window.reshape(-1)", "window.transpose(1, 2, 0).reshape(-1)")),
            hint="rows in the order (channel, kernel row, kernel column)"),
        # new (issue 25)
        "output size without the padding": visible(edit("ex5_im2col", (
            "(H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1",
            "(H - kh) // stride + 1, (W - kw) // stride + 1")), hint="the windows run over the padded input"),
        "output width from the height": visible(edit("ex5_im2col", (
            "(W + 2 * pad - kw) // stride + 1", "(H + 2 * pad - kw) // stride + 1")), hint="OW from W and kw"),
    },
    "ex6_maxpool_backward": {
        "gradient to every tied maximum": visible(edit("ex6_maxpool_backward", (
            _TO_ARGMAX, f"                    {_WINDOW} += (window == window.max()) * dout[n, c, i, j]")),
            hint="on a tie only the first maximum"),
        "delegates to the library": hidden_only(whole("""
def maxpool2d_backward(dout, x, size=2, stride=2):
    return np_conv.maxpool2d_backward(dout, np_conv.maxpool2d_forward(x, size=size, stride=stride)[1])
"""), why="delegation to the library's reference: no slip for a hint to point at; the shortcut check and the "
          "sealed reference take every point, visible and hidden"),
        "gradient spread to every cell": visible(edit("ex6_maxpool_backward", (
            _TO_ARGMAX, f"                    {_WINDOW} += dout[n, c, i, j] / size**2")),
            hint="only the maximum of each 2x2 window receives its gradient"),
        "gradient to every maximum on ties and overwritten": visible(edit("ex6_maxpool_backward", (
            _TO_ARGMAX, f"                    {_WINDOW} = (window == window.max()) * dout[n, c, i, j]")),
            hint="on a tie only the first maximum"),
        "argmax position taken relative to the image": visible(edit("ex6_maxpool_backward", (
            "dx[n, c, i * stride + u, j * stride + v]", "dx[n, c, u, v]")),
            hint="only the maximum of each 2x2 window receives its gradient"),
        # new (issue 25): ties and overlapping windows
        "gradient to the last tied maximum": visible(edit("ex6_maxpool_backward", (
            "np.argmax(window)", "window.size - 1 - np.argmax(window.reshape(-1)[::-1])")),
            hint="on a tie only the first maximum"),
        "overlapping windows overwrite each other's gradient": visible(edit("ex6_maxpool_backward", (
            "dx[n, c, i * stride + u, j * stride + v] += ", "dx[n, c, i * stride + u, j * stride + v] = ")),
            hint="accumulate with +="),
        "windows placed every `size` pixels, not every `stride`": visible(edit("ex6_maxpool_backward", (
            "x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]",
            "x[n, c, i * size:i * size + size, j * size:j * size + size]"),
            ("dx[n, c, i * stride + u, j * stride + v]", "dx[n, c, i * size + u, j * size + v]")),
            hint="starting at (i * stride, j * stride)"),
        # a loop that starts its running maximum at 0 (`best = 0`, then `if window[u, v] > best`): in a window of
        # negative numbers nothing beats it and the top-left entry keeps the gradient
        "running maximum started at 0": visible(edit("ex6_maxpool_backward", (
            "np.argmax(window)", "np.argmax(np.maximum(window, 0))")), hint="do not start a running maximum at 0"),
        "window count taken as H // size": visible(edit("ex6_maxpool_backward", (
            "_, _, OH, OW = dout.shape", "OH, OW = H // size, W // size")), hint="one window per entry of dout"),
    },
    "ex7_counts": {
        "the notes' count without input channels": visible(edit("ex7_counts", (
            "weights = n_filters * c_in * k * k", "weights = n_filters * k * k")),
            hint="each filter spans every input channel"),
        "multiply-adds counted on the input size": visible(edit("ex7_counts", (_OUTPUTS, "n_filters * h * w")),
                                                           hint="count the outputs, not the input pixels"),
        "biases counted as weights": visible(edit("ex7_counts", (
            "weights = n_filters * c_in * k * k", "weights = n_filters * (c_in * k * k + 1)")),
            hint="each filter spans every input channel"),
        # new (issue 25): what only a stride or a non-square input shows
        "output width from the height": visible(edit("ex7_counts", (
            "((w + 2 * pad - k) // stride + 1)", "((h + 2 * pad - k) // stride + 1)")), hint="OW the same from w"),
        "no rounding down (a float)": visible(edit("ex7_counts", (_OUTPUTS, _OUTPUTS.replace("//", "/"))),
                                              hint="rounded down"),
        "stride ignored": visible(edit("ex7_counts", (_OUTPUTS, _OUTPUTS.replace(" // stride", ""))),
                                  hint="(h + 2P - k) // S + 1"),
    },
}

# Exercise 8 assembles the network and trains it: slips in the derived backward pass, in the forward
# pass's layout, and in the training loop (the images arrive sorted by digit)
_STEP = "                params[name] -= lr * grads[name]\n"
MISTAKES["ex8_tiny_cnn"] = {
    "softmax gradient not divided by the batch size": visible(edit("ex8_tiny_cnn", ("    dscores /= N\n", "")),
                                                              hint="the loss is a MEAN over the batch"),
    "the loss summed over the batch, not averaged": visible(edit("ex8_tiny_cnn", (
        "loss = -log_probs[np.arange(N), y].mean()", "loss = -log_probs[np.arange(N), y].sum()")),
        hint="the loss is the MEAN over the batch"),
    "the ReLU's gradient forgotten": visible(edit("ex8_tiny_cnn", (
        "pool_backward(dpooled, act) * (conv > 0)", "pool_backward(dpooled, act)")),
        hint="through the ReLU (a gradient only where its input was positive)"),
    "the product reshaped as if samples came first": visible(edit("ex8_tiny_cnn", (
        "conv.reshape(n_filters, N, H, W).transpose(1, 0, 2, 3)", "conv.reshape(N, n_filters, H, W)")),
        hint="im2col's columns run over samples first"),
    "features flattened channels-last": visible(edit("ex8_tiny_cnn", (
        "features = pooled.reshape(N, -1)", "features = pooled.transpose(0, 2, 3, 1).reshape(N, -1)")),
        hint="flatten (filter, row, column)"),
    "w1's gradient laid out in the sample-first order": visible(edit("ex8_tiny_cnn", (
        "dconv = dconv.transpose(1, 0, 2, 3).reshape(n_filters, -1)", "dconv = dconv.reshape(n_filters, -1)")),
        hint="laid out as (F, N*H*W) in cols' column order"),
    "b1's gradient taken from the pooled maps": visible(edit("ex8_tiny_cnn", (
        'grads["b1"] = dconv.sum(axis=1)', 'grads["b1"] = dpooled.sum(axis=(0, 2, 3))')),
        hint="sum the conv output's gradient"),
    "never shuffles": visible(edit("ex8_tiny_cnn", ("order = rng.permutation(len(y))", "order = np.arange(len(y))")),
                              hint="shuffle the samples at the start of every epoch"),
    "x shuffled, y left in order": visible(edit("ex8_tiny_cnn", (
        "tiny_cnn_loss(params, x[batch], y[batch],", "tiny_cnn_loss(params, x[batch], y[start:start + batch_size],")),
        hint="one permutation for both x and y"),
    "steps up the gradient": visible(edit("ex8_tiny_cnn", ("params[name] -= lr * grads[name]",
                                                           "params[name] += lr * grads[name]")),
                                     hint="down the gradient"),
    "one step per epoch, after the batch loop": visible(edit("ex8_tiny_cnn", (
        "            for name in params:\n" + _STEP + "            total += loss * len(batch)\n",
        "            total += loss * len(batch)\n        for name in params:\n" + _STEP.replace("    ", "", 1))),
        hint="take a step after every mini-batch"),
}
