"""The layers and initialisations of deeper networks: dlcourse.np.layers (relu, leaky relu,
softplus, dropout, batchnorm, residual) and dlcourse.np.init against numerical gradients,
torch.nn and torch.nn.init; their dlcourse.pt twins against the NumPy reference (CPU, and
CUDA where present)."""


import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import DEVICES, assert_torch_twin

from dlcourse import check
from dlcourse.np import init as np_init
from dlcourse.np import layers as np_layers
from dlcourse.pt import init as pt_init
from dlcourse.pt import layers as pt_layers

ASSIGNMENT = "04-training-deep-networks"
NEW_LAYERS = [f"{name}_{half}" for name in ("relu", "leaky_relu", "softplus", "dropout", "batchnorm", "residual")
              for half in ("forward", "backward")]
NEW_INITS = ["xavier_uniform", "he_normal"]


def _residual_params(rng, n=5, d=4, h=6):
    """x, w1, b1, w2, b2 with the weights scaled by 1 / sqrt(fan-in), so that out ~ 1."""
    return (rng.normal(size=(n, d)), rng.normal(size=(d, h)) / np.sqrt(d), rng.normal(size=h),
            rng.normal(size=(h, d)) / np.sqrt(h), rng.normal(size=d))


# ---------------------------------------------------------------- numerical gradients


@pytest.mark.parametrize("name, kwargs", [("relu", {}), ("leaky_relu", {"slope": 0.1}), ("softplus", {})])
def test_activation_backward_matches_numerical_gradient(name, kwargs):
    rng = np.random.default_rng(10)
    x, dout = rng.normal(size=(4, 6)) * 3, rng.normal(size=(4, 6))
    x[np.abs(x) < 0.1] += 0.5  # relu's kink at 0: keep the finite differences on one side of it
    forward, backward = getattr(np_layers, f"{name}_forward"), getattr(np_layers, f"{name}_backward")
    out, cache = forward(x, **kwargs)
    assert out.shape == x.shape
    numeric = check.numerical_gradient(lambda v: forward(v, **kwargs)[0], x.copy(), df=dout)
    assert check.rel_error(backward(dout, cache), numeric) < 1e-7


def test_dropout_backward_matches_numerical_gradient_for_a_fixed_mask():
    rng = np.random.default_rng(11)
    x, dout = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    _, cache = np_layers.dropout_forward(x, p=0.4, rng=np.random.default_rng(5))
    numeric = check.numerical_gradient(
        lambda v: np_layers.dropout_forward(v, p=0.4, rng=np.random.default_rng(5))[0], x.copy(), df=dout)
    assert check.rel_error(np_layers.dropout_backward(dout, cache), numeric) < 1e-7


