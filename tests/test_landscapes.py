"""dlcourse.np.landscapes: surfaces, their derivatives, the optimizer loop, and the momentum widget."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from dlcourse import check, widgets  # noqa: E402
from dlcourse.np import landscapes as L  # noqa: E402
from dlcourse.np import optim  # noqa: E402

ASSIGNMENT = "02-gradient-descent"


@pytest.mark.parametrize("point", [(-1.2, 1.0), (0.3, -0.7), (0.9, 0.8)])
def test_rosenbrock_derivatives_match_finite_differences(point):
    w = np.array(point)
    assert check.rel_error(L.rosenbrock_grad(w), check.numerical_gradient(L.rosenbrock, w.copy())) < 1e-6
    numeric_hessian = np.stack([check.numerical_gradient(lambda v, i=i: L.rosenbrock_grad(v)[i], w.copy())
                                for i in range(2)])
    assert check.rel_error(L.rosenbrock_hessian(w), numeric_hessian) < 1e-6
    assert L.rosenbrock(np.array([1.0, 1.0])) == 0.0


def test_quadratic_and_rotated_hessian():
    H = L.rotated_hessian([1.0, 20.0], 0.4)
    np.testing.assert_allclose(np.linalg.eigvalsh(H), [1.0, 20.0])
    b = np.array([1.0, -2.0])
    f, grad, hessian = L.quadratic(H, b)
    w = np.array([0.3, 0.9])
    assert check.rel_error(grad(w), check.numerical_gradient(f, w.copy())) < 1e-7
    np.testing.assert_allclose(grad(np.linalg.solve(H, b)), 0, atol=1e-12)
    np.testing.assert_array_equal(hessian(w), H)
    with pytest.raises(ValueError, match="symmetric"):
        L.quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]))


def test_run_optimizer_records_the_path_and_survives_divergence():
    f, grad, _ = L.quadratic(np.diag([1.0, 10.0]))
    path = L.run_optimizer(optim.sgd, grad, [1.0, 1.0], steps=200, lr=0.19)
    assert path.shape == (201, 2) and f(path[-1]) < 1e-6 * f(path[0])
    diverging = L.run_optimizer(optim.sgd, grad, [1.0, 1.0], steps=2000, lr=0.21)
    assert diverging.shape == (2001, 2) and np.all(np.isfinite(diverging))
    assert np.abs(diverging[-1]).max() > 1e6


def test_mean_logistic_loss_and_gradient_match_torch():
    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40).astype(float), rng.normal(size=3)
    batch = rng.choice(40, size=13, replace=False)
    wt = torch.tensor(w, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(X[batch]) @ wt, torch.tensor(y[batch]))
    loss.backward()
    assert L.mean_logistic_loss(w, X[batch], y[batch]) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(L.mean_logistic_gradient(w, X, y, batch), wt.grad.numpy(), rtol=1e-10)
    assert np.all(np.isfinite(L.mean_logistic_gradient(np.array([1e4, 0, 0]), X, y)))  # no overflow


def test_momentum_widget_figure():
    fig = widgets.momentum_trajectory_figure(0.05, 0.5, steps=20)
    assert fig.axes[1].get_title() == "plain GD is stable for lr < 0.100"
    assert len(fig.axes[1].lines[0].get_ydata()) == 21
    still = widgets.momentum_trajectory_figure(0.05, 0.0, steps=20)
    assert still.axes[0].get_legend().get_texts()[0].get_text() == "lr 0.05, momentum 0"
    matplotlib.pyplot.close("all")


def test_momentum_widget_steps_with_the_sgd_momentum_it_is_given(monkeypatch, capsys):
    """02's notebook passes the student's sgd_momentum (the library's is sealed while 02 is
    graded); momentum 0 is plain sgd and does not call it."""
    calls = []

    def counted(w, dw, state=None, *, lr, momentum):
        calls.append((lr, momentum))
        return optim.sgd_momentum(w, dw, state, lr=lr, momentum=momentum)

    fig = widgets.momentum_trajectory_figure(0.05, 0.5, steps=20, sgd_momentum=counted)
    assert calls == [(0.05, 0.5)] * 20
    reference = widgets.momentum_trajectory_figure(0.05, 0.5, steps=20)
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_ydata(), reference.axes[1].lines[0].get_ydata())
    widgets.momentum_trajectory_figure(0.05, 0.0, steps=20, sgd_momentum=counted)
    assert len(calls) == 20

    def blank(w, dw, state=None, *, lr, momentum):
        raise NotImplementedError

    assert widgets.momentum_explorer(sgd_momentum=blank) is None  # headless under pytest: momentum 0 drawn
    assert "static figure here" in capsys.readouterr().out
    with pytest.raises(NotImplementedError):
        widgets.momentum_trajectory_figure(0.05, 0.5, steps=3, sgd_momentum=blank)
    for name in widgets.HEADLESS_ENV:
        monkeypatch.delenv(name, raising=False)
    live = widgets.momentum_explorer(sgd_momentum=blank)
    live.widget.children[1].value = 0.5  # the momentum slider: now the blank is called
    assert "sgd_momentum is not written yet" in live.widget.children[-1].value
    matplotlib.pyplot.close("all")
