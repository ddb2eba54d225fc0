"""Adversarial examples in PyTorch: FGSM and PGD attacks on a model, accuracy under attack
and the mixed batches of adversarial training.

Legend: N batch, C channels, H height, W width, K classes, D input features.

    x_adv = fgsm(model, x, y, eps)                                x: (N, C, H, W), y: (N,) -> (N, C, H, W)
    x_adv = fgsm(model, x, target, eps, targeted=True)            towards class target: (N,)
    x_adv = pgd(model, x, y, eps, PGDConfig(alpha=eps / 4, steps=10), generator=g)
    accs = accuracy_under_attack(model, X, y, [0.0, 0.05, 0.1], attack="pgd",
                                 config=PGDConfig(alpha=0.01, steps=10))
    x_mixed, y_mixed = adversarial_batch(model, x, y, eps, fraction=0.5)
    dx = input_gradient(model, x, y)                              d loss / d x: (N, C, H, W)
    x_adv = fgsm(model, x, y, eps, step=on_tensors(my_fgsm_step))   the attack with a NumPy step rule

and tensor twins of dlcourse.np.adversarial: ``fgsm_step`` (one sign step from a given
gradient), ``project_linf``, ``pgd_step``, ``logistic_predict_proba``, ``logistic_loss``
and ``logistic_input_gradient``. ``fgsm`` and ``pgd`` are the attacks on a model: they
compute the gradient themselves (autograd, with respect to the input only) and then take
``fgsm_step`` / ``pgd_step``.

The rules they apply are arguments (keyword-only, this module's functions by default):
``fgsm(..., step=fgsm_step)``, ``pgd(..., step=pgd_step, project=project_linf)``, with these
functions' signatures; ``accuracy_under_attack`` and ``adversarial_batch`` pass them on with
the attack's other keywords. A notebook passes the student's own rules, so that its attacks run
on them; ``on_tensors`` lets a rule written for NumPy arrays take and give tensors.

What the attacks promise. The result is detached, on x's device and in x's dtype, inside
``clip`` (``None``: no box) and within eps of x in the L-infinity norm wherever x is in
the box. The model is left as it was found: its parameters and their ``.grad`` (the
input gradient comes from ``torch.autograd.grad``, which accumulates nothing), its
buffers (batch-norm running statistics, which a forward pass in training mode updates,
are restored) and every module's train/eval flag.

Mode. ``fgsm``, ``pgd`` and ``adversarial_batch`` compute in the model's *current* mode:
call them on a model in eval mode for a deterministic attack on the model you deploy; in
training mode dropout draws new masks at every forward pass (from torch's global
generator) and batch norm normalises with the batch's statistics. ``accuracy_under_attack``
is an evaluation: it switches the model to eval mode for its duration and then restores
every module's flag (``eval_mode``).

Randomness (PGD's random start) uses ``generator`` (None: torch's global one) on the
generator's own device and is then moved, so a seeded CPU generator gives the same start
whatever device the data are on. Labels y are class indices; with ``targeted=True`` they
are the classes to move *towards*.
"""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.check import shown
from dlcourse.validate import check_clip, check_logistic, check_nonnegative, check_same_shape

ATTACKS = ("fgsm", "pgd")


# ---------------------------------------------------------------- twins of dlcourse.np.adversarial


def _apply_clip(x, clip):
    return x if clip is None else x.clamp(clip[0], clip[1])


def fgsm_step(x, grad, eps, *, clip=(0.0, 1.0)):
    """Torch twin of np.adversarial.fgsm_step: x + eps * sign(grad), clipped into [clip[0], clip[1]].

    x: any shape; grad: the shape of x; eps >= 0; clip: (low, high) or None. Returns a new
    tensor on x's device and in x's dtype. (The model-level attack is ``fgsm``.)
    """
    check_same_shape("grad", grad, "x", x)
    check_nonnegative("eps", eps)
    check_clip(clip)
    return _apply_clip(x + eps * torch.sign(grad), clip)


def project_linf(x_adv, x, eps, *, clip=(0.0, 1.0)):
    """Torch twin of np.adversarial.project_linf: clip(x_adv, x - eps, x + eps), then into the box.

    x_adv, x: the same shape (any); eps >= 0; clip: (low, high) or None. The box is applied
    last. Returns a tensor of x's shape.
    """
    check_same_shape("x_adv", x_adv, "x", x)
    check_nonnegative("eps", eps)
    check_clip(clip)
    return _apply_clip(torch.minimum(torch.maximum(x_adv, x - eps), x + eps), clip)


