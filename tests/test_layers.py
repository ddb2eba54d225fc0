"""dlcourse.np.layers: every backward against a numerical gradient; dlcourse.pt.layers
against the NumPy reference and torch.autograd (CPU, and CUDA where present)."""

import numpy as np
import pytest
import torch
from conftest import DEVICES

from dlcourse import check
from dlcourse.np import layers as np_layers
from dlcourse.pt import layers as pt_layers

ASSIGNMENT = "03-backprop"


def test_affine_backward_matches_numerical_gradients():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    dout = rng.normal(size=(5, 3))
    _, cache = np_layers.affine_forward(x, w, b)
    dx, dw, db = np_layers.affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert check.rel_error(dx, check.numerical_gradient(
        lambda v: np_layers.affine_forward(v, w, b)[0], x, df=dout)) < 1e-8
    assert check.rel_error(dw, check.numerical_gradient(
        lambda v: np_layers.affine_forward(x, v, b)[0], w, df=dout)) < 1e-8
    assert check.rel_error(db, check.numerical_gradient(
        lambda v: np_layers.affine_forward(x, w, v)[0], b, df=dout)) < 1e-8


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_activation_backward_matches_numerical_gradient(name):
    rng = np.random.default_rng(1)
    x, dout = rng.normal(size=(4, 6)) * 3, rng.normal(size=(4, 6))
    forward, backward = getattr(np_layers, f"{name}_forward"), getattr(np_layers, f"{name}_backward")
    _, cache = forward(x)
    numeric = check.numerical_gradient(lambda v: forward(v)[0], x.copy(), df=dout)
    assert check.rel_error(backward(dout, cache), numeric) < 1e-7


def test_losses_match_numerical_gradients_and_torch():
    rng = np.random.default_rng(2)
    p, y = rng.uniform(0.05, 0.95, size=7), rng.integers(0, 2, size=7).astype(float)
    loss, dp = np_layers.bce_loss(p, y)
    assert check.rel_error(dp, check.numerical_gradient(lambda v: np_layers.bce_loss(v, y)[0], p.copy())) < 1e-6
    pt = torch.tensor(p, requires_grad=True)
    torch_loss = torch.nn.functional.binary_cross_entropy(pt, torch.tensor(y))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    np.testing.assert_allclose(dp, pt.grad.numpy(), rtol=1e-10)
    logits, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    loss, dlogits = np_layers.softmax_cross_entropy(logits, labels)
    numeric = check.numerical_gradient(lambda v: np_layers.softmax_cross_entropy(v, labels)[0], logits.copy())
    assert check.rel_error(dlogits, numeric) < 1e-6
    lt = torch.tensor(logits, requires_grad=True)
    torch_loss = torch.nn.functional.cross_entropy(lt, torch.tensor(labels))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    np.testing.assert_allclose(dlogits, lt.grad.numpy(), rtol=1e-10, atol=1e-15)
    assert np.isfinite(np_layers.softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))[0])
    assert np_layers.bce_loss(np.array([0.0, 1.0]), np.array([1.0, 0.0]))[0] == pytest.approx(100.0)


@pytest.mark.parametrize("device", DEVICES)
def test_torch_twins_match_numpy_and_autograd(device):
    rng = np.random.default_rng(3)
    x, w, b, dout = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 3))
    xt, wt, bt = (torch.tensor(a, device=device, requires_grad=True) for a in (x, w, b))
    out_t, cache_t = pt_layers.affine_forward(xt, wt, bt)
    out_n, cache_n = np_layers.affine_forward(x, w, b)
    np.testing.assert_allclose(out_t.detach().cpu().numpy(), out_n, rtol=1e-12)
    grads_t = pt_layers.affine_backward(torch.tensor(dout, device=device), tuple(c.detach() for c in cache_t))
    out_t.backward(torch.tensor(dout, device=device))
    for ours, reference, auto in zip(grads_t, np_layers.affine_backward(dout, cache_n), (xt.grad, wt.grad, bt.grad)):
        np.testing.assert_allclose(ours.cpu().numpy(), reference, rtol=1e-10)
        np.testing.assert_allclose(ours.cpu().numpy(), auto.cpu().numpy(), rtol=1e-10)
    for name in ("sigmoid", "tanh"):
        z = torch.tensor(x, device=device, requires_grad=True)
        out, cache = getattr(pt_layers, f"{name}_forward")(z)
        out.backward(torch.ones_like(out))
        ours = getattr(pt_layers, f"{name}_backward")(torch.ones_like(out), cache.detach())
        np.testing.assert_allclose(ours.cpu().numpy(), z.grad.cpu().numpy(), rtol=1e-10)
    p, y = rng.uniform(0.05, 0.95, size=6), rng.integers(0, 2, size=6).astype(float)
    loss_t, dp_t = pt_layers.bce_loss(torch.tensor(p, device=device), torch.tensor(y, device=device))
    loss_n, dp_n = np_layers.bce_loss(p, y)
    assert loss_t == pytest.approx(loss_n, rel=1e-12)
    np.testing.assert_allclose(dp_t.cpu().numpy(), dp_n, rtol=1e-10)
    logits, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    loss_t, d_t = pt_layers.softmax_cross_entropy(torch.tensor(logits, device=device),
                                                  torch.tensor(labels, device=device))
    loss_n, d_n = np_layers.softmax_cross_entropy(logits, labels)
    assert loss_t == pytest.approx(loss_n, rel=1e-12)
    np.testing.assert_allclose(d_t.cpu().numpy(), d_n, rtol=1e-10, atol=1e-15)


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match="x must be \\(N, 4\\), got shape \\(5, 3\\)"):
        np_layers.affine_forward(np.zeros((5, 3)), np.zeros((4, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="b must be \\(2,\\)"):
        np_layers.affine_forward(np.zeros((5, 4)), np.zeros((4, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="apply the sigmoid first"):
        np_layers.bce_loss(np.array([2.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="integer class indices"):
        np_layers.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="b must be \\(2,\\)"):
        pt_layers.affine_forward(torch.zeros(5, 4), torch.zeros(4, 2), torch.zeros(3))
