"""Plausible wrong answers to the exercises of 01-perceptron, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole cell.

tests/test_known_mistakes.py runs each in place of the solution, with the exercise's
visible and hidden tests, and requires that it loses points. Keep at least two per exercise.
"""

from known_mistakes.mistakes import edits_of, whole

edit = edits_of("01-perceptron")

MISTAKES = {
    "ex1_predict": {
        "bias column ignored": edit("ex1_predict", (
            "np.asarray(X, dtype=float) @ np.asarray(W, dtype=float) > 0",
            "np.asarray(X, dtype=float)[:, 1:] @ np.asarray(W, dtype=float)[1:] > 0")),
        "non-strict threshold": edit("ex1_predict", ("float) > 0)", "float) >= 0)")),
        "sign output in -1/+1": edit("ex1_predict", (
            "(np.asarray(X, dtype=float) @ np.asarray(W, dtype=float) > 0)",
            "np.sign(np.asarray(X, dtype=float) @ np.asarray(W, dtype=float))")),
    },
    "ex2_update": {
        "update sign flipped": edit("ex2_update", ("* (t - y)", "* (y - t)")),
        "eta ignored": edit("ex2_update", ("W + eta * x * (t - y)", "W + x * (t - y)")),
        # the caller's W itself, updated
        "W modified in place": edit("ex2_update",
                                    ("    W = np.asarray(W, dtype=float)\n", ""),
                                    ("    return W + eta * x * (t - y), y",
                                     ("    W += eta * x * (t - y)\n"
                                      "    return W, y"))),
        # the same slip after np.asarray(W, dtype=float), which returns the caller's float64 W
        # itself: the grader must pass arrays whose asarray is a no-op, as in a notebook
        "W modified in place through np.asarray": edit("ex2_update",
                                                       ("    return W + eta * x * (t - y), y",
                                                        ("    W += eta * x * (t - y)\n"
                                                         "    return W, y"))),
        # right W_new, but the caller's W changed too: only the check that W is left alone sees it,
        # and only if the grader copies the change back to the test's W
        "W updated in place, a copy returned": edit("ex2_update", ("    return W + eta * x * (t - y), y",
                                                                   ("    W += eta * x * (t - y)\n"
                                                                    "    return W.copy(), y"))),
    },
    "ex3_train": {
        "the library's reference instead of an answer": whole("""
perceptron_train = np_perceptron.perceptron_train
"""),
        "stops before a clean epoch": edit("ex3_train", (
            "if errors == 0:", 'if errors == 0 or epoch >= 2:  # "two epochs are always enough"')),
        "trace keeps only the updates": edit("ex3_train", (
            "            trace.append(np_perceptron.PerceptronStep(epoch, x, W, y, int(target), W_new))",
            ("            if y != target:\n"
             "                trace.append(np_perceptron.PerceptronStep(epoch, x, W, y, int(target), W_new))"))),
        "stops at the first correct sample": edit("ex3_train", (
            "            W = W_new\n",
            ("            W = W_new\n"
             "            if y == target:\n"
             "                return W, trace\n"))),
    },
    "ex4_gradient": {
        "gradient sign flipped": edit("ex4_gradient", ("return -X.T @ residual", "return X.T @ residual")),
        "mean instead of sum": edit("ex4_gradient", ("return -X.T @ residual", "return -X.T @ residual / len(X)")),
        "thresholded output": edit("ex4_gradient", (
            "- X @ np.asarray(W, dtype=float)", "- (X @ np.asarray(W, dtype=float) > 0)")),
    },
    "ex5_margin": {
        "bias inside the norm": edit("ex5_margin", ("np.linalg.norm(W[1:])", "np.linalg.norm(W)")),
        "labels ignored": edit("ex5_margin", ("np.min(sign * distance)", "np.min(np.abs(distance))")),
        "not normalised": edit("ex5_margin", (" / np.linalg.norm(W[1:])", "")),
    },
}
