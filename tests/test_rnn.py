"""Recurrent layers: dlcourse.np.rnn (RNN, LSTM and GRU steps, backpropagation through time,
gradient clipping) against numerical gradients, torch.nn.RNN, LSTM, GRUCell, autograd and
torch.nn.utils.clip_grad_norm_; its dlcourse.pt twins against the NumPy reference (CPU, and
CUDA where present)."""

import itertools
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import DEVICES, assert_torch_twin

from dlcourse import check
from dlcourse.np import rnn as np_rnn
from dlcourse.pt import rnn as pt_rnn

ASSIGNMENT = "06-rnn-lstm"
FUNCTIONS = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward", "lstm_step_forward",
             "lstm_step_backward", "lstm_forward", "lstm_backward", "lstm_weights_to_torch",
             "lstm_weights_from_torch", "gru_step_forward", "gru_step_backward", "clip_gradients"]
N, T, D, H = 3, 4, 5, 4


def _weights(rng, g, d=D, h=H):
    """Wx: (D, G*H), Wh: (H, G*H), b: (G*H,), the weights scaled by 1 / sqrt(fan-in) so that the
    pre-activations stay ~1 and no tanh or sigmoid saturates."""
    return (rng.normal(size=(d, g * h)) / np.sqrt(d), rng.normal(size=(h, g * h)) / np.sqrt(h),
            0.5 * rng.normal(size=g * h))


def _assert_numerical(forward, args, grads, dout, names, *, which=None):
    """Each grads[k] against check.numerical_gradient of forward(*args) (upstream dout) with
    respect to args[which[k]]."""
    which = range(len(grads)) if which is None else which
    for name, grad, i in zip(names, grads, which):
        assert grad.shape == args[i].shape, name

        def f(v, i=i):
            perturbed = list(args)
            perturbed[i] = v
            return forward(*perturbed)
        # h = 1e-5: the round-off of h = 1e-6 over N*T*H outputs brings small entries near 1e-7
        numeric = check.numerical_gradient(f, args[i].copy(), df=dout, h=1e-5)
        assert check.rel_error(grad, numeric) < 1e-7, name


def _lstm_outputs(x, h0, Wx, Wh, b):
    return np_rnn.lstm_forward(x, h0, Wx, Wh, b)[0]


# ---------------------------------------------------------------- numerical gradients


def test_rnn_step_backward_matches_numerical_gradients():
    rng = np.random.default_rng(60)
    args = (rng.normal(size=(N, D)), rng.normal(size=(N, H)), *_weights(rng, 1))
    dh = rng.normal(size=(N, H))
    _, cache = np_rnn.rnn_step_forward(*args)
    _assert_numerical(lambda *a: np_rnn.rnn_step_forward(*a)[0], args, np_rnn.rnn_step_backward(dh, cache), dh,
                      ("dx", "dh_prev", "dWx", "dWh", "db"))


def test_rnn_backward_matches_numerical_gradients():
    rng = np.random.default_rng(61)
    args = (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), *_weights(rng, 1))
    dh = rng.normal(size=(N, T, H))
    h, cache = np_rnn.rnn_forward(*args)
    assert h.shape == (N, T, H)
    _assert_numerical(lambda *a: np_rnn.rnn_forward(*a)[0], args, np_rnn.rnn_backward(dh, cache), dh,
                      ("dx", "dh0", "dWx", "dWh", "db"))


def test_rnn_backward_carries_the_gradient_back_through_time():
    rng = np.random.default_rng(62)
    args = (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), *_weights(rng, 1))
    _, cache = np_rnn.rnn_forward(*args)
    dh = np.zeros((N, T, H))
    dh[:, -1] = 1.0  # a loss on the last state only
    dx, dh0, *_ = np_rnn.rnn_backward(dh, cache)
    assert np.abs(dx[:, 0]).min() > 0 and np.abs(dh0).min() > 0  # it reaches the first input and h0


