"""ipywidgets demos. Each demo is a pure function that returns a figure (tested without a
browser) and a thin wrapper that puts it behind sliders (``_interact``)."""

import html
import io
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from dlcourse import runtime
from dlcourse.check import as_numpy
from dlcourse.plot import draw_value_graph, plot_linear_boundary


def perceptron_step_figure(X, t, trace, step: int):
    """The perceptron's boundary before and after presentation ``step`` of ``trace``.

    X: (N, 2) inputs without the bias column; t: (N,); trace: the list returned by
    ``perceptron_train`` (NumPy or torch twin); step: 0 <= step < len(trace).
    The sample being presented is ringed; the titles give the prediction and the update.
    """
    if not 0 <= step < len(trace):
        raise ValueError(f"step must be in [0, {len(trace) - 1}], got {step}")
    row = trace[step]
    # traces of the torch twin may hold CUDA tensors: as_numpy copies them to the host
    w_before, w_after = (as_numpy(w).astype(float) for w in (row.w_before, row.w_after))
    x = as_numpy(row.x).astype(float)
    X, t = as_numpy(X), as_numpy(t)
    fig, axes = plt.subplots(1, 2, figsize=(8, 4), constrained_layout=True)
    verdict = "error: update" if row.y != row.t else "correct: no change"
    plot_linear_boundary(w_before, X, t, ax=axes[0], title=f"before: W = {_fmt(w_before)}")
    plot_linear_boundary(w_after, X, t, ax=axes[1], title=f"after: W = {_fmt(w_after)}")
    for ax in axes:
        ax.scatter(x[1], x[2], s=320, facecolors="none", edgecolors="k", linewidths=2, zorder=4)
    fig.suptitle(
        f"epoch {row.epoch}, sample x = ({x[1]:g}, {x[2]:g}): y = {row.y}, t = {row.t} ({verdict})"
    )
    return fig


HEADLESS_ENV = runtime.HEADLESS_ENV


def _interact(draw, defaults: dict, make_controls):
    """Controls from ``make_controls(ipywidgets)`` ({argument: widget}) over the figure that
    ``draw(**values)`` returns (a string instead is a message to show, e.g. a half-typed input).

    In JupyterLab: the controls, an Image widget holding the figure as PNG and a line for
    messages; moving a control redraws. No Output widget is used: an executor that acts as a
    widget front end (nbclient, so nbconvert --execute, papermill, jupyter-book) answers an
    Output widget's messages on the kernel's shell channel while it waits there for the cell's
    reply, and then sees that reply only when its cell timeout runs out (05's kernel editor
    waited 600 s at a 600 s timeout). Where no one can move a control (``runtime.headless()``:
    nbgrader, pytest and nbval, ``autograde execute``, the doctor) no widget is made at all:
    the figure for the starting values is shown, with a line saying so."""
    if runtime.headless():
        result = draw(**defaults)
        if isinstance(result, str):
            print(result)
        else:
            plt.show()
        print("(a static figure here: in JupyterLab this cell shows its controls)")
        return None
    import ipywidgets
    from IPython.display import display

    controls = make_controls(ipywidgets)
    for name, control in controls.items():
        control.description = control.description or name
    figure, message = ipywidgets.Image(format="png"), ipywidgets.HTML()

    def redraw(_change=None):
        result = draw(**{name: control.value for name, control in controls.items()})
        if isinstance(result, str):
            message.value = f"<pre>{html.escape(result)}</pre>"
            return
        message.value = ""
        figure.value = _png(result)
        plt.close(result)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    demo = ipywidgets.VBox([*controls.values(), figure, message])
    demo.add_class("widget-interact")
    display(demo)
    return LiveDemo(demo, redraw)


@dataclass
class LiveDemo:
    """What a demo returns in JupyterLab: its widget (controls, figure, message) and the
    function that redraws it from the controls' values."""

    widget: object
    redraw: object

    def _ipython_display_(self):
        """Nothing: the demo is on display already, so a cell that ends with the call (no `;`)
        shows it once, not also this object's repr."""