def test_batchnorm_backward_matches_numerical_gradients():
    rng = np.random.default_rng(12)
    x, gamma, beta = rng.normal(loc=2.0, scale=3.0, size=(6, 4)), rng.normal(size=4), rng.normal(size=4)
    dout = rng.normal(size=(6, 4))
    out, cache = np_layers.batchnorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = np_layers.batchnorm_backward(dout, cache)
    assert (dx.shape, dgamma.shape, dbeta.shape) == (x.shape, gamma.shape, beta.shape)
    x_hat = (out - beta) / gamma
    np.testing.assert_allclose(x_hat.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(x_hat.var(axis=0), 1.0, rtol=1e-5)  # var / (var + eps): 1 up to eps
    for i, value in enumerate((x, gamma, beta)):
        def f(v, i=i):
            args = [x, gamma, beta]
            args[i] = v
            return np_layers.batchnorm_forward(*args)[0]
        numeric = check.numerical_gradient(f, value.copy(), df=dout)
        assert check.rel_error((dx, dgamma, dbeta)[i], numeric) < 1e-7, ("dx", "dgamma", "dbeta")[i]


def test_residual_backward_matches_numerical_gradients():
    rng = np.random.default_rng(13)
    params = _residual_params(rng)
    dout = rng.normal(size=params[0].shape)
    assert np.abs(params[0] @ params[1] + params[2]).min() > 1e-4  # no pre-activation at relu's kink
    out, cache = np_layers.residual_forward(*params)
    grads = np_layers.residual_backward(dout, cache)
    for i, (value, grad) in enumerate(zip(params, grads)):
        assert grad.shape == value.shape

        def f(v, i=i):
            args = list(params)
            args[i] = v
            return np_layers.residual_forward(*args)[0]
        numeric = check.numerical_gradient(f, value.copy(), df=dout)
        assert check.rel_error(grad, numeric) < 1e-7, ("dx", "dw1", "db1", "dw2", "db2")[i]


# ---------------------------------------------------------------- against torch


def _torch_batchnorm(x, gamma, beta, dout, eps=1e-5):
    bn = torch.nn.BatchNorm1d(x.shape[1], eps=eps, dtype=torch.float64).train()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    xt = torch.tensor(x, requires_grad=True)
    out = bn(xt)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy()


def test_batchnorm_matches_torch_batchnorm1d_in_training_mode():
    rng = np.random.default_rng(14)
    x = rng.normal(size=(4, 5)) * np.array([1.0, 3.0, 0.5, 2.0, 1e-3]) + 1.0  # last feature: variance << eps
    gamma, beta, dout = rng.normal(size=5), rng.normal(size=5), rng.normal(size=(4, 5))
    out, cache = np_layers.batchnorm_forward(x, gamma, beta)
    ours = (out, *np_layers.batchnorm_backward(dout, cache))
    for name, value, reference in zip(("out", "dx", "dgamma", "dbeta"), ours, _torch_batchnorm(x, gamma, beta, dout)):
        assert check.rel_error(value, reference) < 1e-10, name
    torch_out = ours[0]
    centred = x - x.mean(axis=0)
    # the unbiased variance (divided by N - 1) is not what torch normalises with ...
    unbiased = gamma * centred / np.sqrt(x.var(axis=0, ddof=1) + 1e-5) + beta
    assert check.rel_error(unbiased[:, :4], torch_out[:, :4]) > 1e-2
    # ... nor is eps outside the root, visibly so where the variance is small next to eps
    eps_outside = gamma * centred / (x.std(axis=0) + 1e-5) + beta
    assert check.rel_error(eps_outside[:, 4], torch_out[:, 4]) > 1e-1
    assert check.rel_error(eps_outside[:, 1], torch_out[:, 1]) < 1e-4  # and hardly at all for variance ~ 1


def test_activations_match_torch_functional():
    rng = np.random.default_rng(15)
    x = np.concatenate([rng.normal(size=20) * 4, [0.0, -0.0, 30.0, -30.0]])  # 0 exactly: torch's convention
    dout = rng.normal(size=x.shape)
    cases = [("relu", {}, F.relu), ("leaky_relu", {"slope": 0.2}, lambda t: F.leaky_relu(t, negative_slope=0.2)),
             ("softplus", {}, F.softplus)]
    for name, kwargs, torch_fn in cases:
        out, cache = getattr(np_layers, f"{name}_forward")(x, **kwargs)
        dx = getattr(np_layers, f"{name}_backward")(dout, cache)
        xt = torch.tensor(x, requires_grad=True)
        out_t = torch_fn(xt)
        out_t.backward(torch.tensor(dout))
        # softplus: torch returns x itself above x = 20, 1e-13 from log(1 + e^x) at x = 30
        np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=0, err_msg=name)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-300, err_msg=name)
    assert np_layers.relu_backward(np.ones(1), np_layers.relu_forward(np.zeros(1))[1])[0] == 0.0
    assert np_layers.softplus_forward(np.array([1000.0]))[0][0] == 1000.0  # no overflow


def test_residual_matches_torch_autograd():
    rng = np.random.default_rng(16)
    params = _residual_params(rng, n=8, d=5, h=7)
    dout = rng.normal(size=(8, 5))
    out, cache = np_layers.residual_forward(*params)
    grads = np_layers.residual_backward(dout, cache)
    xt, w1, b1, w2, b2 = (torch.tensor(a, requires_grad=True) for a in params)
    out_t = xt + torch.relu(xt @ w1 + b1) @ w2 + b2
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12)
    for name, ours, auto in zip(("dx", "dw1", "db1", "dw2", "db2"), grads, (xt, w1, b1, w2, b2)):
        assert check.rel_error(ours, auto.grad.numpy()) < 1e-12, name
    # the skip connection: with R switched off (w2 = 0) the gradient still reaches x unchanged
    _, cache = np_layers.residual_forward(params[0], params[1], params[2], np.zeros((7, 5)), params[4])
    np.testing.assert_array_equal(np_layers.residual_backward(dout, cache)[0], dout)