def pgd_step(x_adv, x, grad, eps, alpha, *, clip=(0.0, 1.0)):
    """Torch twin of np.adversarial.pgd_step: project_linf(x_adv + alpha * sign(grad), x, eps).

    x_adv: the current adversarial inputs, x: the clean inputs, grad: the gradient at x_adv,
    all three the same shape (any); eps >= 0 the ball's radius; alpha >= 0 the step size.
    Returns the next x_adv: x's shape.
    """
    check_same_shape("grad", grad, "x_adv", x_adv)
    check_nonnegative("alpha", alpha)
    return project_linf(x_adv + alpha * torch.sign(grad), x, eps, clip=clip)


def logistic_predict_proba(x, w, b):
    """Torch twin of np.adversarial.logistic_predict_proba: sigmoid(x @ w + b): (N,).

    x: (N, D); w: (D,); b scalar. Returns p: (N,), the probability of class 1.
    """
    check_logistic(x, w, b)
    return torch.sigmoid(x @ w + b)


def logistic_loss(x, y, w, b):
    """Torch twin of np.adversarial.logistic_loss: softplus(a) - y a, a = x @ w + b: (N,).

    x: (N, D); y: (N,) in {0, 1}; w: (D,); b scalar. Returns each example's loss: (N,).
    """
    check_logistic(x, w, b, y)
    a = x @ w + b                                               # (N,)
    return F.softplus(a) - y * a


def logistic_input_gradient(x, y, w, b):
    """Torch twin of np.adversarial.logistic_input_gradient: (p - y)[:, None] * w: (N, D).

    x: (N, D); y: (N,) in {0, 1}; w: (D,); b scalar. Row i is example i's own gradient.
    """
    check_logistic(x, w, b, y)
    p = torch.sigmoid(x @ w + b)                                # (N,)
    return (p - y)[:, None] * w[None, :]                        # (N, D)


def on_tensors(rule):
    """A step rule written for NumPy arrays (such as np.adversarial.fgsm_step, or a notebook's
    own fgsm_step, project_linf or pgd_step) as a rule on tensors, for the attacks' ``step`` and
    ``project`` arguments.

    The returned function takes the rule's arguments with tensors in place of arrays (any
    device): each tensor goes to the CPU as a NumPy array, other arguments (eps, alpha, clip)
    unchanged; the rule's result comes back as a tensor on the device and in the dtype of the
    first tensor argument (x or x_adv), shape unchanged: float32 images stay float32 although a
    NumPy rule computes in float64.

        x_adv = fgsm(model, x, y, 0.1, step=on_tensors(fgsm_step))
    """
    if not callable(rule):
        raise ValueError(f"rule must be a function of arrays, such as fgsm_step, got {type(rule).__name__}")

    def rule_on_tensors(*args, **kwargs):
        like = next((a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)), None)
        if like is None:
            raise ValueError(f"{getattr(rule, '__name__', 'the rule')} on tensors needs at least one tensor argument")

        def to_numpy(a):
            return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a

        result = rule(*map(to_numpy, args), **{name: to_numpy(a) for name, a in kwargs.items()})
        return torch.as_tensor(result).to(device=like.device, dtype=like.dtype)

    rule_on_tensors.__name__ = getattr(rule, "__name__", "rule")
    rule_on_tensors.__doc__ = f"{rule_on_tensors.__name__} on tensors (on_tensors): {rule.__doc__ or ''}".strip()
    return rule_on_tensors


def _stepped(result, x, rule) -> torch.Tensor:
    """The result of an attack's ``rule`` (step or project), checked: a tensor of x's shape."""
    name = getattr(rule, "__name__", "the step")
    if not isinstance(result, torch.Tensor):
        raise ValueError(f"{name} must return a tensor of x's shape {tuple(x.shape)}, got {type(result).__name__} "
                         "(a rule written for NumPy arrays goes in as on_tensors(rule))")
    if result.shape != x.shape:
        raise ValueError(f"{name} must return a tensor of x's shape {tuple(x.shape)}, got {tuple(result.shape)}")
    return result.detach()


# ---------------------------------------------------------------- attacks on a model


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """``with eval_mode(model):`` runs the block in eval mode and then gives every module
    back its own train/eval flag (a model may hold, say, a frozen batch norm in eval mode
    inside one that trains)."""
    flags = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in flags:
            module.training = training


@contextlib.contextmanager
def _buffers_kept(model: nn.Module):
    """Restores every buffer (batch-norm running statistics and counts) on leaving."""
    saved = [(buffer, buffer.detach().clone()) for buffer in model.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)