def _png(figure) -> bytes:
    """The figure as PNG on opaque white, as the inline backend draws it (readable in dark themes)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white", bbox_inches="tight")
    return buffer.getvalue()


def _fmt(w):
    return "(" + ", ".join(f"{v:g}" for v in w) + ")"


def perceptron_stepper(X, t, trace):
    """A slider that steps through ``trace`` one presentation at a time."""

    def show(step):
        return perceptron_step_figure(X, t, trace, step)

    return _interact(show, {"step": 0}, lambda w: {
        "step": w.IntSlider(value=0, min=0, max=len(trace) - 1, description="step", continuous_update=False),
    })


def backward_trace(root, *, order=None):
    """The backward pass of ``root``'s graph (a ``dlcourse.autograd.Value``) one closure at a
    time, without changing the graph: a list of (node whose closure ran or None, {id(node):
    grad}) pairs. Entry 0 is the start (the root's grad 1, every other 0); entry k holds the
    gradients after the first k closures, run in reversed ``order(root)`` (``order`` lists
    every node after its children; None: the library's topological order)."""
    if order is None:
        from dlcourse.autograd import topological_order as order
    nodes = list(order(root))
    saved = {id(n): n.grad for n in nodes}
    try:
        for node in nodes:
            node.grad = 0.0
        root.grad = 1.0
        trace = [(None, {id(n): n.grad for n in nodes})]
        for node in reversed(nodes):
            node._backward()
            trace.append((node, {id(n): n.grad for n in nodes}))
    finally:
        for node in nodes:
            node.grad = saved[id(node)]
    return trace


def backward_step_figure(root, step: int, *, order=None):
    """``root``'s graph with the gradients after ``step`` closures of its backward pass
    (``backward_trace``); the title names the node whose closure ran last. The graph's own
    gradients are left as they were."""
    trace = backward_trace(root, order=order)
    if not 0 <= step < len(trace):
        raise ValueError(f"step must be in [0, {len(trace) - 1}], got {step}")
    ran, grads = trace[step]
    nodes = list((order or _default_order)(root))
    saved = {id(n): n.grad for n in nodes}
    try:
        for node in nodes:
            node.grad = grads[id(node)]
        fig, ax = plt.subplots(figsize=(min(2.2 * len(nodes), 14), 4.2), constrained_layout=True)
        if ran is None:
            title = f"step 0 of {len(trace) - 1}: the output's grad is set to 1, every other grad is 0"
        else:
            name = ran.label or ran._op or "input"
            what = "passed its grad to its inputs" if ran._children else "is an input: nothing to pass on"
            title = f"step {step} of {len(trace) - 1}: the closure of {name} ran ({what})"
        draw_value_graph(root, order=order, ax=ax, title=title)
    finally:
        for node in nodes:
            node.grad = saved[id(node)]
    return fig


def _default_order(root):
    from dlcourse.autograd import topological_order

    return topological_order(root)


def backward_stepper(root, *, order=None):
    """A slider that steps through the backward pass of ``root``'s graph one closure at a time."""
    steps = len(backward_trace(root, order=order)) - 1

    def show(step):
        return backward_step_figure(root, step, order=order)

    return _interact(show, {"step": 0}, lambda w: {
        "step": w.IntSlider(value=0, min=0, max=steps, description="step", continuous_update=False),
    })


def momentum_trajectory_figure(lr: float, momentum: float, *, H=None, w0=(-4.0, 2.0), steps: int = 60,
                               sgd_momentum=None):
    """Gradient descent with heavy-ball momentum on the quadratic 1/2 w^T H w (by default
    eigenvalues 1 and 20, turned by 30 degrees): the path and the loss per step.

    sgd_momentum: the heavy-ball step, ``w, state = sgd_momentum(w, dw, state, *, lr,
    momentum)`` (02's Exercise 4 writes one), used when momentum > 0; None takes the
    library's ``dlcourse.np.optim.sgd_momentum``. With momentum 0 the path is plain sgd's.
    """
    from dlcourse.np import landscapes, optim

    if sgd_momentum is None:
        sgd_momentum = optim.sgd_momentum  # looked up here: importing widgets loads no reference module
    H = landscapes.rotated_hessian([1.0, 20.0], np.pi / 6) if H is None else np.asarray(H)
    f, grad, _ = landscapes.quadratic(H)
    if momentum > 0:
        path = landscapes.run_optimizer(sgd_momentum, grad, w0, steps=steps, lr=lr, momentum=momentum)
    else:
        path = landscapes.run_optimizer(optim.sgd, grad, w0, steps=steps, lr=lr)
    losses = np.array([f(w) for w in path])
    bound = 2 / np.linalg.eigvalsh(H).max()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    from dlcourse.plot import plot_trajectories

    plot_trajectories(f, {f"lr {lr:g}, momentum {momentum:g}": path}, xlim=(-5, 5), ylim=(-4, 4),
                      ax=axes[0], log_levels=False, minimum=(0, 0))
    axes[1].semilogy(np.maximum(losses, 1e-16))
    axes[1].set(xlabel="step", ylabel="f(w)", title=f"plain GD is stable for lr < {bound:.3f}")
    return fig


def momentum_explorer(*, sgd_momentum=None):
    """Sliders for the learning rate and the momentum of momentum_trajectory_figure, which
    steps with ``sgd_momentum`` (None: the library's). The explorer starts at momentum 0, which
    does not call it: while that function is still a blank (it raises NotImplementedError), a
    momentum above 0 shows a line saying so instead of the figure."""

    def show(lr, momentum):
        try:
            return momentum_trajectory_figure(lr, momentum, sgd_momentum=sgd_momentum)
        except NotImplementedError:
            return "sgd_momentum is not written yet: momentum above 0 needs it (plain gradient descent at 0 does not)"

    return _interact(show, {"lr": 0.05, "momentum": 0.0}, lambda w: {
        "lr": w.FloatLogSlider(value=0.05, base=10, min=-3, max=-0.5, step=0.05, continuous_update=False),
        "momentum": w.FloatSlider(value=0.0, min=0.0, max=0.99, step=0.01, continuous_update=False),
    })


ACTIVATIONS = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0), "sigmoid": lambda a: 0.5 * (1 + np.tanh(a / 2))}
INITS = ("small normal (std 0.01)", "Xavier uniform", "He normal")


