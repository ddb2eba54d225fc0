"""dlcourse.pt.perceptron: the torch twin agrees with the NumPy reference and with autograd,
on the CPU and, where there is one, on CUDA."""

import inspect

import numpy as np
import pytest
import torch
from conftest import DEVICES

from dlcourse import data
from dlcourse.np import perceptron as np_perceptron
from dlcourse.pt import perceptron as pt_perceptron

ASSIGNMENT = "01-perceptron"
TWINS = ["add_bias_column", "perceptron_predict", "perceptron_update", "perceptron_train", "format_trace",
         "delta_rule_loss", "delta_rule_gradient", "delta_rule_train", "signed_distance", "margin"]


@pytest.mark.parametrize("name", TWINS)
def test_twins_share_names_and_arguments(name):
    np_sig = inspect.signature(getattr(np_perceptron, name))
    pt_sig = inspect.signature(getattr(pt_perceptron, name))
    np_params = [p for p in np_sig.parameters if p != "rng"]
    pt_params = [p for p in pt_sig.parameters if p != "generator"]
    assert np_params == pt_params
    assert getattr(pt_perceptron, name).__doc__.startswith("Torch twin of")


def separable(rng, n=30, d=3):
    X = np.hstack([np.ones((n, 1)), rng.normal(size=(n, d))])
    score = X @ rng.normal(size=d + 1)
    keep = np.abs(score) > 0.2
    return X[keep], (score[keep] > 0).astype(np.int64)


