"""The PyTorch training loop every later notebook uses, written out once.

Legend: N examples, D input features (inputs of any shape (N, ...) are flattened to
(N, D) by mlp), H hidden units, K classes.

    model = mlp(784, [30, 30], 10, activation=nn.Sigmoid).to(device)   x: (N, D) -> logits: (N, K)
    history = fit(model, (X_train, y_train), FitConfig(epochs=10, batch_size=32),
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.5), val_data=(X_val, y_val),
                  generator=torch.Generator().manual_seed(0))
    loss, accuracy = evaluate(model, (X_test, y_test))
    history = fit_early_stopping(model, train_loader, val_loader, optimizer=optimizer, device=device,
                                 max_epochs=60, patience=10)      # DataLoaders; the best epoch's weights

Data are pairs of tensors (inputs (N, ...), integer labels (N,)) on any device; each
mini-batch is moved to the model's device as it is used, so a data set can stay on the
CPU while the model trains on a GPU. A progress bar shows the epochs (``runtime.progress``: a
widget in JupyterLab, text under tests and grading; ``progress=False`` hides it).
"""

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from dlcourse import runtime


def mlp(n_in: int, hidden: list[int], n_out: int, *, activation=nn.ReLU, batchnorm: bool = False,
        dropout: float = 0.0) -> nn.Sequential:
    """Flatten -> [Linear -> (BatchNorm1d) -> activation -> (Dropout)] per hidden width -> Linear.

    x: (N, n_in), or (N, ...) that flattens to it -> logits: (N, n_out). ``hidden=[]`` is a
    linear classifier (softmax regression with CrossEntropyLoss). The output is logits (no
    softmax): nn.CrossEntropyLoss applies log-softmax itself.
    """
    layers: list[nn.Module] = [nn.Flatten()]
    width = n_in
    for size in hidden:
        layers.append(nn.Linear(width, size))
        if batchnorm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(activation())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _check_data(name: str, data) -> tuple[torch.Tensor, torch.Tensor]:
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ValueError(f"{name} must be a pair (inputs, labels) of tensors, got {type(data).__name__}")
    inputs, labels = (torch.as_tensor(part) for part in data)
    if len(inputs) != len(labels) or labels.ndim != 1:
        raise ValueError(f"{name}: inputs {tuple(inputs.shape)} and labels {tuple(labels.shape)} "
                         "must have the same first dimension, labels 1-D")
    return inputs, labels