# ---------------------------------------------------------------- dropout


def test_dropout_scales_the_kept_units_and_is_the_identity_when_off():
    rng = np.random.default_rng(17)
    x = rng.uniform(1.0, 2.0, size=(500, 400))
    p = 0.3
    out, mask = np_layers.dropout_forward(x, p=p, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out, x * mask)
    assert set(np.unique(mask)) == {0.0, 1 / (1 - p)}
    keep = mask > 0
    np.testing.assert_allclose(out, x * keep / (1 - p), rtol=1e-15)
    assert abs((~keep).mean() - p) < 0.01
    assert abs(out.mean() - x.mean()) < 0.02  # inverted scaling: E[out] = x ...
    assert abs((x * keep).mean() - x.mean()) > 0.3  # ... which the mask alone would miss by a factor 1 - p
    dout = rng.normal(size=x.shape)
    np.testing.assert_array_equal(np_layers.dropout_backward(dout, mask), dout * mask)
    # the same seed, the same mask
    np.testing.assert_array_equal(np_layers.dropout_forward(x, p=p, rng=np.random.default_rng(0))[1], mask)
    # p = 0 and eval mode: the identity, forward and backward
    small = x[:3, :4]
    out, cache = np_layers.dropout_forward(small, p=0.0, rng=rng)
    np.testing.assert_array_equal(out, small)
    np.testing.assert_array_equal(np_layers.dropout_backward(dout[:3, :4], cache), dout[:3, :4])
    out, cache = np_layers.dropout_forward(small, p=0.5, rng=None, train=False)
    np.testing.assert_array_equal(out, small)
    np.testing.assert_array_equal(np_layers.dropout_backward(dout[:3, :4], cache), dout[:3, :4])


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5])
def test_dropout_rejects_p_outside_zero_one(p):
    with pytest.raises(ValueError, match="p .*0 <= p < 1") as error:
        np_layers.dropout_forward(np.ones(3), p=p, rng=np.random.default_rng(0))
    assert "divide by zero" in str(error.value)
    with pytest.raises(ValueError, match="p .*0 <= p < 1"):
        pt_layers.dropout_forward(torch.ones(3), p=p, generator=torch.Generator().manual_seed(0))


# ---------------------------------------------------------------- initialisation


def test_init_shapes_bounds_and_variances_match_torch_nn_init():
    n_in, n_out = 400, 600
    w = np_init.xavier_uniform(n_in, n_out, rng=np.random.default_rng(18))
    a = np.sqrt(6 / (n_in + n_out))
    assert w.shape == (n_in, n_out) and w.dtype == np.float64
    assert np.abs(w).max() <= a and np.abs(w).max() > 0.99 * a
    assert w.var() == pytest.approx(a**2 / 3, rel=0.02)
    assert a**2 / 3 == pytest.approx(2 / (n_in + n_out))
    w = np_init.he_normal(n_in, n_out, rng=np.random.default_rng(19))
    assert w.shape == (n_in, n_out) and w.dtype == np.float64
    assert w.mean() == pytest.approx(0.0, abs=0.003)
    assert w.var() == pytest.approx(2 / n_in, rel=0.03)
    # torch.nn.init on nn.Linear(n_in, n_out)'s weight, which is (n_out, n_in)
    torch.manual_seed(0)
    xavier = torch.nn.init.xavier_uniform_(torch.empty(n_out, n_in, dtype=torch.float64))
    kaiming = torch.nn.init.kaiming_normal_(torch.empty(n_out, n_in, dtype=torch.float64),
                                            mode="fan_in", nonlinearity="relu")
    assert xavier.abs().max().item() <= a
    xavier_np = np_init.xavier_uniform(n_in, n_out, rng=np.random.default_rng(1))
    he_np = np_init.he_normal(n_in, n_out, rng=np.random.default_rng(2))
    assert xavier.var().item() == pytest.approx(xavier_np.var(), rel=0.03)
    assert kaiming.var().item() == pytest.approx(he_np.var(), rel=0.04)
    # the fans matter: he_normal's variance is set by n_in alone
    assert np_init.he_normal(100, 600, rng=np.random.default_rng(3)).var() == pytest.approx(2 / 100, rel=0.03)


# ---------------------------------------------------------------- torch twins


