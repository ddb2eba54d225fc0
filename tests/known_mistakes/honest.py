"""Honest answers written another way than the solution: the counterpart of the known mistakes.

The known mistakes (tests/known_mistakes/NN-topic.py) show that each exercise's tests *reject*
plausible wrong answers. This file shows the other half of a fair grade: right answers that do
not look like the solution keep every point. A student may loop where the solution vectorises
(or the reverse), use np.einsum, np.lib.stride_tricks.sliding_window_view or np.add.at, write
an equivalent but different formula, or use torch tensors where the exercise is NumPy; the
tests must judge the result, not the style, and the shortcut checks (solutions/exercises.toml,
lib/dlcourse/shortcuts.py) must not mistake such an answer for a forbidden call.

    HONEST = {assignment: {answer grade_id: {what is different: whole answer cell source}}}

Each source is a whole answer cell: it defines the same functions, with the same signatures,
as the solution notebook's answer cell (the part of that cell outside the solution region,
such as a preamble the release gives, is written out too). None calls the exercise's graded
reference (dlcourse.np.* / dlcourse.pt.* functions of the exercise's name), anything the
exercise's entry in solutions/exercises.toml forbids, or dynamic code. Helpers live inside the
cell. At least two per assignment, spread over the exercises with the most room for variation.

Every case here was run through the real grader (tests/notebook_harness.run_cases: the
judge, the sandbox where available, the shortcut checks) and earns full marks on all of its
exercise's test cells. Check them again (tests/ on sys.path, under ``if __name__ ==
"__main__":``, as the harness spawns its worker) with

    from known_mistakes.honest import HONEST
    cases = [(ex, src) for ex, alts in HONEST[a].items() for src in alts.values()]
    run_cases(ROOT / "solutions" / a / f"{a}.ipynb", cases)   # an absolute path: see below

The notebook's path must be absolute: the sandboxed kernel starts with cwd "/", and a relative
path makes it fail to start ("the kernel exited with status 70 while starting").

``ONCE_UNFAIRLY_FAILED`` keeps the honest answers that showed a test to be unfair, with what was
fixed; they are part of HONEST.
"""

import textwrap


def answer(source: str) -> str:
    """An answer cell's source, dedented, once it is known to be Python (an honest answer must
    never lose its points to a syntax error made in writing it down here)."""
    source = textwrap.dedent(source).strip("\n") + "\n"
    compile(source, "an honest answer", "exec")
    return source


