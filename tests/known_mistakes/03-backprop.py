"""Plausible wrong answers to the exercises of 03-backprop, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py; see tests/test_known_mistakes.py). At least
two per exercise, each tagged with how the student hears of it before grading."""

from known_mistakes.mistakes import edits_of, hidden_only, visible

edit = edits_of("03-backprop")

MISTAKES = {
    "ex1_chain_rule": {
        "inner derivative forgotten": visible(edit("ex1_chain_rule",
                                                   ("+ 30 * gprime", "+ 6 * gprime"),
                                                   ("dz_dy = 6 * fprime", "dz_dy = 2 * fprime")),
                                              hint="derivative of the inner argument 5x + y with respect to x"),
        "inner factors swapped": visible(edit("ex1_chain_rule",
                                              ("dz_dx = 2 * fprime(x + 3 * y) + 30 * gprime(5 * x + y)",
                                               "dz_dx = 6 * fprime(x + 3 * y) + 6 * gprime(5 * x + y)"),
                                              ("dz_dy = 6 * fprime(x + 3 * y) + 6 * gprime(5 * x + y)",
                                               "dz_dy = 2 * fprime(x + 3 * y) + 30 * gprime(5 * x + y)")),
                                         hint="derivative of the inner argument x + 3y with respect to x"),
        "one path only": visible(edit("ex1_chain_rule",
                                      (" + 30 * gprime(5 * x + y)", ""),
                                      (" + 6 * gprime(5 * x + y)", "")),
                                 hint="reaches z through both f and g, and each path contributes a term"),
        "outer factors dropped": visible(edit("ex1_chain_rule",
                                              ("dz_dx = 2 * fprime(x + 3 * y) + 30 * gprime(5 * x + y)",
                                               "dz_dx = fprime(x + 3 * y) + 5 * gprime(5 * x + y)"),
                                              ("dz_dy = 6 * fprime(x + 3 * y) + 6 * gprime(5 * x + y)",
                                               "dz_dy = 3 * fprime(x + 3 * y) + gprime(5 * x + y)")),
                                         hint="(outer factor) * f'(x + 3y)"),
        # the inner argument written with its coefficients swapped: f' taken at the wrong point
        "f' at the wrong argument": visible(edit("ex1_chain_rule",
                                                 ("dz_dx = 2 * fprime(x + 3 * y)", "dz_dx = 2 * fprime(3 * x + y)"),
                                                 ("dz_dy = 6 * fprime(x + 3 * y)", "dz_dy = 6 * fprime(3 * x + y)")),
                                            hint="f' is taken at the inner argument x + 3y"),
        "second path through x1 forgotten": visible(edit("ex1_chain_rule", ("sympy.cos(x1) + x2", "sympy.cos(x1)")),
                                                    hint="x1 feeds both terms"),
        "wrong sign of the derivative of sin": visible(edit("ex1_chain_rule", ("= sympy.cos(x1)", "= -sympy.cos(x1)")),
                                                       hint="d sin(x1)/dx1 = cos(x1)"),
        "partials of the product swapped": visible(edit("ex1_chain_rule",
                                                        ("sympy.cos(x1) + x2", "sympy.cos(x1) + x1"),
                                                        ("dh_dx2 = x1", "dh_dx2 = x2")),
                                                   hint="d(x1 x2)/dx1 = x2"),
        "derivative of sin added to both partials": visible(edit("ex1_chain_rule",
                                                                 ("dh_dx2 = x1", "dh_dx2 = sympy.cos(x1) + x1")),
                                                            hint="sin(x1) is a constant for x2"),
        "numbers at the checked point in place of expressions": hidden_only(
            edit("ex1_chain_rule", ("dh_dx1 = sympy.cos(x1) + x2", "dh_dx1 = float(np.cos(0.7) - 1.3)"),
                 ("dh_dx2 = x1", "dh_dx2 = 0.7")),
            why="a hard-coded answer: right at the one point the visible check evaluates, so only the symbolic "
                "hidden test sees it"),
    },
    "ex2_value_ops": {
        "mul: gradients overwritten instead of accumulated": visible(edit("ex2_value_ops",
                                                                          ("a.grad += b.data", "a.grad = b.data"),
                                                                          ("b.grad += a.data", "b.grad = a.data")),
                                                                     hint="use += rather than ="),
        "mul: local derivatives swapped": visible(edit("ex2_value_ops",
                                                       ("a.grad += b.data", "a.grad += a.data"),
                                                       ("b.grad += a.data", "b.grad += b.data")),
                                                  hint="d(ab)/da = b, d(ab)/db = a (the other factor)"),
        "mul: upstream gradient ignored": visible(edit("ex2_value_ops",
                                                       ("a.grad += b.data * out.grad", "a.grad += b.data"),
                                                       ("b.grad += a.data * out.grad", "b.grad += a.data")),
                                                  hint="each times out.grad (2 here)"),
        "mul: out.data in place of out.grad": visible(edit("ex2_value_ops",
                                                           ("b.data * out.grad", "b.data * out.data"),
                                                           ("a.data * out.grad", "a.data * out.data")),
                                                      hint="times out.grad, not out.data"),
        # d(ab)/da recovered as (ab)/a: right except where the other factor is 0
        "mul: local derivative as out.data / a.data": visible(edit("ex2_value_ops",
                                                                   ("a.grad += b.data * out.grad",
                                                                    "a.grad += out.data / a.data * out.grad"),
                                                                   ("b.grad += a.data * out.grad",
                                                                    "b.grad += out.data / b.data * out.grad")),
                                                              hint="do not recover it as out.data / a.data"),
        "tanh: derivative taken from the input": visible(
            edit("ex2_value_ops", ("(1 - out.data**2)", "(1 - a.data**2)")),
            hint="not the input a.data"),
        "tanh: upstream gradient ignored": visible(
            edit("ex2_value_ops", ("(1 - out.data**2) * out.grad", "1 - out.data**2")),
            hint="multiply the local derivative by out.grad"),
        "tanh: gradient overwritten instead of accumulated": visible(
            edit("ex2_value_ops", ("a.grad += (1 - out.data**2)", "a.grad = (1 - out.data**2)")),
            hint="add with += rather than overwrite with ="),
        "tanh: applied twice": visible(edit("ex2_value_ops", ("(1 - out.data**2)", "(1 - np.tanh(out.data)**2)")),
                                       hint="out.data is already tanh(a)"),
        "tanh: the difference squared": visible(edit("ex2_value_ops", ("(1 - out.data**2)", "(1 - out.data)**2")),
                                                hint="square it alone, then subtract from 1"),
        "exp: derivative taken from the input": visible(
            edit("ex2_value_ops", ("a.grad += out.data * out.grad", "a.grad += a.data * out.grad")),
            hint="not the input a.data"),
        "exp: upstream gradient ignored": visible(
            edit("ex2_value_ops", ("a.grad += out.data * out.grad", "a.grad += out.data")),
            hint="multiply the local derivative by out.grad"),
        "exp: gradient overwritten instead of accumulated": visible(
            edit("ex2_value_ops", ("a.grad += out.data * out.grad", "a.grad = out.data * out.grad")),
            hint="add with += rather than overwrite with ="),
    },
    "ex3_topo_sort": {
        "no visited set (shared nodes repeated)": visible(edit("ex3_topo_sort", (
            ("        if id(node) in visited:\n"
             "            return\n"
             "        visited.add(id(node))\n"), "")),
            hint="remember which nodes you have visited"),
        "parents before children": visible(edit("ex3_topo_sort", (
            ("        for child in node._children:\n"
             "            visit(child)\n"
             "        order.append(node)"),
            ("        order.append(node)\n"
             "        for child in node._children:\n"
             "            visit(child)"))),
            hint="append a node after visiting its children"),
        # a node listed when first reached, the list reversed: right on trees, wrong where a
        # shared node is reached first by its short path
        "reversed pre-order": visible(edit("ex3_topo_sort", (
            ("        for child in node._children:\n"
             "            visit(child)\n"
             "        order.append(node)"),
            ("        order.append(node)\n"
             "        for child in node._children:\n"
             "            visit(child)")),
            ("    return order\n", "    return order[::-1]\n")),
            hint="reversing a pre-order or a breadth-first order is not enough"),
        "reversed breadth-first order": visible(edit("ex3_topo_sort", (
            ("    def visit(node):\n"
             "        if id(node) in visited:\n"
             "            return\n"
             "        visited.add(id(node))\n"
             "        for child in node._children:\n"
             "            visit(child)\n"
             "        order.append(node)\n"
             "\n"
             "    visit(root)\n"
             "    return order\n"),
            ("    queue = [root]\n"
             "    visited.add(id(root))\n"
             "    while queue:\n"
             "        node = queue.pop(0)\n"
             "        order.append(node)\n"
             "        for child in node._children:\n"
             "            if id(child) not in visited:\n"
             "                visited.add(id(child))\n"
             "                queue.append(child)\n"
             "    return order[::-1]\n"))),
            hint="reversing a pre-order or a breadth-first order is not enough"),
        # two nodes holding the same number are taken for one
        "visited by data, not by identity": visible(edit("ex3_topo_sort",
                                                         ("if id(node) in visited:", "if node.data in visited:"),
                                                         ("visited.add(id(node))", "visited.add(node.data)")),
                                                    hint="tell nodes apart by identity (id(node)), not by their data"),
    },
    "ex4_affine_backward": {
        "db not summed over the batch": visible(edit("ex4_affine_backward", ("db = dout.sum(axis=0)", "db = dout")),
                                                hint="the batch axis summed away"),
        "db averaged instead of summed": visible(edit("ex4_affine_backward", ("dout.sum(axis=0)", "dout.mean(axis=0)")),
                                                 hint="the N rows' gradients meet at b and add up"),
        "dw transposed": visible(
            edit("ex4_affine_backward", ("x_rows.T @ dout", "(x_rows.T @ dout).T.reshape(w.shape)")),
            hint="nor a transpose then reshape"),
        "db summed over the wrong axis": visible(edit("ex4_affine_backward", ("dout.sum(axis=0)", "dout.sum(axis=1)")),
                                                 hint="one entry per output, shape (M,)"),
        "dx not transposed back": visible(edit("ex4_affine_backward", ("(dout @ w.T).reshape(x.shape)",
                                                                       "(w @ dout.T).reshape(x.shape)")),
                                          hint="sums dout[n, m] * w[d, m] over the outputs m"),
        # one example's outer product x dout, batched by summing each factor first: right for N = 1
        "dw as the outer product of the batch sums": visible(edit("ex4_affine_backward", (
            "x_rows.T @ dout", "np.outer(x_rows.sum(axis=0), dout.sum(axis=0))")),
            hint="not an outer product of sums"),
        # right for 2-D input, where the shapes already agree
        "dx left flat": visible(edit("ex4_affine_backward", ("(dout @ w.T).reshape(x.shape)", "dout @ w.T")),
                                hint="then reshape it to x.shape"),
        # flattened column-major: each row holds the right numbers in the wrong order
        "flattened in the wrong order": visible(edit("ex4_affine_backward",
                                                     ("x.reshape(x.shape[0], -1)",
                                                      "x.reshape(x.shape[0], -1, order=\"F\")"),
                                                     ("(dout @ w.T).reshape(x.shape)",
                                                      "(dout @ w.T).reshape(x.shape, order=\"F\")")),
                                        hint="in the order reshape uses (row-major)"),
    },
    "ex5_logistic": {
        # the notes' dL/dyhat = -y/yhat - (1-y)/(1-yhat) times their dyhat/da3 = -x3 yhat (1-yhat):
        # right at y = 0, the opposite of yhat - y at y = 1
        "the notes' slip": visible(edit("ex5_logistic", (
            "(y_hat - y) / len(y)", "(y * (1 - y_hat) + (1 - y) * y_hat) / len(y)")),
            hint="is right at y = 0, wrong here"),
        "sign flipped (y - y_hat)": visible(edit("ex5_logistic", ("(y_hat - y) / len(y)", "(y - y_hat) / len(y)")),
                                            hint="dw must be positive"),
        "summed instead of averaged": visible(edit("ex5_logistic",
                                                   ("error = (y_hat - y) / len(y)", "error = y_hat - y")),
                                              hint="the mean over the examples: divide by N"),
        "sigmoid derivative left in": visible(edit("ex5_logistic", (
            "(y_hat - y) / len(y)", "(y_hat - y) * y_hat * (1 - y_hat) / len(y)")),
            hint="that factor cancels, it does not stay in the result"),
        # equal to N in the square examples
        "averaged over the features": visible(edit("ex5_logistic",
                                                   ("(y_hat - y) / len(y)", "(y_hat - y) / X.shape[1]")),
                                              hint="not over the D = 2 features"),
        "db summed while dw is averaged": visible(edit("ex5_logistic",
                                                       ("float(error.sum())", "float((y_hat - y).sum())")),
                                                  hint="db is averaged over the examples, like dw"),
    },
    "ex6_deltas": {
        "missing sigmoid derivatives": visible(edit("ex6_deltas",
                                                    ("delta_out = out * (1 - out) * (t - out)", "delta_out = t - out"),
                                                    ("delta_hid = hid * (1 - hid) * (delta_out @ W2.T)",
                                                     "delta_hid = delta_out @ W2.T")),
                                               hint="the sigmoid's derivative o (1 - o) is read from the output o"),
        "hidden delta without h (1 - h)": visible(edit("ex6_deltas", (
            "delta_hid = hid * (1 - hid) * (delta_out @ W2.T)", "delta_hid = delta_out @ W2.T")),
            hint="multiply by the hidden unit's own sigmoid derivative h (1 - h)"),
        "wrong sign": visible(edit("ex6_deltas", ("* (t - out)", "* (out - t)")), hint="the delta is minus dE/da"),
        "the target's derivative t (1 - t)": visible(edit("ex6_deltas",
                                                          ("out * (1 - out) * (t - out)", "t * (1 - t) * (t - out)")),
                                                     hint="not from the target t"),
        # right for a batch of one
        "hidden deltas summed over the batch": visible(edit("ex6_deltas", (
            "(delta_out @ W2.T)", "(delta_out @ W2.T).sum(axis=0)")),
            hint="each example keeps its own deltas"),
        # the update direction (eta h^T delta) returned as the gradient
        "weight gradients with the deltas' sign": visible(edit("ex6_deltas",
                                                               ("-hid.T @ delta_out, -delta_out.sum(axis=0)",
                                                                "hid.T @ delta_out, delta_out.sum(axis=0)"),
                                                               ("-x.T @ delta_hid, -delta_hid.sum(axis=0)",
                                                                "x.T @ delta_hid, delta_hid.sum(axis=0)")),
                                                          hint="carry the opposite sign of the deltas"),
        "bias gradients not summed over the batch": visible(edit("ex6_deltas",
                                                                 ("-delta_out.sum(axis=0)", "-delta_out"),
                                                                 ("-delta_hid.sum(axis=0)", "-delta_hid")),
                                                            hint="a bias gradient sums over the batch"),
    },
    "ex7_train_mlp": {
        # the training images come sorted by digit: every mini-batch holds one digit
        "never shuffled": visible(
            edit("ex7_train_mlp", ("order = rng.permutation(len(X))", "order = np.arange(len(X))")),
            hint="shuffle the examples every epoch"),
        "gradient ascent": visible(
            edit("ex7_train_mlp", ("params[name] -= lr * grads[name]", "params[name] += lr * grads[name]")),
            hint="step against the gradient"),
        "ReLU's backward lets everything through": visible(
            edit("ex7_train_mlp", ("affine_backward(dh * (h_in > 0), cache1)", "affine_backward(dh, cache1)")),
            hint="passes the gradient back only where its input was positive"),
        "gradient of a sum, loss of a mean": visible(edit("ex7_train_mlp", ("affine_backward(dscores / n, cache2)",
                                                                            "affine_backward(dscores, cache2)")),
                                                     hint="its gradient carries 1/N"),
        # the softmax alone: the true class's score also raises the loss's -s_y term
        "true class left out of dL/dscores": visible(
            edit("ex7_train_mlp", ("    dscores[np.arange(n), y] -= 1.0\n", "")),
            hint="differentiate the loss for the true class and for the others"),
        "loss summed over the batch": visible(edit("ex7_train_mlp", ("loss = -log_probs[np.arange(n), y].mean()",
                                                                     "loss = -log_probs[np.arange(n), y].sum()")),
                                              hint="the loss is the mean over the batch"),
    },
}
