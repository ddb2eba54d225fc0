"""Plausible wrong answers to the exercises of 08-representations, each an edit of the
solution's answer cell (tests/known_mistakes/mistakes.py; see tests/test_known_mistakes.py).
At least two per exercise, including those the assignment's issue names: PCA without
centring, a reversal that does not negate, prototypes averaged over the wrong axis,
distillation without the T^2 factor."""

from known_mistakes.mistakes import edits_of

edit = edits_of("08-representations")

MISTAKES = {
    "ex1_pca": {
        "PCA without centring": edit("ex1_pca", ("np.linalg.svd(X - mean,", "np.linalg.svd(X,")),
        "columns of Vt taken as the directions": edit("ex1_pca", ("components = Vt[:k]", "components = Vt[:, :k].T")),
        "variance divided by N instead of N - 1": edit("ex1_pca", ("/ (len(X) - 1)", "/ len(X)")),
        "singular values taken as variances": edit("ex1_pca", ("S[:k] ** 2 / (len(X) - 1)", "S[:k]")),
    },
    "ex2_principal_angles": {
        "bases not orthonormalised": edit("ex2_principal_angles",
                                          ("Qa, _ = np.linalg.qr(np.asarray(A, dtype=float).T)",
                                           "Qa = np.asarray(A, dtype=float).T"),
                                          ("Qb, _ = np.linalg.qr(np.asarray(B, dtype=float).T)",
                                           "Qb = np.asarray(B, dtype=float).T")),
        "angles between matching rows, not subspaces": edit("ex2_principal_angles", (
            ("    Qa, _ = np.linalg.qr(np.asarray(A, dtype=float).T)   # (D, k), orthonormal columns\n"
             "    Qb, _ = np.linalg.qr(np.asarray(B, dtype=float).T)   # (D, m)\n"
             "    cosines = np.linalg.svd(Qa.T @ Qb, compute_uv=False)\n"),
            ("    A, B = np.asarray(A, float), np.asarray(B, float)\n"
             "    n = min(len(A), len(B))\n"
             "    cosines = np.abs(np.sum(A[:n] * B[:n], axis=1)) / (np.linalg.norm(A[:n], axis=1) "
             "* np.linalg.norm(B[:n], axis=1))\n"))),
        "degrees instead of radians": edit("ex2_principal_angles", (
            "np.sort(np.arccos(np.clip(cosines, -1.0, 1.0)))",
            "np.sort(np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0))))")),
    },
    "ex3_episode": {
        "examples drawn with replacement": edit("ex3_episode", (
            "members[torch.randperm(len(members), generator=generator)[:k_shot + n_query]]",
            "members[torch.randint(len(members), (k_shot + n_query,), generator=generator)]")),
        "always the first n_way classes": edit("ex3_episode", (
            "pool[torch.randperm(len(pool), generator=generator)[:n_way]]", "pool[:n_way]")),
        "always the first examples of each class": edit("ex3_episode", (
            "members[torch.randperm(len(members), generator=generator)[:k_shot + n_query]]",
            "members[:k_shot + n_query]")),
    },
    "ex4_prototypical_loss": {
        "prototypes averaged over the wrong axis (the classes)": edit("ex4_prototypical_loss", (
            "support.mean(dim=1)", "support.mean(dim=0)")),
        "distances not negated": edit("ex4_prototypical_loss", ("logits = -((flat", "logits = ((flat")),
        "targets tiled instead of repeated": edit("ex4_prototypical_loss", (
            ".repeat_interleave(n_query)", ".repeat(n_query)")),
        "distances not squared": edit("ex4_prototypical_loss", (
            "-((flat[:, None, :] - prototypes[None, :, :]) ** 2).sum(dim=2)", "-torch.cdist(flat, prototypes)")),
    },
    "ex5_gradient_reversal": {
        "reversal that does not negate": edit("ex5_gradient_reversal", (
            "return -ctx.scale * grad_output", "return ctx.scale * grad_output")),
        "scale ignored": edit("ex5_gradient_reversal", ("-ctx.scale * grad_output", "-grad_output")),
        "negated in the forward pass too": edit("ex5_gradient_reversal", ("return x.view_as(x)", "return -x")),
    },
    "ex6_distillation": {
        "distillation without the T^2 factor": edit("ex6_distillation", ("alpha * T ** 2 * soft", "alpha * soft")),
        "temperature on the teacher only": edit("ex6_distillation", (
            "F.log_softmax(student_logits / T, dim=1)", "F.log_softmax(student_logits, dim=1)")),
        "KL averaged over classes too (reduction='mean')": edit("ex6_distillation", (
            'reduction="batchmean"', 'reduction="mean"')),
        "alpha on the wrong term": edit("ex6_distillation", (
            "alpha * T ** 2 * soft + (1 - alpha) * hard", "(1 - alpha) * T ** 2 * soft + alpha * hard")),
    },
}
