"""Plausible wrong answers to the exercises of 02-gradient-descent, each an edit of the
solution's answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole
cell (see tests/test_known_mistakes.py). At least two per exercise, each tagged with the
words its failing visible check prints (``visible``) or the reason no visible check sees it
(``hidden_only``)."""

from known_mistakes.mistakes import edits_of, hidden_only, visible, whole

edit = edits_of("02-gradient-descent")

MISTAKES = {
    "ex1_stable_lr": {
        "one over lambda max": visible(edit("ex1_stable_lr", ("return 2.0 /", "return 1.0 /")),
                                       hint="2 divided by the LARGEST eigenvalue"),
        "largest diagonal entry": visible(edit("ex1_stable_lr", (
            "np.linalg.eigvalsh(np.asarray(H, dtype=float)).max()", "np.max(np.diag(np.asarray(H, dtype=float)))")),
            hint="the eigenvalues of a rotated matrix are not its diagonal entries"),
        "smallest eigenvalue": visible(edit("ex1_stable_lr", (").max()", ").min()")),
                                       hint="LARGEST eigenvalue of H (not the smallest"),
        "Frobenius norm of H": visible(edit("ex1_stable_lr", (
            "np.linalg.eigvalsh(np.asarray(H, dtype=float)).max()", "np.linalg.norm(np.asarray(H, dtype=float))")),
            hint="not a norm of the whole matrix such as the Frobenius norm"),
        # eigvalsh sorts ascending: index 1 is the largest of two, not of three or more (nor of one)
        "the second eigenvalue, the largest only for 2 x 2": visible(edit("ex1_stable_lr", (").max()", ")[1]")),
                                                                     hint="take the largest of all D eigenvalues"),
        "every eigenvalue, no maximum": visible(edit("ex1_stable_lr", (").max()", ")")),
                                                hint="2 divided by the LARGEST eigenvalue"),
    },
    "ex2_newton": {
        "multiplies by H instead of solving": visible(edit("ex2_newton", (
            "np.linalg.solve(np.asarray(hess(w), dtype=float), g)", "np.asarray(hess(w), dtype=float) @ g")),
            hint="the first step lands on the minimum"),
        "diagonal Hessian only": visible(edit("ex2_newton", (
            "np.linalg.solve(np.asarray(hess(w), dtype=float), g)", "g / np.diag(np.asarray(hess(w), dtype=float))")),
            hint="use the whole matrix H, not its diagonal"),
        "steps uphill": visible(edit("ex2_newton", ("w = w - step", "w = w + step")),
                                hint="the first step lands on the minimum"),
        # right on every quadratic (its Hessian is the same everywhere): only Rosenbrock shows it
        "Hessian evaluated once, at w0": visible(edit("ex2_newton",
                                                      ("    path = [w.copy()]\n",
                                                       "    path = [w.copy()]\n"
                                                       "    H0 = np.asarray(hess(w), dtype=float)\n"),
                                                      ("np.linalg.solve(np.asarray(hess(w), dtype=float), g)",
                                                       "np.linalg.solve(H0, g)")),
                                                 hint="evaluate the Hessian at the CURRENT point"),
        "no stopping rule: always max_steps steps": visible(edit("ex2_newton", (
            "        if np.linalg.norm(g) < tol:\n            break\n", "")), hint="the loop must stop there"),
        # the quadratics stop right (the step lands where the gradient is 0): only a stationary start shows it
        "gradient tested after stepping": visible(edit("ex2_newton",
                                                       ("        if np.linalg.norm(g) < tol:\n            break\n", ""),
                                                       ("        path.append(w.copy())\n",
                                                        "        path.append(w.copy())\n"
                                                        "        if np.linalg.norm(grad(w)) < tol:\n"
                                                        "            break\n")),
                                                  hint="test the gradient before stepping"),
        "max_steps ignored": visible(edit("ex2_newton", ("    for _ in range(max_steps):\n", "    while True:\n")),
                                     hint="take at most max_steps steps"),
        "start left out of the path": visible(edit("ex2_newton", ("    path = [w.copy()]\n", "    path = []\n")),
                                              hint="the path holds w0"),
        "w0 changed in place": visible(edit("ex2_newton",
                                            ("w = np.array(w0, dtype=float)", "w = np.asarray(w0, dtype=float)"),
                                            ("w = w - step", "w -= step")),
                                       hint="do not change w0 in place"),
    },
    "ex3_minibatch": {
        "sum instead of mean": visible(edit("ex3_minibatch", ("(p - yb) / len(yb)", "(p - yb)")),
                                       hint="divide by the batch size"),
        "sign flipped": visible(edit("ex3_minibatch", ("(p - yb)", "(yb - p)")), hint="take p - y (not y - p)"),
        "batch ignored": visible(edit("ex3_minibatch",
                                      ("np.asarray(X, dtype=float)[batch]", "np.asarray(X, dtype=float)"),
                                      ("np.asarray(y, dtype=float)[batch]", "np.asarray(y, dtype=float)")),
                                 hint="use only the rows in `batch`"),
        "divided by N, not the batch size": visible(edit("ex3_minibatch", ("/ len(yb)", "/ len(X)")),
                                                    hint="divide by the batch size"),
        # p = sigmoid(-z): the same 0.5 at w = 0, where the first visible check evaluates it
        "sigmoid of -z": visible(edit("ex3_minibatch", ("np.exp(-(Xb", "np.exp((Xb")),
                                 hint="mind the minus sign inside exp"),
        "no sigmoid (the linear-regression gradient)": visible(edit("ex3_minibatch", (
            "p = 1.0 / (1.0 + np.exp(-(Xb @ np.asarray(w, dtype=float))))", "p = Xb @ np.asarray(w, dtype=float)")),
            hint="p = sigmoid(X_B @ w)"),
        # right values while the batch has as many rows as X has columns (the first visible check)
        "X_B instead of X_B.T": visible(edit("ex3_minibatch", ("return Xb.T @ (p - yb)", "return Xb @ (p - yb)")),
                                        hint="multiply by X_B.T (not X_B)"),
        "repeated indices counted once": visible(edit("ex3_minibatch",
                                                      ("np.asarray(X, dtype=float)[batch]",
                                                       "np.asarray(X, dtype=float)[np.unique(batch)]"),
                                                      ("np.asarray(y, dtype=float)[batch]",
                                                       "np.asarray(y, dtype=float)[np.unique(batch)]")),
                                                 hint="a repeated index counts each time it appears"),
    },
    "ex4_momentum": {
        "momentum applied to the weights": visible(edit("ex4_momentum", (
            'momentum * state["velocity"] + dw', "momentum * np.asarray(w, dtype=float) + dw")),
            hint="the momentum acts on the velocity, not on w"),
        "state updated in place": visible(edit("ex4_momentum", (
            ('    velocity = dw.copy() if state is None else momentum * state["velocity"] + dw\n'
             '    return np.asarray(w, dtype=float) - lr * velocity, {"velocity": velocity}'),
            ('    if state is None:\n'
             '        state = {"velocity": dw.copy()}\n'
             '    else:\n'
             '        state["velocity"] *= momentum\n'
             '        state["velocity"] += dw\n'
             '    return np.asarray(w, dtype=float) - lr * state["velocity"], state'))),
            hint="the state passed in must not change in place"),
        # right steps, but the caller's w moves too: only the check that w is left alone sees it
        "w updated in place, a copy returned": visible(edit("ex4_momentum", (
            '    return np.asarray(w, dtype=float) - lr * velocity, {"velocity": velocity}',
            ('    w = np.asarray(w, dtype=float)\n'
             '    w -= lr * velocity\n'
             '    return w.copy(), {"velocity": velocity}'))),
            hint="do not modify w in place"),
        # the caller's state dict gets the new velocity: only the check that the state passed in
        # is left alone sees it, and only if the grader copies the dict's new entry back
        "state dict given the new velocity": visible(edit("ex4_momentum", (
            ('    velocity = dw.copy() if state is None else momentum * state["velocity"] + dw\n'
             '    return np.asarray(w, dtype=float) - lr * velocity, {"velocity": velocity}'),
            ('    state = {} if state is None else state\n'
             '    state["velocity"] = dw.copy() if "velocity" not in state else momentum * state["velocity"] + dw\n'
             '    return np.asarray(w, dtype=float) - lr * state["velocity"], state'))),
            hint="the state passed in must not change in place"),
        "velocity never kept": visible(edit("ex4_momentum", (
            'velocity = dw.copy() if state is None else momentum * state["velocity"] + dw', "velocity = dw.copy()")),
            hint="v = momentum * v + dw"),
        "velocity started at zero and damped": visible(edit("ex4_momentum", (
            'dw.copy() if state is None else momentum * state["velocity"] + dw',
            '(1 - momentum) * dw if state is None else momentum * state["velocity"] + (1 - momentum) * dw')),
            hint="on the first step the velocity is the gradient itself"),
        # the first step is right (v = dw): only a second step shows the damping
        "gradient damped by 1 - momentum after the first step": visible(edit("ex4_momentum", (
            'momentum * state["velocity"] + dw', 'momentum * state["velocity"] + (1 - momentum) * dw')),
            hint="v = momentum * v + dw"),
        "steps uphill": visible(edit("ex4_momentum", ("dtype=float) - lr * velocity", "dtype=float) + lr * velocity")),
                                hint="w - lr * dw"),
    },
    "ex5_rmsprop": {
        "eps inside the square root": visible(edit("ex5_rmsprop", (
            "(np.sqrt(square_avg) + eps)", "np.sqrt(square_avg + eps)")), hint="eps goes outside the square root"),
        "eps left out": visible(edit("ex5_rmsprop", ("(np.sqrt(square_avg) + eps)", "np.sqrt(square_avg)")),
                                hint="sqrt(s) + eps"),
        "alpha on the new gradient": visible(edit("ex5_rmsprop", (
            '(0.0 if state is None else alpha * state["square_avg"]) + (1 - alpha) * dw * dw',
            '(0.0 if state is None else (1 - alpha) * state["square_avg"]) + alpha * dw * dw')),
            hint="s = (1 - alpha) * dw**2 = 0.04 on the first step"),
        "average started at the first gradient": visible(edit("ex5_rmsprop", (
            '(0.0 if state is None else alpha * state["square_avg"]) + (1 - alpha) * dw * dw',
            'dw * dw if state is None else alpha * state["square_avg"] + (1 - alpha) * dw * dw')),
            hint="s starts at 0"),
        # the first step is right: only a second step shows that the old average is dropped
        "average forgets the past": visible(edit("ex5_rmsprop", (
            '(0.0 if state is None else alpha * state["square_avg"]) + ', '')),
            hint="the average carries over"),
        "bias-corrected like Adam": visible(edit("ex5_rmsprop", (
            '    return np.asarray(w, dtype=float) - lr * dw / (np.sqrt(square_avg) + eps), {"square_avg": square_avg}',
            ('    t = 1 if state is None else state["t"] + 1\n'
             '    corrected = square_avg / (1 - alpha**t)\n'
             '    return np.asarray(w, dtype=float) - lr * dw / (np.sqrt(corrected) + eps), '
             '{"square_avg": square_avg, "t": t}'))),
            hint="torch's RMSprop has no bias correction"),
        "w updated in place, a copy returned": visible(edit("ex5_rmsprop", (
            '    return np.asarray(w, dtype=float) - lr * dw / (np.sqrt(square_avg) + eps), {"square_avg": square_avg}',
            ('    w = np.asarray(w, dtype=float)\n'
             '    w -= lr * dw / (np.sqrt(square_avg) + eps)\n'
             '    return w.copy(), {"square_avg": square_avg}'))),
            hint="do not modify w in place"),
    },
    "ex6_adam": {
        'delegates to the library': hidden_only(whole("""
def adam(w, dw, state=None, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return np_optim.adam(w, dw, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
"""), why="delegation to the library's reference: the shortcut check and the sealed reference stop it, "
          "whatever the numbers"),
        "no bias correction": visible(edit("ex6_adam",
                                           ("m_hat = m / (1 - beta1**step)", "m_hat = m"),
                                           ("v_hat = v / (1 - beta2**step)", "v_hat = v")),
                                      hint="divide m by 1 - beta1**t and v by 1 - beta2**t"),
        "step count never advances": visible(edit("ex6_adam", ('{"step": step,', '{"step": state["step"],')),
                                             hint="t must count the steps"),
        "eps inside the square root": visible(edit("ex6_adam", ("(np.sqrt(v_hat) + eps)", "np.sqrt(v_hat + eps)")),
                                              hint="eps goes outside the square root"),
        # exact for a constant gradient (the first visible checks): only a change of gradient shows it
        "moments started at the first gradient, no correction": visible(edit(
            "ex6_adam",
            ('m = beta1 * state["m"] + (1 - beta1) * dw',
             'm = dw if step == 1 else beta1 * state["m"] + (1 - beta1) * dw'),
            ('v = beta2 * state["v"] + (1 - beta2) * dw * dw',
             'v = dw * dw if step == 1 else beta2 * state["v"] + (1 - beta2) * dw * dw'),
            ("m_hat = m / (1 - beta1**step)", "m_hat = m"),
            ("v_hat = v / (1 - beta2**step)", "v_hat = v")),
            hint="m and v start at 0 and are averaged, then corrected"),
        "t counted from 0 in the correction": visible(edit("ex6_adam",
                                                           ('step = state["step"] + 1', 'step = state["step"]'),
                                                           ('{"step": step,', '{"step": step + 1,')),
                                                      hint="with t = 1"),
        "m and v updated in place": visible(edit("ex6_adam",
                                                 ('m = beta1 * state["m"] + (1 - beta1) * dw',
                                                  'm = state["m"]\n    m *= beta1\n    m += (1 - beta1) * dw'),
                                                 ('v = beta2 * state["v"] + (1 - beta2) * dw * dw',
                                                  'v = state["v"]\n    v *= beta2\n    v += (1 - beta2) * dw * dw')),
                                            hint="the state passed in must not change in place"),
    },
    "ex7_train": {
        "shuffled once, before the first epoch": visible(edit("ex7_train",
                                                              ("    state = None\n",
                                                               "    state = None\n    order = rng.permutation(N)\n"),
                                                              ("        order = rng.permutation(N)\n", "")),
                                                         hint="reshuffle every epoch"),
        "never shuffled": visible(edit("ex7_train", ("order = rng.permutation(N)", "order = np.arange(N)")),
                                  hint="reshuffle every epoch"),
        "last short batch dropped": visible(edit("ex7_train", ("range(0, N, batch_size)",
                                                               "range(0, N - batch_size + 1, batch_size)")),
                                            hint="the last one shorter"),
        "optimizer state reset every step": visible(edit("ex7_train", (
            "w, state = optimizer(w, gradient(w, X, y, batch), state, **settings)",
            "w, state = optimizer(w, gradient(w, X, y, batch), None, **settings)")),
            hint="pass the state the previous step returned"),
        "loss summed, not averaged": visible(edit("ex7_train", ("float(np.mean(np.logaddexp",
                                                                "float(np.sum(np.logaddexp")),
                                             hint="the MEAN cross-entropy"),
        "shuffles from np.random, not the rng given": visible(edit("ex7_train", ("order = rng.permutation(N)",
                                                                                "order = np.random.permutation(N)")),
                                                               hint="draw the shuffles from the rng passed in"),
        "batches drawn with replacement": visible(edit("ex7_train", (
            "batch = order[start:start + batch_size]",
            "batch = rng.choice(N, size=len(order[start:start + batch_size]), replace=True)")),
            hint="no drawing with replacement"),
        "the loss recorded after every step": visible(edit("ex7_train", (
            "            w, state = optimizer(w, gradient(w, X, y, batch), state, **settings)\n"
            "        losses.append(mean_loss(w))\n",
            "            w, state = optimizer(w, gradient(w, X, y, batch), state, **settings)\n"
            "            losses.append(mean_loss(w))\n")),
            hint="one loss before training and one after each epoch"),
        "w0 trained in place": visible(edit("ex7_train", ("w = np.array(w0, dtype=float)", "w = w0"), (
            "            w, state = optimizer(w, gradient(w, X, y, batch), state, **settings)\n",
            "            step, state = optimizer(w, gradient(w, X, y, batch), state, **settings)\n"
            "            w[:] = step\n")),
            hint="do not change w0 in place"),
    },
}
