"""Plausible wrong answers to the exercises of 03-backprop, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py; see tests/test_known_mistakes.py). At least
two per exercise."""

from known_mistakes.mistakes import edits_of

edit = edits_of("03-backprop")

MISTAKES = {
    "ex1_chain_rule": {
        "inner derivative forgotten": edit("ex1_chain_rule",
                                           ("+ 30 * gprime", "+ 6 * gprime"),
                                           ("dz_dy = 6 * fprime", "dz_dy = 2 * fprime")),
        "inner factors swapped": edit("ex1_chain_rule",
                                      ("dz_dx = 2 * fprime(x + 3 * y) + 30 * gprime(5 * x + y)",
                                       "dz_dx = 6 * fprime(x + 3 * y) + 6 * gprime(5 * x + y)"),
                                      ("dz_dy = 6 * fprime(x + 3 * y) + 6 * gprime(5 * x + y)",
                                       "dz_dy = 2 * fprime(x + 3 * y) + 30 * gprime(5 * x + y)")),
        "one path only": edit("ex1_chain_rule",
                              (" + 30 * gprime(5 * x + y)", ""),
                              (" + 6 * gprime(5 * x + y)", "")),
    },
    "ex2_gradient": {
        "second path through x1 forgotten": edit("ex2_gradient", ("sympy.cos(x1) + x2", "sympy.cos(x1)")),
        "wrong sign of the derivative of sin": edit("ex2_gradient", ("= sympy.cos(x1)", "= -sympy.cos(x1)")),
    },
    "ex3_value_mul": {
        "gradients overwritten instead of accumulated": edit("ex3_value_mul",
                                                             ("a.grad += ", "a.grad = "),
                                                             ("b.grad += ", "b.grad = ")),
        "local derivatives swapped": edit("ex3_value_mul",
                                          ("a.grad += b.data", "a.grad += a.data"),
                                          ("b.grad += a.data", "b.grad += b.data")),
        "upstream gradient ignored": edit("ex3_value_mul",
                                          ("a.grad += b.data * out.grad", "a.grad += b.data"),
                                          ("b.grad += a.data * out.grad", "b.grad += a.data")),
    },
    "ex4_value_tanh": {
        "derivative taken from the input": edit("ex4_value_tanh", ("(1 - out.data**2)", "(1 - a.data**2)")),
        "upstream gradient ignored": edit("ex4_value_tanh", ("(1 - out.data**2) * out.grad", "1 - out.data**2")),
    },
    "ex5_topo_sort": {
        "no visited set (shared nodes repeated)": edit("ex5_topo_sort", (
            ("        if id(node) in visited:\n"
             "            return\n"
             "        visited.add(id(node))\n"), "")),
        "parents before children": edit("ex5_topo_sort", (
            ("        for child in node._children:\n"
             "            visit(child)\n"
             "        order.append(node)"),
            ("        order.append(node)\n"
             "        for child in node._children:\n"
             "            visit(child)"))),
    },
    "ex6_affine_backward": {
        "db not summed over the batch": edit("ex6_affine_backward", ("dout.sum(axis=0)", "dout")),
        "db averaged instead of summed": edit("ex6_affine_backward", ("dout.sum(axis=0)", "dout.mean(axis=0)")),
        "dw transposed": edit("ex6_affine_backward", ("x.T @ dout", "(x.T @ dout).T.reshape(w.shape)")),
    },
    "ex7_logistic": {
        # the notes' dL/dyhat = -y/yhat - (1-y)/(1-yhat) times their dyhat/da3 = -x3 yhat (1-yhat):
        # right at y = 0, the opposite of yhat - y at y = 1
        "the notes' slip": edit("ex7_logistic", (
            "(y_hat - y) / len(y)", "(y * (1 - y_hat) + (1 - y) * y_hat) / len(y)")),
        "sign flipped (y - y_hat)": edit("ex7_logistic", ("(y_hat - y) / len(y)", "(y - y_hat) / len(y)")),
        "summed instead of averaged": edit("ex7_logistic", ("error = (y_hat - y) / len(y)", "error = y_hat - y")),
        "sigmoid derivative left in": edit("ex7_logistic", (
            "(y_hat - y) / len(y)", "(y_hat - y) * y_hat * (1 - y_hat) / len(y)")),
    },
    "ex8_deltas": {
        "missing sigmoid derivative": edit("ex8_deltas",
                                           ("return o * (1 - o) * (t - o)", "return t - o"),
                                           ("return h * (1 - h) * (delta_out @ W2.T)", "return delta_out @ W2.T")),
        "hidden delta without h (1 - h)": edit("ex8_deltas", (
            "return h * (1 - h) * (delta_out @ W2.T)", "return delta_out @ W2.T")),
        "wrong sign": edit("ex8_deltas", ("* (t - o)", "* (o - t)")),
    },
}