def train_epoch(model: nn.Module, data, *, optimizer: torch.optim.Optimizer, loss_fn=None,
                batch_size: int = 32, generator: torch.Generator | None = None) -> tuple[float, float]:
    """One pass over ``data`` in shuffled mini-batches. Returns (mean loss, accuracy)."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    inputs, labels = _check_data("data", data)
    device = _model_device(model)
    model.train()  # dropout drops, batch norm uses (and updates) batch statistics
    order = torch.randperm(len(inputs), generator=generator)
    total_loss, correct = 0.0, 0
    for start in range(0, len(inputs), batch_size):
        batch = order[start:start + batch_size]
        x, y = inputs[batch].to(device), labels[batch].to(device)
        logits = model(x)
        loss = loss_fn(logits, y)
        optimizer.zero_grad()  # gradients accumulate in .grad until cleared
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(batch)
        correct += (logits.argmax(dim=1) == y).sum().item()
    return total_loss / len(inputs), correct / len(inputs)


@torch.no_grad()
def evaluate(model: nn.Module, data, *, loss_fn=None, batch_size: int = 1000) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` on ``data`` in evaluation mode, without gradients."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    inputs, labels = _check_data("data", data)
    device = _model_device(model)
    model.eval()  # dropout off, batch norm uses its running statistics
    total_loss, correct = 0.0, 0
    for start in range(0, len(inputs), batch_size):
        x, y = inputs[start:start + batch_size].to(device), labels[start:start + batch_size].to(device)
        logits = model(x)
        total_loss += loss_fn(logits, y).item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
    return total_loss / len(inputs), correct / len(inputs)


@dataclass(frozen=True)
class FitConfig:
    """The settings of ``fit``: ``epochs`` passes over the training data in shuffled
    mini-batches of ``batch_size``, scored by ``loss_fn(logits, labels)`` (None:
    nn.CrossEntropyLoss())."""

    epochs: int
    batch_size: int = 32
    loss_fn: Callable | None = None


def fit(model: nn.Module, train_data, config: FitConfig, *, optimizer: torch.optim.Optimizer, val_data=None,
        generator: torch.Generator | None = None, progress: bool | None = None,
        description: str = "training") -> dict[str, list[float]]:
    """Train for ``config.epochs`` epochs; returns the history {"train_loss", "train_acc", "val_loss",
    "val_acc"}: one entry per epoch (the val lists stay empty without ``val_data``).

    train_data, val_data: (inputs (N, ...), labels (N,)); the mini-batches are shuffled with
    ``generator``. The training columns are averaged over each epoch while the weights
    change; the validation ones are measured after it, in evaluation mode. ``description``
    labels the progress bar.
    """
    if not isinstance(config, FitConfig):
        raise TypeError(f"config must be a FitConfig, such as FitConfig(epochs=10), got {type(config).__name__}")
    if config.epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {config.epochs}")
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    bar = runtime.progress(range(config.epochs), desc=description, enabled=progress is not False)
    for _ in bar:
        loss, accuracy = train_epoch(model, train_data, optimizer=optimizer, loss_fn=config.loss_fn,
                                     batch_size=config.batch_size, generator=generator)
        if not math.isfinite(loss):
            raise FloatingPointError(f"the training loss became {loss}: lower the learning rate")
        history["train_loss"].append(loss)
        history["train_acc"].append(accuracy)
        shown = {"loss": f"{loss:.3f}", "acc": f"{accuracy:.3f}"}
        if val_data is not None:
            val_loss, val_accuracy = evaluate(model, val_data, loss_fn=config.loss_fn)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_accuracy)
            shown["val_acc"] = f"{val_accuracy:.3f}"
        bar.set_postfix(shown)
    return history


def fit_early_stopping(model: nn.Module, train_loader, val_loader, *, optimizer: torch.optim.Optimizer, device,
                       max_epochs: int, patience: int, loss_fn=None) -> dict:
    """Train ``model`` for at most ``max_epochs`` epochs and stop once the validation loss has not
    reached a new minimum for ``patience`` epochs in a row; the model ends with the weights of
    the epoch of the lowest validation loss (the first, on a tie).

    train_loader, val_loader: iterables of mini-batches (inputs (B, ...), labels (B,)), such as
    torch DataLoaders, each gone through once per epoch. The model and each mini-batch are moved
    to ``device``. ``loss_fn(logits, labels)`` averages over the batch (None:
    nn.functional.cross_entropy). Per mini-batch: forward, loss, zero_grad, backward, step, in
    training mode; validation runs after each epoch in evaluation mode without gradients.

    Returns {"train_loss": [...], "val_loss": [...], "val_acc": [...], "best_epoch": b}: one entry
    per epoch run, the losses averaged over the examples (the training one while the weights
    change), b counted from 1.
    """
    if max_epochs < 1 or patience < 1:
        raise ValueError(f"max_epochs and patience must be at least 1, got {max_epochs} and {patience}")
    loss_fn = loss_fn or nn.functional.cross_entropy
    model.to(device)
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "best_epoch": 0}
    best_loss, best_state = math.inf, None
    for epoch in range(1, 1 + max_epochs):  # epochs counted from 1
        model.train()
        total, count = 0.0, 0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * len(y), count + len(y)
        model.eval()
        val_total, correct, val_count = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                x, y = x.to(device), y.to(device)
                logits = model(x)
                val_total += loss_fn(logits, y).item() * len(y)
                correct += (logits.argmax(dim=1) == y).sum().item()
                val_count += len(y)
        history["train_loss"].append(total / count)
        history["val_loss"].append(val_total / val_count)
        history["val_acc"].append(correct / val_count)
        if history["val_loss"][-1] < best_loss:
            best_loss, history["best_epoch"] = history["val_loss"][-1], epoch
            best_state = copy.deepcopy(model.state_dict())  # a copy: state_dict() holds the live tensors
        elif epoch - history["best_epoch"] >= patience:
            break
    model.load_state_dict(best_state)
    return history
