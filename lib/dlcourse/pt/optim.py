"""Torch twin of ``dlcourse.np.optim``: the same update functions in torch ops.

Legend: P the parameters' shape, any shape (w: P, dw: P, and every buffer in state: P).

    w_new, state = optimizer(w, dw, state, *, lr=..., ...)

w, dw: tensors of one shape on one device; state: None, then what the previous call
returned (a dict of tensors on w's device, plus an int step count). Same names, defaults
and rules as the NumPy reference and as ``torch.optim``; inputs are never modified.
"""

import torch


def _start(w, dw, state, weight_decay: float):
    w = torch.as_tensor(w)
    dw = torch.as_tensor(dw, dtype=w.dtype, device=w.device)
    if dw.shape != w.shape:
        raise ValueError(f"dw must have the shape of w {tuple(w.shape)}, got {tuple(dw.shape)}")
    if state is not None and not isinstance(state, dict):
        raise ValueError("state must be None (first step) or the dict a previous step returned,"
                         f" got {type(state).__name__}")
    if weight_decay:
        dw = dw + weight_decay * w
    return w, dw, dict(state or {})


def sgd(w, dw, state=None, *, lr: float = 1e-3, weight_decay: float = 0.0):
    """Torch twin of np.optim.sgd: w <- w - lr * dw."""
    w, dw, state = _start(w, dw, state, weight_decay)
    return w - lr * dw, state


def sgd_momentum(w, dw, state=None, *, lr: float = 1e-3, momentum: float, dampening: float = 0.0,
                 weight_decay: float = 0.0):
    """Torch twin of np.optim.sgd_momentum: v <- momentum v + (1 - dampening) dw, w <- w - lr v."""
    w, dw, state = _start(w, dw, state, weight_decay)
    if "velocity" not in state:
        velocity = dw.clone()
    else:
        velocity = momentum * state["velocity"] + (1 - dampening) * dw
    return w - lr * velocity, {"velocity": velocity}


def nesterov(w, dw, state=None, *, lr: float = 1e-3, momentum: float, dampening: float = 0.0,
             weight_decay: float = 0.0):
    """Torch twin of np.optim.nesterov: the step follows dw + momentum * v."""
    if momentum <= 0 or dampening != 0:
        raise ValueError(f"Nesterov momentum needs momentum > 0 and dampening = 0, got {momentum}, {dampening}")
    w, dw, state = _start(w, dw, state, weight_decay)
    velocity = dw.clone() if "velocity" not in state else momentum * state["velocity"] + dw
    return w - lr * (dw + momentum * velocity), {"velocity": velocity}


def adagrad(w, dw, state=None, *, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
            initial_accumulator_value: float = 0.0, eps: float = 1e-10):
    """Torch twin of np.optim.adagrad: G <- G + dw^2, w <- w - lr_t dw / (sqrt(G) + eps)."""
    w, dw, state = _start(w, dw, state, weight_decay)
    step = state.get("step", 0) + 1
    total = state.get("sum", torch.full_like(w, initial_accumulator_value)) + dw * dw
    step_lr = lr / (1 + (step - 1) * lr_decay)
    return w - step_lr * dw / (total.sqrt() + eps), {"step": step, "sum": total}


def rmsprop(w, dw, state=None, *, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
            weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
    """Torch twin of np.optim.rmsprop: w <- w - lr dw / (sqrt(s) + eps), eps outside the root."""
    w, dw, state = _start(w, dw, state, weight_decay)
    square_avg = alpha * state.get("square_avg", torch.zeros_like(w)) + (1 - alpha) * dw * dw
    new_state = {"square_avg": square_avg}
    if centered:
        grad_avg = alpha * state.get("grad_avg", torch.zeros_like(w)) + (1 - alpha) * dw
        new_state["grad_avg"] = grad_avg
        denominator = (square_avg - grad_avg * grad_avg).sqrt() + eps
    else:
        denominator = square_avg.sqrt() + eps
    if momentum > 0:
        velocity = momentum * state.get("velocity", torch.zeros_like(w)) + dw / denominator
        new_state["velocity"] = velocity
        return w - lr * velocity, new_state
    return w - lr * dw / denominator, new_state


def adadelta(w, dw, state=None, *, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
             weight_decay: float = 0.0):
    """Torch twin of np.optim.adadelta."""
    w, dw, state = _start(w, dw, state, weight_decay)
    square_avg = rho * state.get("square_avg", torch.zeros_like(w)) + (1 - rho) * dw * dw
    acc_delta = state.get("acc_delta", torch.zeros_like(w))
    delta = (acc_delta + eps).sqrt() / (square_avg + eps).sqrt() * dw
    acc_delta = rho * acc_delta + (1 - rho) * delta * delta
    return w - lr * delta, {"square_avg": square_avg, "acc_delta": acc_delta}


def adam(w, dw, state=None, *, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
         eps: float = 1e-8, weight_decay: float = 0.0):
    """Torch twin of np.optim.adam (bias-corrected)."""
    w, dw, state = _start(w, dw, state, weight_decay)
    step = state.get("step", 0) + 1
    m = beta1 * state.get("m", torch.zeros_like(w)) + (1 - beta1) * dw
    v = beta2 * state.get("v", torch.zeros_like(w)) + (1 - beta2) * dw * dw
    step_size = lr / (1 - beta1**step)
    denominator = v.sqrt() / (1 - beta2**step) ** 0.5 + eps
    return w - step_size * m / denominator, {"step": step, "m": m, "v": v}


OPTIMIZERS = {
    "sgd": sgd, "sgd_momentum": sgd_momentum, "nesterov": nesterov, "adagrad": adagrad,
    "rmsprop": rmsprop, "adadelta": adadelta, "adam": adam,
}