def test_lstm_step_backward_matches_numerical_gradients_with_dh_and_dc():
    rng = np.random.default_rng(63)
    args = (rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H)), *_weights(rng, 4))
    dh, dc = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    h, c, cache = np_rnn.lstm_step_forward(*args)
    assert h.shape == c.shape == (N, H)
    grads = np_rnn.lstm_step_backward(dh, dc, cache)
    # the loss sum(h * dh) + sum(c * dc): h and c side by side, the upstream gradients likewise
    _assert_numerical(lambda *a: np.concatenate(np_rnn.lstm_step_forward(*a)[:2], axis=1), args, grads,
                      np.concatenate([dh, dc], axis=1), ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db"))
    # with dc = 0 the gradient still reaches c through h = o * tanh(c)
    assert np.abs(np_rnn.lstm_step_backward(dh, np.zeros_like(dc), cache)[2]).min() > 0


def test_lstm_backward_matches_numerical_gradients():
    rng = np.random.default_rng(64)
    args = (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), *_weights(rng, 4))
    dh = rng.normal(size=(N, T, H))
    h, cache = np_rnn.lstm_forward(*args)
    assert h.shape == (N, T, H)
    _assert_numerical(_lstm_outputs, args, np_rnn.lstm_backward(dh, cache), dh, ("dx", "dh0", "dWx", "dWh", "db"))


def test_gru_step_backward_matches_numerical_gradients():
    rng = np.random.default_rng(65)
    Wx, Wh, bx = _weights(rng, 3)
    args = (rng.normal(size=(N, D)), rng.normal(size=(N, H)), Wx, Wh, bx, 0.5 * rng.normal(size=3 * H))
    dh = rng.normal(size=(N, H))
    _, cache = np_rnn.gru_step_forward(*args)
    _assert_numerical(lambda *a: np_rnn.gru_step_forward(*a)[0], args, np_rnn.gru_step_backward(dh, cache), dh,
                      ("dx", "dh_prev", "dWx", "dWh", "dbx", "dbh"))


# ---------------------------------------------------------------- against torch


def _set(module, **tensors):
    with torch.no_grad():
        for name, value in tensors.items():
            getattr(module, name).copy_(torch.tensor(value))


def _torch_sequence(module, x, h0, dh, *, c0=None):
    """h, dx, dh0 and the module's parameter gradients (by name) from autograd, as NumPy arrays."""
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    state = h0t if c0 is None else (h0t, torch.tensor(c0[None]))
    out, _ = module(xt, state)
    out.backward(torch.tensor(dh))
    grads = {name: p.grad.numpy() for name, p in module.named_parameters()}
    return out.detach().numpy(), xt.grad.numpy(), h0t.grad[0].numpy(), grads


def test_rnn_matches_torch_rnn_and_autograd():
    rng = np.random.default_rng(66)
    x, h0, dh = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, T, H))
    Wx, Wh, b = _weights(rng, 1)
    rnn = torch.nn.RNN(D, H, batch_first=True, nonlinearity="tanh", dtype=torch.float64)
    _set(rnn, weight_ih_l0=Wx.T, weight_hh_l0=Wh.T, bias_ih_l0=b, bias_hh_l0=np.zeros(H))
    h_t, dx_t, dh0_t, grads = _torch_sequence(rnn, x, h0, dh)
    h, cache = np_rnn.rnn_forward(x, h0, Wx, Wh, b)
    assert check.rel_error(h, h_t) < 1e-12
    dx, dh0, dWx, dWh, db = np_rnn.rnn_backward(dh, cache)
    for name, ours, reference in (("dx", dx, dx_t), ("dh0", dh0, dh0_t), ("dWx", dWx, grads["weight_ih_l0"].T),
                                  ("dWh", dWh, grads["weight_hh_l0"].T), ("db", db, grads["bias_ih_l0"]),
                                  ("db (bias_hh)", db, grads["bias_hh_l0"])):
        assert check.rel_error(ours, reference) < 1e-10, name