def _check_batch(x, y) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError(f"x and y must be tensors, got {type(x).__name__} and {type(y).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"x must be a floating-point tensor (N, ...), got dtype {x.dtype}")
    if x.ndim < 1 or y.shape != (x.shape[0],):
        raise ValueError(f"y must be (N,) = ({x.shape[0] if x.ndim else '?'},) class indices for x of shape "
                         f"{tuple(x.shape)}, got {tuple(y.shape)}")


def _loss(model, x, y, loss_fn):
    loss = (loss_fn or F.cross_entropy)(model(x), y)
    return loss if loss.ndim == 0 else loss.sum()  # reduction="none": each example's own gradient


def input_gradient(model: nn.Module, x, y, *, loss_fn=None):
    """d loss(model(x), y) / d x: the shape of x, detached; nothing accumulates in ``.grad``.

    x: (N, C, H, W) (any (N, ...) the model takes); y: (N,) class indices; loss_fn:
    loss_fn(logits, y) -> a scalar (default F.cross_entropy, the batch mean, so every row
    is 1/N of that example's own gradient) or per-example losses, which are summed.
    Computed in the model's current mode; buffers are restored afterwards.
    """
    _check_batch(x, y)
    x = x.detach().requires_grad_(True)
    with torch.enable_grad(), _buffers_kept(model):
        (grad,) = torch.autograd.grad(_loss(model, x, y, loss_fn), [x])
    return grad.detach()


def fgsm(model: nn.Module, x, y, eps, *, loss_fn=None, clip=(0.0, 1.0), targeted=False, step=fgsm_step):
    """The fast gradient sign method (Goodfellow et al., 2015) on ``model``.

    x: (N, C, H, W) inputs in the clip box; y: (N,) the true labels, or with
    ``targeted=True`` the target classes; eps >= 0. Untargeted: x + eps * sign(grad_x
    loss(model(x), y)), a step that increases the loss of the true label. Targeted:
    x - eps * sign(grad_x loss(model(x), target)), a step that decreases the loss of the
    target, i.e. moves the prediction towards it. loss_fn: as in input_gradient. step: the
    rule that takes the step, step(x, grad, eps, clip=clip) -> x_adv with fgsm_step's
    signature (fgsm_step unless given; the targeted attack passes it -grad). Returns
    x_adv: (N, C, H, W), detached, on x's device and dtype, inside ``clip``, with
    |x_adv - x|_inf <= eps. The model's current mode is used and the model is left as it
    was (see the module docstring).
    """
    check_nonnegative("eps", eps)
    check_clip(clip)
    grad = input_gradient(model, x, y, loss_fn=loss_fn)
    return _stepped(step(x.detach(), -grad if targeted else grad, eps, clip=clip), x, step)


@dataclass(frozen=True)
class PGDConfig:
    """The settings of ``pgd`` (eps, the budget, is pgd's own argument: attacks are compared
    across eps with the other settings fixed).

    alpha: the step size >= 0 (a common choice: 2.5 * eps / steps); steps: the number of
    sign steps, an int >= 0; clip: the box (low, high) or None; random_start: begin at
    x + uniform noise in [-eps, eps], projected (else at x); targeted: y holds the classes
    to move *towards*; loss_fn: as in input_gradient (None: F.cross_entropy).
    """

    alpha: float
    steps: int
    clip: tuple[float, float] | None = (0.0, 1.0)
    random_start: bool = True
    targeted: bool = False
    loss_fn: Callable | None = None


def pgd(model: nn.Module, x, y, eps, config: PGDConfig, *, generator: torch.Generator | None = None,
        step=pgd_step, project=project_linf):
    """Projected gradient descent (Madry et al., 2018): ``config.steps`` sign steps of size
    ``config.alpha``, each projected back onto the L-infinity ball of radius eps around x and
    into ``config.clip``.

    x: (N, C, H, W); y: (N,) labels (targets with ``config.targeted``); eps >= 0; config: a
    PGDConfig. The random start is drawn with ``generator``. With random_start=False,
    steps=1 and alpha=eps this is fgsm. The rules: step(x_adv, x, grad, eps, alpha, clip=clip)
    takes each step and projects it (pgd_step unless given), project(x_adv, x, eps, clip=clip)
    puts the start into the ball and the box (project_linf unless given). Same promises as
    fgsm: x_adv (N, C, H, W) detached, on x's device and dtype, in the box and the ball; the
    model is left as it was and its current mode is used.
    """
    if not isinstance(config, PGDConfig):
        raise TypeError(f"config must be a PGDConfig, such as PGDConfig(alpha=eps / 4, steps=10), "
                        f"got {type(config).__name__}")
    alpha, steps, clip = config.alpha, config.steps, config.clip
    check_nonnegative("eps", eps)
    check_nonnegative("alpha", alpha)
    check_clip(clip)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {shown(steps)}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    _check_batch(x, y)
    x = x.detach()
    if config.random_start:
        device = generator.device if generator is not None else x.device
        noise = torch.rand(x.shape, generator=generator, device=device, dtype=x.dtype).to(x.device)
        x_adv = _stepped(project(x + eps * (2 * noise - 1), x, eps, clip=clip), x, project)
    else:
        x_adv = _stepped(project(x, x, eps, clip=clip), x, project)
    for _ in range(steps):
        grad = input_gradient(model, x_adv, y, loss_fn=config.loss_fn)
        x_adv = _stepped(step(x_adv, x, -grad if config.targeted else grad, eps, alpha, clip=clip), x, step)
    return x_adv


def _attack_fn(attack):
    if callable(attack):
        return attack
    if attack not in ATTACKS:
        raise ValueError(f"unknown attack {attack!r}: choose one of {ATTACKS} or pass a function "
                         "attack(model, x, y, eps, **kwargs) -> x_adv")
    return fgsm if attack == "fgsm" else pgd


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def accuracy_under_attack(model: nn.Module, X, y, eps_values, *, attack="fgsm", batch_size: int = 500,
                          **attack_kwargs) -> list[float]:
    """The accuracy of ``model`` on adversarial versions of (X, y), one per eps in eps_values.

    X: (N, C, H, W), y: (N,), on any device: each batch of ``batch_size`` is moved to the
    model's device. attack: "fgsm", "pgd" or a function attack(model, x, y, eps, **kw) ->
    x_adv; attack_kwargs go to it unchanged at every eps (pgd needs config=PGDConfig(alpha,
    steps); the rules go the same way: step=... for fgsm, step=... and project=... for pgd;
    a fixed alpha larger than a small eps only bounces between the ball's corners,
    so a function that scales alpha with eps often serves better). eps = 0
    is the clean accuracy (no attack is run). The model is evaluated, and attacked, in
    eval mode; every module's mode is restored afterwards. Returns [accuracy per eps].
    """
    attack_fn = _attack_fn(attack)
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    if y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"X (N, ...) and y (N,) must have the same N, got {tuple(X.shape)} and {tuple(y.shape)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {shown(batch_size)}")
    device = _model_device(model)
    accuracies = []
    with eval_mode(model):
        for eps in eps_values:
            check_nonnegative("eps", eps)
            correct = 0
            for start in range(0, len(X), batch_size):
                xb, yb = X[start:start + batch_size].to(device), y[start:start + batch_size].to(device)
                if eps > 0:
                    xb = attack_fn(model, xb, yb, eps, **attack_kwargs)
                with torch.no_grad():
                    correct += (model(xb).argmax(dim=1) == yb).sum().item()
            accuracies.append(correct / max(len(X), 1))
    return accuracies


