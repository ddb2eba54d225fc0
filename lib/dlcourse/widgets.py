"""ipywidgets demos. Each demo is a pure function that returns a figure (tested without a
browser) and a thin wrapper that puts it behind sliders with ``ipywidgets.interact``."""

import matplotlib.pyplot as plt
import numpy as np

from dlcourse.plot import plot_linear_boundary


def perceptron_step_figure(X, t, trace, step: int):
    """The perceptron's boundary before and after presentation ``step`` of ``trace``.

    X: (N, 2) inputs without the bias column; t: (N,); trace: the list returned by
    ``perceptron_train`` (NumPy or torch twin); step: 0 <= step < len(trace).
    The sample being presented is ringed; the titles give the prediction and the update.
    """
    if not 0 <= step < len(trace):
        raise ValueError(f"step must be in [0, {len(trace) - 1}], got {step}")
    row = trace[step]
    w_before, w_after = (np.asarray(w, dtype=float) for w in (row.w_before, row.w_after))
    x = np.asarray(row.x, dtype=float)
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


def _fmt(w):
    return "(" + ", ".join(f"{v:g}" for v in w) + ")"


def perceptron_stepper(X, t, trace):
    """A slider that steps through ``trace`` one presentation at a time."""
    import ipywidgets as widgets

    def show(step):
        fig = perceptron_step_figure(X, t, trace, step)
        plt.show()
        return fig

    slider = widgets.IntSlider(value=0, min=0, max=len(trace) - 1, description="step",
                               continuous_update=False)
    return widgets.interact(show, step=slider)
