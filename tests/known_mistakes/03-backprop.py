"""Plausible wrong answers to the exercises of 03-backprop, as whole answer cells
(see tests/test_known_mistakes.py). At least two per exercise."""

MISTAKES = {
    "ex1_chain_rule": {
        "inner derivative forgotten": '''
dz_dx = 2 * fprime(x + 3 * y) + 6 * gprime(5 * x + y)
dz_dy = 2 * fprime(x + 3 * y) + 6 * gprime(5 * x + y)
''',
        "inner factors swapped": '''
dz_dx = 6 * fprime(x + 3 * y) + 6 * gprime(5 * x + y)
dz_dy = 2 * fprime(x + 3 * y) + 30 * gprime(5 * x + y)
''',
        "one path only": '''
dz_dx = 2 * fprime(x + 3 * y)
dz_dy = 6 * fprime(x + 3 * y)
''',
    },
    "ex2_gradient": {
        "second path through x1 forgotten": '''
dh_dx1 = sympy.cos(x1)
dh_dx2 = x1
''',
        "wrong sign of the derivative of sin": '''
dh_dx1 = -sympy.cos(x1) + x2
dh_dx2 = x1
''',
    },
    "ex3_value_mul": {
        "gradients overwritten instead of accumulated": '''
def value_mul(a, b):
    out = Value(a.data * b.data, (a, b), "*")

    def _backward():
        a.grad = b.data * out.grad
        b.grad = a.data * out.grad

    out._backward = _backward
    return out
''',
        "local derivatives swapped": '''
def value_mul(a, b):
    out = Value(a.data * b.data, (a, b), "*")

    def _backward():
        a.grad += a.data * out.grad
        b.grad += b.data * out.grad

    out._backward = _backward
    return out
''',
        "upstream gradient ignored": '''
def value_mul(a, b):
    out = Value(a.data * b.data, (a, b), "*")

    def _backward():
        a.grad += b.data
        b.grad += a.data

    out._backward = _backward
    return out
''',
    },
    "ex4_value_tanh": {
        "derivative taken from the input": '''
def value_tanh(a):
    out = Value(np.tanh(a.data), (a,), "tanh")

    def _backward():
        a.grad += (1 - a.data**2) * out.grad

    out._backward = _backward
    return out
''',
        "upstream gradient ignored": '''
def value_tanh(a):
    out = Value(np.tanh(a.data), (a,), "tanh")

    def _backward():
        a.grad += 1 - out.data**2

    out._backward = _backward
    return out
''',
    },
    "ex5_topo_sort": {
        "no visited set (shared nodes repeated)": '''
def topo_sort(root):
    order = []

    def visit(node):
        for child in node._children:
            visit(child)
        order.append(node)

    visit(root)
    return order
''',
        "parents before children": '''
def topo_sort(root):
    order, visited = [], set()

    def visit(node):
        if id(node) in visited:
            return
        visited.add(id(node))
        order.append(node)
        for child in node._children:
            visit(child)

    visit(root)
    return order
''',
    },
    "ex6_affine_backward": {
        "db not summed over the batch": '''
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout
''',
        "db averaged instead of summed": '''
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.mean(axis=0)
''',
        "dw transposed": '''
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, (x.T @ dout).T.reshape(w.shape), dout.sum(axis=0)
''',
    },
    "ex7_logistic": {
        "sign as in the lecture notes' slip": '''
def logistic_regression_gradient(w, b, X, y):
    y_hat = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    error = (y - y_hat) / len(y)
    return X.T @ error, float(error.sum())
''',
        "summed instead of averaged": '''
def logistic_regression_gradient(w, b, X, y):
    y_hat = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    error = y_hat - y
    return X.T @ error, float(error.sum())
''',
        "sigmoid derivative left in": '''
def logistic_regression_gradient(w, b, X, y):
    y_hat = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    error = (y_hat - y) * y_hat * (1 - y_hat) / len(y)
    return X.T @ error, float(error.sum())
''',
    },
    "ex8_deltas": {
        "missing sigmoid derivative": '''
def output_delta(o, t):
    return t - o


def hidden_delta(h, W2, delta_out):
    return delta_out @ W2.T
''',
        "hidden delta without h (1 - h)": '''
def output_delta(o, t):
    return o * (1 - o) * (t - o)


def hidden_delta(h, W2, delta_out):
    return delta_out @ W2.T
''',
        "wrong sign": '''
def output_delta(o, t):
    return o * (1 - o) * (o - t)


def hidden_delta(h, W2, delta_out):
    return h * (1 - h) * (delta_out @ W2.T)
''',
    },
}
