"""Plausible wrong answers to the exercises of 01-perceptron, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole cell.

tests/test_known_mistakes.py runs each in place of the solution, with the exercise's
visible and hidden tests, and requires that it loses points. Keep at least two per exercise.
"""

from known_mistakes.mistakes import edits_of, visible, whole

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
        "the library's reference instead of an answer": visible(whole("""
perceptron_train = np_perceptron.perceptron_train
"""),
            hint="asks you to write that part yourself"),
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
            hint="sum, not average"),
        "thresholded output": visible(edit("ex4_gradient", (
            "- X @ np.asarray(W, dtype=float)", "- (X @ np.asarray(W, dtype=float) > 0)")),
            hint="use the linear output X @ W"),
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
}
