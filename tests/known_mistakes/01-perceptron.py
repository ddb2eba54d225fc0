"""Plausible wrong answers to the exercises of 01-perceptron, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole cell.

tests/test_known_mistakes.py runs each in place of the solution, with the exercise's
visible and hidden tests, and requires that it loses points. Keep at least two per exercise.
"""

from known_mistakes.mistakes import edits_of, hidden_only, visible, whole

edit = edits_of("01-perceptron")

MISTAKES = {
    "ex1_predict": {
        "bias column ignored": visible(edit("ex1_predict", (
            "np.asarray(X, dtype=float) @ np.asarray(W, dtype=float) > 0",
            "np.asarray(X, dtype=float)[:, 1:] @ np.asarray(W, dtype=float)[1:] > 0")),
            hint="use all of W and all of X"),
        "non-strict threshold": visible(edit("ex1_predict", ("float) > 0)", "float) >= 0)")),
            hint="use a strict > 0"),
        "sign output in -1/+1": visible(edit("ex1_predict", (
            "(np.asarray(X, dtype=float) @ np.asarray(W, dtype=float) > 0)",
            "np.sign(np.asarray(X, dtype=float) @ np.asarray(W, dtype=float))")),
            hint="predictions must be 0 or 1"),
    },
    "ex2_update": {
        "update sign flipped": visible(edit("ex2_update", ("* (t - y)", "* (y - t)")),
            hint="check the sign of t - y"),
        "eta ignored": visible(edit("ex2_update", ("W + eta * x * (t - y)", "W + x * (t - y)")),
            hint="scale by eta"),
        "y predicted after the update": visible(edit("ex2_update", (
            "    return W + eta * x * (t - y), y",
            ("    W_new = W + eta * x * (t - y)\n"
             "    return W_new, int(W_new @ x > 0)"))),
            hint="return the prediction made before updating"),
        # the caller's W itself, updated
        "W modified in place": visible(edit("ex2_update",
                                    ("    W = np.asarray(W, dtype=float)\n", ""),
                                    ("    return W + eta * x * (t - y), y",
                                     ("    W += eta * x * (t - y)\n"
                                      "    return W, y"))),
            hint="must not change W in place"),
        # the same slip after np.asarray(W, dtype=float), which returns the caller's float64 W
        # itself: the grader must pass arrays whose asarray is a no-op, as in a notebook
        "W modified in place through np.asarray": visible(edit("ex2_update",
                                                       ("    return W + eta * x * (t - y), y",
                                                        ("    W += eta * x * (t - y)\n"
                                                         "    return W, y"))),
            hint="must not change W in place"),
        # right W_new, but the caller's W changed too: only the check that W is left alone sees it,
        # and only if the grader copies the change back to the test's W
        "W updated in place, a copy returned": visible(edit("ex2_update", ("    return W + eta * x * (t - y), y",
                                                                   ("    W += eta * x * (t - y)\n"
                                                                    "    return W.copy(), y"))),
            hint="must not change W in place"),
    },
    "ex3_train": {
        "the library's reference instead of an answer": hidden_only(whole("""
perceptron_train = np_perceptron.perceptron_train
"""),
            why="delegation to the library's reference: in the notebook it passes the visible checks; grading's "
                "shortcut check and the sealed reference take every point (the doctor names it)"),
        "stops before a clean epoch": visible(edit("ex3_train", (
            "if errors == 0:", 'if errors == 0 or epoch >= 2:  # "two epochs are always enough"')),
            hint="the last one is the clean epoch"),
        "trace keeps only the updates": visible(edit("ex3_train", (
            "            trace.append(np_perceptron.PerceptronStep(epoch, x, W, y, int(target), W_new))",
            ("            if y != target:\n"
             "                trace.append(np_perceptron.PerceptronStep(epoch, x, W, y, int(target), W_new))"))),
            hint="one row per presentation"),
        "stops at the first correct sample": visible(edit("ex3_train", (
            "            W = W_new\n",
            ("            W = W_new\n"
             "            if y == target:\n"
             "                return W, trace\n"))),
            hint="one row per presentation"),
        "epochs counted from 0": visible(edit("ex3_train", ("range(1, max_epochs + 1)", "range(max_epochs)")),
            hint="count epochs from 1"),
    },
    "ex4_gradient": {
        "gradient sign flipped": visible(edit("ex4_gradient", ("return -X.T @ residual", "return X.T @ residual")),
            hint="check the sign"),
        "mean instead of sum": visible(edit("ex4_gradient", (
            "return -X.T @ residual", "return -X.T @ residual / len(X)")),
            hint="sum over the samples, not average"),
        "thresholded output": visible(edit("ex4_gradient", (
            "- X @ np.asarray(W, dtype=float)", "- (X @ np.asarray(W, dtype=float) > 0)")),
            hint="use the linear output X @ W"),
        "the 2 of the square kept (the 1/2 of E forgotten)": visible(edit("ex4_gradient", (
            "return -X.T @ residual", "return -2 * X.T @ residual")),
            hint="the 1/2 in E meets the 2 of the square"),
        "the transpose forgotten (X @ residual)": visible(edit("ex4_gradient", (
            "return -X.T @ residual", "return -X @ residual")),
            hint="mind which axis of X a product contracts"),
    },
    "ex5_margin": {
        "bias inside the norm": visible(edit("ex5_margin", ("np.linalg.norm(W[1:])", "np.linalg.norm(W)")),
            hint="divide by the norm of W[1:] only"),
        "labels ignored": visible(edit("ex5_margin", ("np.min(sign * distance)", "np.min(np.abs(distance))")),
            hint="multiply by s = 2t - 1"),
        "not normalised": visible(edit("ex5_margin", (" / np.linalg.norm(W[1:])", "")),
            hint="divide by the norm of W[1:]"),
        "largest distance instead of the smallest": visible(edit("ex5_margin", (
            "np.min(sign * distance)", "np.max(sign * distance)")),
            hint="the margin is the smallest signed distance"),
    },
    "ex6_fit": {
        "summed gradient, not divided by the batch's size": visible(edit("ex6_fit", (
            "W = W - eta * gradient(W, X[batch], t[batch]) / len(batch)",
            "W = W - eta * gradient(W, X[batch], t[batch])")),
            hint="divided by the number of rows IN THAT BATCH"),
        # right for every full batch: only the short last one is stepped too little
        "divided by batch_size, also for the short last batch": visible(edit("ex6_fit", (
            "gradient(W, X[batch], t[batch]) / len(batch)", "gradient(W, X[batch], t[batch]) / batch_size")),
            hint="divided by the number of rows IN THAT BATCH"),
        "last short batch dropped": visible(edit("ex6_fit", ("range(0, N, batch_size)",
                                                             "range(0, N - batch_size + 1, batch_size)")),
                                            hint="the last (short) batch included"),
        "shuffled once, before the first epoch": visible(edit("ex6_fit", (
            "    for epoch in range(max_epochs):\n        order = rng.permutation(N)\n",
            "    order = rng.permutation(N)\n    for epoch in range(max_epochs):\n")),
                                                         hint="draw a new permutation from rng every epoch"),
        "stopping rule on the absolute change of E": visible(edit("ex6_fit", (
            "if losses[-2] - losses[-1] < tol * losses[-2]:", "if losses[-2] - losses[-1] < tol:")),
            hint="a relative test"),
        "never stops before max_epochs": visible(edit("ex6_fit", (
            "        if losses[-2] - losses[-1] < tol * losses[-2]:  # too little progress, or E rose\n"
            "            break\n", "")),
            hint="stop after the FIRST epoch"),
        # stops when E rises, but hands back the weights of the bad epoch
        "the last weights returned, not the best": visible(edit("ex6_fit", ("return best_W, np.array(losses)",
                                                                            "return W, np.array(losses)")),
                                                           hint="return the weights with the lowest E"),
        "stops only on small progress, not when E rises": visible(edit("ex6_fit", (
            "if losses[-2] - losses[-1] < tol * losses[-2]:", "if 0 <= losses[-2] - losses[-1] < tol * losses[-2]:")),
            hint="stop after the FIRST epoch"),
        "E on the last batch, not the whole set": visible(edit("ex6_fit", (
            "        losses.append(0.5 * np.sum((t - X @ W) ** 2))\n",
            "        losses.append(0.5 * np.sum((t[batch] - X[batch] @ W) ** 2))\n")),
            hint="over ALL rows"),
        "W0 trained in place": visible(edit("ex6_fit", ("W = np.array(W0, dtype=float)", "W = W0"),
                                            ("W = W - eta * gradient(W, X[batch], t[batch]) / len(batch)",
                                             "W -= eta * gradient(W, X[batch], t[batch]) / len(batch)")),
                                       hint="do not change W0 in place"),
    },
}