def activation_statistics(activation: str, init: str, *, gain: float = 1.0, depth: int = 20, width: int = 256,
                          n: int = 500, rng: np.random.Generator | None = None, xavier_uniform=None,
                          he_normal=None) -> np.ndarray:
    """Std of the activations after each of ``depth`` fully connected layers of ``width``
    units (no biases), for ``n`` standard-normal inputs, with weights drawn by ``init``
    (one of INITS) and multiplied by ``gain``. Returns stds: (depth,).

    xavier_uniform, he_normal: the initialisers, ``w = f(n_in, n_out, *, rng)`` with w:
    (n_in, n_out) (04's Exercise 2 writes both); None takes the library's ``dlcourse.np.init``
    one. A draw of another shape raises a ValueError naming the initialiser.
    """
    from dlcourse.np import init as np_init  # here: importing widgets loads no reference module

    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: choose one of {sorted(ACTIVATIONS)}")
    if init not in INITS:
        raise ValueError(f"unknown initialisation {init!r}: choose one of {INITS}")
    rng = np.random.default_rng(0) if rng is None else rng
    initialisers = {INITS[1]: np_init.xavier_uniform if xavier_uniform is None else xavier_uniform,
                    INITS[2]: np_init.he_normal if he_normal is None else he_normal}

    def draw():
        if init == INITS[0]:
            return 0.01 * rng.standard_normal((width, width))
        w = np.asarray(initialisers[init](width, width, rng=rng))
        if w.shape != (width, width):
            name = "xavier_uniform" if init == INITS[1] else "he_normal"
            raise ValueError(f"{name}({width}, {width}, rng=rng) must return (n_in, n_out) = {(width, width)}"
                             f" weights, got shape {w.shape}")
        return w

    h = rng.standard_normal((n, width))
    stds = []
    for _ in range(depth):
        h = ACTIVATIONS[activation](h @ (gain * draw()))
        stds.append(h.std())
    return np.array(stds)


def activation_statistics_figure(activation: str = "tanh", gain: float = 1.0, *, depth: int = 20,
                                 xavier_uniform=None, he_normal=None):
    """Activation std per layer for the three initialisations, for one activation and gain;
    xavier_uniform and he_normal as in activation_statistics (None: the library's)."""
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for init in INITS:
        stds = activation_statistics(activation, init, gain=gain, depth=depth, xavier_uniform=xavier_uniform,
                                     he_normal=he_normal)
        ax.semilogy(np.arange(1, depth + 1), np.maximum(stds, 1e-300), marker="o", label=init)
    ax.set(xlabel="layer", ylabel="std of the activations", ylim=(1e-12, 1e3),
           title=f"{activation}, {depth} layers of 256 units, gain {gain:g}")
    ax.legend(fontsize=8)
    return fig


def activation_statistics_explorer(*, xavier_uniform=None, he_normal=None):
    """A menu for the activation and a slider for the gain of activation_statistics_figure,
    drawing with ``xavier_uniform`` and ``he_normal`` (None: the library's)."""

    def show(activation, gain):
        return activation_statistics_figure(activation, gain, xavier_uniform=xavier_uniform, he_normal=he_normal)

    return _interact(show, {"activation": "tanh", "gain": 1.0}, lambda w: {
        "activation": w.Dropdown(options=sorted(ACTIVATIONS), value="tanh", description="activation"),
        "gain": w.FloatSlider(value=1.0, min=0.25, max=2.0, step=0.05, continuous_update=False),
    })


KERNELS = {
    "Sobel x (vertical edges)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel y (horizontal edges)": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "Laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "box blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}