def test_lstm_matches_torch_lstm_and_autograd():
    rng = np.random.default_rng(67)
    x, h0, dh = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, T, H))
    Wx, Wh, b = _weights(rng, 4)
    lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    state = np_rnn.lstm_weights_to_torch(Wx, Wh, b)
    assert set(state) == set(lstm.state_dict())
    np.testing.assert_array_equal(state["bias_hh_l0"], np.zeros(4 * H))
    lstm.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    h_t, dx_t, dh0_t, grads = _torch_sequence(lstm, x, h0, dh, c0=np.zeros((N, H)))
    h, cache = np_rnn.lstm_forward(x, h0, Wx, Wh, b)
    assert check.rel_error(h, h_t) < 1e-12
    dx, dh0, dWx, dWh, db = np_rnn.lstm_backward(dh, cache)
    for name, ours, reference in (("dx", dx, dx_t), ("dh0", dh0, dh0_t), ("dWx", dWx, grads["weight_ih_l0"].T),
                                  ("dWh", dWh, grads["weight_hh_l0"].T), ("db", db, grads["bias_ih_l0"])):
        assert check.rel_error(ours, reference) < 1e-10, name
    # the round trip through torch, and torch's own initialisation with two nonzero biases
    for value, back in zip((Wx, Wh, b), np_rnn.lstm_weights_from_torch(lstm)):
        np.testing.assert_array_equal(back, value)
    torch.manual_seed(0)
    fresh = torch.nn.LSTM(D, H, batch_first=True)  # float32, bias_hh != 0
    Wx2, Wh2, b2 = np_rnn.lstm_weights_from_torch(fresh)
    assert Wx2.dtype == np.float64 and Wx2.shape == (D, 4 * H) and Wh2.shape == (H, 4 * H)
    np.testing.assert_allclose(b2, (fresh.bias_ih_l0 + fresh.bias_hh_l0).detach().double().numpy(), rtol=1e-6)
    with torch.no_grad():
        out, _ = fresh(torch.tensor(x, dtype=torch.float32), (torch.tensor(h0[None], dtype=torch.float32),
                                                                torch.zeros(1, N, H)))
    np.testing.assert_allclose(np_rnn.lstm_forward(x, h0, Wx2, Wh2, b2)[0], out.numpy(), rtol=1e-5, atol=1e-6)


def test_lstm_gate_order_i_f_g_o_matters():
    """Our weights read in another block order than torch's i, f, g, o give other numbers:
    the order is not a convention that the tests cannot see."""
    rng = np.random.default_rng(68)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        c0 = torch.zeros(1, N, H, dtype=torch.float64)
        reference = lstm(torch.tensor(x), (torch.tensor(h0[None]), c0))[0].numpy()
    Wx, Wh, b = np_rnn.lstm_weights_from_torch(lstm)
    assert check.rel_error(np_rnn.lstm_forward(x, h0, Wx, Wh, b)[0], reference) < 1e-12

    def permuted(w, order):  # the four H-wide blocks of the last axis, rearranged
        return np.concatenate([w[..., k * H:(k + 1) * H] for k in order], axis=-1)

    f_i_g_o = (1, 0, 2, 3)  # the forget gate read as the input gate and back
    swapped = np_rnn.lstm_forward(x, h0, *(permuted(w, f_i_g_o) for w in (Wx, Wh, b)))[0]
    assert check.rel_error(swapped, reference) > 1e-2
    for order in itertools.permutations(range(4)):
        if order != (0, 1, 2, 3):
            h = np_rnn.lstm_forward(x, h0, *(permuted(w, order) for w in (Wx, Wh, b)))[0]
            assert np.abs(h - reference).max() > 1e-2, order