HONEST = {
    "01-perceptron": {
        "ex3_train": {
            "while loops over epochs and sample indices, prediction and update inline": answer("""
                def perceptron_train(X, t, W0, *, eta=1.0, max_epochs=100):
                    \"\"\"Rosenblatt's loop. Returns (W, trace), trace = list of np_perceptron.PerceptronStep.\"\"\"
                    X = np.asarray(X, dtype=float)
                    targets = [int(v) for v in np.asarray(t).reshape(-1)]
                    W = np.array(W0, dtype=float, copy=True)
                    trace = []
                    epoch, clean = 0, False
                    while not clean and epoch < max_epochs:
                        epoch += 1
                        clean = True
                        n = 0
                        while n < len(X):
                            x = X[n]
                            y = 1 if float(np.dot(x, W)) > 0 else 0
                            W_next = W + eta * (targets[n] - y) * x   # a new array: the trace keeps W
                            trace.append(np_perceptron.PerceptronStep(epoch, x, W, y, targets[n], W_next))
                            if y != targets[n]:
                                clean = False
                            W = W_next
                            n += 1
                    return W, trace
            """),
        },
        "ex4_gradient": {
            "sum of per-sample gradients in a Python loop": answer("""
                def delta_rule_gradient(W, X, t):
                    \"\"\"dE/dW for E = 1/2 sum_n (t_n - X[n] @ W)^2. W: (D+1,); X: (N, D+1); t: (N,).\"\"\"
                    W = np.asarray(W, dtype=float)
                    grad = np.zeros_like(W)
                    for x_n, t_n in zip(np.asarray(X, dtype=float), np.asarray(t, dtype=float)):
                        output = float(x_n @ W)
                        grad += (output - t_n) * x_n      # d/dW of 1/2 (t_n - x_n . W)^2
                    return grad
            """),
            "np.einsum over the samples": answer("""
                def delta_rule_gradient(W, X, t):
                    \"\"\"dE/dW for E = 1/2 sum_n (t_n - X[n] @ W)^2. W: (D+1,); X: (N, D+1); t: (N,).\"\"\"
                    X = np.asarray(X, dtype=float)
                    outputs = np.einsum("nd,d->n", X, np.asarray(W, dtype=float))
                    return np.einsum("nd,n->d", X, outputs - np.asarray(t, dtype=float))
            """),
        },
        "ex5_margin": {
            "signed distances in a generator, min() over them, bias split off": answer("""
                def margin(W, X, t):
                    \"\"\"Geometric margin min_n s_n (X[n] @ W) / ||W[1:]||, s_n = 2 t_n - 1.\"\"\"
                    W = np.asarray(W, dtype=float)
                    bias, normal = W[0], W[1:]
                    length = np.sqrt(np.sum(normal * normal))
                    X = np.asarray(X, dtype=float)
                    return float(min((1.0 if t_n == 1 else -1.0) * (bias + x_n[1:] @ normal) / length
                                     for x_n, t_n in zip(X, np.asarray(t).reshape(-1))))
            """),
        },
        "ex6_fit": {
            "an index array shuffled in place, batches listed from their starts, E through a dot product": answer("""
                def delta_rule_fit(X, t, W0, *, gradient, eta, batch_size, rng, tol=1e-4, max_epochs=200):
                    \"\"\"Mini-batch gradient descent on E = 1/2 sum_n (t_n - X[n] @ W)^2, relative stopping rule.\"\"\"
                    X, t = np.asarray(X, dtype=float), np.asarray(t, dtype=float)

                    def error(W):
                        r = t - X @ W
                        return 0.5 * float(r @ r)

                    W = np.asarray(W0, dtype=float).copy()
                    history, best = [error(W)], (error(W), W.copy())
                    index = np.arange(len(t))
                    epoch = 0
                    while epoch < max_epochs:
                        rng.shuffle(index)
                        for rows in [index[k:k + batch_size] for k in range(0, len(index), batch_size)]:
                            mean_grad = gradient(W, X[rows], t[rows]) / rows.size
                            W = W - eta * mean_grad
                        epoch += 1
                        history.append(error(W))
                        if history[-1] < best[0]:
                            best = (history[-1], W.copy())
                        if (history[-2] - history[-1]) / history[-2] < tol:
                            break
                    return best[1], history
            """),
            "every epoch's weights stored, the best chosen at the end with argmin": answer("""
                def delta_rule_fit(X, t, W0, *, gradient, eta, batch_size, rng, tol=1e-4, max_epochs=200):
                    \"\"\"Mini-batch gradient descent on E = 1/2 sum_n (t_n - X[n] @ W)^2, relative stopping rule.\"\"\"
                    X = np.asarray(X, dtype=np.float64)
                    t = np.asarray(t, dtype=np.float64)
                    N = X.shape[0]
                    weights = [np.array(W0, dtype=np.float64)]
                    errors = [0.5 * np.sum(np.square(t - X @ weights[0]))]
                    for _ in range(max_epochs):
                        W = weights[-1].copy()
                        perm = rng.permutation(N)
                        starts = np.arange(0, N, batch_size)
                        for s in starts:
                            b = perm[s:min(s + batch_size, N)]
                            W -= eta * np.asarray(gradient(W, X[b], t[b]), dtype=np.float64) / len(b)
                        weights.append(W)
                        errors.append(0.5 * np.sum(np.square(t - X @ W)))
                        if errors[-2] - errors[-1] < tol * errors[-2]:
                            break
                    return weights[int(np.argmin(errors))], np.array(errors)
            """),
        },
    },
    "02-gradient-descent": {
        "ex1_stable_lr": {
            "2 over the spectral norm (= lambda_max for a symmetric positive semi-definite H)": answer("""
                def max_stable_lr(H):
                    \"\"\"Largest learning rate for which gradient descent on 1/2 w^T H w converges: 2 /
                    lambda_max(H).
                    \"\"\"
                    return 2.0 / np.linalg.norm(np.asarray(H, dtype=float), 2)
            """),
            "the general eigenvalue routine, real parts, Python's max": answer("""
                def max_stable_lr(H):
                    \"\"\"Largest learning rate for which gradient descent on 1/2 w^T H w converges: 2 /
                    lambda_max(H).
                    \"\"\"
                    eigenvalues = np.linalg.eigvals(np.asarray(H, dtype=float)).real   # unsorted, any size
                    return 2.0 / max(eigenvalues)
            """),
        },
        "ex2_newton": {
            "a while loop with a step counter, least squares for the system, <= against the squared norm": answer("""
                def newton_method(grad, hess, w0, *, tol=1e-8, max_steps=50):
                    \"\"\"Newton's method from w0 until the gradient's norm is below tol (or max_steps steps).
                    grad: w -> (D,); hess: w -> (D, D); w0: (D,). Returns the path (K + 1, D), row 0 = w0.\"\"\"
                    points = [np.asarray(w0, dtype=float).copy()]
                    steps = 0
                    while steps < max_steps:
                        g = np.asarray(grad(points[-1]), dtype=float)
                        if not g @ g >= tol * tol:   # |g| < tol, compared squared
                            break
                        d = np.linalg.lstsq(np.asarray(hess(points[-1]), dtype=float), g, rcond=None)[0]
                        points.append(points[-1] - d)
                        steps += 1
                    return np.stack(points)
            """),
            "scipy.linalg.solve for a symmetric matrix, the path preallocated and trimmed": answer("""
                import scipy.linalg

                def newton_method(grad, hess, w0, *, tol=1e-8, max_steps=50):
                    \"\"\"Newton's method from w0 until the gradient's norm is below tol (or max_steps steps).
                    grad: w -> (D,); hess: w -> (D, D); w0: (D,). Returns the path (K + 1, D), row 0 = w0.\"\"\"
                    w0 = np.asarray(w0, dtype=float)
                    path = np.empty((max_steps + 1, w0.size))
                    path[0] = w0
                    k = 0
                    for k in range(max_steps + 1):
                        g = np.asarray(grad(path[k]), dtype=float)
                        if k == max_steps or np.linalg.norm(g) < tol:
                            break
                        H = np.asarray(hess(path[k]), dtype=float)
                        path[k + 1] = path[k] - scipy.linalg.solve(H, g, assume_a="sym")
                    return path[:k + 1].copy()
            """),
        },
        "ex3_minibatch": {
            "loop over the batch rows, sigmoid through tanh": answer("""
                def minibatch_gradient(w, X, y, batch):
                    \"\"\"Gradient of the mean binary cross-entropy of logistic regression over the rows `batch`.\"\"\"
                    w = np.asarray(w, dtype=float)
                    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
                    total = np.zeros_like(w)
                    rows = list(np.asarray(batch).reshape(-1))
                    for n in rows:
                        p = 0.5 * (1.0 + np.tanh(0.5 * (X[n] @ w)))   # sigmoid, without exp overflow
                        total += (p - y[n]) * X[n]
                    return total / len(rows)
            """),
            "every row weighted by how often the batch lists it (np.bincount)": answer("""
                def minibatch_gradient(w, X, y, batch):
                    \"\"\"Gradient of the mean binary cross-entropy of logistic regression over the rows `batch`.\"\"\"
                    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
                    counts = np.bincount(np.asarray(batch).reshape(-1), minlength=len(X)).astype(float)
                    p = 1.0 / (1.0 + np.exp(-(X @ np.asarray(w, dtype=float))))
                    return X.T @ (counts * (p - y)) / counts.sum()
            """),
        },
        "ex4_momentum": {
            "torch tensors inside, NumPy arrays in and out": answer("""
                def sgd_momentum(w, dw, state=None, *, lr=1e-3, momentum):
                    \"\"\"torch.optim.SGD(momentum=momentum): v = dw on the first step, then v = momentum * v + dw; w
                    - lr * v.
                    \"\"\"
                    grad = torch.tensor(np.asarray(dw, dtype=float), dtype=torch.float64)   # a copy
                    if state is None:
                        velocity = grad
                    else:
                        velocity = torch.as_tensor(state["velocity"], dtype=torch.float64) * momentum + grad
                    w_new = torch.as_tensor(np.asarray(w, dtype=float)) - lr * velocity
                    return w_new.numpy(), {"velocity": velocity.numpy()}
            """),
            "the state is the velocity array itself, no dict": answer("""
                def sgd_momentum(w, dw, state=None, *, lr=1e-3, momentum):
                    \"\"\"torch.optim.SGD(momentum=momentum): v = dw on the first step, then v = momentum * v + dw; w
                    - lr * v.
                    \"\"\"
                    grad = np.array(dw, dtype=float)   # a copy: the velocity must not share the caller's dw
                    velocity = grad if state is None else momentum * state + grad
                    return np.asarray(w, dtype=float) - lr * velocity, velocity
            """),
            "velocity in step units, v = momentum v + lr dw from zero, in a list": answer("""
                def sgd_momentum(w, dw, state=None, *, lr=1e-3, momentum):
                    \"\"\"torch.optim.SGD(momentum=momentum): v = dw on the first step, then v = momentum * v + dw; w
                    - lr * v.
                    \"\"\"
                    w = np.asarray(w, dtype=float)
                    step = np.zeros_like(w) if state is None else state[0]
                    step = momentum * step + lr * np.asarray(dw, dtype=float)   # lr * v, while lr stays fixed
                    return w - step, [step]
            """),
        },
        "ex5_rmsprop": {
            "running average as s + (1 - alpha) (dw^2 - s), state built with np.zeros_like": answer("""
                def rmsprop(w, dw, state=None, *, lr=1e-2, alpha=0.99, eps=1e-8):
                    \"\"\"torch.optim.RMSprop: s = alpha * s + (1 - alpha) * dw**2 (s starts at 0); w - lr * dw /
                    (sqrt(s) + eps).
                    \"\"\"
                    dw = np.array(dw, dtype=float)
                    s = np.zeros_like(dw) if state is None else np.array(state["square_avg"], dtype=float)
                    s = s + (1 - alpha) * (np.square(dw) - s)
                    step = lr * dw / (np.sqrt(s) + eps)
                    return np.asarray(w, dtype=float) - step, {"square_avg": s}
            """),
        },
        "ex6_adam": {
            "torch's arrangement: step size lr / (1 - beta1^t), root divided by sqrt(1 - beta2^t)": answer("""
                def adam(w, dw, state=None, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                    \"\"\"torch.optim.Adam: bias-corrected first and second moments, eps added to the corrected root.
                    \"\"\"
                    g = np.asarray(dw, dtype=float)
                    if state is None:
                        t, m, v = 1, (1 - beta1) * g, (1 - beta2) * g ** 2
                    else:
                        t = state["step"] + 1
                        m = beta1 * state["m"] + (1 - beta1) * g
                        v = beta2 * state["v"] + (1 - beta2) * g ** 2
                    step_size = lr / (1 - beta1 ** t)
                    denom = np.sqrt(v) / np.sqrt(1 - beta2 ** t) + eps
                    return np.asarray(w, dtype=float) - step_size * m / denom, {"step": t, "m": m, "v": v}
            """),
            "the state as a tuple (t, m, v), moments started at zero": answer("""
                def adam(w, dw, state=None, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                    \"\"\"torch.optim.Adam: bias-corrected first and second moments, eps added to the corrected root.
                    \"\"\"
                    g = np.asarray(dw, dtype=float)
                    t, m, v = (0, np.zeros_like(g), np.zeros_like(g)) if state is None else state
                    t, m, v = t + 1, beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * np.square(g)
                    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
                    return np.asarray(w, dtype=float) - lr * m_hat / (np.sqrt(v_hat) + eps), (t, m, v)
            """),
        },
        "ex7_train": {
            "an index array shuffled in place each epoch, batches listed first, clipped logs": answer("""
                def train_minibatch(w0, X, y, *, gradient, optimizer, batch_size, epochs, rng, **settings):
                    \"\"\"Mini-batch training: a permutation per epoch, batches of batch_size (last one shorter).\"\"\"
                    X, y = np.asarray(X), np.asarray(y)

                    def loss(w):
                        p = np.clip(1.0 / (1.0 + np.exp(-(X @ w))), 1e-12, 1 - 1e-12)
                        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

                    w = np.copy(w0)
                    history = [loss(w)]
                    index = np.arange(len(y))
                    opt_state = None
                    for _ in range(epochs):
                        rng.shuffle(index)   # in place: a new order every epoch
                        batches = [index[k:k + batch_size] for k in range(0, len(index), batch_size)]
                        for b in batches:
                            w, opt_state = optimizer(w, gradient(w, X, y, b), opt_state, **settings)
                        history.append(loss(w))
                    return w, np.asarray(history, dtype=float)
            """),
            "a while loop over the batch starts, torch for the loss, a list of losses": answer("""
                def train_minibatch(w0, X, y, *, gradient, optimizer, batch_size, epochs, rng, **settings):
                    \"\"\"Mini-batch training: a permutation per epoch, batches of batch_size (last one shorter).\"\"\"
                    X = np.asarray(X, dtype=np.float64)
                    y = np.asarray(y, dtype=np.float64)
                    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
                    loss = lambda w: torch.nn.functional.binary_cross_entropy_with_logits(
                        Xt @ torch.as_tensor(np.asarray(w, dtype=np.float64)), yt).item()
                    w, state = np.asarray(w0, dtype=np.float64).copy(), None
                    losses = [loss(w)]
                    for epoch in range(epochs):
                        perm = rng.permutation(len(X))
                        start = 0
                        while start < len(X):
                            stop = min(start + batch_size, len(X))
                            w, state = optimizer(w, gradient(w, X, y, perm[start:stop]), state, **settings)
                            start = stop
                        losses.append(loss(w))
                    return w, losses
            """),
        },
    },
    "03-backprop": {
        "ex1_chain_rule": {
            "inner functions named, outer derivative times inner derivative; a float coefficient": answer("""
                # Define dz_dx and dz_dy (SymPy expressions in x, y, fprime, gprime), then dh_dx1 and dh_dx2.
                inner_f, inner_g = x + 3 * y, 5 * x + y           # z = 2 f(inner_f) + 6 g(inner_g)
                dz_dx = 2 * fprime(inner_f) * 1 + 6 * gprime(inner_g) * 5
                dz_dy = 2 * fprime(inner_f) * 3 + 6 * gprime(inner_g) * 1
                # srepr writes a float as Float('1.0', precision=53): the judge must read it
                dh_dx1 = sympy.cos(x1) + 1.0 * x2
                dh_dx2 = 1.0 * x1
            """),
        },
        "ex2_value_ops": {
            "a.grad = a.grad + ... via a helper; tanh' as 1 / cosh^2; exp recomputed": answer("""
                def value_mul(a, b):
                    \"\"\"a * b as a graph node with its backward closure.\"\"\"
                    out = Value(a.data * b.data, (a, b), "*")

                    def _backward():
                        for node, other in ((a, b), (b, a)):
                            node.grad = node.grad + other.data * out.grad

                    out._backward = _backward
                    return out


                def value_tanh(a):
                    \"\"\"tanh(a) as a graph node with its backward closure.\"\"\"
                    out = Value(np.tanh(a.data), (a,), "tanh")

                    def _backward():
                        a.grad += out.grad / np.cosh(a.data) ** 2

                    out._backward = _backward
                    return out


                def value_exp(a):
                    \"\"\"exp(a) as a graph node with its backward closure.\"\"\"
                    out = Value(np.exp(a.data), (a,), "exp")

                    def _backward():
                        local = np.exp(a.data)
                        a.grad = a.grad + local * out.grad

                    out._backward = _backward
                    return out
            """),
        },
        "ex3_topo_sort": {
            "iterative depth-first search with an explicit stack": answer("""
                def topological_order(root):
                    \"\"\"Every node of root's graph once, children before the nodes computed from them.\"\"\"
                    order, done, stack = [], set(), [(root, False)]
                    while stack:
                        node, children_done = stack.pop()
                        if children_done:
                            if id(node) not in done:
                                done.add(id(node))
                                order.append(node)
                            continue
                        if id(node) in done:
                            continue
                        stack.append((node, True))
                        for child in node._children:
                            if id(child) not in done:
                                stack.append((child, False))
                    return order
            """),
            "Kahn's algorithm: leaves first, a node once all its children are listed, as a tuple": answer("""
                def topological_order(root):
                    \"\"\"Every node of root's graph once, children before the nodes computed from them.\"\"\"
                    nodes, parents, todo = {}, {}, [root]
                    while todo:                                   # collect the graph
                        node = todo.pop()
                        if id(node) in nodes:
                            continue
                        nodes[id(node)] = node
                        for child in node._children:
                            parents.setdefault(id(child), []).append(node)
                            todo.append(child)
                    waiting = {key: len({id(c) for c in n._children}) for key, n in nodes.items()}
                    ready = [n for key, n in nodes.items() if waiting[key] == 0]
                    order = []
                    while ready:
                        node = ready.pop()
                        order.append(node)
                        for parent in {id(p): p for p in parents.get(id(node), [])}.values():
                            waiting[id(parent)] -= 1
                            if waiting[id(parent)] == 0:
                                ready.append(parent)
                    return tuple(order)
            """),
        },
        "ex5_logistic": {
            "np.mean over the rows, a stable sigmoid through tanh": answer("""
                def logistic_regression_gradient(w, b, X, y):
                    \"\"\"Gradient of the mean binary cross-entropy of sigmoid(X @ w + b).\"\"\"
                    y_hat = 0.5 * (1 + np.tanh(0.5 * (X @ w + b)))
                    residual = (y_hat - y)[:, None]               # (N, 1)
                    return np.mean(residual * X, axis=0), np.mean(residual)
            """),
        },
        "ex4_affine_backward": {
            "np.einsum for the three gradients, flattened with len(x)": answer("""
                def affine_backward(dout, cache):
                    \"\"\"dout: (N, M); cache = (x: (N, D) or (N, d1, ..., dk), w: (D, M)).\"\"\"
                    x, w = cache
                    flat = x.reshape(len(x), -1)
                    dx = np.einsum("nm,dm->nd", dout, w).reshape(x.shape)
                    dw = np.einsum("nd,nm->dm", flat, dout)
                    db = np.einsum("nm->m", dout)
                    return dx, dw, db
            """),
            "a loop over the examples, one outer product each": answer("""
                def affine_backward(dout, cache):
                    \"\"\"dout: (N, M); cache = (x: (N, D) or (N, d1, ..., dk), w: (D, M)).\"\"\"
                    x, w = cache
                    dx, dw, db = np.zeros(x.shape), np.zeros(w.shape), np.zeros(w.shape[1])
                    for n in range(x.shape[0]):
                        dx[n] = (w @ dout[n]).reshape(x.shape[1:])
                        dw += np.outer(x[n].ravel(), dout[n])
                        db += dout[n]
                    return dx, dw, db
            """),
        },
        "ex6_deltas": {
            "the library's layers for the forward pass, deltas by np.einsum": answer("""
                def sigmoid_network_backward(x, t, W1, b1, W2, b2):
                    \"\"\"Deltas and weight gradients of E = 1/2 sum (t - o)^2.\"\"\"
                    h, _ = np_layers.sigmoid_forward(x @ W1 + b1)
                    o, _ = np_layers.sigmoid_forward(h @ W2 + b2)
                    dE_do = o - t
                    delta_out = -dE_do * (o - o ** 2)
                    delta_hid = np.einsum("nk,hk->nh", delta_out, W2) * h * (1 - h)
                    grads = []
                    for inputs, delta in ((x, delta_hid), (h, delta_out)):
                        grads += [np.einsum("nd,nh->dh", inputs, -delta), -np.sum(delta, axis=0)]
                    return (delta_out, delta_hid, *grads)
            """),
        },
        "ex7_train_mlp": {
            "one-hot targets, np.where for ReLU, float32 images, rng.shuffle and np.array_split": answer("""
                def two_layer_loss(params, X, y, *, affine_backward):
                    \"\"\"Mean softmax cross-entropy of affine - ReLU - affine, and its gradients.\"\"\"
                    a1, c1 = np_layers.affine_forward(X, params["W1"], params["b1"])
                    relu = a1 * (a1 > 0)
                    s, c2 = np_layers.affine_forward(relu, params["W2"], params["b2"])
                    p = np.exp(s - s.max(axis=1, keepdims=True))
                    p /= p.sum(axis=1, keepdims=True)
                    onehot = np.eye(s.shape[1])[y]
                    loss = -np.mean(np.log(np.sum(p * onehot, axis=1)))
                    d_relu, dW2, db2 = affine_backward((p - onehot) / len(X), c2)
                    _, dW1, db1 = affine_backward(np.where(relu > 0, d_relu, 0.0), c1)
                    return loss, dict(W1=dW1, b1=db1, W2=dW2, b2=db2)


                def train_two_layer(X, y, *, hidden, classes, lr, epochs, batch_size, rng, affine_backward):
                    \"\"\"Mini-batch SGD on two_layer_loss from He-initialised weights.\"\"\"
                    X = np.asarray(X, dtype=np.float32)
                    n_in = X.shape[1]
                    params = {"W1": rng.standard_normal((n_in, hidden)) * np.sqrt(2 / n_in),
                              "W2": rng.standard_normal((hidden, classes)) * np.sqrt(2 / hidden)}
                    params["b1"], params["b2"] = np.zeros(hidden), np.zeros(classes)
                    losses, index = [], np.arange(len(X))
                    for _ in range(epochs):
                        rng.shuffle(index)
                        for batch in np.array_split(index, int(np.ceil(len(X) / batch_size))):
                            loss, grads = two_layer_loss(params, X[batch], y[batch], affine_backward=affine_backward)
                            params = {k: v - lr * grads[k] for k, v in params.items()}
                            losses.append(loss)
                    return params, losses
            """),
        },
    },
    "04-training-deep-networks": {
        "ex2_init": {
            "uniform from 2 rng.random() - 1 scaled, normal from rng.standard_normal scaled": answer("""
                def xavier_uniform(n_in, n_out, *, rng):
                    \"\"\"(n_in, n_out) weights from U(-a, a), a = sqrt(6 / (n_in + n_out)).\"\"\"
                    a = np.sqrt(6.0 / (n_in + n_out))
                    return (2.0 * rng.random((n_in, n_out)) - 1.0) * a


                def he_normal(n_in, n_out, *, rng):
                    \"\"\"(n_in, n_out) weights from N(0, 2 / n_in).\"\"\"
                    return rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
            """),
        },
        "ex1_chain": {
            "each gradient as an explicit product along the chain": answer("""
                def chain_bias_gradients(w, b, x, t):
                    \"\"\"dC/db_l for l = 1..L of the one-neuron-per-layer sigmoid chain, C = (y - t)^2 / 2.\"\"\"
                    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
                    L = len(w)
                    outputs = np.empty(L)              # h_1 .. h_L
                    h = float(x)
                    for l in range(L):
                        h = 1.0 / (1.0 + np.exp(-(w[l] * h + b[l])))
                        outputs[l] = h
                    slopes = outputs * (1.0 - outputs)   # sigma'(a_l), from the outputs
                    y = outputs[-1]
                    # dC/db_l = (y - t) sigma'(a_L) w_L sigma'(a_{L-1}) ... w_{l+1} sigma'(a_l)
                    return np.array([(y - t) * slopes[l] * np.prod(w[l + 1:] * slopes[l + 1:]) for l in range(L)])
            """),
        },
        "ex3_dropout": {
            "mask drawn with rng.binomial, scaled mask as the cache": answer("""
                def dropout_forward(x, *, p, rng, train=True):
                    \"\"\"Inverted dropout. Returns (out, cache).\"\"\"
                    if not train or p == 0:
                        return x, None
                    mask = rng.binomial(1, 1 - p, size=x.shape).astype(float) / (1 - p)
                    return x * mask, mask


                def dropout_backward(dout, cache):
                    \"\"\"dx for dropout_forward's output gradient dout.\"\"\"
                    return dout if cache is None else dout * cache
            """),
            "mask from rng.uniform < 1 - p, cache (mask, p), np.where in the backward": answer("""
                def dropout_forward(x, *, p, rng, train=True):
                    \"\"\"Inverted dropout. Returns (out, cache).\"\"\"
                    if not train or p == 0:
                        return x, (None, p)
                    keep = rng.uniform(size=np.shape(x)) < 1 - p
                    return np.where(keep, x / (1 - p), 0.0), (keep, p)


                def dropout_backward(dout, cache):
                    \"\"\"dx for dropout_forward's output gradient dout.\"\"\"
                    keep, p = cache
                    if keep is None:
                        return dout
                    return np.where(keep, dout / (1 - p), 0.0)
            """),
        },
        "ex5_bn_backward": {
            "staged: dx_hat, then dx = inv_std (dx_hat - mean(dx_hat) - x_hat mean(dx_hat x_hat))": answer("""
                def batchnorm_backward(dout, cache):
                    \"\"\"Gradients of batchnorm_forward: (dx, dgamma, dbeta).\"\"\"
                    x_hat, gamma, inv_std = cache
                    dbeta = np.sum(dout, axis=0)
                    dgamma = np.sum(dout * x_hat, axis=0)
                    dx_hat = dout * gamma
                    dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))
                    return dx, dgamma, dbeta
            """),
            "the N x N Jacobian of each feature, in a loop over the features": answer("""
                def batchnorm_backward(dout, cache):
                    \"\"\"Gradients of batchnorm_forward: (dx, dgamma, dbeta).\"\"\"
                    x_hat, gamma, inv_std = cache
                    N, D = dout.shape
                    dx = np.empty((N, D))
                    for d in range(D):
                        # d x_hat[i] / d x[j] = inv_std (delta_ij - 1/N - x_hat[i] x_hat[j] / N)
                        jacobian = inv_std[d] * (np.eye(N) - 1.0 / N - np.outer(x_hat[:, d], x_hat[:, d]) / N)
                        dx[:, d] = jacobian.T @ (gamma[d] * dout[:, d])
                    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
            """),
        },
        "ex6_residual": {
            "affine and ReLU backward written inline": answer("""
                def residual_backward(dout, cache):
                    \"\"\"Gradients of residual_forward: (dx, dw1, db1, dw2, db2).\"\"\"
                    affine1_cache, relu_cache, affine2_cache = cache
                    x, w1 = affine1_cache
                    hidden, w2 = affine2_cache
                    pre_activation = relu_cache
                    dw2, db2 = hidden.T @ dout, dout.sum(axis=0)
                    da = np.where(pre_activation > 0, dout @ w2.T, 0.0)
                    dw1, db1 = x.T @ da, da.sum(axis=0)
                    dx = dout + da @ w1.T          # the skip path adds dout itself
                    return dx, dw1, db1, dw2, db2
            """),
        },
        "ex7_weight_decay": {
            "a dict comprehension, the penalty's gradient added to the data gradient, len(shape)": answer("""
                def sgd_weight_decay_step(params, grads, lr, weight_decay):
                    \"\"\"One SGD step on L + weight_decay / 2 * (squared norms of the arrays of 2+ dimensions).
                    params, grads: {name: array}. Returns a new dict {name: new array}.\"\"\"
                    def penalty_gradient(theta):
                        return weight_decay * theta if len(np.shape(theta)) > 1 else np.zeros_like(theta)

                    return {name: theta - lr * (grads[name] + penalty_gradient(theta))
                            for name, theta in params.items()}
            """),
        },
        "ex8_early_stopping": {
            "a while loop with a waiting counter, zero_grad after the step, inference_mode, cloned tensors": answer("""
                def fit_early_stopping(model, train_loader, val_loader, *, optimizer, device, max_epochs, patience,
                                       loss_fn=nn.functional.cross_entropy):
                    \"\"\"Train with early stopping on the validation loss; the model ends with its best
                    epoch's weights. Returns {"train_loss": [...], "val_loss": [...], "val_acc": [...],
                    "best_epoch": b (from 1)}.\"\"\"
                    model = model.to(device)
                    train_losses, val_losses, val_accuracies = [], [], []
                    best_loss, best_epoch, best_weights, waited, epoch = None, 0, None, 0, 0
                    while epoch < max_epochs and waited < patience:
                        epoch += 1
                        model.train()
                        batch_losses = []
                        for inputs, labels in train_loader:
                            batch_loss = loss_fn(model(inputs.to(device)), labels.to(device))
                            batch_loss.backward()
                            optimizer.step()
                            optimizer.zero_grad(set_to_none=True)  # the next backward starts from nothing
                            batch_losses.append(batch_loss.item())
                        model.eval()
                        with torch.inference_mode():
                            pairs = [(model(inputs.to(device)), labels.to(device)) for inputs, labels in val_loader]
                            logits = torch.cat([out for out, _ in pairs])
                            targets = torch.cat([t for _, t in pairs])
                            val_loss = loss_fn(logits, targets).item()
                            val_accuracy = (logits.argmax(dim=1) == targets).float().mean().item()
                        train_losses.append(sum(batch_losses) / len(batch_losses))  # batches of one size
                        val_losses.append(val_loss)
                        val_accuracies.append(val_accuracy)
                        if best_loss is None or val_loss < best_loss:
                            best_loss, best_epoch, waited = val_loss, epoch, 0
                            best_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
                        else:
                            waited += 1
                    model.load_state_dict(best_weights)
                    return {"train_loss": train_losses, "val_loss": val_losses, "val_acc": val_accuracies,
                            "best_epoch": best_epoch}
            """),
        },
    },
    "05-convolution": {
        "ex2_output_size": {
            "the length of the range of window starts; a while loop over the stack": answer("""
                def conv_output_size(h, k, stride=1, pad=0, dilation=1):
                    \"\"\"How many positions a window of k taps, dilation apart, takes along an axis of size h.\"\"\"
                    last_tap = (k - 1) * dilation          # offset of the last tap from the first
                    last_start = h + 2 * pad - 1 - last_tap  # the last row a window may start on
                    if last_start < 0:
                        raise ValueError(f"kernel {k} at dilation {dilation} is wider than {h} + 2 * {pad}")
                    return len(range(0, last_start + 1, stride))


                def stack_output_sizes(h, layers):
                    \"\"\"Sizes after each layer of a stack of dicts of conv_output_size's keyword arguments.\"\"\"
                    sizes, i = [], 0
                    while i < len(layers):
                        settings = dict(stride=1, pad=0, dilation=1) | layers[i]
                        if (settings["k"] - 1) * settings["dilation"] + 1 > h + 2 * settings["pad"]:
                            raise ValueError(f"layer {i} does not fit: it receives {h} pixels")
                        h = conv_output_size(h, settings["k"], stride=settings["stride"], pad=settings["pad"],
                                             dilation=settings["dilation"])
                        sizes.append(h)
                        i += 1
                    return sizes
            """),
        },
        "ex8_tiny_cnn": {
            "rows-first product, pooling by strided slices, einsum, float32 SGD over rng.shuffle": answer("""
                def tiny_cnn_loss(params, x, y, im2col, pool_backward):
                    \"\"\"Mean cross-entropy of conv 3x3 (pad 1), ReLU, 2x2 max pool, affine; and its gradients.\"\"\"
                    n, _, h, w = x.shape
                    f = params["w1"].shape[0]
                    cols_t = im2col(x, 3, 3, pad=1).T                              # (N*H*W, C*9)
                    pre = cols_t @ params["w1"].reshape(f, -1).T + params["b1"]    # (N*H*W, F)
                    pre = pre.reshape(n, h, w, f).transpose(0, 3, 1, 2)
                    relu = np.where(pre > 0, pre, 0.0)
                    pooled = np.maximum.reduce([relu[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)])
                    flat = pooled.reshape(n, -1)
                    scores = flat @ params["w2"] + params["b2"]
                    e = np.exp(scores - scores.max(axis=1, keepdims=True))
                    p = e / e.sum(axis=1, keepdims=True)
                    loss = -np.mean(np.log(p[np.arange(n), y]))
                    onehot = np.eye(scores.shape[1])[y]
                    g_scores = (p - onehot) / n
                    g_pooled = (g_scores @ params["w2"].T).reshape(pooled.shape)
                    g_pre = np.where(pre > 0, pool_backward(g_pooled, relu), 0.0)      # (N, F, H, W)
                    g_rows = g_pre.transpose(0, 2, 3, 1).reshape(-1, f)               # (N*H*W, F), cols_t's rows
                    return loss, {"w1": np.einsum("rf,rk->fk", g_rows, cols_t).reshape(params["w1"].shape),
                                  "b1": np.einsum("nfij->f", g_pre),
                                  "w2": np.einsum("nd,nk->dk", flat, g_scores),
                                  "b2": g_scores.sum(axis=0)}


                def train_tiny_cnn(params, x, y, im2col, pool_backward, *, epochs, batch_size, lr, rng):
                    \"\"\"Mini-batch SGD on tiny_cnn_loss, reshuffled every epoch: (params, mean loss per epoch).\"\"\"
                    weights = {key: np.array(value, dtype=np.float32) for key, value in params.items()}
                    index = np.arange(len(x))
                    curve = []
                    for _ in range(epochs):
                        rng.shuffle(index)
                        batch_losses = []
                        i = 0
                        while i < len(index):
                            rows = index[i:i + batch_size]
                            value, gradients = tiny_cnn_loss(weights, x[rows], y[rows], im2col, pool_backward)
                            for key, gradient in gradients.items():
                                weights[key] = (weights[key] - lr * gradient).astype(np.float32)
                            batch_losses.append(value)
                            i += batch_size
                        curve.append(float(np.mean(batch_losses)))
                    return weights, curve
            """),
        },
        "ex7_counts": {
            "output positions counted with math.floor, weights from a shape tuple": answer("""
                import math


                def conv_layer_counts(c_in, h, w, n_filters, k, stride=1, pad=0):
                    \"\"\"(weights, biases, multiply_adds) of a conv layer on one (c_in, h, w) input.\"\"\"
                    weights = math.prod((n_filters, c_in, k, k))
                    oh = math.floor((h + 2 * pad - k) / stride) + 1
                    ow = math.floor((w + 2 * pad - k) / stride) + 1
                    return weights, n_filters, n_filters * oh * ow * (weights // n_filters)
            """),
        },
        "ex1_by_hand": {
            "shift and add: a loop over the kernel offsets, np.flip for the convolution": answer("""
                def correlate2d(x, w):
                    \"\"\"Valid 2-D cross-correlation of x (H, W) with w (KH, KW).\"\"\"
                    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
                    kh, kw = w.shape
                    oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
                    out = np.zeros((oh, ow))
                    for u in range(kh):
                        for v in range(kw):
                            out += w[u, v] * x[u:u + oh, v:v + ow]
                    return out


                def convolve2d(x, w):
                    \"\"\"Valid 2-D convolution (kernel flipped in both directions) of x (H, W) with w (KH, KW).\"\"\"
                    return correlate2d(x, np.flip(np.asarray(w)))
            """),
        },
        "ex3_conv_forward": {
            "sliding_window_view and np.einsum": answer("""
                def conv2d_forward_naive(x, w, b, stride=1, pad=0):
                    \"\"\"Cross-correlation of a batch with F filters, plus a bias per filter.\"\"\"
                    N, C, H, W = x.shape
                    n_filters, _, KH, KW = w.shape
                    xp = np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
                    windows = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))
                    windows = windows[:, :, ::stride, ::stride]          # (N, C, OH, OW, KH, KW)
                    out = np.einsum("ncijhw,fchw->nfij", windows, np.asarray(w, dtype=float))
                    return out + np.asarray(b, dtype=float)[None, :, None, None]
            """),
            "im2col by hand and one matrix product": answer("""
                def conv2d_forward_naive(x, w, b, stride=1, pad=0):
                    \"\"\"Cross-correlation of a batch with F filters, plus a bias per filter.\"\"\"
                    N, C, H, W = x.shape
                    n_filters, _, KH, KW = w.shape
                    OH, OW = (H + 2 * pad - KH) // stride + 1, (W + 2 * pad - KW) // stride + 1
                    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
                    rows = np.empty((N, OH, OW, C * KH * KW))
                    for i in range(OH):
                        for j in range(OW):
                            window = xp[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
                            rows[:, i, j] = window.reshape(N, -1)
                    out = rows @ w.reshape(n_filters, -1).T + b        # (N, OH, OW, F)
                    return out.transpose(0, 3, 1, 2)
            """),
        },
        "ex4_conv_backward": {
            "vectorised: window gradients by np.einsum, scattered back with np.add.at": answer("""
                def conv2d_backward_naive(dout, x, w, stride=1, pad=0):
                    \"\"\"Gradients of conv2d_forward_naive with respect to x, w and b.\"\"\"
                    N, C, H, W = x.shape
                    n_filters, _, KH, KW = w.shape
                    _, _, OH, OW = dout.shape
                    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
                    windows = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))
                    windows = windows[:, :, ::stride, ::stride][:, :, :OH, :OW]      # (N, C, OH, OW, KH, KW)
                    dw = np.einsum("nfij,ncijhw->fchw", dout, windows)
                    db = np.einsum("nfij->f", dout)
                    dwindows = np.einsum("nfij,fchw->ncijhw", dout, w)
                    rows = (np.arange(OH) * stride)[:, None, None, None] + np.arange(KH)[None, None, :, None]
                    cols = (np.arange(OW) * stride)[None, :, None, None] + np.arange(KW)[None, None, None, :]
                    dxp = np.zeros(xp.shape)
                    np.add.at(dxp, (slice(None), slice(None), rows, cols), dwindows)
                    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db
            """),
            "loop over the kernel offsets with strided slices": answer("""
                def conv2d_backward_naive(dout, x, w, stride=1, pad=0):
                    \"\"\"Gradients of conv2d_forward_naive with respect to x, w and b.\"\"\"
                    N, C, H, W = x.shape
                    n_filters, _, KH, KW = w.shape
                    _, _, OH, OW = dout.shape
                    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
                    dxp = np.zeros_like(xp)
                    dw = np.zeros_like(w)
                    for u in range(KH):
                        for v in range(KW):
                            # every output position (i, j) saw xp[..., u + i*stride, v + j*stride] through w[..., u, v]
                            patch = xp[:, :, u:u + stride * (OH - 1) + 1:stride, v:v + stride * (OW - 1) + 1:stride]
                            dw[:, :, u, v] = np.tensordot(dout, patch, axes=([0, 2, 3], [0, 2, 3]))
                            dxp[:, :, u:u + stride * (OH - 1) + 1:stride, v:v + stride * (OW - 1) + 1:stride] += \\
                                np.tensordot(dout, w[:, :, u, v], axes=([1], [0])).transpose(0, 3, 1, 2)
                    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
            """),
        },
        "ex5_im2col": {
            "sliding_window_view, transpose, reshape": answer("""
                def im2col(x, kh, kw, stride=1, pad=0):
                    \"\"\"Windows of x (N, C, H, W) as the columns of a (C*kh*kw, N*OH*OW) matrix.\"\"\"
                    N, C, H, W = x.shape
                    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
                    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
                    windows = windows[:, :, ::stride, ::stride]                  # (N, C, OH, OW, kh, kw)
                    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * kh * kw, -1)
            """),
            "fancy indexing with precomputed row, column and channel indices": answer("""
                def im2col(x, kh, kw, stride=1, pad=0):
                    \"\"\"Windows of x (N, C, H, W) as the columns of a (C*kh*kw, N*OH*OW) matrix.\"\"\"
                    N, C, H, W = x.shape
                    OH, OW = conv_output_size(H, kh, stride, pad), conv_output_size(W, kw, stride, pad)
                    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
                    channel = np.repeat(np.arange(C), kh * kw)[:, None]                       # (C*kh*kw, 1)
                    row = (np.tile(np.repeat(np.arange(kh), kw), C)[:, None]          # offset in the window
                           + stride * np.repeat(np.arange(OH), OW)[None, :])           # + the window's top row
                    col = (np.tile(np.arange(kw), kh * C)[:, None]
                           + stride * np.tile(np.arange(OW), OH)[None, :])
                    gathered = xp[:, channel, row, col]                                      # (N, C*kh*kw, OH*OW)
                    return gathered.transpose(1, 0, 2).reshape(C * kh * kw, N * OH * OW)
            """),
        },
        "ex6_maxpool_backward": {
            "vectorised: first argmax of each window, routed with np.add.at": answer("""
                def maxpool2d_backward(dout, x, size=2, stride=2):
                    \"\"\"Gradient of max pooling: each window's upstream gradient goes to its argmax.\"\"\"
                    N, C, H, W = x.shape
                    _, _, OH, OW = dout.shape
                    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))
                    windows = windows[:, :, ::stride, ::stride][:, :, :OH, :OW]           # (N, C, OH, OW, size, size)
                    first = windows.reshape(N, C, OH, OW, size * size).argmax(axis=-1)    # the first maximum, as torch
                    rows = np.arange(OH)[:, None] * stride + first // size
                    cols = np.arange(OW)[None, :] * stride + first % size
                    n = np.arange(N)[:, None, None, None]
                    c = np.arange(C)[None, :, None, None]
                    dx = np.zeros(x.shape)
                    np.add.at(dx, (n, c, rows, cols), dout)
                    return dx
            """),
            "a running maximum with a strict >, output size from the formula": answer("""
                def maxpool2d_backward(dout, x, size=2, stride=2):
                    \"\"\"Gradient of max pooling: each window's upstream gradient goes to its argmax.\"\"\"
                    N, C, H, W = x.shape
                    OH, OW = (H - size) // stride + 1, (W - size) // stride + 1
                    dx = np.zeros(x.shape)
                    for n in range(N):
                        for c in range(C):
                            for i in range(OH):
                                for j in range(OW):
                                    best, where = None, None
                                    for u in range(i * stride, i * stride + size):
                                        for v in range(j * stride, j * stride + size):
                                            if best is None or x[n, c, u, v] > best:   # strict: the first maximum stays
                                                best, where = x[n, c, u, v], (u, v)
                                    dx[n, c, where[0], where[1]] += dout[n, c, i, j]
                    return dx
            """),
            "loop over positions, tie broken with a boolean mask and its first True": answer("""
                def maxpool2d_backward(dout, x, size=2, stride=2):
                    \"\"\"Gradient of max pooling: each window's upstream gradient goes to its argmax.\"\"\"
                    N, C, H, W = x.shape
                    _, _, OH, OW = dout.shape
                    dx = np.zeros_like(x, dtype=float)
                    for i in range(OH):
                        for j in range(OW):
                            window = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
                            is_max = window == window.max(axis=(2, 3), keepdims=True)
                            flat = is_max.reshape(N, C, -1)
                            first = flat & (np.cumsum(flat, axis=2) == 1)     # only the first maximum
                            dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += (
                                first.reshape(window.shape) * dout[:, :, i, j][:, :, None, None])
                    return dx
            """),
        },
    },
    "06-rnn-lstm": {
        "ex1_rnn_step": {
            "float32, np.einsum, the recurrent term as (Wh.T @ h_prev.T).T": answer("""
                def rnn_step(x, h_prev, Wx, Wh, b):
                    \"\"\"h = tanh(x @ Wx + h_prev @ Wh + b).\"\"\"
                    x, h_prev = np.asarray(x, dtype=np.float32), np.asarray(h_prev, dtype=np.float32)
                    recurrent = (np.asarray(Wh, dtype=np.float32).T @ h_prev.T).T   # the same as h_prev @ Wh
                    return np.tanh(np.einsum("nd,dh->nh", x, np.asarray(Wx, dtype=np.float32)) + recurrent
                                   + np.asarray(b, dtype=np.float32)).astype(np.float64)
            """),
        },
        "ex3_clip_gradients": {
            "one flat float64 vector by torch.cat, torch.linalg.vector_norm, clamp for the factor, in place": answer("""
                def clip_gradients(grads, max_norm):
                    \"\"\"Rescale the tensors of grads together so that their global L2 norm is at most max_norm.
                    Returns (clipped: a list of tensors, total_norm: a float, the norm before clipping).\"\"\"
                    flat = torch.cat([g.detach().reshape(-1).to(torch.float64) for g in grads])
                    total = torch.linalg.vector_norm(flat)
                    factor = torch.clamp(max_norm / (total + 1e-6), max=1.0)     # torch's own epsilon
                    for g in grads:
                        g.mul_(factor.to(g.dtype))
                    return grads, float(total)
            """),
            "a plain loop over the entries' squares in Python floats": answer("""
                def clip_gradients(grads, max_norm):
                    \"\"\"Rescale the tensors of grads together so that their global L2 norm is at most max_norm.
                    Returns (clipped: a list of tensors, total_norm: a float, the norm before clipping).\"\"\"
                    squares = 0.0
                    for g in grads:
                        squares += float((g.double() * g.double()).sum())
                    norm = squares ** 0.5
                    if norm <= max_norm:
                        return [g.clone() for g in grads], norm
                    return [g / (norm / max_norm) for g in grads], norm
            """),
        },
        "ex4_lstm_step": {
            "np.split into four, sigmoid written through tanh, the two products computed apart": answer("""
                def lstm_step(x, h_prev, c_prev, Wx, Wh, b):
                    \"\"\"One LSTM step, gate blocks in torch's order i, f, g, o. Returns (h, c), each (N, H).\"\"\"
                    ai, af, ag, ao = np.split(x @ Wx + h_prev @ Wh + b, 4, axis=1)
                    logistic = lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))
                    kept = logistic(af) * c_prev
                    written = logistic(ai) * np.tanh(ag)
                    cell = kept + written
                    return logistic(ao) * np.tanh(cell), cell
            """),
            "float32, blocks by reshape to (N, 4, H), np.einsum, a list returned": answer("""
                def lstm_step(x, h_prev, c_prev, Wx, Wh, b):
                    \"\"\"One LSTM step, gate blocks in torch's order i, f, g, o. Returns (h, c), each (N, H).\"\"\"
                    x, h_prev, c_prev, Wx, Wh, b = (np.asarray(v, dtype=np.float32)
                                                    for v in (x, h_prev, c_prev, Wx, Wh, b))
                    a = np.einsum("nd,dk->nk", x, Wx) + np.einsum("nh,hk->nk", h_prev, Wh) + b
                    blocks = a.reshape(len(a), 4, -1)                            # (N, 4, H)
                    squash = lambda z: 1.0 / (1.0 + np.exp(-z))
                    c = squash(blocks[:, 1]) * c_prev + squash(blocks[:, 0]) * np.tanh(blocks[:, 2])
                    return [squash(blocks[:, 3]) * np.tanh(c), c]
            """),
        },
        "ex2_bptt": {
            "two passes: the deltas backwards through time, then the weight gradients by np.einsum": answer("""
                def rnn_backward(dh, cache):
                    \"\"\"Back-propagation through time over the step caches of np_rnn.rnn_forward.\"\"\"
                    N, T, H = dh.shape
                    D = cache[0][0].shape[1]  # a step cache starts with that step's x: (N, D)
                    Wx, Wh = cache[0][2], cache[0][3]
                    xs = np.stack([step[0] for step in cache], axis=1)        # (N, T, D)
                    h_prevs = np.stack([step[1] for step in cache], axis=1)   # (N, T, H)
                    hs = np.stack([step[4] for step in cache], axis=1)        # (N, T, H)
                    da = np.zeros((N, T, H))
                    from_later = np.zeros((N, H))
                    t = T - 1
                    while t >= 0:
                        da[:, t] = (dh[:, t] + from_later) * (1.0 - hs[:, t] ** 2)
                        from_later = da[:, t] @ Wh.T
                        t -= 1
                    dx = np.einsum("nth,dh->ntd", da, Wx)
                    dWx = np.einsum("ntd,nth->dh", xs, da)
                    dWh = np.einsum("ntk,nth->kh", h_prevs, da)
                    db = da.sum(axis=(0, 1))
                    return dx, from_later, dWx, dWh, db
            """),
        },
        "ex5_lstm_backward": {
            "per-example loop with outer products, gate gradients in a preallocated da": answer("""
                def lstm_step_backward(dh, dc, cache):
                    \"\"\"Gradients of one LSTM step: (dx, dh_prev, dc_prev, dWx, dWh, db).\"\"\"
                    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c = cache
                    N, H = h_prev.shape
                    dx, dh_prev, dc_prev = np.zeros_like(x), np.zeros_like(h_prev), np.zeros_like(c_prev)
                    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H)
                    for n in range(N):
                        dcell = dc[n] + dh[n] * o[n] * (1.0 - tanh_c[n] ** 2)   # both paths into c
                        da = np.empty(4 * H)
                        da[:H] = dcell * g[n] * i[n] * (1.0 - i[n])
                        da[H:2 * H] = dcell * c_prev[n] * f[n] * (1.0 - f[n])
                        da[2 * H:3 * H] = dcell * i[n] * (1.0 - g[n] ** 2)
                        da[3 * H:] = dh[n] * tanh_c[n] * o[n] * (1.0 - o[n])
                        dx[n] = Wx @ da
                        dh_prev[n] = Wh @ da
                        dc_prev[n] = dcell * f[n]
                        dWx += np.outer(x[n], da)
                        dWh += np.outer(h_prev[n], da)
                        db += da
                    return dx, dh_prev, dc_prev, dWx, dWh, db
            """),
        },
        "ex6_torch_lstm": {
            "bias split in halves between bias_ih and bias_hh, weights set through the state dict": answer("""
                def to_torch_lstm(Wx, Wh, b):
                    \"\"\"An nn.LSTM(batch_first=True, float64) computing the same function as these weights.\"\"\"
                    D, H = Wx.shape[0], Wh.shape[0]
                    lstm = nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
                    half = torch.as_tensor(np.asarray(b, dtype=float) / 2)      # halving is exact: half + half == b
                    lstm.load_state_dict({
                        "weight_ih_l0": torch.as_tensor(np.ascontiguousarray(np.asarray(Wx, dtype=float).T)),
                        "weight_hh_l0": torch.as_tensor(np.ascontiguousarray(np.asarray(Wh, dtype=float).T)),
                        "bias_ih_l0": half.clone(),
                        "bias_hh_l0": half.clone(),
                    })
                    return lstm
            """),
        },
        "ex7_gru": {
            "torch tensors, gates split with chunk, h = n + z (h_prev - n)": answer("""
                def gru_step(x, h_prev, Wx, Wh, bx, bh):
                    \"\"\"One step of torch.nn.GRUCell with weights Wx (D, 3H), Wh (H, 3H), gate order r, z, n.\"\"\"
                    as_t = lambda a: torch.as_tensor(np.asarray(a, dtype=float), dtype=torch.float64)
                    h = as_t(h_prev)
                    r_x, z_x, n_x = (as_t(x) @ as_t(Wx) + as_t(bx)).chunk(3, dim=1)
                    r_h, z_h, n_h = (h @ as_t(Wh) + as_t(bh)).chunk(3, dim=1)
                    r = torch.sigmoid(r_x + r_h)
                    z = torch.sigmoid(z_x + z_h)
                    n = torch.tanh(n_x + r * n_h)
                    return (n + z * (h - n)).numpy()
            """),
            "NumPy, gates by np.split, h = h_prev + (1 - z) (n - h_prev)": answer("""
                def gru_step(x, h_prev, Wx, Wh, bx, bh):
                    \"\"\"One step of torch.nn.GRUCell with weights Wx (D, 3H), Wh (H, 3H), gate order r, z, n.\"\"\"
                    xr, xz, xn = np.split(x @ Wx + bx, 3, axis=1)
                    hr, hz, hn = np.split(h_prev @ Wh + bh, 3, axis=1)
                    reset = 1.0 / (1.0 + np.exp(-(xr + hr)))
                    update = 1.0 / (1.0 + np.exp(-(xz + hz)))
                    candidate = np.tanh(xn + reset * hn)
                    return h_prev + (1.0 - update) * (candidate - h_prev)
            """),
            "float32 throughout": answer("""
                def gru_step(x, h_prev, Wx, Wh, bx, bh):
                    \"\"\"One step of torch.nn.GRUCell with weights Wx (D, 3H), Wh (H, 3H), gate order r, z, n.\"\"\"
                    x, h_prev, Wx, Wh, bx, bh = (np.asarray(v, dtype=np.float32) for v in (x, h_prev, Wx, Wh, bx, bh))
                    H = h_prev.shape[1]
                    ax, ah = x @ Wx + bx, h_prev @ Wh + bh
                    r = 1 / (1 + np.exp(-(ax[:, :H] + ah[:, :H])))
                    z = 1 / (1 + np.exp(-(ax[:, H:2 * H] + ah[:, H:2 * H])))
                    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
                    return (1 - z) * n + z * h_prev
            """),
        },
        "ex8_sample_next": {
            "torch.softmax per row, then the inverse of each row's cumulative distribution with torch.rand": answer("""
                def sample_next(logits, temperature, generator):
                    \"\"\"One index per row of logits (N, V), drawn from softmax(row / temperature).\"\"\"
                    scores = logits.detach().cpu().float()
                    if temperature <= 0:
                        return scores.argmax(dim=-1)
                    p = torch.softmax(scores / temperature, dim=-1)
                    u = torch.rand(len(p), 1, generator=generator)
                    k = torch.searchsorted(torch.cumsum(p, dim=-1), u)[:, 0]
                    return k.clamp_max(p.shape[1] - 1)
            """),
            "the Gumbel-max trick in float64, a NumPy array of indices returned": answer("""
                def sample_next(logits, temperature, generator):
                    \"\"\"One index per row of logits (N, V), drawn from softmax(row / temperature).\"\"\"
                    z = logits.detach().to("cpu", torch.float64)
                    if temperature == 0:
                        return torch.argmax(z, dim=1).numpy()
                    u = torch.rand(z.shape, generator=generator, dtype=torch.float64).clamp_min(1e-300)
                    return torch.argmax(z / temperature - torch.log(-torch.log(u)), dim=1).numpy()
            """),
            "a loop over the rows, one draw each, stacked": answer("""
                def sample_next(logits, temperature, generator):
                    \"\"\"One index per row of logits (N, V), drawn from softmax(row / temperature).\"\"\"
                    picked = []
                    for row in logits.detach().cpu().double():
                        if temperature == 0:
                            picked.append(row.argmax())
                            continue
                        w = torch.exp((row - row.max()) / temperature)
                        picked.append(torch.multinomial(w / w.sum(), 1, generator=generator)[0])
                    return torch.stack(picked)
            """),
        },
        "ex9_generate": {
            "a while loop, the text kept as a list of codes, the device read from the parameters each time": answer("""
                @torch.no_grad()
                def generate(model, seed, length, *, temperature, generator, sampler, alphabet, stop=""):
                    \"\"\"seed followed by up to `length` characters drawn one at a time, the state carried.\"\"\"
                    if not seed:
                        raise ValueError("an empty seed gives the model nothing to read")
                    model.train(False)
                    where = next(iter(model.parameters())).device
                    codes = [alphabet.index(ch) if ch in alphabet else alphabet.index("?") for ch in seed]
                    out, state = model(torch.tensor(codes, device=where).unsqueeze(0), None)
                    drawn = []
                    while len(drawn) < length:
                        k = sampler(out[:, -1], temperature, generator)
                        drawn.append(int(k.reshape(-1)[0]))
                        if alphabet[drawn[-1]] in stop:
                            break
                        out, state = model(torch.tensor([drawn[-1:]], device=where), state)
                    return seed + "".join(alphabet[k] for k in drawn)
            """),
            "keyword arguments everywhere, the whole text encoded once, the state fed by name": answer("""
                @torch.no_grad()
                def generate(model, seed, length, *, temperature, generator, sampler, alphabet, stop=""):
                    \"\"\"seed followed by up to `length` characters drawn one at a time, the state carried.\"\"\"
                    if seed == "":
                        raise ValueError("give generate a seed of one character or more")
                    model.eval()
                    device = next(model.parameters()).device
                    unknown = alphabet.index("?")
                    codes = torch.tensor([[alphabet.find(ch) if ch in alphabet else unknown for ch in seed]])
                    logits, state = model(codes=codes.to(device), state=None)
                    text = seed
                    for _ in range(length):
                        picked = sampler(logits[:, -1, :], temperature=temperature, generator=generator)
                        character = alphabet[int(torch.as_tensor(picked).reshape(-1)[0])]
                        text += character
                        if character in stop:
                            break
                        step = torch.tensor([[alphabet.index(character)]], device=device)
                        logits, state = model(codes=step, state=state)
                    return text
            """),
        },
    },
    "07-embeddings": {
        "ex1_cooccurrence": {
            "one pass per distance d: token pairs (t, t + d) counted both ways with np.add.at": answer("""
                def cooccurrence_matrix(sentences, *, window=1, vocab=None):
                    \"\"\"M[i, j]: how often vocab[j] is within `window` tokens of vocab[i] (either side, same
                    sentence).
                    \"\"\"
                    if vocab is None:
                        # in order of first appearance
                        vocab = list(dict.fromkeys(token for sentence in sentences for token in sentence))
                    index = {word: i for i, word in enumerate(vocab)}
                    M = np.zeros((len(vocab), len(vocab)))
                    for sentence in sentences:
                        ids = np.array([index.get(word, -1) for word in sentence], dtype=np.int64)
                        for d in range(1, window + 1):
                            left, right = ids[:max(len(ids) - d, 0)], ids[d:]  # d may exceed the length
                            both = (left >= 0) & (right >= 0)
                            np.add.at(M, (left[both], right[both]), 1)
                            np.add.at(M, (right[both], left[both]), 1)
                    return M, vocab
            """),
        },
        "ex2_ppmi": {
            "loop over the nonzero counts, sums of logs": answer("""
                def ppmi(M):
                    \"\"\"max(0, log(p(i, j) / (p(i) p(j)))) where M[i, j] > 0, and 0 elsewhere.\"\"\"
                    M = np.asarray(M, dtype=float)
                    log_total = np.log(M.sum())
                    rows, cols = M.sum(axis=1), M.sum(axis=0)
                    out = np.zeros_like(M)
                    for i, j in zip(*np.nonzero(M > 0)):
                        pmi = np.log(M[i, j]) + log_total - np.log(rows[i]) - np.log(cols[j])
                        out[i, j] = max(pmi, 0.0)
                    return out
            """),
            "computed everywhere under np.errstate, then masked with np.where": answer("""
                def ppmi(M):
                    \"\"\"max(0, log(p(i, j) / (p(i) p(j)))) where M[i, j] > 0, and 0 elsewhere.\"\"\"
                    M = np.asarray(M, dtype=float)
                    p_joint = M / M.sum()
                    p_row = p_joint.sum(axis=1, keepdims=True)
                    p_col = p_joint.sum(axis=0, keepdims=True)
                    with np.errstate(divide="ignore", invalid="ignore"):   # log 0 and 0/0 where M == 0: masked below
                        pmi = np.log(p_joint / (p_row * p_col))
                    return np.where(M > 0, np.maximum(pmi, 0.0), 0.0)
            """),
        },
        "ex3_cosine": {
            "np.einsum dot products divided by the outer product of the norms": answer("""
                def cosine_similarity(a, b):
                    \"\"\"Cosines between the rows of a: (N, D) and b: (M, D) -> (N, M); 1-D arguments lose their
                    axis.
                    \"\"\"
                    A, B = np.atleast_2d(np.asarray(a, dtype=float)), np.atleast_2d(np.asarray(b, dtype=float))
                    norms = np.outer(np.sqrt(np.einsum("nd,nd->n", A, A)), np.sqrt(np.einsum("md,md->m", B, B)))
                    dots = np.einsum("nd,md->nm", A, B)
                    sims = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)
                    if np.ndim(a) == 1:
                        sims = sims[0]
                    if np.ndim(b) == 1:
                        sims = sims[..., 0]
                    return sims
            """),
        },
        "ex4_analogy": {
            "query left unnormalised (argmax unchanged), inputs skipped in a Python loop": answer("""
                def analogy(a, b, c, vectors, vocab, *, exclude_inputs=True):
                    \"\"\"d in "a is to b as c is to d", by cosine with w_b - w_a + w_c on unit-length vectors.\"\"\"
                    vectors = np.asarray(vectors, dtype=float)
                    index = {word: i for i, word in enumerate(vocab)}
                    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
                    query = unit[index[b]] - unit[index[a]] + unit[index[c]]
                    best, best_score = None, -np.inf
                    for i, word in enumerate(vocab):
                        if exclude_inputs and word in (a, b, c):
                            continue
                        score = unit[i] @ query
                        if score > best_score:
                            best, best_score = word, score
                    return best
            """),
        },
        "ex5_negative_sampling": {
            "loop over the K noise words, stable softplus and sigmoid written by hand": answer("""
                def negative_sampling_loss(v, u_pos, u_neg):
                    \"\"\"Summed skip-gram loss and gradients: v (N, D), u_pos (N, D), u_neg (N, K, D).\"\"\"
                    v, u_pos, u_neg = (np.asarray(a, dtype=float) for a in (v, u_pos, u_neg))

                    def softplus(s):                      # log(1 + e^s), no overflow
                        return np.maximum(s, 0.0) + np.log1p(np.exp(-np.abs(s)))

                    def logistic(s):                      # 1 / (1 + e^-s), no overflow
                        e = np.exp(-np.abs(s))
                        return np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

                    pos = np.sum(u_pos * v, axis=1)
                    loss = softplus(-pos).sum()
                    g_pos = logistic(pos) - 1.0
                    dv = g_pos[:, None] * u_pos
                    du_neg = np.empty_like(u_neg)
                    for k in range(u_neg.shape[1]):
                        score = np.sum(u_neg[:, k] * v, axis=1)
                        loss += softplus(score).sum()
                        g = logistic(score)
                        dv += g[:, None] * u_neg[:, k]
                        du_neg[:, k] = g[:, None] * v
                    return loss, dv, g_pos[:, None] * v, du_neg
            """),
        },
        "ex6_subsample": {
            "a Python loop over the tokens, one rng.random() each": answer("""
                def subsample(ids, counts, *, sample=1e-3, rng):
                    \"\"\"word2vec's subsampling: a boolean mask over the tokens of ids.\"\"\"
                    ids = np.asarray(ids)
                    counts = np.asarray(counts, dtype=float)
                    total = counts.sum()
                    keep = np.zeros(len(ids), dtype=bool)
                    for t, word in enumerate(ids):
                        f = counts[word] / total
                        keep[t] = rng.random() < min(1.0, (np.sqrt(f / sample) + 1) * sample / f)
                    return keep
            """),
            "expanded to sqrt(s / f) + s / f, clipped, uniform draws": answer("""
                def subsample(ids, counts, *, sample=1e-3, rng):
                    \"\"\"word2vec's subsampling: a boolean mask over the tokens of ids.\"\"\"
                    ids = np.asarray(ids)
                    counts = np.asarray(counts, dtype=float)
                    ratio = sample * counts.sum() / counts
                    p = np.clip(np.sqrt(ratio) + ratio, None, 1.0)
                    return rng.uniform(size=ids.shape) < p[ids]
            """),
        },
        "ex7_skipgram_epoch": {
            "cumulative table and searchsorted; the centre rows added in a loop": answer("""
                def skipgram_epoch(W_in, W_out, centres, contexts, counts, *, loss_fn, negative=5, lr=0.025,
                                   lr_end=None, batch_size=256, rng):
                    \"\"\"One epoch of skip-gram with negative sampling: (W_in, W_out, mean loss per pair).\"\"\"
                    centres, contexts = np.asarray(centres), np.asarray(contexts)
                    lr_end = lr if lr_end is None else lr_end
                    weights = np.power(np.asarray(counts, dtype=float), 0.75)
                    cdf = np.cumsum(weights) / weights.sum()
                    P = len(centres)
                    perm = rng.permutation(P)
                    c_all, o_all = centres[perm], contexts[perm]
                    losses = []
                    for s in range(0, P, batch_size):
                        c, o = c_all[s:s + batch_size], o_all[s:s + batch_size]
                        neg = np.minimum(np.searchsorted(cdf, rng.random((len(c), negative)), side="right"),
                                         len(cdf) - 1)
                        loss, dv, dup, dun = loss_fn(W_in[c], W_out[o], W_out[neg])
                        eta = lr + (lr_end - lr) * s / P
                        rows = np.concatenate([o, neg.ravel()])
                        grads = np.concatenate([dup, dun.reshape(-1, dun.shape[-1])])
                        np.add.at(W_out, rows, -eta * grads)
                        for row, g in zip(c, dv):  # one row at a time: repeated rows get every update
                            W_in[row] -= eta * g
                        losses.append(loss)
                    return W_in, W_out, sum(losses) / P
            """),
        },
    },
    "08-representations": {
        "ex1_pca": {
            "eigendecomposition of the covariance matrix (np.linalg.eigh)": answer("""
                def pca(X, k):
                    \"\"\"Top-k principal components of X: (N, D) -> (components (k, D), mean (D,), explained_variance
                    (k,)).
                    \"\"\"
                    X = np.asarray(X, dtype=float)
                    mean = X.mean(axis=0)
                    centred = X - mean
                    covariance = centred.T @ centred / (len(X) - 1)
                    values, vectors = np.linalg.eigh(covariance)            # ascending
                    top = np.argsort(values)[::-1][:k]
                    components = vectors[:, top].T
                    explained_variance = values[top]
                    # the largest entry positive (the release's lines after the solution region)
                    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])
                    return components * signs[:, None], mean, explained_variance
            """),
        },
        "ex2_principal_angles": {
            "SVD bases; small angles from the sines of the residual, large ones from the cosines": answer("""
                def principal_angles(A, B):
                    \"\"\"Angles (radians, ascending) between the row spaces of A: (k, D) and B: (m, D).\"\"\"
                    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
                    Qa = np.linalg.svd(A.T, full_matrices=False)[0]          # (D, k), orthonormal columns
                    Qb = np.linalg.svd(B.T, full_matrices=False)[0]          # (D, m)
                    r = min(Qa.shape[1], Qb.shape[1])
                    cosines = np.linalg.svd(Qa.T @ Qb, compute_uv=False)[:r]   # descending
                    residual = Qb - Qa @ (Qa.T @ Qb)                          # the part of B's basis outside A
                    sines = np.sort(np.linalg.svd(residual, compute_uv=False))[:r]   # ascending
                    small = np.arcsin(np.clip(sines, 0.0, 1.0))
                    large = np.arccos(np.clip(cosines, -1.0, 1.0))
                    return np.where(cosines > np.sqrt(0.5), small, large)     # arcsin is accurate below pi/4
            """),
        },
        "ex3_train_autoencoder": {
            "a DataLoader shuffled with the generator, validation masked anew every epoch, inference_mode": answer("""
                def train_autoencoder(model, X, *, epochs, lr=1e-3, batch_size=128, noise=None, X_val=None,
                                      generator=None):
                    \"\"\"DataLoader over a TensorDataset, shuffled with the generator; validation corrupted anew
                    each epoch, scored under torch.inference_mode.\"\"\"
                    X = torch.as_tensor(X)
                    device = next(model.parameters()).device
                    history = {"loss": [], "val_error": []}
                    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X), batch_size=batch_size,
                                                         shuffle=True, generator=generator)
                    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
                    for epoch in range(epochs):
                        model.train()
                        summed, count = 0.0, 0
                        for (clean,) in loader:
                            clean = clean.to(device)
                            inputs = autoencoder.corrupt(clean, **noise, generator=generator) if noise else clean
                            model.zero_grad(set_to_none=True)
                            reconstruction = model(inputs)
                            loss = ((reconstruction - clean) ** 2).mean()
                            loss.backward()
                            optimizer.step()
                            summed += float(loss) * clean.shape[0]
                            count += clean.shape[0]
                        history["loss"].append(summed / count)
                        if X_val is not None:
                            model.eval()
                            with torch.inference_mode():
                                target = torch.as_tensor(X_val).to(device)
                                shown = autoencoder.corrupt(target, **noise, generator=generator) if noise else target
                                history["val_error"].append(F.mse_loss(model(shown), target).item())
                    return history
            """),
            "a whole epoch corrupted at once, torch.split batches, summed errors, batched validation": answer("""
                def train_autoencoder(model, X, *, epochs, lr=1e-3, batch_size=128, noise=None, X_val=None,
                                      generator=None):
                    \"\"\"The whole epoch corrupted at once after shuffling, batches by torch.split, validation in
                    batches of batch_size with the errors summed, float64 accumulators.\"\"\"
                    X = torch.as_tensor(X)
                    device = next(model.parameters()).device
                    history = {"loss": [], "val_error": []}
                    opt = torch.optim.Adam(model.parameters(), lr=lr)
                    val_in = None
                    if X_val is not None:
                        val_clean = torch.as_tensor(X_val)
                        val_in = (val_clean if noise is None
                                  else autoencoder.corrupt(val_clean, generator=generator, **noise))
                    for epoch in range(epochs):
                        shuffled = X[torch.randperm(X.shape[0], generator=generator)]
                        corrupted = (shuffled if noise is None
                                     else autoencoder.corrupt(shuffled, generator=generator, **noise))
                        model.train()
                        sq_sum = torch.zeros((), dtype=torch.float64)
                        batches = zip(torch.split(shuffled, batch_size), torch.split(corrupted, batch_size))
                        for clean_b, noisy_b in batches:
                            clean_b, noisy_b = clean_b.to(device), noisy_b.to(device)
                            out = model(noisy_b)
                            loss = F.mse_loss(out, clean_b, reduction="sum") / out.numel()
                            opt.zero_grad()
                            loss.backward()
                            opt.step()
                            sq_sum += loss.detach().double().cpu() * len(clean_b)
                        history["loss"].append((sq_sum / len(X)).item())
                        if val_in is not None:
                            model.eval()
                            total = 0.0
                            with torch.no_grad():
                                for a, b in zip(torch.split(val_in, batch_size), torch.split(val_clean, batch_size)):
                                    total += ((model(a.to(device)) - b.to(device)) ** 2).sum().item()
                            history["val_error"].append(total / val_clean.numel())
                    return history
            """),
        },
        "ex4_episode": {
            "classes drawn with torch.multinomial, rows filled into preallocated tensors": answer("""
                def episode(labels, n_way, k_shot, n_query, *, generator=None, classes=None):
                    \"\"\"Indices of an N-way K-shot episode: (support (n_way, k_shot), query (n_way, n_query), chosen
                    (n_way,)).\"\"\"
                    labels = torch.as_tensor(labels)
                    pool = torch.unique(labels) if classes is None else torch.as_tensor(classes)
                    picks = torch.multinomial(torch.ones(len(pool)), n_way, replacement=False, generator=generator)
                    chosen = pool[picks]
                    support = torch.empty(n_way, k_shot, dtype=torch.long)
                    query = torch.empty(n_way, n_query, dtype=torch.long)
                    for j, c in enumerate(chosen.tolist()):
                        members = (labels == c).nonzero().squeeze(1)
                        order = torch.randperm(members.numel(), generator=generator)
                        support[j] = members[order[:k_shot]]
                        query[j] = members[order[k_shot:k_shot + n_query]]
                    return support, query, chosen
            """),
        },
        "ex5_prototypical_loss": {
            "squared distances expanded, log-softmax by logsumexp, loss picked with gather": answer("""
                def prototypical_loss(support, query):
                    \"\"\"Prototypical-network loss and accuracy: support (n_way, k_shot, E), query (n_way, n_query,
                    E).
                    \"\"\"
                    n_way, n_query, E = query.shape
                    targets = torch.arange(n_way, device=query.device).repeat_interleave(n_query)  # (n_way * n_query,)
                    prototypes = support.sum(dim=1) / support.shape[1]
                    flat = query.reshape(-1, E)
                    squared = ((flat ** 2).sum(dim=1, keepdim=True) - 2 * flat @ prototypes.T
                               + (prototypes ** 2).sum(dim=1)[None, :])
                    log_probs = -squared - torch.logsumexp(-squared, dim=1, keepdim=True)
                    loss = -log_probs.gather(1, targets[:, None]).mean()
                    accuracy = (log_probs.argmax(dim=1) == targets).float().mean().item()
                    return loss, accuracy
            """),
        },
        "ex6_gradient_reversal": {
            "forward returns a clone, backward negates with neg() and mul()": answer("""
                class GradientReversalFunction(torch.autograd.Function):
                    \"\"\"Identity forward; the gradient times -scale backward.\"\"\"

                    @staticmethod
                    def forward(ctx, x, scale):
                        ctx.scale = float(scale)
                        return x.clone()

                    @staticmethod
                    def backward(ctx, grad_output):
                        return grad_output.neg().mul(ctx.scale), None
            """),
        },
        "ex7_distillation": {
            "KL divergence written out from log-softmaxes, cross-entropy by gather": answer("""
                def distillation_loss(student_logits, teacher_logits, labels, *, temperature=4.0, alpha=0.9):
                    \"\"\"alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * cross-entropy(student, labels).\"\"\"
                    T = temperature
                    log_student = torch.log_softmax(student_logits / T, dim=1)
                    log_teacher = torch.log_softmax(teacher_logits / T, dim=1)
                    kl = (log_teacher.exp() * (log_teacher - log_student)).sum(dim=1).mean()
                    log_probs = torch.log_softmax(student_logits, dim=1)
                    hard = -log_probs.gather(1, labels[:, None]).mean()
                    return alpha * T * T * kl + (1 - alpha) * hard
            """),
        },
    },
    "09-gans": {
        "ex1_optimal_discriminator": {
            "ratio under np.errstate, 1/2 put in with np.where": answer("""
                def optimal_discriminator(p_data, p_g):
                    \"\"\"D*(x) = p_data(x) / (p_data(x) + p_g(x)); 1/2 where both are 0.\"\"\"
                    p_data, p_g = np.asarray(p_data, dtype=float), np.asarray(p_g, dtype=float)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        ratio = p_data / (p_data + p_g)
                    return np.where((p_data == 0) & (p_g == 0), 0.5, ratio)
            """),
            "a loop over np.ndindex, any shape": answer("""
                def optimal_discriminator(p_data, p_g):
                    \"\"\"D*(x) = p_data(x) / (p_data(x) + p_g(x)); 1/2 where both are 0.\"\"\"
                    p_data, p_g = np.asarray(p_data, dtype=float), np.asarray(p_g, dtype=float)
                    out = np.empty(p_data.shape)
                    for index in np.ndindex(p_data.shape):
                        a, b = p_data[index], p_g[index]
                        out[index] = a / (a + b) if a + b > 0 else 0.5
                    return out
            """),
        },
        "ex2_discriminator_loss": {
            "binary_cross_entropy_with_logits against the targets": answer("""
                def discriminator_loss(real_logits, fake_logits, *, real_label=1.0):
                    \"\"\"Reals against the target real_label, fakes against 0.\"\"\"
                    targets = torch.full_like(real_logits, real_label)
                    real_term = F.binary_cross_entropy_with_logits(real_logits, targets)
                    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
                    return real_term + fake_term
            """),
            "F.logsigmoid on logits flattened to (N,)": answer("""
                def discriminator_loss(real_logits, fake_logits, *, real_label=1.0):
                    \"\"\"Reals against the target real_label, fakes against 0.\"\"\"
                    real_logits, fake_logits = real_logits.reshape(-1), fake_logits.reshape(-1)
                    log_d_real, log_not_d_real = F.logsigmoid(real_logits), F.logsigmoid(-real_logits)
                    real_part = -(real_label * log_d_real + (1 - real_label) * log_not_d_real).sum() / len(real_logits)
                    return real_part - F.logsigmoid(-fake_logits).sum() / len(fake_logits)
            """),
            # torch.ones(shape) is float32 whatever the logits: a loss right to 1e-7, not a wrong one
            "targets made with torch.ones(shape) (float32)": answer("""
                def discriminator_loss(real_logits, fake_logits, *, real_label=1.0):
                    \"\"\"Reals against the target real_label, fakes against 0.\"\"\"
                    targets = real_label * torch.ones(real_logits.shape)
                    real_term = F.binary_cross_entropy_with_logits(real_logits, targets)
                    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros(fake_logits.shape))
                    return real_term + fake_term
            """),
        },
        "ex3_generator_loss": {
            "F.logsigmoid: log D = logsigmoid(l), log(1 - D) = logsigmoid(-l)": answer("""
                def generator_loss(fake_logits, *, saturating=False):
                    \"\"\"Non-saturating: -mean log D(G(z)); saturating: mean log(1 - D(G(z))).\"\"\"
                    if saturating:
                        return F.logsigmoid(-fake_logits).mean()
                    return -F.logsigmoid(fake_logits).mean()
            """),
        },
        "ex4_train_step": {
            "losses by binary_cross_entropy_with_logits, fakes made under no_grad": answer("""
                def train_step(G, D, real, *, opt_g, opt_d, latent_dim, saturating=False, generator=None):
                    \"\"\"One update of D (reals vs detached fakes), then one of G. Returns (d_loss, g_loss) as
                    floats.\"\"\"
                    n = real.shape[0]
                    with torch.no_grad():
                        fake = G(pt_gan.sample_latent(n, latent_dim, generator=generator, device=real.device))
                    real_logits, fake_logits = D(real), D(fake)
                    d_loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                              + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
                    opt_d.zero_grad()
                    d_loss.backward()
                    opt_d.step()
                    scores = D(G(pt_gan.sample_latent(n, latent_dim, generator=generator, device=real.device)))
                    if saturating:   # minimise log(1 - D(G(z))) = -BCE(logit, 0)
                        g_loss = -F.binary_cross_entropy_with_logits(scores, torch.zeros_like(scores))
                    else:            # minimise -log D(G(z)) = BCE(logit, 1)
                        g_loss = F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
                    opt_g.zero_grad()
                    g_loss.backward()
                    opt_g.step()
                    return float(d_loss), float(g_loss)
            """),
            "both optimizers' gradients cleared at the end of the step, not before each backward": answer("""
                def train_step(G, D, real, *, opt_g, opt_d, latent_dim, saturating=False, generator=None):
                    \"\"\"One update of D (reals vs detached fakes), then one of G. Returns (d_loss, g_loss) as
                    floats.\"\"\"
                    fake = G(pt_gan.sample_latent(len(real), latent_dim, generator=generator, device=real.device))
                    d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
                    d_loss.backward()
                    opt_d.step()
                    opt_d.zero_grad()   # G's backward below goes through D: cleared again at the end
                    logits = D(G(pt_gan.sample_latent(len(real), latent_dim, generator=generator, device=real.device)))
                    g_loss = F.softplus(logits).mean().neg() if saturating else F.softplus(-logits).mean()
                    g_loss.backward()
                    opt_g.step()
                    opt_g.zero_grad()
                    opt_d.zero_grad()
                    return d_loss.item(), g_loss.item()
            """),
            "fakes not detached for D, G's gradients cleared right before its own backward": answer("""
                def train_step(G, D, real, *, opt_g, opt_d, latent_dim, saturating=False, generator=None):
                    \"\"\"One update of D (reals vs detached fakes), then one of G. Returns (d_loss, g_loss) as
                    floats.\"\"\"
                    fake = G(pt_gan.sample_latent(len(real), latent_dim, generator=generator, device=real.device))
                    D.zero_grad()
                    d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()   # reaches G too, for nothing
                    d_loss.backward()
                    opt_d.step()
                    fake = G(pt_gan.sample_latent(len(real), latent_dim, generator=generator, device=real.device))
                    logits = D(fake)
                    g_loss = -F.softplus(logits).mean() if saturating else F.softplus(-logits).mean()
                    G.zero_grad()       # drops what D's backward left in G
                    g_loss.backward()
                    opt_g.step()
                    return d_loss.item(), g_loss.item()
            """),
        },
        "ex5_train_gan": {
            "snapshots taken inline, rounds counted from 0, the end found inside the loop": answer("""
                def train_gan(G, D, real_sampler, config, *, opt_g, opt_d, step, generator=None):
                    \"\"\"config.steps rounds of step(G, D, real, ...) on fresh real batches. Returns
                    {"d_loss": [...], "g_loss": [...], "snapshots": [(rounds, samples), ...]}.\"\"\"
                    device = next(iter(G.parameters())).device
                    z = pt_gan.sample_latent(config.snapshot_size, config.latent_dim, generator=generator,
                                             device=device)
                    d_losses, g_losses, snapshots = [], [], []
                    G.train(), D.train()
                    every = config.snapshot_every
                    if every:
                        with torch.no_grad():
                            snapshots.append((0, G(z).detach().cpu().numpy().astype(np.float32)))
                    for k in range(config.steps):
                        batch = real_sampler(config.batch_size)
                        d, g = step(G, D, batch.to(device), opt_g=opt_g, opt_d=opt_d, latent_dim=config.latent_dim,
                                    saturating=config.saturating, generator=generator)
                        d_losses.append(d)
                        g_losses.append(g)
                        done = k + 1
                        if done == config.steps or (every and done % every == 0):
                            with torch.no_grad():
                                snapshots.append((done, G(z).detach().cpu().numpy().astype(np.float32)))
                    return {"d_loss": d_losses, "g_loss": g_losses, "snapshots": snapshots}
            """),
        },
        "ex6_mode_coverage": {
            "loop over the modes keeping the nearest so far, counts per mode in a loop": answer("""
                def mode_coverage(samples, *, modes=8, radius=2.0, std=0.02):
                    \"\"\"(modes hit, share of high-quality samples) on a ring of `modes` Gaussians.\"\"\"
                    samples = check.as_numpy(samples).astype(float)                     # (N, 2)
                    angles = 2 * np.pi * np.arange(modes) / modes
                    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (modes, 2)
                    best = np.full(len(samples), np.inf)
                    nearest = np.zeros(len(samples), dtype=np.int64)
                    for m, (cx, cy) in enumerate(centres):
                        d = np.hypot(samples[:, 0] - cx, samples[:, 1] - cy)
                        closer = d < best                  # strict: ties stay with the first mode, as argmin
                        best[closer], nearest[closer] = d[closer], m
                    good = best <= 3 * std
                    n_good = int(good.sum())
                    if n_good == 0:
                        return 0, 0.0
                    hit = 0
                    for m in range(modes):
                        if np.count_nonzero(nearest[good] == m) >= n_good / 100:   # at least 1% of the good samples
                            hit += 1
                    return hit, n_good / len(samples)
            """),
            "squared distances against (3 std) squared, hits by np.unique": answer("""
                def mode_coverage(samples, *, modes=8, radius=2.0, std=0.02):
                    \"\"\"(modes hit, share of high-quality samples) on a ring of `modes` Gaussians.\"\"\"
                    samples = check.as_numpy(samples).astype(float)                     # (N, 2)
                    angles = 2 * np.pi * np.arange(modes) / modes
                    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (modes, 2)
                    squared = ((samples[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
                    good = squared.min(axis=1) <= (3 * std) ** 2
                    if good.sum() == 0:
                        return 0, 0.0
                    _, counts = np.unique(squared[good].argmin(axis=1), return_counts=True)
                    return int((counts / good.sum() >= 0.01).sum()), good.sum() / len(samples)
            """),
        },
    },
    "10-adversarial": {
        "ex1_input_gradient": {
            "np.outer of the residuals and w, sigmoid through tanh": answer("""
                def logistic_input_gradient(x, y, w, b):
                    \"\"\"dL/dx of logistic regression's cross-entropy, row i for example i: (N, D).\"\"\"
                    x, y, w = np.asarray(x, dtype=float), np.asarray(y, dtype=float), np.asarray(w, dtype=float)
                    p = 0.5 * (1.0 + np.tanh(0.5 * (x @ w + b)))
                    return np.outer(p - y, w)
            """),
            "a loop over the examples, the sigmoid with math.exp": answer("""
                def logistic_input_gradient(x, y, w, b):
                    \"\"\"dL/dx of logistic regression's cross-entropy, row i for example i: (N, D).\"\"\"
                    x, y, w = np.asarray(x, dtype=float), np.asarray(y, dtype=float), np.asarray(w, dtype=float)
                    import math
                    rows = []
                    for x_i, y_i in zip(x, y):
                        p_i = 1.0 / (1.0 + math.exp(-(float(x_i @ w) + b)))
                        rows.append((p_i - y_i) * w)
                    return np.stack(rows)
            """),
        },
        "ex2_fgsm": {
            "sign by np.where, a signed factor for targeted, the box by np.minimum and np.maximum": answer("""
                def fgsm_step(x, grad, eps, *, clip=(0.0, 1.0), targeted=False):
                    \"\"\"One signed step of size eps, up the loss (down the target's when targeted), clipped.\"\"\"
                    x, grad = np.asarray(x, dtype=float), np.asarray(grad, dtype=float)
                    direction = np.where(grad > 0, 1.0, np.where(grad < 0, -1.0, 0.0))
                    factor = -1.0 if targeted else 1.0
                    x_adv = x + factor * eps * direction
                    if clip is not None:
                        low, high = clip
                        x_adv = np.minimum(np.maximum(x_adv, low), high)
                    return x_adv
            """),
            "in torch, the targeted step from the negated gradient, a float64 tensor returned": answer("""
                def fgsm_step(x, grad, eps, *, clip=(0.0, 1.0), targeted=False):
                    \"\"\"One signed step of size eps, up the loss (down the target's when targeted), clipped.\"\"\"
                    x, grad = np.asarray(x, dtype=float), np.asarray(grad, dtype=float)
                    g = torch.from_numpy(-grad if targeted else grad)
                    moved = torch.from_numpy(x) + eps * torch.sign(g)
                    return moved if clip is None else moved.clamp(clip[0], clip[1])
            """),
        },
        "ex3_project_and_step": {
            "x plus the perturbation clipped to [-eps, eps]; the step writes its projection out": answer("""
                def project_linf(x_adv, x, eps, *, clip=(0.0, 1.0)):
                    \"\"\"The point nearest to x_adv within eps of x in every entry and inside [clip[0], clip[1]].\"\"\"
                    x_adv, x = np.asarray(x_adv, dtype=float), np.asarray(x, dtype=float)
                    out = x + np.clip(x_adv - x, -eps, eps)
                    return out if clip is None else np.clip(out, *clip)


                def pgd_step(x_adv, x, grad, eps, alpha, *, clip=(0.0, 1.0)):
                    \"\"\"One signed step of size alpha from x_adv, projected into the eps-ball and the box.\"\"\"
                    x_adv, x, grad = (np.asarray(v, dtype=float) for v in (x_adv, x, grad))
                    stepped = x_adv + alpha * np.sign(grad)
                    delta = np.clip(stepped - x, -eps, eps)      # the perturbation, kept in the eps-ball
                    out = x + delta
                    if clip is not None:
                        out = np.minimum(np.maximum(out, clip[0]), clip[1])
                    return out
            """),
            "the ball and the box as one interval per entry, clipped in place": answer("""
                def project_linf(x_adv, x, eps, *, clip=(0.0, 1.0)):
                    \"\"\"The point nearest to x_adv within eps of x in every entry and inside [clip[0], clip[1]].\"\"\"
                    x_adv, x = np.asarray(x_adv, dtype=float), np.asarray(x, dtype=float)
                    low, high = x - eps, x + eps
                    if clip is not None:
                        low, high = np.maximum(low, clip[0]), np.minimum(high, clip[1])
                    out = np.array(x_adv, dtype=float)
                    np.clip(out, low, high, out=out)
                    return out


                def pgd_step(x_adv, x, grad, eps, alpha, *, clip=(0.0, 1.0)):
                    \"\"\"One signed step of size alpha from x_adv, projected into the eps-ball and the box.\"\"\"
                    x_adv, x, grad = (np.asarray(v, dtype=float) for v in (x_adv, x, grad))
                    return project_linf(x_adv + alpha * np.sign(grad), x, eps, clip=clip)
            """),
        },
        "ex4_pgd_attack": {
            "uniform_ on a new tensor, clip passed by keyword, restarts kept misclassified-first": answer("""
                def pgd_attack(model, x, y, eps, *, alpha, steps, step, project, restarts=1, targeted=False,
                               generator=None):
                    \"\"\"PGD from `restarts` random starts; per image, the result worst for the model.\"\"\"
                    x = x.detach()
                    result, result_loss, result_fooled = None, None, None
                    for restart in range(restarts):
                        delta = torch.empty(x.shape, dtype=x.dtype).uniform_(-eps, eps, generator=generator)
                        current = project(x + delta.to(x.device), x, eps, clip=(0.0, 1.0))
                        for _ in range(steps):
                            probe = current.detach().requires_grad_()
                            objective = F.cross_entropy(model(probe), y, reduction="sum")
                            if targeted:
                                objective = -objective
                            gradient = torch.autograd.grad(objective, [probe])[0]
                            current = step(current, x, gradient, eps, alpha, clip=(0.0, 1.0)).detach()
                        with torch.no_grad():
                            logits = model(current)
                            loss = F.cross_entropy(logits, y, reduction="none")
                            fooled = (logits.argmax(dim=1) == y) if targeted else (logits.argmax(dim=1) != y)
                        if targeted:
                            loss = -loss
                        if result is None:
                            result, result_loss, result_fooled = current.clone(), loss, fooled
                            continue
                        better = (fooled & ~result_fooled) | ((fooled == result_fooled) & (loss > result_loss))
                        result[better] = current[better]
                        result_loss = torch.where(better, loss, result_loss)
                        result_fooled = result_fooled | fooled
                    return result
            """),
            "all restarts stacked, the worst picked with argmax, steps in a while loop": answer("""
                def pgd_attack(model, x, y, eps, *, alpha, steps, step, project, restarts=1, targeted=False,
                               generator=None):
                    \"\"\"PGD from `restarts` random starts; per image, the result worst for the model.\"\"\"
                    finals, scores = [], []
                    clean = x.detach()
                    sign = -1.0 if targeted else 1.0
                    for _ in range(restarts):
                        u = torch.rand(clean.shape, generator=generator, dtype=clean.dtype).to(clean.device)
                        adv = project(clean - eps + 2 * eps * u, clean, eps)
                        k = 0
                        while k < steps:
                            adv = adv.clone().requires_grad_(True)
                            g, = torch.autograd.grad(sign * F.cross_entropy(model(adv), y), adv)
                            adv = step(adv.detach(), clean, g, eps, alpha).detach()
                            k += 1
                        with torch.no_grad():
                            scores.append(sign * F.cross_entropy(model(adv), y, reduction="none"))
                        finals.append(adv)
                    pick = torch.stack(scores).argmax(dim=0)                 # (N,)
                    stacked = torch.stack(finals)                            # (R, N, ...)
                    return stacked[pick, torch.arange(len(clean), device=clean.device)]
            """),
        },
        "ex5_adversarial_batch": {
            "FGSM written out with torch.autograd.grad on the first k images": answer("""
                def adversarial_batch(model, x, y, eps, *, fraction=0.5):
                    \"\"\"The first round(fraction * N) images replaced by their FGSM versions; labels unchanged.\"\"\"
                    n_adv = int(round(fraction * x.shape[0]))
                    mixed = x.detach().clone()
                    if n_adv:
                        head = x[:n_adv].detach().clone().requires_grad_(True)
                        grad, = torch.autograd.grad(F.cross_entropy(model(head), y[:n_adv]), head)
                        mixed[:n_adv] = (x[:n_adv].detach() + eps * grad.sign()).clamp(0.0, 1.0)
                    return mixed, y.clone()
            """),
            # the checks draw no fraction * N ending in .5, where half-up and Python's round differ
            "k rounded half up with math.floor, the gradient of the summed loss, torch.clamp": answer("""
                def adversarial_batch(model, x, y, eps, *, fraction=0.5):
                    \"\"\"The first round(fraction * N) images replaced by their FGSM versions; labels unchanged.\"\"\"
                    import math
                    k = math.floor(fraction * len(x) + 0.5)
                    x_mixed = x.detach().clone()
                    if k:
                        head = x[:k].detach().requires_grad_()
                        loss = F.cross_entropy(model(head), y[:k], reduction="sum")
                        grad, = torch.autograd.grad(loss, head)
                        x_mixed[:k] = torch.clamp(head.detach() + eps * torch.sign(grad), 0.0, 1.0)
                    return x_mixed, y.clone()
            """),
        },
        "ex6_adversarial_epoch": {
            "torch.split of a permutation, train(False), a loss weighted by batch size, zero_grad first": answer("""
                def adversarial_epoch(model, optimizer, x_train, y_train, eps, *, attack, batch_size=64,
                                      generator=None):
                    \"\"\"One epoch on attacked mini-batches; the mean batch loss.\"\"\"
                    where = next(model.parameters()).device
                    shuffled = torch.randperm(x_train.shape[0], generator=generator)
                    total, count = 0.0, 0
                    for idx in torch.split(shuffled, batch_size):
                        xb, yb = x_train[idx].to(where), y_train[idx].to(where)
                        optimizer.zero_grad(set_to_none=False)
                        model.train(False)
                        attacked = attack(model, xb, yb, eps).detach()
                        model.train(True)
                        batch_loss = F.cross_entropy(model(attacked), yb)
                        batch_loss.backward()
                        optimizer.step()
                        total += batch_loss.item() * len(idx)
                        count += len(idx)
                    model.eval()
                    return total / count
            """),
            "an index list shuffled by numpy, the last partial batch dropped when there are full ones": answer("""
                def adversarial_epoch(model, optimizer, x_train, y_train, eps, *, attack, batch_size=64,
                                      generator=None):
                    \"\"\"One epoch on attacked mini-batches; the mean batch loss.\"\"\"
                    seed = None if generator is None else int(torch.randint(2**31 - 1, (1,), generator=generator))
                    order = np.random.default_rng(seed).permutation(len(x_train))
                    n_batches = max(len(order) // batch_size, 1)
                    losses = []
                    for b in range(n_batches):
                        rows = torch.as_tensor(order[b * batch_size:(b + 1) * batch_size])
                        x, y = x_train[rows], y_train[rows]
                        model.eval()
                        x_adv = attack(model, x, y, eps)
                        model.train()
                        optimizer.zero_grad()
                        loss = F.cross_entropy(model(x_adv), y)
                        loss.backward()
                        optimizer.step()
                        losses.append(float(loss))
                    return sum(losses) / len(losses)
            """),
        },
    },
    "11-attention": {
        "ex1_softmax": {
            "log-sum-exp written out, np.moveaxis to the last axis": answer("""
                def softmax(x, *, axis=-1):
                    \"\"\"exp(x) / sum(exp(x)) along axis, computed so that large entries never overflow.\"\"\"
                    x = np.asarray(x, dtype=np.float64)
                    moved = np.moveaxis(x, axis, -1)
                    top = moved.max(axis=-1)[..., None]
                    log_norm = top + np.log(np.exp(moved - top).sum(axis=-1))[..., None]
                    return np.moveaxis(np.exp(moved - log_norm), -1, axis)
            """),
        },
        "ex2_attention": {
            "einsum, the softmax of Exercise 1 written inline with a helper": answer("""
                def scaled_dot_product_attention(q, k, v, *, mask=None):
                    \"\"\"softmax(q k^T / sqrt(Dk)) v over the keys; returns (out, (q, k, v, weights, scale)).\"\"\"
                    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))

                    def row_softmax(s):
                        s = s - s.max(axis=-1, keepdims=True)
                        e = np.exp(s)
                        return e / e.sum(axis=-1, keepdims=True)

                    scale = q.shape[-1] ** -0.5
                    scores = np.einsum("...td,...sd->...ts", q, k) * scale
                    if mask is not None:
                        scores = scores + np.where(np.asarray(mask, dtype=bool), 0.0, -np.inf)
                    weights = row_softmax(scores)
                    return np.einsum("...ts,...sd->...td", weights, v), (q, k, v, weights, scale)
            """),
        },
        "ex3_attention_backward": {
            "einsum, the softmax backward as an explicit Jacobian per row": answer("""
                def scaled_dot_product_attention_backward(dout, cache):
                    \"\"\"dout: (N, T, Dv); cache = (q, k, v, weights, scale). Returns dq, dk, dv.\"\"\"
                    q, k, v, weights, scale = cache
                    dout = np.asarray(dout, dtype=np.float64)
                    dv = np.einsum("...ts,...td->...sd", weights, dout)
                    dweights = np.einsum("...td,...sd->...ts", dout, v)
                    jacobian = (weights[..., :, None] * np.eye(weights.shape[-1])
                                - weights[..., :, None] * weights[..., None, :])          # (..., T, S, S)
                    dscores = np.einsum("...ij,...j->...i", jacobian, dweights)
                    dq = np.einsum("...ts,...sd->...td", dscores, k) * scale
                    dk = np.einsum("...ts,...td->...sd", dscores, q) * scale
                    return dq, dk, dv
            """),
        },
        "ex4_masks": {
            "np.tril, and loops over the samples": answer("""
                def causal_mask(T):
                    \"\"\"(T, T) bool, True where query t may attend to key s: s <= t.\"\"\"
                    return np.tril(np.ones((T, T))).astype(bool)


                def padded_causal_mask(lengths, T):
                    \"\"\"(N, T, T) bool: causal, and no attention to padding keys (s >= lengths[i]).\"\"\"
                    lengths = np.asarray(lengths)
                    masks = []
                    for length in lengths:
                        m = causal_mask(T).copy()
                        m[:, int(length):] = False
                        masks.append(m)
                    return np.stack(masks)
            """),
        },
        "ex5_heads": {
            "np.split and np.stack, np.concatenate back": answer("""
                def split_heads(x, n_heads):
                    \"\"\"(N, T, D) -> (N, H, T, D / H): head h gets features h * Dh to (h + 1) * Dh - 1.\"\"\"
                    x = np.asarray(x)
                    return np.stack(np.split(x, n_heads, axis=2), axis=1)


                def merge_heads(x):
                    \"\"\"(N, H, T, Dh) -> (N, T, H * Dh): the inverse of split_heads.\"\"\"
                    x = np.asarray(x)
                    return np.concatenate([x[:, h] for h in range(x.shape[1])], axis=-1)
            """),
        },
        "ex6_positional_encoding": {
            "a loop over the columns, math.sin and math.cos": answer("""
                def sinusoidal_positional_encoding(T, D):
                    \"\"\"(T, D): sin(t / 10000^(2i / D)) in column 2i, cos of the same angle in column 2i + 1.\"\"\"
                    import math
                    code = np.empty((T, D))
                    for t in range(T):
                        for j in range(D):
                            angle = t / 10000 ** ((j - j % 2) / D)
                            code[t, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
                    return code
            """),
        },
        "ex7_layer_norm": {
            "the backward through the centred x and the variance, step by step": answer("""
                def layer_norm_forward(x, gamma, beta, *, eps=1e-5):
                    \"\"\"Each sample normalised over its last axis, then scaled and shifted.\"\"\"
                    x = np.asarray(x, dtype=np.float64)
                    centred = x - x.mean(axis=-1, keepdims=True)
                    variance = (centred ** 2).mean(axis=-1, keepdims=True)
                    inv_std = (variance + eps) ** -0.5
                    x_hat = centred * inv_std
                    return x_hat * gamma + beta, (x_hat, inv_std, gamma)


                def layer_norm_backward(dout, cache):
                    \"\"\"dout: x's shape. Returns dx (x's shape), dgamma (D,), dbeta (D,).\"\"\"
                    x_hat, inv_std, gamma = cache
                    dout = np.asarray(dout, dtype=np.float64)
                    axes = tuple(range(dout.ndim - 1))
                    dgamma, dbeta = (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)
                    D = x_hat.shape[-1]
                    dx_hat = dout * gamma
                    dvar = np.sum(dx_hat * x_hat, axis=-1, keepdims=True) * -0.5 * inv_std ** 2
                    centred = x_hat / inv_std
                    dcentred = dx_hat * inv_std + dvar * 2 * centred / D
                    dx = dcentred - dcentred.mean(axis=-1, keepdims=True)
                    return dx, dgamma, dbeta
            """),
        },
        "ex8_transformer_block": {
            "a helper for each branch, the mask broadcast with np.expand_dims": answer("""
                def transformer_block(x, params, *, n_heads, mask=None, attention, layer_norm, split_heads,
                                      merge_heads):
                    \"\"\"Pre-norm block: h = x + MHA(LN1(x)), out = h + FFN(LN2(h)). x: (N, T, D) -> (N, T, D).\"\"\"
                    x = np.asarray(x, dtype=np.float64)

                    def self_attention(z):
                        heads = [split_heads(z @ params[name], n_heads) for name in ("w_q", "w_k", "w_v")]
                        m = mask
                        if m is not None and np.ndim(m) == 3:
                            m = np.expand_dims(np.asarray(m), 1)
                        out, _ = attention(*heads, mask=m)
                        return merge_heads(out) @ params["w_o"]

                    def feed_forward(z):
                        return np.clip(z @ params["w1"] + params["b1"], 0.0, None) @ params["w2"] + params["b2"]

                    h = x + self_attention(layer_norm(x, params["ln1_gamma"], params["ln1_beta"])[0])
                    return h + feed_forward(layer_norm(h, params["ln2_gamma"], params["ln2_beta"])[0])
            """),
        },
    },
}

