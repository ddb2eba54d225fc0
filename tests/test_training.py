"""dlcourse.pt.training (the loop later notebooks share) and the initialisation widget."""

import matplotlib.pyplot as plt
import pytest
import torch
from conftest import DEVICES
from torch import nn

from dlcourse import widgets
from dlcourse.pt import training
from dlcourse.pt.training import FitConfig

ASSIGNMENT = "04-training-deep-networks"


def blobs(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (n,), generator=g)
    centres = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    return centres[labels] + 0.5 * torch.randn(n, 2, generator=g), labels


def test_mlp_layout():
    model = training.mlp(784, [30, 20], 10, activation=nn.Sigmoid, batchnorm=True, dropout=0.5)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Flatten", "Linear", "BatchNorm1d", "Sigmoid", "Dropout",
                     "Linear", "BatchNorm1d", "Sigmoid", "Dropout", "Linear"]
    assert [type(m).__name__ for m in training.mlp(4, [], 3)] == ["Flatten", "Linear"]
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


@pytest.mark.parametrize("device", DEVICES)
def test_fit_learns_and_records_a_history(device):
    X, y = blobs()
    torch.manual_seed(0)
    model = training.mlp(2, [16], 3).to(device)
    before = training.evaluate(model, (X, y))
    history = training.fit(model, (X, y), FitConfig(epochs=5, batch_size=20),
                           optimizer=torch.optim.SGD(model.parameters(), lr=0.5), val_data=blobs(seed=1),
                           generator=torch.Generator().manual_seed(0))
    assert {k: len(v) for k, v in history.items()} == {"train_loss": 5, "train_acc": 5, "val_loss": 5, "val_acc": 5}
    assert history["val_acc"][-1] > 0.95 > before[1]
    assert history["train_loss"][-1] < history["train_loss"][0] < before[0] * 1.5
    assert not model.training, "evaluate leaves the model in evaluation mode"


def test_fit_is_reproducible_with_a_generator():
    X, y = blobs()
    results = []
    for _ in range(2):
        torch.manual_seed(3)
        model = training.mlp(2, [8], 3)
        results.append(training.fit(model, (X, y), FitConfig(epochs=2),
                                    optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                                    generator=torch.Generator().manual_seed(5))["train_loss"])
    assert results[0] == results[1]


def test_train_and_eval_modes_switch_dropout():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Dropout(0.5), training.mlp(20, [], 2))
    data = (torch.randn(200, 20), torch.zeros(200, dtype=torch.long))
    losses = [training.evaluate(net, data)[0] for _ in range(2)]
    assert losses[0] == losses[1], "evaluation mode turns dropout off: the loss is deterministic"
    training.train_epoch(net, data, optimizer=torch.optim.SGD(net.parameters(), lr=0.0), batch_size=200)
    assert net.training
    with torch.no_grad():
        noisy = [nn.functional.cross_entropy(net(data[0]), data[1]).item() for _ in range(2)]
    assert noisy[0] != noisy[1], "training mode drops units at random"


def test_bad_data_and_divergence_are_reported():
    model = training.mlp(2, [], 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="pair \\(inputs, labels\\)"):
        training.fit(model, torch.zeros(4, 2), FitConfig(epochs=1), optimizer=optimizer)
    with pytest.raises(ValueError, match="same first dimension"):
        training.fit(model, (torch.zeros(4, 2), torch.zeros(3, dtype=torch.long)), FitConfig(epochs=1),
                     optimizer=optimizer)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        training.fit(model, blobs(), FitConfig(epochs=0), optimizer=optimizer)
    with pytest.raises(TypeError, match="config must be a FitConfig"):
        training.fit(model, blobs(), {"epochs": 1}, optimizer=optimizer)
    X, y = blobs()
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        training.fit(model, (X * 1e30, y), FitConfig(epochs=3), optimizer=torch.optim.SGD(model.parameters(), lr=1e10))


def test_activation_statistics_show_why_he_suits_relu(monkeypatch, capsys):
    relu_he = widgets.activation_statistics("relu", "He normal")
    relu_xavier = widgets.activation_statistics("relu", "Xavier uniform")
    tanh_small = widgets.activation_statistics("tanh", "small normal (std 0.01)")
    assert relu_he.shape == (20,) and 0.5 < relu_he[-1] < 2.0
    assert relu_xavier[-1] < 1e-2, "Xavier loses a factor sqrt(2) per ReLU layer"
    assert tanh_small[-1] < 1e-10
    assert widgets.activation_statistics("relu", "He normal", gain=2.0)[-1] > 1e4
    with pytest.raises(ValueError, match="unknown activation 'elu'"):
        widgets.activation_statistics("elu", "He normal")
    with pytest.raises(ValueError, match="unknown initialisation"):
        widgets.activation_statistics("relu", "lecun")
    for name in widgets.HEADLESS_ENV:
        monkeypatch.delenv(name, raising=False)
    explorer = widgets.activation_statistics_explorer()
    assert [c.description for c in explorer.widget.children[:2]] == ["activation", "gain"]
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert widgets.activation_statistics_explorer() is None
    assert "static figure here" in capsys.readouterr().out
    plt.close("all")