def kernel_figure(image, kernel, *, im2col=None):
    """A grayscale image (H, W) and its cross-correlation with a 3x3 ``kernel`` (padding 1),
    side by side; the response is drawn on a symmetric colour scale (red positive).

    The response is one matrix product, kernel.reshape(1, 9) @ im2col(image[None, None], 3, 3,
    pad=1), with ``im2col(x, kh, kw, *, stride, pad)``: x (N, C, H, W) -> (C*kh*kw, N*OH*OW)
    (05's Exercise 5 writes one); None takes the library's ``dlcourse.np.conv.im2col``. Columns
    of another shape raise a ValueError naming im2col.
    """
    from dlcourse.np import conv  # here: importing widgets loads no reference module

    im2col = conv.im2col if im2col is None else im2col

    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"image must be grayscale (H, W), got shape {image.shape}:"
                         " use data.load_photo(name, gray=True)")
    if kernel.shape != (3, 3):
        raise ValueError(f"kernel must be 3x3, got shape {kernel.shape}")
    cols = np.asarray(im2col(image[None, None], 3, 3, pad=1))  # (1*3*3, 1*H*W): padding 1 keeps H and W
    if cols.shape != (9, image.size):
        raise ValueError(f"im2col(x, 3, 3, pad=1) of one {image.shape} image must return (C*kh*kw, N*OH*OW) ="
                         f" {(9, image.size)} columns, got shape {cols.shape}")
    response = (kernel.reshape(1, 9) @ cols).reshape(image.shape)  # (H, W)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    axes[0].imshow(image, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("input")
    limit = max(np.abs(response).max(), 1e-12)
    shown = axes[1].imshow(response, cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[1].set_title("response to " + np.array2string(kernel, precision=2, separator=",").replace("\n", ""))
    fig.colorbar(shown, ax=axes[1], shrink=0.8)
    for ax in axes:
        ax.set(xticks=[], yticks=[])
    return fig


def parse_kernel(text: str) -> np.ndarray:
    """Nine numbers (separated by spaces, commas, brackets or new lines) as a 3x3 kernel."""
    import re

    numbers = [float(t) for t in re.split(r"[\s,;\[\]()]+", text.strip()) if t]
    if len(numbers) != 9:
        raise ValueError(f"a 3x3 kernel needs 9 numbers, got {len(numbers)} in {text!r}")
    return np.array(numbers).reshape(3, 3)


def kernel_editor(image, *, im2col=None):
    """A preset menu and a text box for the 3x3 kernel of kernel_figure on ``image``, which
    cuts the windows with ``im2col`` (None: the library's)."""

    def show(preset, custom):
        try:
            kernel = parse_kernel(custom) if custom.strip() else np.array(KERNELS[preset])
        except ValueError as error:  # a half-typed kernel: say so instead of a traceback
            return str(error)
        return kernel_figure(image, kernel, im2col=im2col)

    first = next(iter(KERNELS))
    return _interact(show, {"preset": first, "custom": ""}, lambda w: {
        "preset": w.Dropdown(options=list(KERNELS), value=first, description="preset"),
        "custom": w.Text(value="", placeholder="or 9 numbers: 1 0 -1 2 0 -2 1 0 -1", description="kernel",
                         continuous_update=False),
    })


def lstm_gate_trajectory(forget: float, input_: float, output: float, *, steps: int = 40, c0: float = 1.0):
    """The cell and the output of one LSTM unit whose gates are held constant, fed the
    candidate values g_t = sin(2 pi t / 20) (t = 1..steps): c_t = f c_{t-1} + i g_t,
    h_t = o tanh(c_t). Returns (g, c, h), each (steps,)."""
    for name, value in (("forget", forget), ("input", input_), ("output", output)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"the {name} gate is a sigmoid output in [0, 1], got {value}")
    g = np.sin(2 * np.pi * np.arange(1, steps + 1) / 20)
    c, cell = np.empty(steps), c0
    for t in range(steps):
        cell = forget * cell + input_ * g[t]
        c[t] = cell
    return g, c, output * np.tanh(c)


def lstm_gate_figure(forget: float = 1.0, input_: float = 0.0, output: float = 1.0):
    """lstm_gate_trajectory drawn: the candidate g, the cell c and the output h over time."""
    g, c, h = lstm_gate_trajectory(forget, input_, output)
    fig, ax = plt.subplots(figsize=(8, 3.5), constrained_layout=True)
    t = np.arange(1, len(g) + 1)
    ax.plot(t, g, color="gray", ls=":", label="candidate g")
    ax.plot(t, c, color="C0", label="cell c")
    ax.plot(t, h, color="C3", label="output h")
    ax.set(xlabel="time step", ylim=(-2.2, 2.2), title=f"f = {forget:g}, i = {input_:g}, o = {output:g} (c_0 = 1)")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def lstm_gate_explorer():
    """Sliders for the three gates of lstm_gate_figure."""

    def show(forget, input_, output):
        return lstm_gate_figure(forget, input_, output)

    return _interact(show, {"forget": 1.0, "input_": 0.0, "output": 1.0}, lambda w: {
        "forget": w.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description="forget f",
                                continuous_update=False),
        "input_": w.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="input i",
                                continuous_update=False),
        "output": w.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description="output o",
                                continuous_update=False),
    })


