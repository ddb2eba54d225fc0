"""Plausible wrong answers to the exercises of 10-adversarial, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py; see tests/test_known_mistakes.py). At least
two per exercise, including those the assignment's issues name: no sign, the gradient taken
with respect to the weights, no projection back into the eps-ball, a targeted attack moving
away from its target, a PGD without its random start, a training loop that never shuffles,
forgets zero_grad or attacks the model in training mode. Each is tagged with the visible
check that warns of it and the words of its hint (visible) or the reason none can (hidden_only)."""

from known_mistakes.mistakes import edits_of, visible

edit = edits_of("10-adversarial")

MISTAKES = {
    "ex1_input_gradient": {
        "gradient taken with respect to the weights": visible(edit("ex1_input_gradient", (
            "(p - y)[:, None] * w[None, :]", "(p - y)[:, None] * x")),
            hint="with respect to the INPUT x, not the weights"),
        "sign flipped (y - p)": visible(edit("ex1_input_gradient", ("(p - y)", "(y - p)")),
                                        hint="check the sign of dL/da"),
        "sigmoid forgotten (the score taken as p)": visible(edit("ex1_input_gradient", (
            "p = 1 / (1 + np.exp(-(x @ w + b)))", "p = x @ w + b")),
            hint="p is the sigmoid of the whole score"),
        "the sigmoid's derivative left out of the chain (dL/dp times w)": visible(edit("ex1_input_gradient", (
            "(p - y)[:, None] * w[None, :]", "((1 - y) / (1 - p) - y / p)[:, None] * w[None, :]")),
            hint="dL/da is dL/dp times dp/da, with sigma' = sigma(1 - sigma)"),
        "bias left out of the score": visible(edit("ex1_input_gradient", (
            "np.exp(-(x @ w + b))", "np.exp(-(x @ w))")), hint="bias included"),
        "the gradient of the batch's mean loss (divided by N)": visible(edit("ex1_input_gradient", (
            "(p - y)[:, None] * w[None, :]", "(p - y)[:, None] * w[None, :] / len(x)")),
            hint="no mean over the batch (no division by N)"),
    },
    "ex2_fgsm": {
        "no sign (the raw gradient)": visible(edit("ex2_fgsm", ("direction = np.sign(grad)", "direction = grad")),
                                              hint="whatever its size"),
        "no clipping into the pixel range": visible(edit("ex2_fgsm", (
            "x_adv = np.clip(x_adv, clip[0], clip[1])", "pass")), hint="pixels must stay valid"),
        "steps against the gradient": visible(edit("ex2_fgsm", ("x_adv = x + eps", "x_adv = x - eps")),
                                              hint="FGSM climbs the loss"),
        "a zero gradient taken as positive (np.where(grad >= 0, 1, -1))": visible(edit("ex2_fgsm", (
            "np.sign(grad)", "np.where(grad >= 0, 1.0, -1.0)")), hint="not at all where grad = 0"),
        "the box always [0, 1], whatever clip says": visible(edit("ex2_fgsm", (
            "np.clip(x_adv, clip[0], clip[1])", "np.clip(x_adv, 0.0, 1.0)")), hint="not always [0, 1]"),
        "targeted ignored (every step climbs the given loss)": visible(edit("ex2_fgsm", (
            "direction = -direction", "pass")), hint="a targeted step LOWERS the target's loss"),
        "a targeted image left unclipped": visible(edit("ex2_fgsm", (
            "if clip is not None:", "if clip is not None and not targeted:")),
            hint="a targeted image must stay valid too"),
    },
    "ex3_project_and_step": {
        "ball around x_adv instead of the clean x": visible(edit("ex3_project_and_step", (
            "np.clip(x_adv, x - eps, x + eps)", "np.clip(x_adv, x_adv - eps, x_adv + eps)")),
            hint="the ball around the CLEAN x"),
        "only the box, no ball": visible(edit("ex3_project_and_step", (
            "projected = np.clip(x_adv, x - eps, x + eps)", "projected = x_adv")),
            hint="clip each entry into [x - eps, x + eps]"),
        "ball of radius 2 eps": visible(edit("ex3_project_and_step", (
            "np.clip(x_adv, x - eps, x + eps)", "np.clip(x_adv, x - 2 * eps, x + 2 * eps)")),
            hint="every entry ends at most eps from x"),
        "every entry pushed to the edge of the ball": visible(edit("ex3_project_and_step", (
            "np.clip(x_adv, x - eps, x + eps)", "x + eps * np.sign(x_adv - x)")),
            hint="an entry within eps of x is left where it is"),
        "the box applied also when clip is None": visible(edit("ex3_project_and_step", (
            "projected if clip is None else np.clip(projected, clip[0], clip[1])",
            "np.clip(projected, 0.0, 1.0)")), hint="clip=None means no box"),
        "the box always [0, 1], whatever clip says": visible(edit("ex3_project_and_step", (
            "np.clip(projected, clip[0], clip[1])", "np.clip(projected, 0.0, 1.0)")), hint="not always [0, 1]"),
        "PGD step not projected back into the eps-ball": visible(edit("ex3_project_and_step", (
            "return project_linf(stepped, x, eps, clip=clip)", "return stepped")),
            hint="project back within eps of the CLEAN x"),
        "no sign in the PGD step": visible(edit("ex3_project_and_step", ("alpha * np.sign(grad)", "alpha * grad")),
                                           hint="the gradient's sign, whatever its size"),
        "PGD step of size eps instead of alpha": visible(edit("ex3_project_and_step", (
            "alpha * np.sign(grad)", "eps * np.sign(grad)")), hint="each entry moves by alpha, the step size"),
        "PGD step projected into the ball around the current x_adv": visible(edit("ex3_project_and_step", (
            "project_linf(stepped, x, eps, clip=clip)", "project_linf(stepped, x_adv, eps, clip=clip)")),
            hint="within eps of the CLEAN x"),
        "PGD step taken from the clean x": visible(edit("ex3_project_and_step", (
            "stepped = x_adv + alpha", "stepped = x + alpha")), hint="step from the current x_adv"),
        "PGD step without the box": visible(edit("ex3_project_and_step", (
            "project_linf(stepped, x, eps, clip=clip)", "project_linf(stepped, x, eps, clip=None)")),
            hint="clip into the box [clip[0], clip[1]]: pixels stay valid"),
    },
    "ex4_pgd_attack": {
        "no random start (PGD begins at x)": visible(edit("ex4_pgd_attack", (
            "x_adv = project(x + eps * (2 * noise - 1), x, eps)", "x_adv = project(x, x, eps)")),
            hint="start at a random point of the ball"),
        "the random start not projected into [0, 1]": visible(edit("ex4_pgd_attack", (
            "x_adv = project(x + eps * (2 * noise - 1), x, eps)", "x_adv = x + eps * (2 * noise - 1)")),
            hint="put the random start through project"),
        "Gaussian noise for the start": visible(edit("ex4_pgd_attack", (
            "eps * (2 * noise - 1)", "eps * torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)")),
            hint="draw the start uniformly in the ball"),
        "noise in [0, eps] only": visible(edit("ex4_pgd_attack", ("eps * (2 * noise - 1)", "eps * noise")),
                                          hint="the noise must be centred"),
        "steps down the loss of the true labels": visible(edit("ex4_pgd_attack", (
            "-grad if targeted else grad", "grad if targeted else -grad")), hint="step UP the loss of the true labels"),
        "every step taken from the clean x": visible(edit("ex4_pgd_attack", (
            "x_adv = step(x_adv, x, ", "x_adv = step(x, x, ")), hint="from the current iterate"),
        "targeted ignored": visible(edit("ex4_pgd_attack", ("-grad if targeted else grad", "grad")),
                                    hint="a targeted attack steps DOWN the loss of the target class"),
        "the input gradient by loss.backward(), which fills the parameters' .grad": visible(edit("ex4_pgd_attack", (
            "grad, = torch.autograd.grad(loss, x_var)", "loss.backward()\n            grad = x_var.grad")),
            hint="the model's parameters must not receive gradients"),
    },
    "ex5_adversarial_batch": {
        "every image attacked, whatever the fraction": visible(edit("ex5_adversarial_batch", (
            "k = int(round(fraction * len(x)))", "k = len(x)")), hint="only the first k = round(fraction * N) images"),
        # Kurakin et al. (2017) recommend this against label leaking: not a wrong idea, but not the
        # true labels this exercise asks for (the notebook says why)
        "predicted labels where the exercise asks for the true ones": visible(edit("ex5_adversarial_batch", (
            "F.cross_entropy(model(x_head), y[:k])", "F.cross_entropy(model(x_head), model(x_head).argmax(dim=1))")),
            hint="TRUE label"),
        "x modified in place": visible(edit("ex5_adversarial_batch", ("x_mixed = x.detach().clone()", "x_mixed = x")),
                                       hint="must not change in place"),
        "k truncated by int() instead of rounded": visible(edit("ex5_adversarial_batch", (
            "k = int(round(fraction * len(x)))", "k = int(fraction * len(x))")), hint="round(2.8) = 3"),
        "steps down the loss (a targeted step)": visible(edit("ex5_adversarial_batch", (
            "(x[:k].detach() + eps * grad.sign())", "(x[:k].detach() - eps * grad.sign())")),
            hint="the attack must RAISE the loss"),
        "no clamp into [0, 1]": visible(edit("ex5_adversarial_batch", (".clamp(0.0, 1.0)", "")),
                                        hint="clamp the attacked images into [0, 1]"),
        "the input gradient by loss.backward(), which fills the parameters' .grad": visible(edit(
            "ex5_adversarial_batch", (
                "grad, = torch.autograd.grad(F.cross_entropy(model(x_head), y[:k]), x_head)",
                "F.cross_entropy(model(x_head), y[:k]).backward()\n        grad = x_head.grad")),
            hint="the model's parameters must not receive gradients"),
    },
    "ex6_adversarial_epoch": {
        "never shuffles (batches in the data's order)": visible(edit("ex6_adversarial_epoch", (
            "order = torch.randperm(len(x_train), generator=generator)", "order = torch.arange(len(x_train))")),
            hint="shuffle the training set at the start of the epoch"),
        "optimizer.zero_grad() forgotten": visible(edit("ex6_adversarial_epoch", (
            "optimizer.zero_grad()                         # or gradients of earlier batches add up", "pass")),
            hint="zero the optimizer's gradients before loss.backward()"),
        "the attack run in training mode": visible(edit("ex6_adversarial_epoch", (
            "model.eval()                                  # attack", "pass  # attack")),
            hint="the attack was called with the model in TRAINING mode"),
        "the update run in eval mode": visible(edit("ex6_adversarial_epoch", (
            "model.train()                                 # the update", "pass  # the update")),
            hint="model.train()"),
        "trained on the clean batch (the attack's images unused)": visible(edit("ex6_adversarial_epoch", (
            "loss = F.cross_entropy(model(x_adv), y)", "loss = F.cross_entropy(model(x), y)")),
            hint="the cross-entropy of the ATTACKED images"),
    },
}
