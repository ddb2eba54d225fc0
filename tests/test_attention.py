"""dlcourse.np.attention against torch (F.scaled_dot_product_attention, nn.MultiheadAttention
with the weights mapped, F.layer_norm) and its backward passes against finite differences;
dlcourse.pt.attention against the NumPy reference and torch.autograd (CPU, and CUDA where
present). Masks of both shapes, T != S, and the errors bad arguments get."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import DEVICES
from torch import nn

from dlcourse import check
from dlcourse.np import attention as np_attention
from dlcourse.pt import attention as pt_attention

ASSIGNMENT = "11-attention"


def _qkv(rng, n=2, t=3, s=5, dk=4, dv=6):
    return rng.normal(size=(n, t, dk)), rng.normal(size=(n, s, dk)), rng.normal(size=(n, s, dv))


def _random_mask(rng, shape):
    mask = rng.random(shape) < 0.6
    mask[..., 0] = True   # every query may attend to something
    return mask


def test_softmax_is_stable_and_sums_to_one():
    x = np.array([[1000.0, 1001.0, 999.0], [-1e4, 0.0, -np.inf]])
    p = np_attention.softmax(x)
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=-1), 1.0)
    np.testing.assert_allclose(p[0], torch.softmax(torch.tensor(x[0]), dim=0).numpy(), rtol=1e-12)
    assert p[1, 2] == 0.0
    np.testing.assert_allclose(np_attention.softmax(x[:, :2], axis=0).sum(axis=0), [1.0, 1.0])


@pytest.mark.parametrize("mask_shape", [None, "TS", "NTS"])
def test_attention_forward_matches_torch(mask_shape):
    rng = np.random.default_rng(0)
    q, k, v = _qkv(rng)
    mask = None if mask_shape is None else _random_mask(rng, (3, 5) if mask_shape == "TS" else (2, 3, 5))
    out, cache = np_attention.scaled_dot_product_attention(q, k, v, mask=mask)
    want = F.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)),
                                          attn_mask=None if mask is None else torch.tensor(mask))
    np.testing.assert_allclose(out, want.numpy(), rtol=1e-10, atol=1e-12)
    weights = cache[3]
    assert weights.shape == (2, 3, 5) and np.allclose(weights.sum(axis=-1), 1.0)
    if mask is not None:
        assert np.all(np.broadcast_to(~mask, weights.shape) <= (weights == 0))   # masked keys get weight 0


@pytest.mark.parametrize("mask_shape", [None, "TS", "NTS"])
def test_attention_backward_matches_numerical_gradients(mask_shape):
    rng = np.random.default_rng(1)
    q, k, v = _qkv(rng, n=2, t=3, s=4, dk=3, dv=2)
    mask = None if mask_shape is None else _random_mask(rng, (3, 4) if mask_shape == "TS" else (2, 3, 4))
    dout = rng.normal(size=(2, 3, 2))
    _, cache = np_attention.scaled_dot_product_attention(q, k, v, mask=mask)
    grads = np_attention.scaled_dot_product_attention_backward(dout, cache)
    for index, (name, array) in enumerate((("q", q), ("k", k), ("v", v))):
        def forward(x, index=index):
            args = [q, k, v]
            args[index] = x
            return np_attention.scaled_dot_product_attention(*args, mask=mask)[0]
        numeric = check.numerical_gradient(forward, array.copy(), df=dout)
        assert check.rel_error(grads[index], numeric) < 1e-7, name


def test_causal_mask_lets_each_position_see_itself_and_the_past():
    mask = np_attention.causal_mask(4)
    assert mask.dtype == np.bool_ and mask.shape == (4, 4)
    assert mask.diagonal().all() and not mask[0, 1] and mask[3, 0]
    np.testing.assert_array_equal(mask, ~np.triu(np.ones((4, 4), dtype=bool), k=1))
    rng = np.random.default_rng(2)
    q, k, v = _qkv(rng, t=4, s=4)
    out, _ = np_attention.scaled_dot_product_attention(q, k, v, mask=mask)
    want = F.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)), is_causal=True)
    np.testing.assert_allclose(out, want.numpy(), rtol=1e-10)
    v_future = v.copy()
    v_future[:, 2:] += 100.0   # the future changes: the first two positions' outputs do not
    out_future, _ = np_attention.scaled_dot_product_attention(q, k, v_future, mask=mask)
    np.testing.assert_allclose(out_future[:, :2], out[:, :2])


def test_split_and_merge_heads_are_inverse_and_keep_each_heads_features():
    x = np.arange(2 * 3 * 8, dtype=float).reshape(2, 3, 8)
    heads = np_attention.split_heads(x, 2)
    assert heads.shape == (2, 2, 3, 4)
    np.testing.assert_array_equal(heads[:, 1], x[:, :, 4:])   # head 1: features 4..7 at every position
    np.testing.assert_array_equal(np_attention.merge_heads(heads), x)
    with pytest.raises(ValueError, match="n_heads = 3 must divide the model width D = 8"):
        np_attention.split_heads(x, 3)


def _torch_mha(w_q, w_k, w_v, w_o, n_heads):
    d = w_q.shape[0]
    mha = nn.MultiheadAttention(d, n_heads, bias=False, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(np.concatenate([w_q.T, w_k.T, w_v.T])))
        mha.out_proj.weight.copy_(torch.tensor(w_o.T))
    return mha


@pytest.mark.parametrize("mask_shape", [None, "TS", "NTS"])
def test_multi_head_attention_matches_nn_multihead_attention(mask_shape):
    rng = np.random.default_rng(3)
    n, t, s, d, h = 2, 3, 5, 8, 2
    x_q, x_kv = rng.normal(size=(n, t, d)), rng.normal(size=(n, s, d))
    w_q, w_k, w_v, w_o = (rng.normal(size=(d, d)) / np.sqrt(d) for _ in range(4))
    mask = None if mask_shape is None else _random_mask(rng, (t, s) if mask_shape == "TS" else (n, t, s))
    out, _ = np_attention.multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads=h, mask=mask)
    torch_mask = None
    if mask is not None:   # nn.MultiheadAttention: True means may NOT attend; per sample, one per head
        torch_mask = torch.tensor(~mask)
        if mask.ndim == 3:
            torch_mask = torch_mask.repeat_interleave(h, dim=0)
    want, _ = _torch_mha(w_q, w_k, w_v, w_o, h)(torch.tensor(x_q), torch.tensor(x_kv), torch.tensor(x_kv),
                                                attn_mask=torch_mask, need_weights=False)
    np.testing.assert_allclose(out, want.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_multi_head_attention_backward_matches_numerical_gradients():
    rng = np.random.default_rng(4)
    n, t, s, d, h = 2, 3, 4, 4, 2
    arrays = [rng.normal(size=(n, t, d)), rng.normal(size=(n, s, d))] + [rng.normal(size=(d, d)) for _ in range(4)]
    mask = _random_mask(rng, (n, t, s))
    dout = rng.normal(size=(n, t, d))
    _, cache = np_attention.multi_head_attention(*arrays, n_heads=h, mask=mask)
    grads = np_attention.multi_head_attention_backward(dout, cache)
    for index in range(6):
        def forward(x, index=index):
            args = list(arrays)
            args[index] = x
            return np_attention.multi_head_attention(*args, n_heads=h, mask=mask)[0]
        numeric = check.numerical_gradient(forward, arrays[index].copy(), df=dout)
        assert check.rel_error(grads[index], numeric) < 1e-7, index


def test_sinusoidal_positional_encoding_follows_vaswani():
    code = np_attention.sinusoidal_positional_encoding(50, 6)
    assert code.shape == (50, 6)
    for t in (0, 1, 7, 49):
        for i in range(3):
            angle = t / 10000 ** (2 * i / 6)
            assert code[t, 2 * i] == pytest.approx(np.sin(angle)) and code[t, 2 * i + 1] == pytest.approx(np.cos(angle))
    np.testing.assert_allclose(code[0], [0, 1, 0, 1, 0, 1])
    assert np_attention.sinusoidal_positional_encoding(3, 5).shape == (3, 5)   # an odd width: one sin column more
    # a shift by k positions is one rotation of every column pair, whatever the position
    rates = 10000.0 ** (-np.arange(0, 6, 2) / 6)
    for t in (3, 20):
        for i, rate in enumerate(rates):
            c, s_ = np.cos(5 * rate), np.sin(5 * rate)
            sin_t, cos_t = code[t, 2 * i], code[t, 2 * i + 1]
            assert code[t + 5, 2 * i] == pytest.approx(sin_t * c + cos_t * s_)
            assert code[t + 5, 2 * i + 1] == pytest.approx(cos_t * c - sin_t * s_)


def test_layer_norm_matches_torch_and_its_backward_numerical_gradients():
    rng = np.random.default_rng(5)
    x, gamma, beta = rng.normal(size=(2, 3, 5)) * 3 + 1, rng.normal(size=5), rng.normal(size=5)
    out, cache = np_attention.layer_norm_forward(x, gamma, beta)
    want = F.layer_norm(torch.tensor(x), (5,), torch.tensor(gamma), torch.tensor(beta), eps=1e-5)
    np.testing.assert_allclose(out, want.numpy(), rtol=1e-10, atol=1e-12)
    dout = rng.normal(size=x.shape)
    dx, dgamma, dbeta = np_attention.layer_norm_backward(dout, cache)
    for got, array, make in ((dx, x, lambda v: np_attention.layer_norm_forward(v, gamma, beta)[0]),
                             (dgamma, gamma, lambda v: np_attention.layer_norm_forward(x, v, beta)[0]),
                             (dbeta, beta, lambda v: np_attention.layer_norm_forward(x, gamma, v)[0])):
        assert check.rel_error(got, check.numerical_gradient(make, array.copy(), df=dout)) < 1e-7
    one, one_cache = np_attention.layer_norm_forward(x[0, 0], gamma, beta)   # a single sample (D,)
    np.testing.assert_allclose(one, out[0, 0])
    assert [g.shape for g in np_attention.layer_norm_backward(dout[0, 0], one_cache)] == [(5,), (5,), (5,)]


def test_bad_arguments_get_errors_that_name_them():
    rng = np.random.default_rng(6)
    q, k, v = _qkv(rng)
    with pytest.raises(ValueError, match="q and k must have the same width Dk"):
        np_attention.scaled_dot_product_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="k and v must hold the same positions S"):
        np_attention.scaled_dot_product_attention(q, k, v[:, :4])
    with pytest.raises(ValueError, match=r"mask must be \(T, S\) = \(3, 5\)"):
        np_attention.scaled_dot_product_attention(q, k, v, mask=np.ones((5, 3), dtype=bool))
    with pytest.raises(TypeError, match="mask must be boolean"):
        np_attention.scaled_dot_product_attention(q, k, v, mask=np.ones((3, 5)))
    empty = np.ones((3, 5), dtype=bool)
    empty[1] = False
    with pytest.raises(ValueError, match="mask leaves a query with no key"):
        np_attention.scaled_dot_product_attention(q, k, v, mask=empty)
    with pytest.raises(ValueError, match="at least 3-D"):
        np_attention.scaled_dot_product_attention(q[0], k[0], v[0])
    with pytest.raises(ValueError, match=r"w_k must be \(D, D\)"):
        np_attention.multi_head_attention(q, q, np.eye(4), np.eye(3), np.eye(4), np.eye(4), n_heads=2)


# ---------------------------------------------------------------- the torch twin


@pytest.mark.parametrize("device", DEVICES)
def test_torch_twin_matches_numpy_and_autograd(device):
    rng = np.random.default_rng(7)
    n, t, s, d, h = 2, 4, 3, 6, 3
    arrays = [rng.normal(size=(n, t, d)), rng.normal(size=(n, s, d))] + [rng.normal(size=(d, d)) for _ in range(4)]
    mask = _random_mask(rng, (n, t, s))
    dout = rng.normal(size=(n, t, d))
    want, cache = np_attention.multi_head_attention(*arrays, n_heads=h, mask=mask)
    want_grads = np_attention.multi_head_attention_backward(dout, cache)
    tensors = [torch.tensor(a, device=device, requires_grad=True) for a in arrays]
    out, pt_cache = pt_attention.multi_head_attention(*tensors, n_heads=h, mask=torch.tensor(mask, device=device))
    assert out.device.type == device
    np.testing.assert_allclose(out.detach().cpu().numpy(), want, rtol=1e-10, atol=1e-12)
    grads = pt_attention.multi_head_attention_backward(torch.tensor(dout, device=device), pt_cache)
    autograd = torch.autograd.grad(out, tensors, torch.tensor(dout, device=device))
    for ours, theirs, reference in zip(grads, autograd, want_grads):
        np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.cpu().numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.detach().cpu().numpy(), reference, rtol=1e-9, atol=1e-12)

    x, gamma, beta = (torch.tensor(a, device=device, requires_grad=True) for a in
                      (rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=5)))
    normed, ln_cache = pt_attention.layer_norm_forward(x, gamma, beta)
    np.testing.assert_allclose(normed.detach().cpu().numpy(), F.layer_norm(x, (5,), gamma, beta).detach().cpu().numpy(),
                               rtol=1e-10, atol=1e-12)
    upstream = torch.tensor(rng.normal(size=(3, 5)), device=device)
    for ours, theirs in zip(pt_attention.layer_norm_backward(upstream, ln_cache),
                            torch.autograd.grad(normed, (x, gamma, beta), upstream)):
        np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.cpu().numpy(), rtol=1e-9, atol=1e-12)

    q, k, v = (torch.tensor(a, device=device) for a in _qkv(rng))
    mask = torch.tensor(_random_mask(rng, (3, 5)), device=device)
    ours, _ = pt_attention.scaled_dot_product_attention(q, k, v, mask=mask)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.cpu().numpy(), rtol=1e-10)
    code = pt_attention.sinusoidal_positional_encoding(7, 6, device=device, dtype=torch.float64)
    assert code.device.type == device
    np.testing.assert_allclose(code.cpu().numpy(), np_attention.sinusoidal_positional_encoding(7, 6), rtol=1e-12)
    np.testing.assert_array_equal(pt_attention.causal_mask(5).numpy(), np_attention.causal_mask(5))
    np.testing.assert_allclose(pt_attention.softmax(torch.tensor([[1000.0, 1001.0]], device=device)).cpu().numpy(),
                               np_attention.softmax(np.array([[1000.0, 1001.0]])), rtol=1e-6)


def test_torch_twin_rejects_what_numpy_rejects():
    q = torch.zeros(2, 3, 4)
    for module, make in ((np_attention, np.asarray), (pt_attention, torch.as_tensor)):
        with pytest.raises(ValueError, match="q and k must have the same width Dk"):
            module.scaled_dot_product_attention(make(q), make(torch.zeros(2, 5, 3)), make(torch.zeros(2, 5, 4)))
        with pytest.raises(TypeError, match="mask must be boolean"):
            module.scaled_dot_product_attention(make(q), make(q), make(q), mask=make(torch.ones(3, 3)))
        with pytest.raises(ValueError, match="n_heads = 3 must divide"):
            module.split_heads(make(q), 3)
