"""Plausible wrong answers to the exercises of 10-adversarial, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py; see tests/test_known_mistakes.py). At least
two per exercise, including those the assignment's issue names: no sign, the gradient taken
with respect to the weights, no projection back into the eps-ball, a targeted attack moving
away from its target. Each is tagged with the visible check that warns of it and the words of
its hint (visible) or the reason none can (hidden_only)."""

from known_mistakes.mistakes import edits_of, visible

edit = edits_of("10-adversarial")

MISTAKES = {
    "ex1_input_gradient": {
        "gradient taken with respect to the weights": visible(edit("ex1_input_gradient", (
            "(p - y)[:, None] * w[None, :]", "(p - y)[:, None] * x")),
            hint="(p - y) x is the weights' gradient"),
        "sign flipped (y - p)": visible(edit("ex1_input_gradient", ("(p - y)", "(y - p)")),
                                        hint="check the sign of p - y"),
        "sigmoid forgotten (the score taken as p)": visible(edit("ex1_input_gradient", (
            "p = 1 / (1 + np.exp(-(x @ w + b)))", "p = x @ w + b")),
            hint="p is the sigmoid of the whole score"),
        "bias left out of the score": visible(edit("ex1_input_gradient", (
            "np.exp(-(x @ w + b))", "np.exp(-(x @ w))")), hint="bias included"),
        "the gradient of the batch's mean loss (divided by N)": visible(edit("ex1_input_gradient", (
            "(p - y)[:, None] * w[None, :]", "(p - y)[:, None] * w[None, :] / len(x)")),
            hint="no mean over the batch (no division by N)"),
    },
    "ex2_fgsm": {
        "no sign (the raw gradient)": visible(edit("ex2_fgsm", ("eps * np.sign(grad)", "eps * grad")),
                                              hint="whatever its size"),
        "no clipping into the pixel range": visible(edit("ex2_fgsm", (
            "return x_adv if clip is None else np.clip(x_adv, clip[0], clip[1])", "return x_adv")),
            hint="pixels must stay valid"),
        "steps against the gradient": visible(edit("ex2_fgsm", ("x_adv = x + eps", "x_adv = x - eps")),
                                              hint="FGSM climbs the loss"),
        "a zero gradient taken as positive (np.where(grad >= 0, 1, -1))": visible(edit("ex2_fgsm", (
            "eps * np.sign(grad)", "eps * np.where(grad >= 0, 1.0, -1.0)")), hint="not at all where grad = 0"),
        "the box always [0, 1], whatever clip says": visible(edit("ex2_fgsm", (
            "np.clip(x_adv, clip[0], clip[1])", "np.clip(x_adv, 0.0, 1.0)")), hint="not always [0, 1]"),
    },
    "ex3_project_linf": {
        "ball around x_adv instead of the clean x": visible(edit("ex3_project_linf", (
            "np.clip(x_adv, x - eps, x + eps)", "np.clip(x_adv, x_adv - eps, x_adv + eps)")),
            hint="the ball around the CLEAN x"),
        "only the box, no ball": visible(edit("ex3_project_linf", ("np.clip(x_adv, x - eps, x + eps)", "x_adv")),
                                         hint="clip each entry into [x - eps, x + eps]"),
        "ball of radius 2 eps": visible(edit("ex3_project_linf", (
            "np.clip(x_adv, x - eps, x + eps)", "np.clip(x_adv, x - 2 * eps, x + 2 * eps)")),
            hint="every entry ends at most eps from x"),
        "every entry pushed to the edge of the ball": visible(edit("ex3_project_linf", (
            "np.clip(x_adv, x - eps, x + eps)", "x + eps * np.sign(x_adv - x)")),
            hint="an entry within eps of x is left where it is"),
        "the box applied also when clip is None": visible(edit("ex3_project_linf", (
            "projected if clip is None else np.clip(projected, clip[0], clip[1])",
            "np.clip(projected, 0.0, 1.0)")), hint="clip=None means no box"),
        "the box always [0, 1], whatever clip says": visible(edit("ex3_project_linf", (
            "np.clip(projected, clip[0], clip[1])", "np.clip(projected, 0.0, 1.0)")), hint="not always [0, 1]"),
    },
    "ex4_pgd_step": {
        "no projection back into the eps-ball": visible(edit("ex4_pgd_step", (
            "projected = np.clip(stepped, x - eps, x + eps)", "projected = stepped")),
            hint="project back within eps of the CLEAN x"),
        "no sign in the step": visible(edit("ex4_pgd_step", ("alpha * np.sign(grad)", "alpha * grad")),
                                       hint="the gradient's sign, whatever its size"),
        "step of size eps instead of alpha": visible(edit("ex4_pgd_step", (
            "alpha * np.sign(grad)", "eps * np.sign(grad)")), hint="each entry moves by alpha, the step size"),
        "ball around the current x_adv instead of the clean x": visible(edit("ex4_pgd_step", (
            "np.clip(stepped, x - eps, x + eps)", "np.clip(stepped, x_adv - eps, x_adv + eps)")),
            hint="within eps of the CLEAN x"),
        "step taken from the clean x": visible(edit("ex4_pgd_step", ("stepped = x_adv + alpha", "stepped = x + alpha")),
                                               hint="step from the current x_adv"),
        "no box after the ball": visible(edit("ex4_pgd_step", (
            "return projected if clip is None else np.clip(projected, clip[0], clip[1])", "return projected")),
            hint="clip into the box [clip[0], clip[1]]: pixels stay valid"),
    },
    "ex5_targeted_fgsm": {
        "targeted attack moving away from the target": visible(edit("ex5_targeted_fgsm", (
            "(x - eps * grad.sign())", "(x + eps * grad.sign())")), hint="the loss of the TARGET class must go down"),
        "no clipping": visible(edit("ex5_targeted_fgsm", (".clamp(0.0, 1.0)", "")),
                               hint="clamp the result into [0, 1]"),
        "no sign": visible(edit("ex5_targeted_fgsm", ("grad.sign()", "grad")),
                           hint="the gradient's sign, not the gradient itself"),
        "the clamp applied to the step instead of the image": visible(edit("ex5_targeted_fgsm", (
            "(x - eps * grad.sign()).clamp(0.0, 1.0)", "x - eps * grad.sign().clamp(0.0, 1.0)")),
            hint="not the step alone"),
    },
    "ex6_adversarial_batch": {
        "every image attacked, whatever the fraction": visible(edit("ex6_adversarial_batch", (
            "k = int(round(fraction * len(x)))", "k = len(x)")), hint="only the first k = round(fraction * N) images"),
        # Kurakin et al. (2017) recommend this against label leaking: not a wrong idea, but not the
        # true labels this exercise asks for (the notebook says why)
        "predicted labels where the exercise asks for the true ones": visible(edit("ex6_adversarial_batch", (
            "F.cross_entropy(model(x_head), y[:k])", "F.cross_entropy(model(x_head), model(x_head).argmax(dim=1))")),
            hint="TRUE label"),
        "x modified in place": visible(edit("ex6_adversarial_batch", ("x_mixed = x.detach().clone()", "x_mixed = x")),
                                       hint="must not change in place"),
        "k truncated by int() instead of rounded": visible(edit("ex6_adversarial_batch", (
            "k = int(round(fraction * len(x)))", "k = int(fraction * len(x))")), hint="round(2.8) = 3"),
        "steps down the loss (the targeted step of Exercise 5)": visible(edit("ex6_adversarial_batch", (
            "(x[:k].detach() + eps * grad.sign())", "(x[:k].detach() - eps * grad.sign())")),
            hint="the attack must RAISE the loss"),
        "no clamp into [0, 1]": visible(edit("ex6_adversarial_batch", (".clamp(0.0, 1.0)", "")),
                                        hint="clamp the attacked images into [0, 1]"),
        "the input gradient by loss.backward(), which fills the parameters' .grad": visible(edit(
            "ex6_adversarial_batch", (
                "grad, = torch.autograd.grad(F.cross_entropy(model(x_head), y[:k]), x_head)",
                "F.cross_entropy(model(x_head), y[:k]).backward()\n        grad = x_head.grad")),
            hint="the model's parameters must not receive gradients"),
    },
}