# ---------------------------------------------------------------- word vectors (07)


def _word_rows(vectors, vocab):
    vectors = as_numpy(vectors).astype(np.float64)
    if vectors.ndim != 2 or len(vectors) != len(vocab):
        raise ValueError(f"vectors must be (V, D) with V = len(vocab) = {len(vocab)}, got {vectors.shape}")
    return vectors, {word: i for i, word in enumerate(vocab)}


def _missing_words(words, index) -> str | None:
    missing = [w for w in words if w not in index]
    if not missing:
        return None
    return (f"not in the vocabulary: {', '.join(map(repr, missing))} ({len(index):,} words; the excerpt is stemmed "
            "and lower-case: 'franc', 'germani', 'citi')")


def nearest_words(word: str, vectors, vocab, *, cosine, k: int = 8) -> list[tuple[str, float]]:
    """The k words whose vectors have the largest cosine with ``word``'s (itself left out), as
    (word, cosine) pairs, best first. vectors: (V, D), one row per word of ``vocab``;
    ``cosine(a: (D,), b: (V, D)) -> (V,)``: 07's notebook passes the student's cosine_similarity
    (Exercise 3). A word missing from vocab raises KeyError."""
    vectors, index = _word_rows(vectors, vocab)
    if word not in index:
        raise KeyError(_missing_words([word], index))
    sims = np.asarray(cosine(vectors[index[word]], vectors), dtype=np.float64)  # (V,)
    sims[index[word]] = -np.inf
    best = np.argsort(-sims, kind="stable")[:k]
    return [(vocab[i], float(sims[i])) for i in best]


def analogy_candidates(a: str, b: str, c: str, vectors, vocab, *, cosine, k: int = 5) -> list[tuple[str, float]]:
    """The k best answers d to "a is to b as c is to d" by 3CosAdd: the cosine of each vector with
    w_b - w_a + w_c formed from unit vectors, the three question words left out; (word, cosine)
    pairs, best first (the first is what ``analogy`` answers). Arguments as in nearest_words."""
    vectors, index = _word_rows(vectors, vocab)
    message = _missing_words([a, b, c], index)
    if message:
        raise KeyError(message)
    norms = np.linalg.norm(vectors[[index[a], index[b], index[c]]], axis=1, keepdims=True)  # (3, 1)
    wa, wb, wc = vectors[[index[a], index[b], index[c]]] / np.maximum(norms, 1e-12)
    sims = np.asarray(cosine(wb - wa + wc, vectors), dtype=np.float64)  # (V,)
    sims[[index[a], index[b], index[c]]] = -np.inf
    best = np.argsort(-sims, kind="stable")[:k]
    return [(vocab[i], float(sims[i])) for i in best]


def word_vector_figure(word: str, a: str, b: str, c: str, vectors, vocab, *, cosine, k: int = 8):
    """Two bar charts: the k nearest words of ``word`` and the k best answers of a : b :: c : ?.
    Returns the figure, or a message (a string) when a word is not in the vocabulary."""
    _, index = _word_rows(vectors, vocab)
    words = [w.strip().lower() for w in (word, a, b, c)]
    message = _missing_words(words, index)
    if message:
        return message
    word, a, b, c = words
    panels = [(f"nearest to '{word}'", nearest_words(word, vectors, vocab, k=k, cosine=cosine)),
              (f"'{b}' - '{a}' + '{c}'", analogy_candidates(a, b, c, vectors, vocab, k=k, cosine=cosine))]
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.35 * k + 1.2), constrained_layout=True)
    for ax, (title, rows) in zip(axes, panels):
        names, sims = [r[0] for r in rows][::-1], [r[1] for r in rows][::-1]
        ax.barh(names, sims, color="C0")
        for y, s in enumerate(sims):
            ax.annotate(f"{s:.2f}", (s, y), textcoords="offset points", xytext=(3, -3), fontsize=8)
        ax.set(title=title, xlabel="cosine", xlim=(min(0.0, min(sims)) - 0.05, 1.1))
    return fig