def test_activation_statistics_draw_with_the_initialisers_they_are_given():
    """04's notebook passes the student's xavier_uniform and he_normal (the library's are sealed
    while 04 is graded); a draw of the wrong shape is named."""
    import numpy as np

    from dlcourse.np import init as np_init

    calls = []

    def counted(initialiser):
        def draw(n_in, n_out, *, rng):
            calls.append(initialiser.__name__)
            return initialiser(n_in, n_out, rng=rng)
        return draw

    mine = {"xavier_uniform": counted(np_init.xavier_uniform), "he_normal": counted(np_init.he_normal)}
    for init, name in (("Xavier uniform", "xavier_uniform"), ("He normal", "he_normal")):
        calls.clear()
        stds = widgets.activation_statistics("relu", init, depth=5, width=32, **mine)
        assert calls == [name] * 5
        np.testing.assert_array_equal(stds, widgets.activation_statistics("relu", init, depth=5, width=32))
    calls.clear()
    widgets.activation_statistics("tanh", "small normal (std 0.01)", depth=3, **mine)
    assert calls == []
    plt.close(widgets.activation_statistics_figure("tanh", depth=4, **mine))
    assert sorted(set(calls)) == ["he_normal", "xavier_uniform"] and len(calls) == 8
    with pytest.raises(ValueError, match=r"he_normal\(32, 32, rng=rng\) must return .* got shape \(32,\)"):
        widgets.activation_statistics("relu", "He normal", width=32,
                                      he_normal=lambda n_in, n_out, *, rng: rng.normal(size=n_in))


def _sgd_by_hand(model, train, val, lr, epochs):
    """Plain SGD with torch.autograd.grad, validation in eval mode: (model, train losses, val losses)."""
    parameters = list(model.parameters())
    train_losses, val_losses = [], []
    for _ in range(epochs):
        model.train()
        losses = []
        for x, y in train:
            loss = nn.functional.cross_entropy(model(x), y)
            with torch.no_grad():
                for p, g in zip(parameters, torch.autograd.grad(loss, parameters)):
                    p -= lr * g
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            val_losses.append(sum(nn.functional.cross_entropy(model(x), y, reduction="sum").item() for x, y in val)
                              / sum(len(y) for _, y in val))
        train_losses.append(sum(losses) / len(losses))
    return model, train_losses, val_losses


def _loaders(seed=0, n_train=60, batch_size=15):
    from torch.utils.data import DataLoader, TensorDataset

    return (DataLoader(TensorDataset(*blobs(n_train, seed)), batch_size=batch_size, shuffle=True,
                       generator=torch.Generator().manual_seed(seed)),
            DataLoader(TensorDataset(*blobs(50, seed + 1)), batch_size=25))


@pytest.mark.parametrize("device", DEVICES)
def test_fit_early_stopping_is_plain_sgd_with_batch_norm_in_the_right_modes(device):
    import copy

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    by_hand, train_losses, val_losses = _sgd_by_hand(copy.deepcopy(model), *_loaders(), lr=0.3, epochs=3)
    history = training.fit_early_stopping(model, *_loaders(), optimizer=torch.optim.SGD(model.parameters(), lr=0.3),
                                          device=device, max_epochs=3, patience=5)
    assert set(history) == {"train_loss", "val_loss", "val_acc", "best_epoch"}
    assert history["train_loss"] == pytest.approx(train_losses, rel=1e-4)
    assert history["val_loss"] == pytest.approx(val_losses, rel=1e-4)
    # the loss falls on this easy problem, so the last epoch is the best and its weights come back
    assert history["best_epoch"] == 3
    for p, q in zip(model.state_dict().values(), by_hand.state_dict().values()):
        torch.testing.assert_close(p.cpu(), q, rtol=1e-4, atol=1e-5)
    assert not model.training


def test_fit_early_stopping_stops_after_patience_and_restores_the_best_weights():
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(1)
    x, y = blobs(30, seed=3)
    y[::3] = torch.randint(0, 3, (10,), generator=torch.Generator().manual_seed(4))  # noisy labels: it overfits
    val = blobs(200, seed=5)
    model = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 3))
    history = training.fit_early_stopping(
        model, DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True, generator=torch.Generator().manual_seed(0)),
        DataLoader(TensorDataset(*val), batch_size=100), optimizer=torch.optim.Adam(model.parameters(), lr=0.02),
        device="cpu", max_epochs=200, patience=3)
    best = history["best_epoch"]
    assert best == 1 + min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__)
    assert len(history["val_loss"]) == best + 3 < 200
    model.eval()
    with torch.no_grad():
        restored = nn.functional.cross_entropy(model(val[0]), val[1]).item()
    assert restored == pytest.approx(history["val_loss"][best - 1], rel=1e-5)
    with pytest.raises(ValueError, match="patience"):
        training.fit_early_stopping(model, [], [], optimizer=None, device="cpu", max_epochs=3, patience=0)
