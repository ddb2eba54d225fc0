"""dlcourse.np.optim against torch.optim (fifty steps, float64, 1e-10) and dlcourse.pt.optim
against dlcourse.np.optim, on the CPU and on CUDA where present."""

import inspect

import numpy as np
import pytest
import torch
from conftest import DEVICES

from dlcourse.np import optim as np_optim
from dlcourse.pt import optim as pt_optim

ASSIGNMENT = "02-gradient-descent"

# (our function, our settings, torch class, torch settings)
CASES = {
    "sgd": ("sgd", {"lr": 0.05}, torch.optim.SGD, {"lr": 0.05}),
    "sgd-weight-decay": ("sgd", {"lr": 0.05, "weight_decay": 0.1}, torch.optim.SGD, {"lr": 0.05, "weight_decay": 0.1}),
    "momentum": ("sgd_momentum", {"lr": 0.05, "momentum": 0.9}, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    "momentum-dampened": ("sgd_momentum", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
                          torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    "nesterov": ("nesterov", {"lr": 0.05, "momentum": 0.9}, torch.optim.SGD,
                 {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    "adagrad": ("adagrad", {"lr": 0.1}, torch.optim.Adagrad, {"lr": 0.1}),
    "adagrad-decay": ("adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5},
                      torch.optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5}),
    "rmsprop": ("rmsprop", {"lr": 0.01}, torch.optim.RMSprop, {"lr": 0.01}),
    "rmsprop-centered-momentum": ("rmsprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True},
                                  torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True}),
    "adadelta": ("adadelta", {}, torch.optim.Adadelta, {}),
    "adam": ("adam", {"lr": 0.01}, torch.optim.Adam, {"lr": 0.01}),
    "adam-betas-decay": ("adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.05},
                         torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.05}),
}


def gradient(w: np.ndarray, step: int) -> np.ndarray:
    """A loss whose gradient changes with w and with time: an ill-conditioned quadratic plus
    a drifting term, with entries at very different scales (where eps placement shows)."""
    scales = np.array([1e-4, 1e-2, 1.0, 10.0, 100.0])
    return scales * w + np.sin(0.3 * step + np.arange(5)) * scales


@pytest.mark.parametrize("case", CASES)
def test_fifty_steps_match_torch_optim(case):
    name, ours, torch_class, theirs = CASES[case]
    w0 = np.array([1.0, -2.0, 0.5, 0.1, -0.01])
    w, state = w0.copy(), None
    param = torch.nn.Parameter(torch.tensor(w0))
    optimizer = torch_class([param], **theirs)
    for step in range(50):
        dw = gradient(w, step)
        w, state = np_optim.OPTIMIZERS[name](w, dw, state, **ours)
        param.grad = torch.tensor(gradient(param.detach().numpy(), step))
        optimizer.step()
        np.testing.assert_allclose(w, param.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"step {step}")


@pytest.mark.parametrize("name", np_optim.OPTIMIZERS)
def test_defaults_and_names_follow_torch(name):
    ours = inspect.signature(np_optim.OPTIMIZERS[name]).parameters
    twin = inspect.signature(pt_optim.OPTIMIZERS[name]).parameters
    assert list(ours) == list(twin) and list(ours)[:3] == ["w", "dw", "state"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(ours.values())[3:])
    torch_class = {"sgd": torch.optim.SGD, "sgd_momentum": torch.optim.SGD, "nesterov": torch.optim.SGD,
                   "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
                   "adadelta": torch.optim.Adadelta, "adam": torch.optim.Adam}[name]
    theirs = inspect.signature(torch_class.__init__).parameters
    for key, parameter in ours.items():
        if key in ("w", "dw", "state") or parameter.default is inspect.Parameter.empty:
            continue
        if key in ("beta1", "beta2"):
            assert (ours["beta1"].default, ours["beta2"].default) == theirs["betas"].default
            continue
        assert parameter.default == theirs[key].default, f"{name}: default of {key}"
        assert twin[key].default == parameter.default


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES)
def test_torch_twins_match_numpy(case, device):
    name, ours, _, _ = CASES[case]
    w_np, state_np = np.array([1.0, -2.0, 0.5, 0.1, -0.01]), None
    w_pt, state_pt = torch.tensor(w_np, device=device), None
    for step in range(20):
        w_np, state_np = np_optim.OPTIMIZERS[name](w_np, gradient(w_np, step), state_np, **ours)
        dw = torch.tensor(gradient(w_pt.cpu().numpy(), step), device=device)
        w_pt, state_pt = pt_optim.OPTIMIZERS[name](w_pt, dw, state_pt, **ours)
    assert w_pt.device.type == device
    np.testing.assert_allclose(w_pt.cpu().numpy(), w_np, rtol=1e-10, atol=1e-12)
    assert set(state_pt) == set(state_np)


def test_state_holds_buffers_only_and_inputs_are_untouched():
    w, dw = np.ones(3), np.full(3, 0.5)
    _, state = np_optim.adam(w, dw, lr=0.1)
    assert set(state) == {"step", "m", "v"}
    np.testing.assert_array_equal(w, np.ones(3))
    np.testing.assert_array_equal(dw, np.full(3, 0.5))
    w2, state2 = np_optim.sgd_momentum(w, dw, lr=0.1, momentum=0.9)
    _, state3 = np_optim.sgd_momentum(w2, dw, state2, lr=0.1, momentum=0.9)
    np.testing.assert_array_equal(state2["velocity"], dw)  # the first state is not changed by the second step
    assert not np.shares_memory(state3["velocity"], state2["velocity"])


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="dw must have the shape of w \\(3,\\), got \\(2,\\)"):
        np_optim.adam(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="state must be None"):
        np_optim.adam(np.ones(3), np.ones(3), [0.0])
    with pytest.raises(ValueError, match="Nesterov momentum needs momentum > 0"):
        np_optim.nesterov(np.ones(3), np.ones(3), momentum=0.0)
    with pytest.raises(ValueError, match="dw must have the shape"):
        pt_optim.adam(torch.ones(3), torch.ones(2))
