"""Plausible wrong answers to the exercises of 04-training-deep-networks, each an edit of the
solution's answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole
cell (see tests/test_known_mistakes.py). At least two per exercise, including the four the
assignment's issue names: dropout without rescaling, batch norm with the unbiased variance
or eps outside the root, He with variance 1/n_in, weight decay with the wrong sign."""

from known_mistakes.mistakes import edits_of, whole

edit = edits_of("04-training-deep-networks")

MISTAKES = {
    "ex1_chain": {
        "sigma instead of its derivative": edit("ex1_chain", (" * (1 - 1 / (1 + np.exp(-a_l)))", "")),
        "output layer's sigma' forgotten": edit("ex1_chain", ("delta = (h - t) * sigma_prime[-1]", "delta = h - t")),
        "weight of the wrong layer": edit("ex1_chain", ("delta * w[l] *", "delta * w[l - 1] *")),
    },
    "ex2_init": {
        "He with variance 1/n_in": edit("ex2_init", ("np.sqrt(2.0 / n_in)", "np.sqrt(1.0 / n_in)")),
        "He variance used as the standard deviation": edit("ex2_init", ("np.sqrt(2.0 / n_in)", "2.0 / n_in")),
        "Xavier bound from n_in alone": edit("ex2_init", ("np.sqrt(6.0 / (n_in + n_out))", "np.sqrt(6.0 / n_in)")),
        "Xavier without the square root": edit("ex2_init", ("np.sqrt(6.0 / (n_in + n_out))", "6.0 / (n_in + n_out)")),
    },
    "ex3_dropout": {
        "no rescaling (the mask alone)": edit("ex3_dropout", (
            "(rng.random(x.shape) >= p) / (1 - p)", "rng.random(x.shape) >= p")),
        "p taken as the probability of keeping": edit("ex3_dropout", (
            "(rng.random(x.shape) >= p) / (1 - p)", "(rng.random(x.shape) < p) / max(p, 1e-12)")),
        "scaling (1 - p) applied in evaluation too": edit("ex3_dropout", (
            "return x, None", "return x * (1 - p), None")),
        "backward ignores the mask": edit("ex3_dropout", (
            "return dout if scaled_mask is None else dout * scaled_mask", "return dout")),
    },
    "ex4_bn_forward": {
        'delegates to the library': whole("""
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    return np_layers.batchnorm_forward(x, gamma, beta, eps=eps)
"""),
        "unbiased variance (ddof=1)": edit("ex4_bn_forward", (
            "x.var(axis=0)  # biased: divides by N", "x.var(axis=0, ddof=1)")),
        "eps outside the square root": edit("ex4_bn_forward", ("np.sqrt(var + eps)", "(np.sqrt(var) + eps)")),
        "statistics over the features instead of the batch": edit("ex4_bn_forward",
                                                                  ("x.mean(axis=0)", "x.mean(axis=1, keepdims=True)"),
                                                                  ("x.var(axis=0)", "x.var(axis=1, keepdims=True)")),
    },
    "ex5_bn_backward": {
        "mean and variance treated as constants": edit("ex5_bn_backward", (
            "dx = gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma)", "dx = dout * gamma * inv_std")),
        "variance path forgotten": edit("ex5_bn_backward", (" - x_hat * dgamma)", ")")),
        "dgamma without x_hat": edit("ex5_bn_backward", ("(dout * x_hat).sum(axis=0)", "dout.sum(axis=0)")),
    },
    "ex6_residual": {
        "identity path forgotten": edit("ex6_residual", ("return dout + dx_through_r", "return dx_through_r")),
        "ReLU gradient skipped": edit("ex6_residual", ("np_layers.relu_backward(dh, relu_cache)", "dh")),
    },
    "ex7_weight_decay": {
        "the notes' sign slip (1 + lr * weight_decay)": edit("ex7_weight_decay", (
            "(1 - lr * weight_decay)", "(1 + lr * weight_decay)")),
        "decay not scaled by the learning rate": edit("ex7_weight_decay", (
            "(1 - lr * weight_decay)", "(1 - weight_decay)")),
        "update in place": edit("ex7_weight_decay", (
            "    return (1 - lr * weight_decay) * theta - lr * grad",
            ("    theta *= 1 - lr * weight_decay\n"
             "    theta -= lr * grad\n"
             "    return theta"))),
    },
}