def word_vector_explorer(vectors, vocab, *, cosine, word: str = "king", a: str = "man", b: str = "woman",
                         c: str = "king", k: int = 8):
    """Text boxes for a word and an analogy a : b :: c : ?, and a slider for k, over
    word_vector_figure on ``vectors`` (V, D) and ``vocab``."""

    def show(word, a, b, c, k):
        return word_vector_figure(word, a, b, c, vectors, vocab, k=k, cosine=cosine)

    return _interact(show, {"word": word, "a": a, "b": b, "c": c, "k": k}, lambda w: {
        "word": w.Text(value=word, description="word", continuous_update=False),
        "a": w.Text(value=a, description="a", continuous_update=False),
        "b": w.Text(value=b, description="is to b", continuous_update=False),
        "c": w.Text(value=c, description="as c is to ?", continuous_update=False),
        "k": w.IntSlider(value=k, min=1, max=20, description="k", continuous_update=False),
    })


# ---------------------------------------------------------------- adversarial examples


def _adv_class_name(index: int, class_names) -> str:
    return str(class_names[index]) if class_names is not None else str(index)


def _adv_show_image(ax, image):
    """image: (C, H, W) with C = 1 (grayscale) or 3 (RGB), values in [0, 1]."""
    if image.shape[0] == 1:
        ax.imshow(image[0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(np.clip(image.transpose(1, 2, 0), 0, 1))


def _adv_check_eps(eps) -> None:
    if not float(eps) >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")


def adversarial_figure(model, image, label: int, eps: float, *, class_names=None, step=None):
    """An image, its FGSM perturbation and the adversarial image, with the model's predictions.

    model: a classifier taking (1, C, H, W) and returning logits (1, K); image: (C, H, W)
    with C = 1 or 3, or (H, W) for one channel, values in [0, 1] (NumPy or torch, any
    device: it is moved to the model's device and dtype); label: the true class; eps >= 0.
    The perturbation shown is x_adv - x = eps * sign(grad_x loss) where clipping to [0, 1]
    leaves it whole (one channel: red +eps, white 0, blue -eps; RGB: gray 0). The clean and the
    adversarial panels are titled with the prediction and its softmax confidence. The
    attack and the predictions are computed in eval mode; the model's modes are restored.
    step: the FGSM step rule on tensors, as dlcourse.pt.adversarial.fgsm takes it (None: the
    library's fgsm_step; a notebook passes its own, pt.adversarial.on_tensors(fgsm_step)).
    """
    import torch

    from dlcourse.pt import adversarial as pt_adversarial

    x = torch.as_tensor(image)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[0] not in (1, 3):
        raise ValueError(f"image must be (C, H, W) with C = 1 or 3, or (H, W), got shape {tuple(np.shape(image))}")
    _adv_check_eps(eps)
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else x.device
    dtype = parameter.dtype if parameter is not None and parameter.is_floating_point() else torch.float32
    x = x.to(device=device, dtype=dtype)[None]                  # (1, C, H, W)
    y = torch.tensor([int(label)], device=device)
    rule = {} if step is None else {"step": step}  # None: fgsm's own default, the library's fgsm_step
    with pt_adversarial.eval_mode(model):
        x_adv = pt_adversarial.fgsm(model, x, y, eps, **rule)
        with torch.no_grad():
            probs = torch.softmax(model(torch.cat([x, x_adv])), dim=1)  # (2, K)
    confidence, predicted = probs.max(dim=1)
    clean, adv = as_numpy(x[0]).astype(float), as_numpy(x_adv[0]).astype(float)
    delta = adv - clean                                         # (C, H, W)
    fig, axes = plt.subplots(1, 3, figsize=(11, 4), constrained_layout=True)
    _adv_show_image(axes[0], clean)
    axes[0].set_title(f"clean (label {_adv_class_name(int(label), class_names)})\n"
                      f"predicted {_adv_class_name(int(predicted[0]), class_names)} ({confidence[0].item():.1%})")
    limit = max(float(eps), 1e-12)
    if delta.shape[0] == 1:
        axes[1].imshow(delta[0], cmap="RdBu_r", vmin=-limit, vmax=limit)
        scale = "red +eps, blue -eps"
    else:  # the RGB channels of delta, 0 at mid-gray
        axes[1].imshow(np.clip(0.5 + delta.transpose(1, 2, 0) / (2 * limit), 0, 1))
        scale = "gray 0"
    axes[1].set_title(f"perturbation x_adv - x\neps = {eps:g}: {scale}")
    _adv_show_image(axes[2], adv)
    axes[2].set_title(f"adversarial\npredicted {_adv_class_name(int(predicted[1]), class_names)} "
                      f"({confidence[1].item():.1%})")
    for ax in axes:
        ax.set(xticks=[], yticks=[])
    return fig


def adversarial_explorer(model, image, label: int, *, max_eps: float = 0.3, class_names=None, step=None):
    """A slider for the eps of adversarial_figure, from 0 to ``max_eps``; ``step`` as there."""
    if not float(max_eps) > 0:
        raise ValueError(f"max_eps must be > 0, got {max_eps}")
    start = round(min(0.1, float(max_eps)), 3)

    def show(eps):
        return adversarial_figure(model, image, label, eps, class_names=class_names, step=step)

    return _interact(show, {"eps": start}, lambda w: {
        "eps": w.FloatSlider(value=start, min=0.0, max=float(max_eps), step=float(max_eps) / 60, description="eps",
                             readout_format=".3f", continuous_update=False),
    })


# ---------------------------------------------------------------- autoencoders


def corrupted_reconstructions(models: dict, images, level: float, *, kind: str = "mask", seed: int = 0):
    """Images corrupted at ``level`` and each model's reconstruction of the corrupted copies.

    models: {name: autoencoder} mapping (n, D) to (n, D), run without gradients in its
    current mode (put it in evaluation mode first); images: (n, D) or (n, ...) in [0, 1].
    kind, level: as ``dlcourse.pt.autoencoder.corrupt`` (mask: the probability of zeroing a
    pixel; gaussian: the noise's standard deviation), drawn from a CPU generator seeded with
    ``seed``, so every level shows the same draw. Returns (rows, errors): rows {"clean",
    "corrupted", *names: (n, D) NumPy arrays}, errors {"corrupted", *names: the mean squared
    error to the clean images}.
    """
    import torch

    from dlcourse.pt.autoencoder import corrupt

    clean = torch.as_tensor(images).float()
    clean = clean.reshape(len(clean), -1)                               # (n, D)
    noisy = corrupt(clean, kind=kind, level=level, generator=torch.Generator().manual_seed(seed))
    rows, errors = {"clean": clean.numpy(), "corrupted": noisy.numpy()}, {}
    errors["corrupted"] = float(torch.mean((noisy - clean) ** 2))
    for name, model in models.items():
        if name in rows:
            raise ValueError(f"a model may not be called {name!r}: that row shows the images")
        parameter = next(model.parameters(), None) if hasattr(model, "parameters") else None
        device = parameter.device if parameter is not None else torch.device("cpu")
        with torch.no_grad():
            out = model(noisy.to(device)).reshape(len(clean), -1).cpu()  # (n, D)
        rows[name] = out.numpy()
        errors[name] = float(torch.mean((out - clean) ** 2))
    return rows, errors


def denoising_figure(models: dict, images, level: float, *, kind: str = "mask", seed: int = 0,
                     image_shape=(28, 28)):
    """One row of images per entry of ``corrupted_reconstructions``: the clean images, their
    corrupted copies and each model's reconstruction, every row labelled with its mean
    squared error to the clean images."""
    rows, errors = corrupted_reconstructions(models, images, level, kind=kind, seed=seed)
    n = len(rows["clean"])
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n + 1.2, 1.15 * len(rows)), constrained_layout=True,
                             squeeze=False)
    for r, (name, shown) in enumerate(rows.items()):
        for ax, image in zip(axes[r], shown):
            ax.imshow(np.clip(image.reshape(image_shape), 0, 1), cmap="gray_r", vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[])
        label = name if name == "clean" else f"{name}\n{errors[name]:.4f}"
        axes[r, 0].set_ylabel(label, fontsize=8)
    fig.suptitle(f"{kind} noise at level {level:g}: rows labelled with their squared error to the clean images",
                 fontsize=9)
    return fig


