"""Plausible wrong answers to the exercises of 10-adversarial, as whole answer cells (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: no sign, the gradient taken with respect to the weights, no projection back
into the eps-ball, a targeted attack moving away from its target."""

_GRADIENT = '''
def logistic_input_gradient(x, y, w, b):
    x, y, w = np.asarray(x, dtype=float), np.asarray(y, dtype=float), np.asarray(w, dtype=float)
    p = PROBABILITY
    return RESULT
'''


def _gradient(probability="1 / (1 + np.exp(-(x @ w + b)))", result="(p - y)[:, None] * w[None, :]"):
    return _GRADIENT.replace("PROBABILITY", probability).replace("RESULT", result)


_FGSM = '''
def fgsm(x, grad, eps, *, clip=(0.0, 1.0)):
    x, grad = np.asarray(x, dtype=float), np.asarray(grad, dtype=float)
    x_adv = STEP
    return CLIPPED
'''


def _fgsm(step="x + eps * np.sign(grad)", clipped="x_adv if clip is None else np.clip(x_adv, clip[0], clip[1])"):
    return _FGSM.replace("STEP", step).replace("CLIPPED", clipped)


_PROJECT = '''
def project_linf(x_adv, x, eps, *, clip=(0.0, 1.0)):
    x_adv, x = np.asarray(x_adv, dtype=float), np.asarray(x, dtype=float)
    projected = PROJECTED
    return projected if clip is None else np.clip(projected, clip[0], clip[1])
'''


def _project(projected):
    return _PROJECT.replace("PROJECTED", projected)


_PGD = '''
def pgd_step(x_adv, x, grad, eps, alpha, *, clip=(0.0, 1.0)):
    x_adv, x, grad = (np.asarray(v, dtype=float) for v in (x_adv, x, grad))
    return RESULT
'''


def _pgd(result):
    return _PGD.replace("RESULT", result)


_TARGETED = '''
def targeted_fgsm(model, x, target, eps):
    x_var = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x_var), target)
    grad, = torch.autograd.grad(loss, x_var)
    return RESULT
'''


def _targeted(result):
    return _TARGETED.replace("RESULT", result)


_BATCH = '''
def adversarial_batch(model, x, y, eps, *, fraction=0.5):
    k = K
    x_mixed = X_MIXED
    if k > 0:
        x_mixed[:k] = pt_adv.fgsm(model, x[:k], LABELS, eps)
    return x_mixed, y.clone()
'''


def _batch(k="int(round(fraction * len(x)))", x_mixed="x.detach().clone()", labels="y[:k]"):
    return _BATCH.replace("K", k).replace("X_MIXED", x_mixed).replace("LABELS", labels)


MISTAKES = {
    "ex1_input_gradient": {
        "gradient taken with respect to the weights": _gradient(result="(p - y)[:, None] * x"),
        "sign flipped (y - p)": _gradient(result="(y - p)[:, None] * w[None, :]"),
        "sigmoid forgotten (the score taken as p)": _gradient(probability="x @ w + b"),
    },
    "ex2_fgsm": {
        "no sign (the raw gradient)": _fgsm(step="x + eps * grad"),
        "no clipping into the pixel range": _fgsm(clipped="x_adv"),
        "steps against the gradient": _fgsm(step="x - eps * np.sign(grad)"),
    },
    "ex3_project_linf": {
        "ball around x_adv instead of the clean x": _project("np.clip(x_adv, x_adv - eps, x_adv + eps)"),
        "only the box, no ball": _project("x_adv"),
        "ball of radius 2 eps": _project("np.clip(x_adv, x - 2 * eps, x + 2 * eps)"),
    },
    "ex4_pgd_step": {
        "no projection back into the eps-ball": _pgd(
            "x_adv + alpha * np.sign(grad) if clip is None else np.clip(x_adv + alpha * np.sign(grad), clip[0], clip[1])"),
        "no sign in the step": _pgd("project_linf(x_adv + alpha * grad, x, eps, clip=clip)"),
        "step of size eps instead of alpha": _pgd("project_linf(x_adv + eps * np.sign(grad), x, eps, clip=clip)"),
    },
    "ex5_targeted_fgsm": {
        "targeted attack moving away from the target": _targeted("(x + eps * grad.sign()).clamp(0.0, 1.0).detach()"),
        "no clipping": _targeted("(x - eps * grad.sign()).detach()"),
        "no sign": _targeted("(x - eps * grad).clamp(0.0, 1.0).detach()"),
    },
    "ex6_adversarial_batch": {
        "every image attacked, whatever the fraction": _batch(k="len(x)"),
        "attacked with the model's own predictions as labels": _batch(labels="model(x[:k]).argmax(dim=1)"),
        "x modified in place": _batch(x_mixed="x"),
    },
}