def test_gru_step_matches_torch_grucell_and_autograd():
    rng = np.random.default_rng(69)
    Wx, Wh, bx = _weights(rng, 3)
    bh = 0.5 * rng.normal(size=3 * H)
    x, h_prev, dh = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    cell = torch.nn.GRUCell(D, H, dtype=torch.float64)
    _set(cell, weight_ih=Wx.T, weight_hh=Wh.T, bias_ih=bx, bias_hh=bh)
    xt, ht = torch.tensor(x, requires_grad=True), torch.tensor(h_prev, requires_grad=True)
    out = cell(xt, ht)
    out.backward(torch.tensor(dh))
    h, cache = np_rnn.gru_step_forward(x, h_prev, Wx, Wh, bx, bh)
    assert check.rel_error(h, out.detach().numpy()) < 1e-12
    ours = np_rnn.gru_step_backward(dh, cache)
    references = (xt.grad, ht.grad, cell.weight_ih.grad.T, cell.weight_hh.grad.T, cell.bias_ih.grad, cell.bias_hh.grad)
    for name, value, reference in zip(("dx", "dh_prev", "dWx", "dWh", "dbx", "dbh"), ours, references):
        assert check.rel_error(value, reference.numpy()) < 1e-10, name
    # bh's n block sits inside r * (...): one bias b = bx + bh would not do
    merged = np_rnn.gru_step_forward(x, h_prev, Wx, Wh, bx + bh, np.zeros(3 * H))[0]
    assert check.rel_error(merged, h) > 1e-3


# ---------------------------------------------------------------- gradient clipping


def test_clip_gradients_matches_torch_clip_grad_norm():
    rng = np.random.default_rng(70)
    grads = [rng.normal(size=(5, 4)), rng.normal(size=4), rng.normal(size=(2, 3, 2))]
    originals = [g.copy() for g in grads]
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    for max_norm in (0.5 * total, 2.0 * total):
        params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        torch_total = torch.nn.utils.clip_grad_norm_(params, max_norm)
        clipped, total_norm = np_rnn.clip_gradients(grads, max_norm, eps=1e-6)  # torch's eps: torch's numbers
        assert isinstance(total_norm, float) and total_norm == pytest.approx(torch_total.item(), rel=1e-14)
        for ours, p in zip(clipped, params):
            np.testing.assert_allclose(ours, p.grad.numpy(), rtol=1e-14)
        clipped, total_norm = np_rnn.clip_gradients(grads, max_norm)  # eps = 0: the norm is max_norm exactly
        new_total = np.sqrt(sum(np.sum(g * g) for g in clipped))
        assert new_total == pytest.approx(min(max_norm, total), rel=1e-14)
        for ours, p in zip(clipped, params):
            np.testing.assert_allclose(ours, p.grad.numpy(), rtol=2e-6)  # torch: max_norm / (total + 1e-6)
        np.testing.assert_allclose(clipped[0] / grads[0], clipped[1][0] / grads[1][0], rtol=1e-14)  # one scale for all
    for g, original in zip(grads, originals):
        np.testing.assert_array_equal(g, original)  # the inputs are not modified
    clipped, total_norm = np_rnn.clip_gradients([np.zeros(3)], 1.0)
    assert total_norm == 0.0 and not np.isnan(clipped[0]).any()


# ---------------------------------------------------------------- torch twins


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_has_a_torch_twin_with_the_same_parameters(name):
    assert_torch_twin(np_rnn, pt_rnn, name)