def denoising_explorer(models: dict, images, *, seed: int = 0, image_shape=(28, 28)):
    """A slider for the corruption level and a choice of its kind in denoising_figure."""

    def show(level, kind):
        return denoising_figure(models, images, level, kind=kind, seed=seed, image_shape=image_shape)

    return _interact(show, {"level": 0.5, "kind": "mask"}, lambda w: {
        "level": w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="level",
                               continuous_update=False),
        "kind": w.Dropdown(options=["mask", "gaussian"], value="mask", description="kind"),
    })


# ---------------------------------------------------------------- GANs


def latent_path(z_start, z_end, steps: int):
    """``steps`` latent vectors on the straight line from z_start to z_end: (steps, Z)."""
    import torch

    if z_start.shape != z_end.shape or z_start.ndim != 1:
        raise ValueError(f"z_start and z_end must be vectors of the same length, got {tuple(z_start.shape)} "
                         f"and {tuple(z_end.shape)}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    t = torch.linspace(0, 1, steps, dtype=z_start.dtype, device=z_start.device).unsqueeze(1)  # (steps, 1)
    return (1 - t) * z_start + t * z_end


def latent_interpolation_figure(G, z_start, z_end, t: float = 0.5, *, steps: int = 9, image_shape=(28, 28)):
    """A generator's images along the line from z_start to z_end: a strip of ``steps``
    images and, large, the image at position t in [0, 1]. G maps (N, Z) to (N, prod(image_shape))
    or (N, 1, H, W) in [0, 1]; it is run without gradients in its current mode."""
    import torch

    if not 0.0 <= t <= 1.0:
        raise ValueError(f"t must be in [0, 1], got {t}")
    path = torch.cat([latent_path(z_start, z_end, steps), ((1 - t) * z_start + t * z_end).unsqueeze(0)])
    with torch.no_grad():
        images = as_numpy(G(path)).reshape(len(path), *image_shape)
    fig = plt.figure(figsize=(9, 3.2), constrained_layout=True)
    grid = fig.add_gridspec(2, steps + 3)
    big = fig.add_subplot(grid[:, :3])
    big.imshow(images[-1], cmap="gray_r", vmin=0, vmax=1)
    big.set(title=f"t = {t:.2f}", xticks=[], yticks=[])
    for i in range(steps):
        ax = fig.add_subplot(grid[0, 3 + i])
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[])
        ax.set_title(f"{i / (steps - 1):.2f}", fontsize=7)
    fig.suptitle("G((1 - t) z_start + t z_end)")
    return fig


