"""Plausible wrong answers to the exercises of 01-perceptron, as whole answer cells.

tests/test_known_mistakes.py runs each in place of the solution, with the exercise's
visible and hidden tests, and requires that it loses points. Keep at least two per exercise.
"""

MISTAKES = {
    "ex1_predict": {
        "bias column ignored": '''
def perceptron_predict(W, X):
    return (np.asarray(X)[:, 1:] @ np.asarray(W)[1:] > 0).astype(np.int64)
''',
        "non-strict threshold": '''
def perceptron_predict(W, X):
    return (np.asarray(X) @ np.asarray(W) >= 0).astype(np.int64)
''',
        "sign output in -1/+1": '''
def perceptron_predict(W, X):
    return np.sign(np.asarray(X) @ np.asarray(W)).astype(np.int64)
''',
    },
    "ex2_update": {
        "update sign flipped": '''
def perceptron_update(W, x, t, *, eta=1.0):
    y = int(perceptron_predict(W, np.asarray(x)[None, :])[0])
    return np.asarray(W) + eta * np.asarray(x) * (y - t), y
''',
        "eta ignored": '''
def perceptron_update(W, x, t, *, eta=1.0):
    y = int(perceptron_predict(W, np.asarray(x)[None, :])[0])
    return np.asarray(W) + np.asarray(x) * (t - y), y
''',
        "W modified in place": '''
def perceptron_update(W, x, t, *, eta=1.0):
    y = int(perceptron_predict(W, np.asarray(x)[None, :])[0])
    W += eta * np.asarray(x) * (t - y)
    return W, y
''',
    },
    "ex3_train": {
        "the library's reference instead of an answer": """
perceptron_train = np_perceptron.perceptron_train
""",
        "stops before a clean epoch": '''
def perceptron_train(X, t, W0, *, eta=1.0, max_epochs=100):
    W = np.array(W0, dtype=float)
    trace = []
    for epoch in range(1, max_epochs + 1):
        changed = False
        for x, target in zip(np.asarray(X, dtype=float), t):
            W_new, y = perceptron_update(W, x, target, eta=eta)
            trace.append(np_perceptron.PerceptronStep(epoch, x, W, y, int(target), W_new))
            changed = changed or y != target
            W = W_new
        if not changed or epoch >= 2:  # "two epochs are always enough"
            break
    return W, trace
''',
        "trace keeps only the updates": '''
def perceptron_train(X, t, W0, *, eta=1.0, max_epochs=100):
    W = np.array(W0, dtype=float)
    trace = []
    for epoch in range(1, max_epochs + 1):
        errors = 0
        for x, target in zip(np.asarray(X, dtype=float), t):
            W_new, y = perceptron_update(W, x, target, eta=eta)
            if y != target:
                trace.append(np_perceptron.PerceptronStep(epoch, x, W, y, int(target), W_new))
                errors += 1
            W = W_new
        if errors == 0:
            break
    return W, trace
''',
        "stops at the first correct sample": '''
def perceptron_train(X, t, W0, *, eta=1.0, max_epochs=100):
    W = np.array(W0, dtype=float)
    trace = []
    for epoch in range(1, max_epochs + 1):
        for x, target in zip(np.asarray(X, dtype=float), t):
            W_new, y = perceptron_update(W, x, target, eta=eta)
            trace.append(np_perceptron.PerceptronStep(epoch, x, W, y, int(target), W_new))
            W = W_new
            if y == target:
                return W, trace
    return W, trace
''',
    },
    "ex4_gradient": {
        "gradient sign flipped": '''
def delta_rule_gradient(W, X, t):
    X = np.asarray(X, dtype=float)
    return X.T @ (np.asarray(t, dtype=float) - X @ np.asarray(W, dtype=float))
''',
        "mean instead of sum": '''
def delta_rule_gradient(W, X, t):
    X = np.asarray(X, dtype=float)
    return -X.T @ (np.asarray(t, dtype=float) - X @ np.asarray(W, dtype=float)) / len(X)
''',
        "thresholded output": '''
def delta_rule_gradient(W, X, t):
    X = np.asarray(X, dtype=float)
    y = (X @ np.asarray(W, dtype=float) > 0).astype(float)
    return -X.T @ (np.asarray(t, dtype=float) - y)
''',
    },
    "ex5_margin": {
        "bias inside the norm": '''
def margin(W, X, t):
    W = np.asarray(W, dtype=float)
    sign = 2 * np.asarray(t, dtype=float) - 1
    return float(np.min(sign * (np.asarray(X) @ W) / np.linalg.norm(W)))
''',
        "labels ignored": '''
def margin(W, X, t):
    W = np.asarray(W, dtype=float)
    return float(np.min(np.abs(np.asarray(X) @ W) / np.linalg.norm(W[1:])))
''',
        "not normalised": '''
def margin(W, X, t):
    W = np.asarray(W, dtype=float)
    sign = 2 * np.asarray(t, dtype=float) - 1
    return float(np.min(sign * (np.asarray(X) @ W)))
''',
    },
}
