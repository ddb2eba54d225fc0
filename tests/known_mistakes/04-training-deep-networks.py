"""Plausible wrong answers to the exercises of 04-training-deep-networks, each an edit of the
solution's answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole
cell (see tests/test_known_mistakes.py). At least two per exercise, including the four the
assignment's issue names: dropout without rescaling, batch norm with the unbiased variance
or eps outside the root, He with variance 1/n_in, weight decay with the wrong sign."""

from known_mistakes.mistakes import edits_of, hidden_only, visible, whole

edit = edits_of("04-training-deep-networks")

MISTAKES = {
    "ex1_chain": {
        "sigma instead of its derivative": visible(edit("ex1_chain", (" * (1 - 1 / (1 + np.exp(-a_l)))", "")),
            hint="sigma'(a) = sigma(a) (1 - sigma(a))"),
        "output layer's sigma' forgotten": visible(edit("ex1_chain", (
            "delta = (h - t) * sigma_prime[-1]", "delta = h - t")),
            hint="delta_L = (y - t) * sigma'(a_L)"),
        "weight of the wrong layer": visible(edit("ex1_chain", ("delta * w[l] *", "delta * w[l - 1] *")),
            hint="multiply by w_2"),
    },
    "ex2_init": {
        "He with variance 1/n_in": visible(edit("ex2_init", ("np.sqrt(2.0 / n_in)", "np.sqrt(1.0 / n_in)")),
            hint="He: variance 2 / n_in"),
        "He variance used as the standard deviation": visible(edit("ex2_init", ("np.sqrt(2.0 / n_in)", "2.0 / n_in")),
            hint="the standard deviation is its square root"),
        "Xavier bound from n_in alone": visible(edit("ex2_init", (
            "np.sqrt(6.0 / (n_in + n_out))", "np.sqrt(6.0 / n_in)")),
            hint="a = sqrt(6 / (n_in + n_out))"),
        "Xavier without the square root": visible(edit("ex2_init", (
            "np.sqrt(6.0 / (n_in + n_out))", "6.0 / (n_in + n_out)")),
            hint="a uniform on [-a, a] has variance a^2 / 3"),
    },
    "ex3_dropout": {
        "no rescaling (the mask alone)": visible(edit("ex3_dropout", (
            "(rng.random(x.shape) >= p) / (1 - p)", "rng.random(x.shape) >= p")),
            hint="divides the kept units by (1 - p)"),
        "p taken as the probability of keeping": visible(edit("ex3_dropout", (
            "(rng.random(x.shape) >= p) / (1 - p)", "(rng.random(x.shape) < p) / max(p, 1e-12)")),
            hint="p is the probability of dropping"),
        "scaling (1 - p) applied in evaluation too": visible(edit("ex3_dropout", (
            "return x, None", "return x * (1 - p), None")),
            hint="with train=False dropout is the identity"),
        "backward ignores the mask": visible(edit("ex3_dropout", (
            "return dout if scaled_mask is None else dout * scaled_mask", "return dout")),
            hint="the gradient flows through kept units only"),
    },
    "ex4_bn_forward": {
        'delegates to the library': hidden_only(whole("""
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    return np_layers.batchnorm_forward(x, gamma, beta, eps=eps)
"""),
            why="delegation to the library's reference: in the notebook it passes the visible checks; grading's "
                "shortcut check and the sealed reference take every point (the doctor names it)"),
        "unbiased variance (ddof=1)": visible(edit("ex4_bn_forward", (
            "x.var(axis=0)  # biased: divides by N", "x.var(axis=0, ddof=1)")),
            hint="use the biased variance"),
        "eps outside the square root": visible(edit("ex4_bn_forward", ("np.sqrt(var + eps)", "(np.sqrt(var) + eps)")),
            hint="put eps inside the square root"),
        "statistics over the features instead of the batch": visible(edit("ex4_bn_forward",
                                                                  ("x.mean(axis=0)", "x.mean(axis=1, keepdims=True)"),
                                                                  ("x.var(axis=0)", "x.var(axis=1, keepdims=True)")),
            hint="mean over axis 0"),
    },
    "ex5_bn_backward": {
        "mean and variance treated as constants": visible(edit("ex5_bn_backward", (
            "dx = gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma)", "dx = dout * gamma * inv_std")),
            hint="x also moves the batch mean"),
        "variance path forgotten": visible(edit("ex5_bn_backward", (" - x_hat * dgamma)", ")")),
            hint="x also moves the batch variance"),
        "dgamma without x_hat": visible(edit("ex5_bn_backward", ("(dout * x_hat).sum(axis=0)", "dout.sum(axis=0)")),
            hint="dgamma = sum over the batch of dout * x_hat"),
    },
    "ex6_residual": {
        "identity path forgotten": visible(edit("ex6_residual", ("return dout + dx_through_r", "return dx_through_r")),
            hint="the identity path passes dout to dx unchanged"),
        "ReLU gradient skipped": visible(edit("ex6_residual", ("np_layers.relu_backward(dh, relu_cache)", "dh")),
            hint="back through affine2, relu and affine1"),
    },
    "ex7_weight_decay": {
        "the notes' sign slip (1 + lr * weight_decay)": visible(edit("ex7_weight_decay", (
            "(1 - lr * decay)", "(1 + lr * decay)")),
            hint="the weights must shrink"),
        "decay not scaled by the learning rate": visible(edit("ex7_weight_decay", (
            "(1 - lr * decay)", "(1 - decay)")),
            hint="takes a step of size lr like any other gradient"),
        "update in place": visible(edit("ex7_weight_decay", (
            "        new_params[name] = (1 - lr * decay) * theta - lr * np.asarray(grads[name])",
            ("        theta *= 1 - lr * decay\n"
             "        theta -= lr * np.asarray(grads[name])\n"
             "        new_params[name] = theta"))),
            hint="params was changed in place"),
        "learning rate left off the gradient": visible(edit("ex7_weight_decay", (
            "- lr * np.asarray(grads[name])", "- np.asarray(grads[name])")),
            hint="theta - lr * grad"),
        "biases and batch norm's gamma and beta decayed too": visible(edit("ex7_weight_decay", (
            "weight_decay if np.ndim(theta) >= 2 else 0.0", "weight_decay")),
            hint="decay only the arrays of 2 or more dimensions"),
        "decay applied to the weights after the gradient step": visible(edit("ex7_weight_decay", (
            "(1 - lr * decay) * theta - lr * np.asarray(grads[name])",
            "(1 - lr * decay) * (theta - lr * np.asarray(grads[name]))")),
            hint="both terms of the step use the weights before it"),
    },
    "ex8_early_stopping": {
        "no zero_grad (gradients accumulate)": visible(edit("ex8_early_stopping", (
            "            optimizer.zero_grad()  # backward adds to .grad\n", "")),
            hint="clear the gradients before each backward"),
        "validation in training mode": visible(edit("ex8_early_stopping", (
            "        model.eval()  # dropout off, batch norm uses its running statistics\n", "")),
            hint="call model.eval() before validating"),
        "model.train() only once, before the first epoch": visible(edit("ex8_early_stopping",
            ("    for epoch in range(1, max_epochs + 1):\n        model.train()",
             "    model.train()\n    for epoch in range(1, max_epochs + 1):")),
            hint="call model.train() at the start of every epoch"),
        "validation without torch.no_grad()": visible(edit("ex8_early_stopping", (
            "        with torch.no_grad():\n", "        if True:\n")),
            hint="validate inside torch.no_grad()"),
        "patience off by one (stops one epoch late)": visible(edit("ex8_early_stopping", (
            'epoch - history["best_epoch"] >= patience', 'epoch - history["best_epoch"] > patience')),
            hint="the last epoch run is b + p"),
        "patience off by one (stops one epoch early)": visible(edit("ex8_early_stopping", (
            'epoch - history["best_epoch"] >= patience', 'epoch - history["best_epoch"] >= patience - 1')),
            hint="the last epoch run is b + p"),
        "the last epoch's weights returned": visible(edit("ex8_early_stopping", (
            "    model.load_state_dict(best_state)\n", "")),
            hint="restore the best epoch's weights before returning"),
        "best weights kept without a copy (state_dict's live tensors)": visible(edit("ex8_early_stopping", (
            "copy.deepcopy(model.state_dict())", "model.state_dict()")),
            hint="model.state_dict() returns the live tensors"),
        "training loss of the last mini-batch": visible(edit("ex8_early_stopping", (
            'history["train_loss"].append(loss_sum / seen)', 'history["train_loss"].append(loss.item())')),
            hint="not the last batch's"),
        "validation loss: the batch means summed, not averaged": visible(edit("ex8_early_stopping", (
            'history["val_loss"].append(val_sum / val_seen)', 'history["val_loss"].append(val_sum / len(y))')),
            hint="val_loss is the mean loss over the validation examples"),
    },
}