def latent_interpolation_explorer(G, z_start, z_end, *, steps: int = 9, image_shape=(28, 28)):
    """A slider for t in latent_interpolation_figure."""

    def show(t):
        return latent_interpolation_figure(G, z_start, z_end, t, steps=steps, image_shape=image_shape)

    return _interact(show, {"t": 0.5}, lambda w: {
        "t": w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="t", continuous_update=False),
    })


# ---------------------------------------------------------------- attention (11)


def _attention_heads(weights) -> np.ndarray:
    weights = as_numpy(weights, name="attention weights")
    if weights.ndim == 2:
        weights = weights[None]
    if weights.ndim != 3:
        raise ValueError(f"attention weights must be (T, S) or (H, T, S), got shape {weights.shape}")
    return weights.astype(np.float64)


def attention_row(weights, query: int, head: int = 0) -> np.ndarray:
    """Where query position ``query`` of head ``head`` attends: row ``query`` of that head's
    weights (H, T, S) (or (T, S) for one head), shape (S,), summing to 1."""
    weights = _attention_heads(weights)
    n_heads, t, _ = weights.shape
    if not 0 <= head < n_heads:
        raise ValueError(f"head must be in [0, {n_heads - 1}], got {head}")
    if not 0 <= query < t:
        raise ValueError(f"query must be in [0, {t - 1}], got {query}")
    return weights[head, query]


def attention_figure(weights, query: int = 0, head: int = 0, *, queries=None, keys=None):
    """The weights of one head as a matrix (queries down, keys across), the chosen query's row
    framed, and that row as bars: where it attends. ``queries``/``keys``: labels (tokens)."""
    weights = _attention_heads(weights)
    row = attention_row(weights, query, head)
    _, t, s = weights.shape
    queries = [str(q) for q in (range(t) if queries is None else queries)]
    keys = [str(k) for k in (range(s) if keys is None else keys)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True,
                                      gridspec_kw={"width_ratios": [1.2, 1]})
    left.imshow(weights[head], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    left.add_patch(plt.Rectangle((-0.5, query - 0.5), s, 1, fill=False, edgecolor="red", linewidth=2))
    left.set(xticks=range(s), xticklabels=keys, yticks=range(t), yticklabels=queries,
             xlabel="key position", ylabel="query position", title=f"head {head}: weights")
    right.bar(range(s), row, color="C0")
    right.set(xticks=range(s), xticklabels=keys, ylim=(0, 1), xlabel="key position",
              title=f"query {query} ({queries[query]}) attends to")
    return fig


def attention_explorer(weights, *, queries=None, keys=None):
    """Sliders for the query position and the head of attention_figure."""
    heads = _attention_heads(weights)

    def show(query, head):
        return attention_figure(heads, query, head, queries=queries, keys=keys)

    return _interact(show, {"query": 0, "head": 0}, lambda w: {
        "query": w.IntSlider(value=0, min=0, max=heads.shape[1] - 1, description="query", continuous_update=False),
        "head": w.IntSlider(value=0, min=0, max=heads.shape[0] - 1, description="head", continuous_update=False),
    })
