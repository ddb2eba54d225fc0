"""Adversarial examples in NumPy: the step of the fast gradient sign method, projected
gradient descent steps and the input gradient of logistic regression in closed form.

Legend: N batch, D input features; x may also have any shape (N, C, H, W) where noted.

    x_adv = fgsm_step(x, grad, eps)                  x + eps * sign(grad), clipped to the box
    p = logistic_predict_proba(x, w, b)              x: (N, D), w: (D,), b scalar -> p: (N,)
    losses = logistic_loss(x, y, w, b)               binary cross-entropy per example: (N,)
    dx = logistic_input_gradient(x, y, w, b)         d sum(losses) / dx = (p - y)[:, None] * w: (N, D)
    x_adv = project_linf(x_adv, x, eps)              into {|x_adv - x|_inf <= eps} and then the box
    x_adv = pgd_step(x_adv, x, grad, eps, alpha)     project_linf(x_adv + alpha * sign(grad), x, eps)

Images live in a box, [0, 1] for MNIST: ``clip=(low, high)`` clips every result into it
(``clip=None``: no box). The box is applied last, so a result is always inside it, and it
is within eps of x wherever x itself is inside the box. sign(0) = 0: an input with no
gradient is not moved. FGSM (Goodfellow et al., 2015) takes one step of size eps; PGD
(Madry et al., 2018) takes many steps of size alpha and projects back after each. The
steps take a given gradient; the attacks on a model, which compute it with autograd, are
``dlcourse.pt.adversarial.fgsm`` and ``pgd``.
"""

import numpy as np

from dlcourse.validate import check_clip, check_logistic, check_nonnegative, check_same_shape


def _apply_clip(x, clip):
    return x if clip is None else np.clip(x, clip[0], clip[1])


def fgsm_step(x, grad, eps, *, clip=(0.0, 1.0)):
    """The fast gradient sign step: x + eps * sign(grad), clipped into [clip[0], clip[1]].

    x: any shape, the inputs; grad: the shape of x, the gradient of the loss to increase
    with respect to x; eps >= 0, the L-infinity budget; clip: (low, high) or None (no
    clipping). Returns x_adv, the shape of x, with |x_adv - x|_inf <= eps. eps = 0 returns
    x (clipped). For a targeted step pass the negated gradient of the target's loss.
    """
    x, grad = np.asarray(x, dtype=np.float64), np.asarray(grad, dtype=np.float64)
    check_same_shape("grad", grad, "x", x)
    check_nonnegative("eps", eps)
    check_clip(clip)
    return _apply_clip(x + eps * np.sign(grad), clip)


def logistic_predict_proba(x, w, b):
    """p = sigmoid(x @ w + b): (N,), the probability of class 1, for x: (N, D), w: (D,), b scalar."""
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    check_logistic(x, w, b)
    return 0.5 * (1.0 + np.tanh(0.5 * (x @ w + b)))  # the sigmoid without overflow


def logistic_loss(x, y, w, b):
    """Binary cross-entropy per example, -[y log p + (1 - y) log(1 - p)]: (N,).

    x: (N, D), y: (N,) in {0, 1}, w: (D,), b scalar. Computed from the logit a = x @ w + b
    as softplus(a) - y a, which stays finite where p rounds to 0 or 1.
    """
    x, y, w = (np.asarray(v, dtype=np.float64) for v in (x, y, w))
    check_logistic(x, w, b, y)
    a = x @ w + b                                               # (N,)
    return np.logaddexp(0.0, a) - y * a


def logistic_input_gradient(x, y, w, b):
    """dL/dx of logistic regression's binary cross-entropy, in closed form: (p - y)[:, None] * w.

    x: (N, D), y: (N,) in {0, 1}, w: (D,), b scalar. L is the sum over the batch of
    logistic_loss, so row i is the gradient of example i's own loss: (N, D). (With the
    batch mean every row is divided by N, which the sign in fgsm_step ignores.)
    dL_i/da_i = p_i - y_i and da_i/dx_i = w, a_i = x_i @ w + b.
    """
    x, y, w = (np.asarray(v, dtype=np.float64) for v in (x, y, w))
    check_logistic(x, w, b, y)
    p = logistic_predict_proba(x, w, b)                         # (N,)
    return (p - y)[:, None] * w[None, :]                        # (N, D)


def project_linf(x_adv, x, eps, *, clip=(0.0, 1.0)):
    """The point of the L-infinity ball {|x_adv - x|_inf <= eps} nearest to x_adv, then clipped.

    x_adv, x: the same shape (any); eps >= 0; clip: (low, high) or None. Entry by entry:
    clip(x_adv, x - eps, x + eps), then clip into the box. Both sets are boxes, so this
    is the Euclidean projection onto their intersection whenever it is not empty (x in
    the box); the box wins otherwise.
    """
    x_adv, x = np.asarray(x_adv, dtype=np.float64), np.asarray(x, dtype=np.float64)
    check_same_shape("x_adv", x_adv, "x", x)
    check_nonnegative("eps", eps)
    check_clip(clip)
    return _apply_clip(np.clip(x_adv, x - eps, x + eps), clip)


def pgd_step(x_adv, x, grad, eps, alpha, *, clip=(0.0, 1.0)):
    """One step of projected gradient ascent: project_linf(x_adv + alpha * sign(grad), x, eps).

    x_adv: the current adversarial inputs; x: the clean inputs; grad: the gradient of the
    loss at x_adv (all three the same shape); eps >= 0, the ball's radius; alpha >= 0, the
    step size; clip: (low, high) or None. Returns the next x_adv, the shape of x.
    """
    x_adv, grad = np.asarray(x_adv, dtype=np.float64), np.asarray(grad, dtype=np.float64)
    check_same_shape("grad", grad, "x_adv", x_adv)
    check_nonnegative("alpha", alpha)
    return project_linf(x_adv + alpha * np.sign(grad), x, eps, clip=clip)
