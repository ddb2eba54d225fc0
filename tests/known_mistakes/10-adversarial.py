"""Plausible wrong answers to the exercises of 10-adversarial, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py; see tests/test_known_mistakes.py). At least
two per exercise, including those the assignment's issue names: no sign, the gradient taken
with respect to the weights, no projection back into the eps-ball, a targeted attack moving
away from its target."""

from known_mistakes.mistakes import edits_of

edit = edits_of("10-adversarial")

MISTAKES = {
    "ex1_input_gradient": {
        "gradient taken with respect to the weights": edit("ex1_input_gradient", (
            "(p - y)[:, None] * w[None, :]", "(p - y)[:, None] * x")),
        "sign flipped (y - p)": edit("ex1_input_gradient", ("(p - y)", "(y - p)")),
        "sigmoid forgotten (the score taken as p)": edit("ex1_input_gradient", (
            "p = 1 / (1 + np.exp(-(x @ w + b)))", "p = x @ w + b")),
    },
    "ex2_fgsm": {
        "no sign (the raw gradient)": edit("ex2_fgsm", ("eps * np.sign(grad)", "eps * grad")),
        "no clipping into the pixel range": edit("ex2_fgsm", (
            "return x_adv if clip is None else np.clip(x_adv, clip[0], clip[1])", "return x_adv")),
        "steps against the gradient": edit("ex2_fgsm", ("x_adv = x + eps", "x_adv = x - eps")),
    },
    "ex3_project_linf": {
        "ball around x_adv instead of the clean x": edit("ex3_project_linf", (
            "np.clip(x_adv, x - eps, x + eps)", "np.clip(x_adv, x_adv - eps, x_adv + eps)")),
        "only the box, no ball": edit("ex3_project_linf", ("np.clip(x_adv, x - eps, x + eps)", "x_adv")),
        "ball of radius 2 eps": edit("ex3_project_linf", (
            "np.clip(x_adv, x - eps, x + eps)", "np.clip(x_adv, x - 2 * eps, x + 2 * eps)")),
    },
    "ex4_pgd_step": {
        "no projection back into the eps-ball": edit("ex4_pgd_step", (
            "projected = np.clip(stepped, x - eps, x + eps)", "projected = stepped")),
        "no sign in the step": edit("ex4_pgd_step", ("alpha * np.sign(grad)", "alpha * grad")),
        "step of size eps instead of alpha": edit("ex4_pgd_step", ("alpha * np.sign(grad)", "eps * np.sign(grad)")),
    },
    "ex5_targeted_fgsm": {
        "targeted attack moving away from the target": edit("ex5_targeted_fgsm", (
            "(x - eps * grad.sign())", "(x + eps * grad.sign())")),
        "no clipping": edit("ex5_targeted_fgsm", (".clamp(0.0, 1.0)", "")),
        "no sign": edit("ex5_targeted_fgsm", ("grad.sign()", "grad")),
    },
    "ex6_adversarial_batch": {
        "every image attacked, whatever the fraction": edit("ex6_adversarial_batch", (
            "k = int(round(fraction * len(x)))", "k = len(x)")),
        # Kurakin et al. (2017) recommend this against label leaking: not a wrong idea, but not the
        # true labels this exercise asks for (the notebook says why)
        "predicted labels where the exercise asks for the true ones": edit("ex6_adversarial_batch", (
            "F.cross_entropy(model(x_head), y[:k])", "F.cross_entropy(model(x_head), model(x_head).argmax(dim=1))")),
        "x modified in place": edit("ex6_adversarial_batch", ("x_mixed = x.detach().clone()", "x_mixed = x")),
    },
}