@pytest.mark.parametrize("device", DEVICES)
def test_training_trace_matches_numpy(device):
    rng = np.random.default_rng(3)
    X, t = separable(rng)
    W0 = rng.normal(size=X.shape[1])
    W_np, trace_np = np_perceptron.perceptron_train(X, t, W0, eta=0.7)
    X_t = torch.tensor(X, device=device)
    W_pt, trace_pt = pt_perceptron.perceptron_train(X_t, torch.tensor(t, device=device), torch.tensor(W0), eta=0.7)
    assert W_pt.device.type == device and W_pt.dtype == torch.float64
    assert len(trace_pt) == len(trace_np)
    for a, b in zip(trace_np, trace_pt):
        assert (a.epoch, a.y, a.t) == (b.epoch, b.y, b.t)
        np.testing.assert_allclose(b.w_after.cpu().numpy(), a.w_after, rtol=0, atol=1e-12)
    np.testing.assert_allclose(W_pt.cpu().numpy(), W_np, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_or_trace_in_float32(device):
    X, t = data.logic_gate("or")
    Xb = pt_perceptron.add_bias_column(torch.tensor(X, dtype=torch.float32, device=device))
    W, trace = pt_perceptron.perceptron_train(Xb, torch.tensor(t, device=device), [0.0, 1.0, 0.0])
    assert W.dtype == torch.float32 and W.device.type == device
    assert W.tolist() == [0.0, 1.0, 1.0] and len(trace) == 12


@pytest.mark.parametrize("device", DEVICES)
def test_predict_gradient_margin_and_delta_rule_match_numpy(device):
    rng = np.random.default_rng(4)
    X = np.hstack([np.ones((25, 1)), rng.integers(-2, 3, size=(25, 3)).astype(float)])
    t = rng.integers(0, 2, size=25)
    W = rng.integers(-2, 3, size=4).astype(float)
    Xt, tt, Wt = (torch.tensor(a, device=device) for a in (X, t, W))
    np.testing.assert_array_equal(pt_perceptron.perceptron_predict(Wt, Xt).cpu().numpy(),
                                  np_perceptron.perceptron_predict(W, X))
    np.testing.assert_allclose(pt_perceptron.delta_rule_gradient(Wt, Xt, tt).cpu().numpy(),
                               np_perceptron.delta_rule_gradient(W, X, t), rtol=1e-12)
    np.testing.assert_allclose(pt_perceptron.signed_distance(Wt, Xt).cpu().numpy(),
                               np_perceptron.signed_distance(W, X), rtol=1e-12)
    assert pt_perceptron.margin(Wt, Xt, tt) == pytest.approx(np_perceptron.margin(W, X, t), rel=1e-12)
    W_np, losses_np = np_perceptron.delta_rule_train(X, t, np.zeros(4), eta=0.01, epochs=5)
    W_pt, losses_pt = pt_perceptron.delta_rule_train(Xt, tt, torch.zeros(4, dtype=torch.float64), eta=0.01, epochs=5)
    np.testing.assert_allclose(W_pt.cpu().numpy(), W_np, rtol=1e-10)
    np.testing.assert_allclose(losses_pt.cpu().numpy(), losses_np, rtol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
def test_delta_rule_gradient_matches_autograd(device):
    torch.manual_seed(0)
    X = pt_perceptron.add_bias_column(torch.randn(12, 2, dtype=torch.float64, device=device))
    t = torch.randint(0, 2, (12,), device=device)
    W = torch.randn(3, dtype=torch.float64, device=device, requires_grad=True)
    pt_perceptron.delta_rule_loss(W, X, t).backward()
    torch.testing.assert_close(pt_perceptron.delta_rule_gradient(W.detach(), X, t), W.grad)


def test_perceptron_is_an_nn_linear_with_a_step():
    """The layout note of the docstring: nn.Linear(D, 1) holds w1..wD as weight[0], w0 as bias."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(10, 3))
    W = rng.normal(size=4)
    linear = torch.nn.Linear(3, 1, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(W[1:])[None, :])
        linear.bias.copy_(torch.tensor(W[:1]))
    expected = (linear(torch.tensor(X))[:, 0] > 0).long()
    got = pt_perceptron.perceptron_predict(torch.tensor(W), pt_perceptron.add_bias_column(torch.tensor(X)))
    torch.testing.assert_close(got, expected)


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match="bias column"):
        pt_perceptron.perceptron_predict(torch.zeros(3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="t must be \\(4,\\)"):
        pt_perceptron.delta_rule_gradient(torch.zeros(3), torch.zeros(4, 3), torch.zeros(5))
    with pytest.raises(ValueError, match="targets must be 0 or 1"):
        pt_perceptron.perceptron_train(torch.zeros(4, 3), torch.tensor([-1.0, 1, 1, -1]), torch.zeros(3))
    # the delta rule is least squares: real-valued targets are fine
    pt_perceptron.delta_rule_gradient(torch.zeros(3), torch.ones(4, 3), torch.tensor([0.5, -1.0, 2.0, 0.0]))


@pytest.mark.parametrize("device", DEVICES)
def test_the_stepper_draws_a_trace_of_the_twin(device):
    import matplotlib.pyplot as plt

    from dlcourse import widgets

    X, t = data.logic_gate("and")
    Xb = pt_perceptron.add_bias_column(torch.tensor(X, device=device))
    _, trace = pt_perceptron.perceptron_train(Xb, torch.tensor(t, device=device), torch.zeros(3, device=device))
    fig = widgets.perceptron_step_figure(torch.tensor(X, device=device), t, trace, len(trace) - 1)
    assert "epoch" in fig._suptitle.get_text()
    plt.close("all")


@pytest.mark.parametrize("device", DEVICES)
def test_trace_table_and_shuffled_delta_rule_match_numpy(device):
    X, t = data.logic_gate("or")
    Xb = np_perceptron.add_bias_column(X)
    W0 = np.array([0.0, 1.0, 0.0])
    _, np_trace = np_perceptron.perceptron_train(Xb, t, W0)
    _, pt_trace = pt_perceptron.perceptron_train(torch.tensor(Xb, device=device), torch.tensor(t, device=device),
                                                 torch.tensor(W0, device=device))
    assert pt_perceptron.format_trace(pt_trace) == np_perceptron.format_trace(np_trace)
    # shuffled LMS with a small rate ends near the least-squares solution in both twins
    X2, t2 = data.two_blobs(60, rng=np.random.default_rng(3), separation=2.0)
    Xb2 = np_perceptron.add_bias_column(X2)
    least_squares = np.linalg.lstsq(Xb2, t2, rcond=None)[0]
    W_np, _ = np_perceptron.delta_rule_train(Xb2, t2, np.zeros(3), eta=0.002, epochs=200,
                                             rng=np.random.default_rng(0))
    W_pt, losses = pt_perceptron.delta_rule_train(torch.tensor(Xb2, device=device), torch.tensor(t2, device=device),
                                                  torch.zeros(3, dtype=torch.float64, device=device), eta=0.002,
                                                  epochs=200, generator=torch.Generator().manual_seed(0))
    assert np.abs(W_np - least_squares).max() < 0.05
    assert np.abs(W_pt.cpu().numpy() - least_squares).max() < 0.05
    assert losses.device.type == device and losses[-1] < losses[0]
