"""Figures used by several notebooks. Each function draws on an Axes it is given (or a new
one) and returns it, so notebooks can compose panels and tests can inspect them."""

import matplotlib.pyplot as plt
import numpy as np

CLASS_COLOURS = ("#d95f02", "#1b9e77")  # class 0, class 1 (colour-blind safe pair)


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    return ax


def plot_points(X, t, *, ax=None, labels=("t = 0", "t = 1"), size=60):
    """Scatter 2-D points X: (N, 2) coloured by class t: (N,) in {0, 1}."""
    ax = _axes(ax)
    X, t = np.asarray(X, dtype=float), np.asarray(t)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be (N, 2) points without the bias column, got {X.shape}")
    for cls, (colour, label) in enumerate(zip(CLASS_COLOURS, labels)):
        chosen = X[t == cls]
        marker = "o" if cls else "s"
        ax.scatter(chosen[:, 0], chosen[:, 1], s=size, c=colour, marker=marker,
                   edgecolors="k", linewidths=0.6, label=label, zorder=3)
    return ax


def plot_linear_boundary(W, X, t, *, ax=None, title=None, margin=0.5, resolution=200):
    """Points X: (N, 2), their classes t, and the boundary w0 + w1 x1 + w2 x2 = 0 of
    W: (3,), with the half-plane predicted 1 shaded. Works for any W, including a
    vertical boundary (w2 = 0) or no boundary at all (w1 = w2 = 0)."""
    ax = _axes(ax)
    X = np.asarray(X, dtype=float)
    W = np.asarray(W, dtype=float)
    if W.shape != (3,):
        raise ValueError(f"W must be (3,) = (w0, w1, w2) for 2-D inputs, got {W.shape}")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    score = W[0] + W[1] * g1 + W[2] * g2
    ax.contourf(g1, g2, (score > 0).astype(float), levels=[-0.5, 0.5, 1.5],
                colors=[CLASS_COLOURS[0], CLASS_COLOURS[1]], alpha=0.15)
    if np.any(W[1:] != 0) and score.min() < 0 < score.max():
        ax.contour(g1, g2, score, levels=[0.0], colors="k", linewidths=1.5)
    plot_points(X, t, ax=ax)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def plot_trajectories(f, paths: dict, *, xlim, ylim, ax=None, title=None, log_levels=True, resolution=200,
                      minimum=None):
    """Contours of f over a box and optimizer paths on top: paths maps a label to an
    (steps + 1, 2) array. ``log_levels`` spaces the contours geometrically, which suits
    valleys such as Rosenbrock's; ``minimum`` marks the optimum with a star."""
    ax = _axes(ax)
    g1, g2 = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    values = np.vectorize(lambda a, b: f(np.array([a, b])))(g1, g2)
    if log_levels:
        low = max(values.min(), 1e-3)
        levels = np.geomspace(low, values.max(), 15)
    else:
        levels = np.linspace(values.min(), values.max(), 15)
    ax.contour(g1, g2, values, levels=levels, colors="0.75", linewidths=0.8)
    for label, path in paths.items():
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], ".-", markersize=2, linewidth=1, label=label)
    if minimum is not None:
        ax.plot(*minimum, "k*", markersize=12)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    if title:
        ax.set_title(title)
    if paths:
        ax.legend(fontsize=8)
    return ax


def draw_value_graph(root, *, order=None, ax=None, title=None):
    """The computation graph of a ``dlcourse.autograd.Value`` drawn with matplotlib (no
    Graphviz needed): one box per value with its label or operation, its data and its
    gradient; arrows point from inputs to results, the output sits on the right. ``order``
    lists the graph's nodes, each after its children (None: ``dlcourse.autograd.topological_order``;
    03-backprop passes the student's own)."""
    if order is None:
        from dlcourse.autograd import topological_order as order

    nodes = order(root)
    level = {}
    for node in nodes:  # children come first, so their levels are known
        missing = [c for c in node._children if id(c) not in level]
        if missing:
            raise ValueError(f"order must list every node after its children: {node!r} came before {missing[0]!r}")
        level[id(node)] = 1 + max((level[id(c)] for c in node._children), default=-1)
    columns = {}
    for node in nodes:
        columns.setdefault(level[id(node)], []).append(node)
    position = {}
    for x, members in columns.items():
        for row, node in enumerate(members):
            position[id(node)] = (x, row - (len(members) - 1) / 2)
    if ax is None:
        width = 2.2 * (max(columns) + 1)
        height = 1.3 * max(len(m) for m in columns.values()) + 0.8
        _, ax = plt.subplots(figsize=(min(width, 16), min(height, 10)))
    for node in nodes:
        x, y = position[id(node)]
        for child in node._children:
            cx, cy = position[id(child)]
            ax.annotate("", xy=(x - 0.42, y), xytext=(cx + 0.42, cy),
                        arrowprops=dict(arrowstyle="->", color="0.45", shrinkA=0, shrinkB=0))
    for node in nodes:
        x, y = position[id(node)]
        name = node.label or node._op or "input"
        text = f"{name}\ndata {node.data:.4g}\ngrad {node.grad:.4g}"
        face = "#e8f1fb" if not node._children else "#fdf1e2"
        ax.text(x, y, text, ha="center", va="center", fontsize=8, family="monospace",
                bbox=dict(boxstyle="round,pad=0.35", facecolor=face, edgecolor="0.4"))
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