# Right answers the tests once failed (findings about the tests, since fixed): kept, and checked
# like the rest. 08 ex4's hidden test compared the accuracy with the reference's float32 share
# to 1e-9; an exact share (0.2, not 0.2000000030) is as right, and the tolerance is now 1e-6.
ONCE_UNFAIRLY_FAILED = {
    "08-representations": {
        "ex5_prototypical_loss": {
            # The hidden test asked abs(accuracy - reference) < 1e-9, but the reference's accuracy is
            # (...).float().mean().item(): the share rounded to float32 (0.2 -> 0.20000000298...).
            # The exercise asks for "the accuracy (a Python float)"; an exact share misses by ~3e-9.
            "accuracy as an exact Python share, correct / total": answer("""
                def prototypical_loss(support, query):
                    \"\"\"Prototypical-network loss and accuracy: support (n_way, k_shot, E), query (n_way, n_query,
                    E).
                    \"\"\"
                    n_way, n_query, E = query.shape
                    targets = torch.arange(n_way, device=query.device).repeat_interleave(n_query)  # (n_way * n_query,)
                    prototypes = support.mean(dim=1)
                    flat = query.reshape(n_way * n_query, E)
                    logits = -((flat[:, None, :] - prototypes[None, :, :]) ** 2).sum(dim=2)
                    loss = F.cross_entropy(logits, targets)
                    correct = int((logits.argmax(dim=1) == targets).sum())
                    return loss, correct / len(targets)
            """),
            "accuracy as a float64 mean, (...).double().mean().item()": answer("""
                def prototypical_loss(support, query):
                    \"\"\"Prototypical-network loss and accuracy: support (n_way, k_shot, E), query (n_way, n_query,
                    E).
                    \"\"\"
                    n_way, n_query, E = query.shape
                    targets = torch.arange(n_way, device=query.device).repeat_interleave(n_query)  # (n_way * n_query,)
                    prototypes = support.mean(dim=1)
                    flat = query.reshape(n_way * n_query, E)
                    logits = -((flat[:, None, :] - prototypes[None, :, :]) ** 2).sum(dim=2)
                    loss = F.cross_entropy(logits, targets)
                    accuracy = (logits.argmax(dim=1) == targets).double().mean().item()
                    return loss, accuracy
            """),
        },
    },
}

for _assignment, _exercises in ONCE_UNFAIRLY_FAILED.items():
    for _exercise, _written in _exercises.items():
        HONEST[_assignment].setdefault(_exercise, {}).update(_written)