def test_numpy_rnn_does_not_import_torch():
    code = "import sys, dlcourse.np.rnn; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def _assert_twin(value, reference, device, name, dtype=torch.float64):
    assert value.device.type == device and value.dtype == dtype, name
    np.testing.assert_allclose(value.cpu().numpy(), reference, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("device", DEVICES)
def test_torch_twins_match_numpy(device):
    rng = np.random.default_rng(71)

    def t(a):
        return torch.tensor(a, device=device)

    # steps
    x, h_prev, c_prev, dh, dc = (rng.normal(size=(N, s)) for s in (D, H, H, H, H))
    rnn_w, lstm_w, gru_w = _weights(rng, 1), _weights(rng, 4), (*_weights(rng, 3), 0.5 * rng.normal(size=3 * H))
    cases = [("rnn_step", (x, h_prev, *rnn_w), (dh,)), ("lstm_step", (x, h_prev, c_prev, *lstm_w), (dh, dc)),
             ("gru_step", (x, h_prev, *gru_w), (dh,))]
    # sequences
    xs, h0, dhs = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, T, H))
    cases += [("rnn", (xs, h0, *rnn_w), (dhs,)), ("lstm", (xs, h0, *lstm_w), (dhs,))]
    for stem, args, upstream in cases:
        *out_n, cache_n = getattr(np_rnn, f"{stem}_forward")(*args)
        *out_t, cache_t = getattr(pt_rnn, f"{stem}_forward")(*(t(a) for a in args))
        for i, (ours, reference) in enumerate(zip(out_t, out_n)):
            _assert_twin(ours, reference, device, f"{stem} forward {i}")
        grads_n = getattr(np_rnn, f"{stem}_backward")(*upstream, cache_n)
        grads_t = getattr(pt_rnn, f"{stem}_backward")(*(t(a) for a in upstream), cache_t)
        assert len(grads_t) == len(grads_n)
        for i, (ours, reference) in enumerate(zip(grads_t, grads_n)):
            _assert_twin(ours, reference, device, f"{stem} backward {i}")
    # float32 stays float32
    h32, cache = pt_rnn.lstm_forward(*(t(a).float() for a in (xs, h0, *lstm_w)))
    assert h32.dtype == torch.float32 and h32.device.type == device
    assert all(g.dtype == torch.float32 for g in pt_rnn.lstm_backward(torch.ones_like(h32), cache))
    # weights to and from torch.nn.LSTM, on the device
    lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64, device=device)
    state = pt_rnn.lstm_weights_to_torch(*(t(a) for a in lstm_w))
    lstm.load_state_dict(state)
    for name, value in np_rnn.lstm_weights_to_torch(*lstm_w).items():
        _assert_twin(state[name], value, device, name)
    for ours, reference in zip(pt_rnn.lstm_weights_from_torch(lstm), lstm_w):
        _assert_twin(ours, reference, device, "lstm_weights_from_torch")
    # clipping
    grads = [rng.normal(size=(4, 3)), rng.normal(size=3)]
    for max_norm in (0.5, 100.0):
        clipped_n, total_n = np_rnn.clip_gradients(grads, max_norm)
        clipped_t, total_t = pt_rnn.clip_gradients([t(g) for g in grads], max_norm)
        _assert_twin(total_t, total_n, device, "total_norm")
        for ours, reference in zip(clipped_t, clipped_n):
            _assert_twin(ours, reference, device, "clipped")


# ---------------------------------------------------------------- bad inputs


