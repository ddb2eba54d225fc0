"""Plausible wrong answers to the exercises of 08-representations, each an edit of the
solution's answer cell (tests/known_mistakes/mistakes.py; see tests/test_known_mistakes.py).
At least two per exercise, including those the assignment's issue names: PCA without
centring, a reversal that does not negate, prototypes averaged over the wrong axis,
distillation without the T^2 factor, an episode sampler that is not random (the first
classes, the first examples), a training loop scored against the noisy input, with the same
noise every epoch or without zero_grad. Every one is tagged: each fails a visible check whose message
says its hint."""

from known_mistakes.mistakes import edits_of, visible

edit = edits_of("08-representations")

MISTAKES = {
    "ex1_pca": {
        "PCA without centring": visible(
            edit("ex1_pca", ("np.linalg.svd(X - mean,", "np.linalg.svd(X,")), hint="centre X"),
        "columns of Vt taken as the directions": visible(
            edit("ex1_pca", ("components = Vt[:k]", "components = Vt[:, :k].T")), hint="ROWS of Vt"),
        "variance divided by N instead of N - 1": visible(
            edit("ex1_pca", ("/ (len(X) - 1)", "/ len(X)")), hint="S**2 / (N - 1)"),
        "singular values taken as variances": visible(
            edit("ex1_pca", ("S[:k] ** 2 / (len(X) - 1)", "S[:k]")), hint="squared singular values"),
        "mean of all entries, not of each column": visible(
            edit("ex1_pca", ("mean = X.mean(axis=0)", "mean = X.mean()")), hint="mean of each column"),
        "variances of every direction, not of the first k": visible(
            edit("ex1_pca", ("S[:k] ** 2", "S ** 2")), hint="first k directions only"),
    },
    "ex2_principal_angles": {
        "bases not orthonormalised": visible(edit(
            "ex2_principal_angles",
            ("Qa, _ = np.linalg.qr(np.asarray(A, dtype=float).T)", "Qa = np.asarray(A, dtype=float).T"),
            ("Qb, _ = np.linalg.qr(np.asarray(B, dtype=float).T)", "Qb = np.asarray(B, dtype=float).T")),
            hint="orthonormalise each basis first"),
        "angles between matching rows, not subspaces": visible(edit("ex2_principal_angles", (
            ("    Qa, _ = np.linalg.qr(np.asarray(A, dtype=float).T)   # (D, k), orthonormal columns\n"
             "    Qb, _ = np.linalg.qr(np.asarray(B, dtype=float).T)   # (D, m)\n"
             "    cosines = np.linalg.svd(Qa.T @ Qb, compute_uv=False)\n"),
            ("    A, B = np.asarray(A, float), np.asarray(B, float)\n"
             "    n = min(len(A), len(B))\n"
             "    cosines = np.abs(np.sum(A[:n] * B[:n], axis=1)) / (np.linalg.norm(A[:n], axis=1) "
             "* np.linalg.norm(B[:n], axis=1))\n"))),
            hint="between the SUBSPACES, not between matching rows"),
        "degrees instead of radians": visible(edit("ex2_principal_angles", (
            "np.sort(np.arccos(np.clip(cosines, -1.0, 1.0)))",
            "np.sort(np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0))))")), hint="in radians"),
        "QR of A and B, not of their transposes (columns taken as the basis)": visible(edit(
            "ex2_principal_angles",
            ("np.linalg.qr(np.asarray(A, dtype=float).T)", "np.linalg.qr(np.asarray(A, dtype=float))"),
            ("np.linalg.qr(np.asarray(B, dtype=float).T)", "np.linalg.qr(np.asarray(B, dtype=float))")),
            hint="spanned by the ROWS of A and B"),
        "cosines not clipped before arccos": visible(edit("ex2_principal_angles", (
            "np.arccos(np.clip(cosines, -1.0, 1.0))", "np.arccos(cosines)")), hint="clip the cosines into [-1, 1]"),
    },
    "ex3_train_autoencoder": {
        "loss against the corrupted input the model saw": visible(edit("ex3_train_autoencoder", (
            "loss = F.mse_loss(model(seen), x)", "loss = F.mse_loss(model(seen), seen)")),
            hint="against the CLEAN batch"),
        "the same noise every epoch (X corrupted once, before the loop)": visible(edit(
            "ex3_train_autoencoder",
            ("    for _ in range(epochs):\n",
             "    noisy_X = X if noise is None else autoencoder.corrupt(X, **noise, generator=generator)\n"
             "    for _ in range(epochs):\n"),
            ("x = X[order[start:start + batch_size]].to(device)       # (B, D), clean",
             "x = X[order[start:start + batch_size]].to(device); noisy = noisy_X[order[start:start + batch_size]]"),
            ("seen = x if noise is None else autoencoder.corrupt(x, **noise, generator=generator)  # fresh noise",
             "seen = noisy.to(device)")),
            hint="draw fresh noise for every batch of every epoch"),
        "gradients never cleared (no zero_grad)": visible(edit("ex3_train_autoencoder", (
            "            optimizer.zero_grad()\n", "")), hint="clear the gradients before every backward"),
        "validation in training mode (no model.eval())": visible(edit("ex3_train_autoencoder", (
            "            model.eval()\n", "")), hint="in evaluation mode"),
        "model.train() once, before the loop": visible(edit(
            "ex3_train_autoencoder",
            ("        model.train()\n", ""),
            ("    for _ in range(epochs):\n", "    model.train()\n    for _ in range(epochs):\n")),
            hint="back in training mode (model.train()) at the start of every epoch"),
        "never shuffled": visible(edit("ex3_train_autoencoder", (
            "order = torch.randperm(len(X), generator=generator)", "order = torch.arange(len(X))")),
            hint="shuffle every epoch"),
        "shuffled once, the same order every epoch": visible(edit(
            "ex3_train_autoencoder",
            ("        order = torch.randperm(len(X), generator=generator)\n", ""),
            ("    for _ in range(epochs):\n",
             "    order = torch.randperm(len(X), generator=generator)\n    for _ in range(epochs):\n")),
            hint="shuffle every epoch"),
        "epoch loss as the mean of the batch means": visible(edit(
            "ex3_train_autoencoder",
            ("total += loss.item() * len(x)", "total += loss.item()"),
            ('history["loss"].append(total / len(X))', 'history["loss"].append(total / -(-len(X) // batch_size))')),
            hint="weight each batch's loss by its size"),
        "every batch counted as a full one (times batch_size)": visible(edit("ex3_train_autoencoder", (
            "total += loss.item() * len(x)", "total += loss.item() * batch_size")),
            hint="weight each batch's loss by its size"),
        "epoch loss: the last batch's only": visible(edit("ex3_train_autoencoder", (
            'history["loss"].append(total / len(X))', 'history["loss"].append(loss.item())')),
            hint="weight each batch's loss by its size"),
        "noise never applied (the model sees the clean batch)": visible(edit("ex3_train_autoencoder", (
            "seen = x if noise is None else autoencoder.corrupt(x, **noise, generator=generator)  # fresh noise",
            "seen = x")), hint="feed the model the CORRUPTED batch"),
        "generator not passed to corrupt": visible(edit("ex3_train_autoencoder", (
            "autoencoder.corrupt(x, **noise, generator=generator)", "autoencoder.corrupt(x, **noise)")),
            hint="pass generator=generator to torch.randperm and to autoencoder.corrupt"),
    },
    "ex4_episode": {
        "examples drawn with replacement": visible(edit("ex4_episode", (
            "members[torch.randperm(len(members), generator=generator)[:k_shot + n_query]]",
            "members[torch.randint(len(members), (k_shot + n_query,), generator=generator)]")),
            hint="WITHOUT replacement"),
        "always the first n_way classes": visible(edit("ex4_episode", (
            "pool[torch.randperm(len(pool), generator=generator)[:n_way]]", "pool[:n_way]")),
            hint="choose the n_way classes at random"),
        "always the first examples of each class": visible(edit("ex4_episode", (
            "members[torch.randperm(len(members), generator=generator)[:k_shot + n_query]]",
            "members[:k_shot + n_query]")), hint="at random among ALL its members"),
        "positions in pool returned as the classes": visible(edit("ex4_episode", (
            "chosen = pool[torch.randperm(len(pool), generator=generator)[:n_way]]",
            "chosen = torch.randperm(len(pool), generator=generator)[:n_way]")),
            hint="class labels taken from pool, not positions"),
        "generator not passed when drawing the examples": visible(edit("ex4_episode", (
            "torch.randperm(len(members), generator=generator)", "torch.randperm(len(members))")),
            hint="pass generator=generator to every torch.randperm"),
    },
    "ex5_prototypical_loss": {
        "prototypes averaged over the wrong axis (the classes)": visible(edit("ex5_prototypical_loss", (
            "support.mean(dim=1)", "support.mean(dim=0)")), hint="K support embeddings (dim=1)"),
        "distances not negated": visible(edit("ex5_prototypical_loss", ("logits = -((flat", "logits = ((flat")),
                                         hint="logits: MINUS"),
        "targets tiled instead of repeated": visible(edit("ex5_prototypical_loss", (
            ".repeat_interleave(n_query)", ".repeat(n_query)")), hint="query row j holds class j's queries"),
        "distances not squared": visible(edit("ex5_prototypical_loss", (
            "-((flat[:, None, :] - prototypes[None, :, :]) ** 2).sum(dim=2)", "-torch.cdist(flat, prototypes)")),
            hint="MINUS SQUARED distances"),
        "loss summed over the queries, not averaged": visible(edit("ex5_prototypical_loss", (
            "F.cross_entropy(logits, targets)", 'F.cross_entropy(logits, targets, reduction="sum")')),
            hint="MEAN over the queries"),
        "predictions taken over the queries (argmax over dim 0)": visible(edit("ex5_prototypical_loss", (
            "logits.argmax(dim=1)", "logits.argmax(dim=0)")), hint="over the prototypes (dim=1)"),
    },
    "ex6_gradient_reversal": {
        "reversal that does not negate": visible(edit("ex6_gradient_reversal", (
            "return -ctx.scale * grad_output", "return ctx.scale * grad_output")), hint="REVERSE the gradient"),
        "scale ignored": visible(edit("ex6_gradient_reversal", ("-ctx.scale * grad_output", "-grad_output")),
                                 hint="multiply by the scale kept on ctx"),
        "negated in the forward pass too": visible(edit("ex6_gradient_reversal", ("return x.view_as(x)", "return -x")),
                                                   hint="forward passes x through unchanged"),
        "scaled in the forward pass too": visible(edit("ex6_gradient_reversal", (
            "return x.view_as(x)", "return x.view_as(x) * scale")), hint="the scale acts only going back"),
        "no gradient returned for scale": visible(edit("ex6_gradient_reversal", (
            "return -ctx.scale * grad_output, None", "return -ctx.scale * grad_output")),
            hint="one gradient per input of forward"),
    },
    "ex7_distillation": {
        "distillation without the T^2 factor": visible(
            edit("ex7_distillation", ("alpha * T ** 2 * soft", "alpha * soft")), hint="multiply the KL term by T**2"),
        "temperature on the teacher only": visible(edit("ex7_distillation", (
            "F.log_softmax(student_logits / T, dim=1)", "F.log_softmax(student_logits, dim=1)")),
            hint="divide BOTH logits by T"),
        "KL averaged over classes too (reduction='mean')": visible(edit("ex7_distillation", (
            'reduction="batchmean"', 'reduction="mean"')), hint="averages over the examples only"),
        "alpha on the wrong term": visible(edit("ex7_distillation", (
            "alpha * T ** 2 * soft + (1 - alpha) * hard", "(1 - alpha) * T ** 2 * soft + alpha * hard")),
            hint="alpha weights the soft (KL) term"),
        "KL summed over the batch (reduction='sum')": visible(edit("ex7_distillation", (
            'reduction="batchmean"', 'reduction="sum"')), hint="averages over the examples only"),
        "KL the wrong way round, KL(student || teacher)": visible(edit("ex7_distillation", (
            "F.kl_div(F.log_softmax(student_logits / T, dim=1), F.softmax(teacher_logits / T, dim=1),",
            "F.kl_div(F.log_softmax(teacher_logits / T, dim=1), F.softmax(student_logits / T, dim=1),")),
            hint="F.kl_div(student LOG-probabilities, teacher probabilities"),
        "cross-entropy on the softened student logits": visible(edit("ex7_distillation", (
            "F.cross_entropy(student_logits, labels)", "F.cross_entropy(student_logits / T, labels)")),
            hint="not divided by T"),
    },
}
