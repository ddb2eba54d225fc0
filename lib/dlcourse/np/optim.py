"""First-order optimizers as pure update functions (CS231n's optim.py with JAX's split of
state from settings).

Legend: P the parameters' shape, any shape (w: P, dw: P, and every buffer in state: P).

Every optimizer has the form

    w_new, state = optimizer(w, dw, state, *, lr=..., ...)

w: parameters, any shape, float64; dw: dL/dw, the same shape; state: None on the first
step, afterwards what the previous call returned. ``state`` is a dict that holds only the
optimizer's buffers (velocities, running averages, the step count), never its settings:
the hyperparameters are keyword arguments named, and defaulted, as in the matching
``torch.optim`` class, and the rules are torch's, operation for operation, so that the
same gradients give the same weights (tests/test_optim.py checks fifty steps to 1e-10).
Inputs are never modified.

    sgd           torch.optim.SGD(momentum=0)
    sgd_momentum  torch.optim.SGD(momentum=m)               heavy ball
    nesterov      torch.optim.SGD(momentum=m, nesterov=True)
    adagrad       torch.optim.Adagrad
    rmsprop       torch.optim.RMSprop
    adadelta      torch.optim.Adadelta
    adam          torch.optim.Adam(betas=(beta1, beta2))
"""

import numpy as np


def _start(w, dw, state, weight_decay: float):
    w = np.asarray(w, dtype=np.float64)
    dw = np.asarray(dw, dtype=np.float64)
    if dw.shape != w.shape:
        raise ValueError(f"dw must have the shape of w {w.shape}, got {dw.shape}")
    if state is not None and not isinstance(state, dict):
        raise ValueError("state must be None (first step) or the dict a previous step returned,"
                         f" got {type(state).__name__}")
    if weight_decay:
        dw = dw + weight_decay * w  # L2 penalty folded into the gradient, as torch does
    return w, dw, dict(state or {})


def sgd(w, dw, state=None, *, lr: float = 1e-3, weight_decay: float = 0.0):
    """Plain gradient descent: w <- w - lr * dw. The state stays empty."""
    w, dw, state = _start(w, dw, state, weight_decay)
    return w - lr * dw, state


def sgd_momentum(w, dw, state=None, *, lr: float = 1e-3, momentum: float, dampening: float = 0.0,
                 weight_decay: float = 0.0):
    """Heavy-ball momentum, torch's form: v <- momentum * v + (1 - dampening) * dw (v = dw on
    the first step), w <- w - lr * v. state: {"velocity"}.

    ``momentum`` has no default here: torch's default 0 would make this plain sgd.
    """
    w, dw, state = _start(w, dw, state, weight_decay)
    if "velocity" not in state:
        velocity = dw.copy()
    else:
        velocity = momentum * state["velocity"] + (1 - dampening) * dw
    return w - lr * velocity, {"velocity": velocity}


def nesterov(w, dw, state=None, *, lr: float = 1e-3, momentum: float, dampening: float = 0.0,
             weight_decay: float = 0.0):
    """Nesterov momentum as torch writes it: v as in sgd_momentum, then the step uses the
    look-ahead direction dw + momentum * v. state: {"velocity"}.
    Like torch, needs momentum > 0 and dampening = 0.
    """
    if momentum <= 0 or dampening != 0:
        raise ValueError(f"Nesterov momentum needs momentum > 0 and dampening = 0, got {momentum}, {dampening}")
    w, dw, state = _start(w, dw, state, weight_decay)
    velocity = dw.copy() if "velocity" not in state else momentum * state["velocity"] + dw
    return w - lr * (dw + momentum * velocity), {"velocity": velocity}


def adagrad(w, dw, state=None, *, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
            initial_accumulator_value: float = 0.0, eps: float = 1e-10):
    """Adagrad: G <- G + dw^2, w <- w - lr_t * dw / (sqrt(G) + eps), with
    lr_t = lr / (1 + (t - 1) * lr_decay). state: {"step", "sum"}."""
    w, dw, state = _start(w, dw, state, weight_decay)
    step = state.get("step", 0) + 1
    total = state.get("sum", np.full_like(w, initial_accumulator_value)) + dw * dw
    step_lr = lr / (1 + (step - 1) * lr_decay)
    return w - step_lr * dw / (np.sqrt(total) + eps), {"step": step, "sum": total}


def rmsprop(w, dw, state=None, *, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
            weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
    """RMSProp: s <- alpha * s + (1 - alpha) * dw^2, w <- w - lr * dw / (sqrt(s) + eps).

    As in torch, eps is added *after* the square root. ``centered`` divides by the
    standard deviation sqrt(s - g^2) instead, g the running mean of dw; ``momentum``
    keeps a velocity of the scaled steps. state: {"square_avg"} (+ "grad_avg", "velocity").
    """
    w, dw, state = _start(w, dw, state, weight_decay)
    square_avg = alpha * state.get("square_avg", np.zeros_like(w)) + (1 - alpha) * dw * dw
    new_state = {"square_avg": square_avg}
    if centered:
        grad_avg = alpha * state.get("grad_avg", np.zeros_like(w)) + (1 - alpha) * dw
        new_state["grad_avg"] = grad_avg
        denominator = np.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        denominator = np.sqrt(square_avg) + eps
    if momentum > 0:
        velocity = momentum * state.get("velocity", np.zeros_like(w)) + dw / denominator
        new_state["velocity"] = velocity
        return w - lr * velocity, new_state
    return w - lr * dw / denominator, new_state


def adadelta(w, dw, state=None, *, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
             weight_decay: float = 0.0):
    """Adadelta: s <- rho s + (1 - rho) dw^2; delta = sqrt(u + eps) / sqrt(s + eps) * dw;
    u <- rho u + (1 - rho) delta^2; w <- w - lr * delta. state: {"square_avg", "acc_delta"}."""
    w, dw, state = _start(w, dw, state, weight_decay)
    square_avg = rho * state.get("square_avg", np.zeros_like(w)) + (1 - rho) * dw * dw
    acc_delta = state.get("acc_delta", np.zeros_like(w))
    delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * dw
    acc_delta = rho * acc_delta + (1 - rho) * delta * delta
    return w - lr * delta, {"square_avg": square_avg, "acc_delta": acc_delta}


def adam(w, dw, state=None, *, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
         eps: float = 1e-8, weight_decay: float = 0.0):
    """Adam with bias correction (torch.optim.Adam with betas=(beta1, beta2)):
    m <- beta1 m + (1 - beta1) dw, v <- beta2 v + (1 - beta2) dw^2, and at step t
    w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
    state: {"step", "m", "v"}."""
    w, dw, state = _start(w, dw, state, weight_decay)
    step = state.get("step", 0) + 1
    m = beta1 * state.get("m", np.zeros_like(w)) + (1 - beta1) * dw
    v = beta2 * state.get("v", np.zeros_like(w)) + (1 - beta2) * dw * dw
    step_size = lr / (1 - beta1**step)
    denominator = np.sqrt(v) / np.sqrt(1 - beta2**step) + eps
    return w - step_size * m / denominator, {"step": step, "m": m, "v": v}


OPTIMIZERS = {
    "sgd": sgd, "sgd_momentum": sgd_momentum, "nesterov": nesterov, "adagrad": adagrad,
    "rmsprop": rmsprop, "adadelta": adadelta, "adam": adam,
}