def adversarial_batch(model: nn.Module, x, y, eps, *, fraction=0.5, attack="fgsm", **attack_kwargs):
    """The mini-batch of adversarial training: the first k = round(fraction * N) examples of x
    replaced by their adversarial versions, the rest left clean.

    x: (N, C, H, W), y: (N,); fraction in [0, 1]; attack: "fgsm", "pgd" or a function as in
    accuracy_under_attack, called as attack(model, x[:k], y[:k], eps, **attack_kwargs) in
    the model's current mode (attack_kwargs carry the attack's rules too: step=...). Returns
    (x_mixed: (N, C, H, W), y_mixed: (N,)), y_mixed = y (a copy): the labels do not change,
    the attack keeps the true class.

    Replacement, not concatenation: the batch keeps its size and the attack costs k
    examples. With shuffled batches each example is adversarial with probability
    ``fraction``, so the mean loss is, in expectation, Goodfellow et al.'s (2015) weighted
    objective (1 - fraction) L(x, y) + fraction L(x_adv, y) (they used 1/2 and 1/2; this
    scheme is Kurakin et al.'s, 2017). fraction = 1 is Madry et al.'s pure adversarial
    training. For the exact 50/50 loss on every example instead, concatenate:
    ``torch.cat([x, fgsm(model, x, y, eps)])`` with labels ``torch.cat([y, y])``.
    """
    _check_batch(x, y)
    if not 0.0 <= float(fraction) <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    attack_fn = _attack_fn(attack)
    k = int(round(float(fraction) * len(x)))
    x_mixed = x.detach().clone()
    if k > 0:
        x_mixed[:k] = attack_fn(model, x[:k], y[:k], eps, **attack_kwargs)
    return x_mixed, y.clone()