def test_bad_shapes_raise_errors_naming_the_argument():
    x, h0, c0 = np.zeros((2, 3, 5)), np.zeros((2, 4)), np.zeros((2, 4))
    rnn_w = (np.zeros((5, 4)), np.zeros((4, 4)), np.zeros(4))
    lstm_w = (np.zeros((5, 16)), np.zeros((4, 16)), np.zeros(16))
    gru_w = (np.zeros((5, 12)), np.zeros((4, 12)), np.zeros(12), np.zeros(12))
    for module, arr in ((np_rnn, np.asarray), (pt_rnn, torch.tensor)):
        def call(fn, *args, module=module, arr=arr):
            return getattr(module, fn)(*(arr(a) for a in args))

        for fn, w in (("rnn_forward", rnn_w), ("lstm_forward", lstm_w)):
            with pytest.raises(ValueError, match=r"x must be 3-D \(N, T, D\), got shape \(2, 5\): add a time axis"):
                call(fn, x[:, 0], h0, *w)
            with pytest.raises(ValueError, match=r"Wx must be \(D, (4)?H\) with D = 5 rows to match x: \(2, 3, 5\)"):
                call(fn, x, h0, w[0][:3], *w[1:])
            with pytest.raises(ValueError, match=r"h0 must be \(N, H\) = \(2, 4\) to match x"):
                call(fn, x, h0[:, :3], *w)
            with pytest.raises(ValueError, match=r"b must be \((4)?H,\) = \((16|4),\)(, blocks i, f, g, o,)? to match"):
                call(fn, x, h0, *w[:2], np.zeros(5))
            with pytest.raises(ValueError, match="x must hold at least one time step"):
                call(fn, x[:, :0], h0, *w)
        with pytest.raises(ValueError, match=r"Wh must be \(H, H\) \(square: hidden to hidden\), got shape \(4, 3\)"):
            call("rnn_forward", x, h0, rnn_w[0], np.zeros((4, 3)), rnn_w[2])
        with pytest.raises(ValueError, match=r"Wh must be \(H, 4H\) \(one \(H, H\) block per gate i, f, g, o\)"):
            call("lstm_forward", x, h0, lstm_w[0], np.zeros((4, 4)), lstm_w[2])
        with pytest.raises(ValueError, match=r"Wx must be \(D, 4H\) = \(5, 16\) to match Wh: \(4, 16\)"):
            call("lstm_forward", x, h0, np.zeros((5, 12)), *lstm_w[1:])
        with pytest.raises(ValueError, match=r"x must be 2-D \(N, D\) for one time step.*or call rnn_forward"):
            call("rnn_step_forward", x, h0, *rnn_w)
        with pytest.raises(ValueError, match=r"c_prev must be \(N, H\) = \(2, 4\)"):
            call("lstm_step_forward", x[:, 0], h0, c0[:1], *lstm_w)
        with pytest.raises(ValueError, match=r"Wh must be \(H, 3H\) \(one \(H, H\) block per gate r, z, n\)"):
            call("gru_step_forward", x[:, 0], h0, gru_w[0], np.zeros((4, 16)), *gru_w[2:])
        with pytest.raises(ValueError, match=r"bh must be \(3H,\) = \(12,\)"):
            call("gru_step_forward", x[:, 0], h0, *gru_w[:3], np.zeros(16))
        _, cache = call("rnn_forward", x, h0, *rnn_w)
        with pytest.raises(ValueError, match=r"dh must be \(2, 3, 4\) \(N, T, H\), the gradient on every hidden state"):
            module.rnn_backward(arr(np.zeros((2, 4))), cache)
        _, cache = call("lstm_forward", x, h0, *lstm_w)
        with pytest.raises(ValueError, match=r"dh must be \(2, 3, 4\) \(N, T, H\)"):
            module.lstm_backward(arr(np.zeros((2, 3, 16))), cache)
        with pytest.raises(ValueError, match=r"max_norm must be positive, got 0"):
            module.clip_gradients([arr(np.ones(3))], 0)
        with pytest.raises(TypeError, match="grads must be a list"):
            module.clip_gradients(arr(np.ones(3)), 1.0)
        with pytest.raises(ValueError, match=r"lstm must have one layer and one direction"):
            module.lstm_weights_from_torch(torch.nn.LSTM(5, 4, num_layers=2))
        with pytest.raises(TypeError, match=r"lstm must be a torch.nn.LSTM, got GRU"):
            module.lstm_weights_from_torch(torch.nn.GRU(5, 4))
        with pytest.raises(ValueError, match=r"b must be \(4H,\) = \(16,\)"):
            module.lstm_weights_to_torch(*(arr(a) for a in lstm_w[:2]), arr(np.zeros(4)))
