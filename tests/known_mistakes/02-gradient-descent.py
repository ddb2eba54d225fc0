"""Plausible wrong answers to the exercises of 02-gradient-descent, each an edit of the
solution's answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole
cell (see tests/test_known_mistakes.py). At least two per exercise."""

from known_mistakes.mistakes import edits_of, whole

edit = edits_of("02-gradient-descent")

MISTAKES = {
    "ex1_stable_lr": {
        "one over lambda max": edit("ex1_stable_lr", ("return 2.0 /", "return 1.0 /")),
        "largest diagonal entry": edit("ex1_stable_lr", (
            "np.linalg.eigvalsh(np.asarray(H, dtype=float)).max()", "np.max(np.diag(np.asarray(H, dtype=float)))")),
        "smallest eigenvalue": edit("ex1_stable_lr", (").max()", ").min()")),
    },
    "ex2_newton": {
        "multiplies by H instead of solving": edit("ex2_newton", (
            "np.linalg.solve(np.asarray(H, dtype=float), np.asarray(grad, dtype=float))",
            "np.asarray(H, dtype=float) @ np.asarray(grad, dtype=float)")),
        "diagonal Hessian only": edit("ex2_newton", (
            "np.linalg.solve(np.asarray(H, dtype=float), np.asarray(grad, dtype=float))",
            "np.asarray(grad, dtype=float) / np.diag(np.asarray(H, dtype=float))")),
        "steps uphill": edit("ex2_newton", ("dtype=float) - np.linalg.solve", "dtype=float) + np.linalg.solve")),
    },
    "ex3_minibatch": {
        "sum instead of mean": edit("ex3_minibatch", ("(p - yb) / len(yb)", "(p - yb)")),
        "sign flipped": edit("ex3_minibatch", ("(p - yb)", "(yb - p)")),
        "batch ignored": edit("ex3_minibatch",
                              ("np.asarray(X, dtype=float)[batch]", "np.asarray(X, dtype=float)"),
                              ("np.asarray(y, dtype=float)[batch]", "np.asarray(y, dtype=float)")),
    },
    "ex4_momentum": {
        "momentum applied to the weights": edit("ex4_momentum", (
            'momentum * state["velocity"] + dw', "momentum * np.asarray(w, dtype=float) + dw")),
        "state updated in place": edit("ex4_momentum", (
            ('    velocity = dw.copy() if state is None else momentum * state["velocity"] + dw\n'
             '    return np.asarray(w, dtype=float) - lr * velocity, {"velocity": velocity}'),
            ('    if state is None:\n'
             '        state = {"velocity": dw.copy()}\n'
             '    else:\n'
             '        state["velocity"] *= momentum\n'
             '        state["velocity"] += dw\n'
             '    return np.asarray(w, dtype=float) - lr * state["velocity"], state'))),
        # right steps, but the caller's w moves too: only the check that w is left alone sees it
        "w updated in place, a copy returned": edit("ex4_momentum", (
            '    return np.asarray(w, dtype=float) - lr * velocity, {"velocity": velocity}',
            ('    w = np.asarray(w, dtype=float)\n'
             '    w -= lr * velocity\n'
             '    return w.copy(), {"velocity": velocity}'))),
        # the caller's state dict gets the new velocity: only the check that the state passed in
        # is left alone sees it, and only if the grader copies the dict's new entry back
        "state dict given the new velocity": edit("ex4_momentum", (
            ('    velocity = dw.copy() if state is None else momentum * state["velocity"] + dw\n'
             '    return np.asarray(w, dtype=float) - lr * velocity, {"velocity": velocity}'),
            ('    state = {} if state is None else state\n'
             '    state["velocity"] = dw.copy() if "velocity" not in state else momentum * state["velocity"] + dw\n'
             '    return np.asarray(w, dtype=float) - lr * state["velocity"], state'))),
        "velocity never kept": edit("ex4_momentum", (
            'velocity = dw.copy() if state is None else momentum * state["velocity"] + dw', "velocity = dw.copy()")),
        "velocity started at zero and damped": edit("ex4_momentum", (
            'dw.copy() if state is None else momentum * state["velocity"] + dw',
            '(1 - momentum) * dw if state is None else momentum * state["velocity"] + (1 - momentum) * dw')),
    },
    "ex5_rmsprop": {
        "eps inside the square root": edit("ex5_rmsprop", ("(np.sqrt(square_avg) + eps)", "np.sqrt(square_avg + eps)")),
        "alpha on the new gradient": edit("ex5_rmsprop", (
            '(0.0 if state is None else alpha * state["square_avg"]) + (1 - alpha) * dw * dw',
            '(0.0 if state is None else (1 - alpha) * state["square_avg"]) + alpha * dw * dw')),
        "average started at the first gradient": edit("ex5_rmsprop", (
            '(0.0 if state is None else alpha * state["square_avg"]) + (1 - alpha) * dw * dw',
            'dw * dw if state is None else alpha * state["square_avg"] + (1 - alpha) * dw * dw')),
    },
    "ex6_adam": {
        'delegates to the library': whole("""
def adam(w, dw, state=None, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return np_optim.adam(w, dw, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
"""),
        "no bias correction": edit("ex6_adam",
                                   ("m_hat = m / (1 - beta1**step)", "m_hat = m"),
                                   ("v_hat = v / (1 - beta2**step)", "v_hat = v")),
        "step count never advances": edit("ex6_adam", ('{"step": step,', '{"step": state["step"],')),
        "eps inside the square root": edit("ex6_adam", ("(np.sqrt(v_hat) + eps)", "np.sqrt(v_hat + eps)")),
    },
}