@pytest.mark.parametrize("module, name", [("layers", n) for n in NEW_LAYERS] + [("init", n) for n in NEW_INITS])
def test_every_new_function_has_a_torch_twin_with_the_same_parameters(module, name):
    modules = {"layers": (np_layers, pt_layers), "init": (np_init, pt_init)}[module]
    assert_torch_twin(*modules, name)


@pytest.mark.parametrize("device", DEVICES)
def test_torch_twins_match_numpy(device):
    rng = np.random.default_rng(20)

    def t(a):
        return torch.tensor(a, device=device)

    x, dout = rng.normal(size=(6, 5)) * 3, rng.normal(size=(6, 5))
    for name, kwargs in (("relu", {}), ("leaky_relu", {"slope": 0.2}), ("softplus", {})):
        out_n, cache_n = getattr(np_layers, f"{name}_forward")(x, **kwargs)
        out_t, cache_t = getattr(pt_layers, f"{name}_forward")(t(x), **kwargs)
        assert out_t.device.type == device and out_t.dtype == torch.float64
        np.testing.assert_allclose(out_t.cpu().numpy(), out_n, rtol=1e-12, err_msg=name)
        dx_t = getattr(pt_layers, f"{name}_backward")(t(dout), cache_t)
        np.testing.assert_allclose(dx_t.cpu().numpy(), getattr(np_layers, f"{name}_backward")(dout, cache_n),
                                   rtol=1e-12, err_msg=name)
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    out_n, cache_n = np_layers.batchnorm_forward(x, gamma, beta)
    out_t, cache_t = pt_layers.batchnorm_forward(t(x), t(gamma), t(beta))
    np.testing.assert_allclose(out_t.cpu().numpy(), out_n, rtol=1e-10, atol=1e-12)
    for ours, reference in zip(pt_layers.batchnorm_backward(t(dout), cache_t),
                               np_layers.batchnorm_backward(dout, cache_n)):
        np.testing.assert_allclose(ours.cpu().numpy(), reference, rtol=1e-10, atol=1e-12)
    params = _residual_params(rng, n=6, d=5, h=3)
    out_n, cache_n = np_layers.residual_forward(*params)
    out_t, cache_t = pt_layers.residual_forward(*(t(a) for a in params))
    np.testing.assert_allclose(out_t.cpu().numpy(), out_n, rtol=1e-12)
    for ours, reference in zip(pt_layers.residual_backward(t(dout), cache_t),
                               np_layers.residual_backward(dout, cache_n)):
        np.testing.assert_allclose(ours.cpu().numpy(), reference, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("device", DEVICES)
def test_torch_dropout_twin(device):
    x = torch.rand(500, 400, dtype=torch.float64, device=device) + 1.0
    p = 0.3
    # a CPU generator, also for a CUDA x: the mask is drawn on the CPU and moved
    out, mask = pt_layers.dropout_forward(x, p=p, generator=torch.Generator().manual_seed(0))
    assert out.device == x.device and mask.device == x.device and mask.dtype == x.dtype
    torch.testing.assert_close(out, x * mask, rtol=0, atol=0)
    keep = mask > 0
    torch.testing.assert_close(out, x * keep / (1 - p))
    assert set(mask.unique().tolist()) == {0.0, 1 / (1 - p)}
    assert abs((~keep).double().mean().item() - p) < 0.01
    assert abs(out.mean().item() - x.mean().item()) < 0.02
    again = pt_layers.dropout_forward(x, p=p, generator=torch.Generator().manual_seed(0))[1]
    torch.testing.assert_close(again, mask, rtol=0, atol=0)
    dout = torch.randn_like(x)
    torch.testing.assert_close(pt_layers.dropout_backward(dout, mask), dout * mask, rtol=0, atol=0)
    for kwargs in ({"p": 0.0}, {"p": 0.5, "train": False}):
        out, cache = pt_layers.dropout_forward(x[:3], generator=None, **kwargs)
        torch.testing.assert_close(out, x[:3], rtol=0, atol=0)
        torch.testing.assert_close(pt_layers.dropout_backward(dout[:3], cache), dout[:3], rtol=0, atol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_torch_init_twins(device):
    n_in, n_out = 400, 600
    a = np.sqrt(6 / (n_in + n_out))
    for name, variance in (("xavier_uniform", a**2 / 3), ("he_normal", 2 / n_in)):
        fn = getattr(pt_init, name)
        w = fn(n_in, n_out, generator=torch.Generator().manual_seed(0), device=device)
        assert w.shape == (n_in, n_out) and w.dtype == torch.float32 and w.device.type == device
        assert w.var().item() == pytest.approx(variance, rel=0.03), name
        np_variance = getattr(np_init, name)(n_in, n_out, rng=np.random.default_rng(0)).var()
        assert w.var().item() == pytest.approx(np_variance, rel=0.04), name
        again = fn(n_in, n_out, generator=torch.Generator().manual_seed(0), device=device)
        torch.testing.assert_close(again, w, rtol=0, atol=0)  # the same seed, the same weights
        w64 = fn(n_in, n_out, generator=torch.Generator().manual_seed(1), device=device, dtype=torch.float64)
        assert w64.dtype == torch.float64 and w64.var().item() == pytest.approx(variance, rel=0.03)
        if name == "xavier_uniform":
            assert w.abs().max().item() <= a


# ---------------------------------------------------------------- bad inputs


def test_bad_inputs_raise_errors_naming_the_argument():
    rng = np.random.default_rng(21)
    x, g, b = np.zeros((4, 3)), np.ones(3), np.zeros(3)
    for module, arr in ((np_layers, np.asarray), (pt_layers, torch.tensor)):
        with pytest.raises(ValueError, match=r"x must be \(N, D\), got shape \(4,\)"):
            module.batchnorm_forward(arr(np.zeros(4)), arr(g), arr(b))
        with pytest.raises(ValueError, match=r"x must hold at least 2 samples.*no batch statistics"):
            module.batchnorm_forward(arr(np.zeros((1, 3))), arr(g), arr(b))
        with pytest.raises(ValueError, match=r"gamma must be \(3,\)"):
            module.batchnorm_forward(arr(x), arr(np.ones(4)), arr(b))
        with pytest.raises(ValueError, match=r"beta must be \(3,\)"):
            module.batchnorm_forward(arr(x), arr(g), arr(np.zeros((1, 3))))
        with pytest.raises(ValueError, match="eps must be positive"):
            module.batchnorm_forward(arr(x), arr(g), arr(b), eps=0.0)
        params = [arr(a) for a in _residual_params(rng, n=2, d=3, h=4)]
        with pytest.raises(ValueError, match=r"w2 must be \(4, 3\) to map the hidden width H = 4 back"):
            module.residual_forward(params[0], params[1], params[2], arr(np.zeros((4, 2))), arr(np.zeros(2)))
        with pytest.raises(ValueError, match=r"x must be \(N, 3\)"):
            module.residual_forward(arr(np.zeros((2, 4))), *params[1:])
        with pytest.raises(ValueError, match=r"b1 must be \(4,\)"):
            module.residual_forward(params[0], params[1], arr(np.zeros(3)), *params[3:])
        with pytest.raises(ValueError, match=r"b2 must be \(3,\)"):
            module.residual_forward(*params[:4], arr(np.zeros(4)))
    with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
        np_layers.dropout_forward(np.ones(3), p=0.5, rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        pt_layers.dropout_forward(torch.ones(3), p=0.5, generator=np.random.default_rng(0))
    for fn, kwargs in ((np_init.xavier_uniform, {"rng": np.random.default_rng(0)}),
                       (np_init.he_normal, {"rng": np.random.default_rng(0)}),
                       (pt_init.xavier_uniform, {}), (pt_init.he_normal, {})):
        with pytest.raises(ValueError, match="n_in must be a positive number of features, got 0"):
            fn(0, 3, **kwargs)
        with pytest.raises(TypeError, match="n_out must be an int"):
            fn(3, 2.5, **kwargs)
        with pytest.raises(TypeError, match="n_in must be an int"):
            fn(True, 3, **kwargs)
    for fn in (np_init.xavier_uniform, np_init.he_normal):
        with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
            fn(3, 2, rng=np.random)
        with pytest.raises(TypeError, match="positional argument"):  # rng is keyword-only, as everywhere
            fn(3, 2, np.random.default_rng(0))
    for fn in (pt_init.xavier_uniform, pt_init.he_normal):
        with pytest.raises(TypeError, match="generator must be a torch.Generator"):
            fn(3, 2, generator=0)
        with pytest.raises(ValueError, match="dtype must be a floating-point"):
            fn(3, 2, dtype=torch.int64)
