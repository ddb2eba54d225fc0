"""Plausible wrong answers to the exercises of 11-attention, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py; see tests/test_known_mistakes.py). At least
two per exercise, including those the assignment's issue names: a softmax that overflows or
normalises over the wrong axis, scores left unscaled or divided by Dk, a mask read the wrong
way round or applied by multiplying, the softmax Jacobian taken as its diagonal, a causal
mask that looks at the future, padding masked on the queries, heads cut by a bare reshape,
sines and cosines swapped, batch statistics in place of layer statistics, a post-norm block,
a residual path dropped. Each is tagged with the visible check that warns of it and the words
of its hint (visible) or the reason none can (hidden_only)."""

from known_mistakes.mistakes import edits_of, visible

edit = edits_of("11-attention")

MISTAKES = {
    "ex1_softmax": {
        "no shift: exp overflows on large scores": visible(edit("ex1_softmax", (
            "np.exp(x - np.max(x, axis=axis, keepdims=True))", "np.exp(x)")),
            hint="subtract the largest entry of each slice"),
        "one maximum for the whole array": visible(edit("ex1_softmax", (
            "np.max(x, axis=axis, keepdims=True)", "np.max(x)")), hint="not one number for the whole array"),
        "always the last axis, whatever axis says": visible(edit("ex1_softmax", (
            "np.sum(e, axis=axis, keepdims=True)", "np.sum(e, axis=-1, keepdims=True)")),
            hint="normalise along the given axis"),
    },
    "ex2_attention": {
        "scores not scaled": visible(edit("ex2_attention", (
            "scale = 1.0 / np.sqrt(q.shape[-1])", "scale = 1.0")), hint="divide the scores by sqrt(Dk)"),
        "scores divided by Dk, not its square root": visible(edit("ex2_attention", (
            "scale = 1.0 / np.sqrt(q.shape[-1])", "scale = 1.0 / q.shape[-1]")), hint="not by Dk"),
        "mask read the wrong way round (True = hidden)": visible(edit("ex2_attention", (
            "np.where(mask, scores, -np.inf)", "np.where(mask, -np.inf, scores)")),
            hint="True means the query MAY attend"),
        "mask applied by multiplying the scores": visible(edit("ex2_attention", (
            "np.where(mask, scores, -np.inf)", "scores * mask")), hint="not multiplied by 0"),
        "softmax over the queries": visible(edit("ex2_attention", (
            "weights = np.exp(scores - scores.max(axis=-1, keepdims=True))\n"
            "    weights = weights / weights.sum(axis=-1, keepdims=True)",
            "weights = np.exp(scores - scores.max(axis=-2, keepdims=True))\n"
            "    weights = weights / weights.sum(axis=-2, keepdims=True)")),
            hint="the softmax runs over the keys"),
    },
    "ex3_attention_backward": {
        "the scale forgotten in dq and dk": visible(edit("ex3_attention_backward", (
            "dq = dscores @ k * scale", "dq = dscores @ k"), ("@ q * scale", "@ q")),
            hint="the scores carry the factor scale"),
        "the softmax Jacobian taken as its diagonal, p (1 - p)": visible(edit("ex3_attention_backward", (
            "weights * (dweights - np.sum(dweights * weights, axis=-1, keepdims=True))",
            "weights * (1 - weights) * dweights")), hint="not only p (1 - p) on the diagonal"),
        "dv averaged over the queries": visible(edit("ex3_attention_backward", (
            "dv = np.swapaxes(weights, -1, -2) @ dout", "dv = np.swapaxes(weights, -1, -2) @ dout / dout.shape[-2]")),
            hint="summed over the queries"),
        "the scale forgotten in dk only": visible(edit("ex3_attention_backward", (
            "dk = np.swapaxes(dscores, -1, -2) @ q * scale", "dk = np.swapaxes(dscores, -1, -2) @ q")),
            hint="with the same scale"),
    },
    "ex4_masks": {
        "the future instead of the past (upper triangle)": visible(edit("ex4_masks", (
            "positions[None, :] <= positions[:, None]", "positions[None, :] >= positions[:, None]")),
            hint="never to the future"),
        "a position may not attend to itself": visible(edit("ex4_masks", (
            "positions[None, :] <= positions[:, None]", "positions[None, :] < positions[:, None]")),
            hint="each position may attend to itself"),
        "padding masked on the queries instead of the keys": visible(edit("ex4_masks", (
            "real_keys[:, None, :]", "real_keys[:, :, None]")), hint="padding KEYS are forbidden"),
        "lengths counted from 1 (key s allowed when s <= length)": visible(edit("ex4_masks", (
            "np.arange(T)[None, :] < lengths[:, None]", "np.arange(T)[None, :] <= lengths[:, None]")),
            hint="real tokens at 0, ..., L - 1"),
    },
    "ex5_heads": {
        "a bare reshape to (N, H, T, Dh)": visible(edit("ex5_heads", (
            "x.reshape(n, t, n_heads, width).transpose(0, 2, 1, 3)", "x.reshape(n, n_heads, t, width)")),
            hint="a reshape straight to (N, H, T, Dh) mixes positions"),
        "heads interleaved (feature j to head j mod H)": visible(edit("ex5_heads", (
            "x.reshape(n, t, n_heads, width).transpose(0, 2, 1, 3)",
            "x.reshape(n, t, width, n_heads).transpose(0, 3, 1, 2)")),
            hint="head h holds features h * Dh to (h + 1) * Dh - 1"),
        "merge by a bare reshape": visible(edit("ex5_heads", (
            "x.transpose(0, 2, 1, 3).reshape(n, t, h * width)", "x.reshape(n, t, h * width)")),
            hint="merge_heads must undo split_heads"),
    },
    "ex6_positional_encoding": {
        "sines and cosines swapped": visible(edit("ex6_positional_encoding", (
            "code[:, 0::2] = np.sin(angles)\n    code[:, 1::2] = np.cos(angles[:, : D // 2])",
            "code[:, 0::2] = np.cos(angles)\n    code[:, 1::2] = np.sin(angles[:, : D // 2])")),
            hint="sines in the EVEN columns"),
        "the exponent counts columns, not pairs (i / D)": visible(edit("ex6_positional_encoding", (
            "-np.arange(0, D, 2) / D", "-np.arange(0, D, 2) / 2 / D")), hint="i counts PAIRS of columns"),
        "positions start at 1": visible(edit("ex6_positional_encoding", (
            "np.arange(T, dtype=np.float64)[:, None]", "np.arange(1, T + 1, dtype=np.float64)[:, None]")),
            hint="positions start at 0"),
    },
    "ex7_layer_norm": {
        "statistics over the batch (batch normalisation)": visible(edit("ex7_layer_norm", (
            "mean = x.mean(axis=-1, keepdims=True)", "mean = x.mean(axis=0, keepdims=True)"), (
            "x.var(axis=-1, keepdims=True)", "x.var(axis=0, keepdims=True)")),
            hint="not over the batch (axis 0)"),
        "the unbiased variance (ddof=1)": visible(edit("ex7_layer_norm", (
            "x.var(axis=-1, keepdims=True)", "x.var(axis=-1, ddof=1, keepdims=True)")),
            hint="use the biased variance"),
        "dgamma not summed over the positions": visible(edit("ex7_layer_norm", (
            "dgamma = (dout * x_hat).reshape(-1, d).sum(axis=0)", "dgamma = (dout * x_hat).sum(axis=0)")),
            hint="sum its gradient over every sample and position"),
        "dx without the terms of the mean and the variance": visible(edit("ex7_layer_norm", (
            "dx = inv_std * (g - g.mean(axis=-1, keepdims=True) - x_hat * (g * x_hat).mean(axis=-1, keepdims=True))",
            "dx = inv_std * g")), hint="the mean and the variance depend on every feature of the row"),
    },
    "ex8_transformer_block": {
        "post-norm: the residual sums normalised": visible(edit("ex8_transformer_block", (
            "z, _ = layer_norm(x, p[\"ln1_gamma\"], p[\"ln1_beta\"])", "z = x"), (
            "h = x + attended", "h, _ = layer_norm(x + attended, p[\"ln1_gamma\"], p[\"ln1_beta\"])"), (
            "z2, _ = layer_norm(h, p[\"ln2_gamma\"], p[\"ln2_beta\"])", "z2 = h"), (
            "return h + update", "return layer_norm(h + update, p[\"ln2_gamma\"], p[\"ln2_beta\"])[0]")),
            hint="residual path"),
        "no residual around the attention": visible(edit("ex8_transformer_block", (
            "h = x + attended", "h = attended")), hint="carries x through unchanged"),
        "the mask never reaches the attention": visible(edit("ex8_transformer_block", (
            "heads, _ = attention(q, k, v, mask=mask)", "heads, _ = attention(q, k, v)")),
            hint="pass the mask to the attention"),
        "the feed-forward branch reads LN1's output": visible(edit("ex8_transformer_block", (
            "np.maximum(z2 @ p[\"w1\"]", "np.maximum(z @ p[\"w1\"]")), hint="LN2 reads h, not x"),
        "no ReLU in the feed-forward branch": visible(edit("ex8_transformer_block", (
            "np.maximum(z2 @ p[\"w1\"] + p[\"b1\"], 0.0)", "z2 @ p[\"w1\"] + p[\"b1\"]")),
            hint="with the ReLU between the two layers"),
        "a per-sample mask without an axis for the heads": visible(edit("ex8_transformer_block", (
            "mask = mask[:, None, :, :]", "mask = mask")), hint="must be given an axis for the heads"),
    },
}
