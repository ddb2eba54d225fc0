"""Plausible wrong answers to the exercises of 02-gradient-descent, as whole answer cells
(see tests/test_known_mistakes.py). At least two per exercise."""

MISTAKES = {
    "ex1_stable_lr": {
        "one over lambda max": '''
def max_stable_lr(H):
    return 1.0 / np.linalg.eigvalsh(np.asarray(H, dtype=float)).max()
''',
        "largest diagonal entry": '''
def max_stable_lr(H):
    return 2.0 / np.max(np.diag(np.asarray(H, dtype=float)))
''',
        "smallest eigenvalue": '''
def max_stable_lr(H):
    return 2.0 / np.linalg.eigvalsh(np.asarray(H, dtype=float)).min()
''',
    },
    "ex2_newton": {
        "multiplies by H instead of solving": '''
def newton_step(w, grad, H):
    return np.asarray(w, dtype=float) - np.asarray(H, dtype=float) @ np.asarray(grad, dtype=float)
''',
        "diagonal Hessian only": '''
def newton_step(w, grad, H):
    return np.asarray(w, dtype=float) - np.asarray(grad, dtype=float) / np.diag(np.asarray(H, dtype=float))
''',
        "steps uphill": '''
def newton_step(w, grad, H):
    return np.asarray(w, dtype=float) + np.linalg.solve(np.asarray(H, dtype=float), np.asarray(grad, dtype=float))
''',
    },
    "ex3_minibatch": {
        "sum instead of mean": '''
def minibatch_gradient(w, X, y, batch):
    Xb, yb = np.asarray(X, dtype=float)[batch], np.asarray(y, dtype=float)[batch]
    return Xb.T @ (1 / (1 + np.exp(-(Xb @ w))) - yb)
''',
        "sign flipped": '''
def minibatch_gradient(w, X, y, batch):
    Xb, yb = np.asarray(X, dtype=float)[batch], np.asarray(y, dtype=float)[batch]
    return Xb.T @ (yb - 1 / (1 + np.exp(-(Xb @ w)))) / len(yb)
''',
        "batch ignored": '''
def minibatch_gradient(w, X, y, batch):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    return X.T @ (1 / (1 + np.exp(-(X @ w))) - y) / len(y)
''',
    },
    "ex4_momentum": {
        "momentum applied to the weights": '''
def sgd_momentum(w, dw, state=None, *, lr=1e-3, momentum):
    w, dw = np.asarray(w, dtype=float), np.asarray(dw, dtype=float)
    velocity = dw if state is None else momentum * w + dw
    return w - lr * velocity, {"velocity": velocity}
''',
        "state updated in place": '''
def sgd_momentum(w, dw, state=None, *, lr=1e-3, momentum):
    dw = np.asarray(dw, dtype=float)
    if state is None:
        state = {"velocity": dw.copy()}
    else:
        state["velocity"] *= momentum
        state["velocity"] += dw
    return np.asarray(w, dtype=float) - lr * state["velocity"], state
''',
        "velocity never kept": '''
def sgd_momentum(w, dw, state=None, *, lr=1e-3, momentum):
    velocity = np.asarray(dw, dtype=float)
    return np.asarray(w, dtype=float) - lr * velocity, {"velocity": velocity}
''',
        "velocity started at zero and damped": '''
def sgd_momentum(w, dw, state=None, *, lr=1e-3, momentum):
    previous = np.zeros_like(np.asarray(dw, dtype=float)) if state is None else state["velocity"]
    velocity = momentum * previous + (1 - momentum) * np.asarray(dw, dtype=float)
    return np.asarray(w, dtype=float) - lr * velocity, {"velocity": velocity}
''',
    },
    "ex5_rmsprop": {
        "eps inside the square root": '''
def rmsprop(w, dw, state=None, *, lr=1e-2, alpha=0.99, eps=1e-8):
    dw = np.asarray(dw, dtype=float)
    s = (0.0 if state is None else alpha * state["square_avg"]) + (1 - alpha) * dw * dw
    return np.asarray(w, dtype=float) - lr * dw / np.sqrt(s + eps), {"square_avg": s}
''',
        "alpha on the new gradient": '''
def rmsprop(w, dw, state=None, *, lr=1e-2, alpha=0.99, eps=1e-8):
    dw = np.asarray(dw, dtype=float)
    s = (0.0 if state is None else (1 - alpha) * state["square_avg"]) + alpha * dw * dw
    return np.asarray(w, dtype=float) - lr * dw / (np.sqrt(s) + eps), {"square_avg": s}
''',
        "average started at the first gradient": '''
def rmsprop(w, dw, state=None, *, lr=1e-2, alpha=0.99, eps=1e-8):
    dw = np.asarray(dw, dtype=float)
    s = dw * dw if state is None else alpha * state["square_avg"] + (1 - alpha) * dw * dw
    return np.asarray(w, dtype=float) - lr * dw / (np.sqrt(s) + eps), {"square_avg": s}
''',
    },
    "ex6_adam": {
        'delegates to the library': """
def adam(w, dw, state=None, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return np_optim.adam(w, dw, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
""",
        "no bias correction": '''
def adam(w, dw, state=None, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    dw = np.asarray(dw, dtype=float)
    state = state or {"m": np.zeros_like(dw), "v": np.zeros_like(dw)}
    m = beta1 * state["m"] + (1 - beta1) * dw
    v = beta2 * state["v"] + (1 - beta2) * dw * dw
    return np.asarray(w, dtype=float) - lr * m / (np.sqrt(v) + eps), {"m": m, "v": v}
''',
        "step count never advances": '''
def adam(w, dw, state=None, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    dw = np.asarray(dw, dtype=float)
    state = state or {"m": np.zeros_like(dw), "v": np.zeros_like(dw)}
    m = beta1 * state["m"] + (1 - beta1) * dw
    v = beta2 * state["v"] + (1 - beta2) * dw * dw
    m_hat, v_hat = m / (1 - beta1), v / (1 - beta2)
    return np.asarray(w, dtype=float) - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v}
''',
        "eps inside the square root": '''
def adam(w, dw, state=None, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    dw = np.asarray(dw, dtype=float)
    state = state or {"step": 0, "m": np.zeros_like(dw), "v": np.zeros_like(dw)}
    step = state["step"] + 1
    m = beta1 * state["m"] + (1 - beta1) * dw
    v = beta2 * state["v"] + (1 - beta2) * dw * dw
    m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
    return np.asarray(w, dtype=float) - lr * m_hat / np.sqrt(v_hat + eps), {"step": step, "m": m, "v": v}
''',
    },
}
