"""Autoencoders in PyTorch: the model, the corruption of a denoising autoencoder and a
training loop.

Legend: N batch, D input features (inputs of any shape (N, ...) are flattened to (N, D)),
C code size.

    model = Autoencoder(784, [256, 64], 16, output_activation=nn.Sigmoid).to(device)
    z = model.encode(x)                                    x: (N, D) -> z: (N, C)
    x_hat = model(x)                                       (N, D), flat
    history = train_autoencoder(model, X_train, epochs=10, noise={"kind": "mask", "level": 0.3},
                                X_val=X_test)                  {"loss": [...], "val_error": [...]}
    x_noisy = corrupt(x, kind="gaussian", level=0.5)       a denoising autoencoder's input, x's shape

Weights follow torch.nn: ``nn.Linear(n_in, n_out).weight`` is (n_out, n_in). A linear
autoencoder (``hidden=[]``, ``activation=None``) spans, at its optimum, the subspace of
PCA's top components (``dlcourse.np.pca``). Random draws use ``generator`` (None: torch's
global one) on the generator's own device and are then moved, so a seeded CPU generator
gives the same draws whatever device the data are on.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from dlcourse import runtime

CORRUPTIONS = ("mask", "gaussian")


def _make(layer):
    """A module from a class (nn.ReLU) or an instance (nn.LeakyReLU(0.1))."""
    return layer if isinstance(layer, nn.Module) else layer()


class Autoencoder(nn.Module):
    """x: (N, D) -> encoder -> code z: (N, C) -> decoder -> reconstruction: (N, D).

    The encoder is Linear layers n_in -> hidden[0] -> ... -> n_code with ``activation``
    after each hidden layer and none after the code; the decoder mirrors it, n_code ->
    hidden[-1] -> ... -> n_in, with ``activation`` after each hidden layer and
    ``output_activation`` (for instance nn.Sigmoid for pixels in [0, 1]) at the end, if
    given. ``hidden=[]`` and ``activation=None`` is the linear autoencoder, which at its
    optimum spans the same subspace as PCA's top n_code components.

    ``tied=True``: the decoder reuses the encoder's weights transposed (decoder layer j
    computes F.linear(h, W.T, b), W the weight of the mirrored encoder layer) and has only
    its own biases, about half the parameters. Inputs of any shape (N, ...) with
    prod(...) = n_in, such as MNIST's (N, 1, 28, 28), are flattened to (N, D).
    """

    def __init__(self, n_in: int, hidden: list[int], n_code: int, *, activation=nn.ReLU, tied: bool = False,
                 output_activation=None):
        super().__init__()
        widths = [n_in, *hidden, n_code]
        if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"n_in, hidden and n_code must be positive ints, got {n_in}, {hidden}, {n_code}")
        if hidden and activation is None:
            raise ValueError("activation=None is only for the linear autoencoder (hidden=[]): stacked linear "
                             "layers without activations are one linear map")
        self.n_in, self.n_code, self.tied = n_in, n_code, tied
        encoder: list[nn.Module] = []
        for j, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            encoder.append(nn.Linear(a, b))
            if j < len(hidden):
                encoder.append(_make(activation))
        self.encoder = nn.Sequential(*encoder)
        back = widths[::-1]                                   # n_code, hidden reversed, n_in
        if tied:
            # decoder layer j maps back[j] -> back[j + 1] with its own bias (back[j + 1],)
            self.decoder_biases = nn.ParameterList(nn.Parameter(torch.zeros(b)) for b in back[1:])
            self.decoder_activations = nn.ModuleList(_make(activation) for _ in hidden)
        else:
            decoder: list[nn.Module] = []
            for j, (a, b) in enumerate(zip(back[:-1], back[1:])):
                decoder.append(nn.Linear(a, b))
                if j < len(hidden):
                    decoder.append(_make(activation))
            self.decoder = nn.Sequential(*decoder)
        self.output_activation = _make(output_activation) if output_activation is not None else None

    def _flatten(self, x):
        x = x.reshape(len(x), -1)                             # (N, D)
        if x.shape[1] != self.n_in:
            raise ValueError(f"x must be (N, {self.n_in}) or reshape to it, such as (N, 1, 28, 28) for "
                             f"n_in = 784; got {x.shape[1]} features per sample")
        return x

    def encode(self, x):
        """x: (N, D) or (N, ...) -> code z: (N, C)."""
        return self.encoder(self._flatten(x))

    def decode(self, z):
        """z: (N, C) -> reconstruction (N, D), flat."""
        if z.ndim != 2 or z.shape[1] != self.n_code:
            raise ValueError(f"z must be (N, {self.n_code}), got shape {tuple(z.shape)}")
        if self.tied:
            linears = [m for m in self.encoder if isinstance(m, nn.Linear)][::-1]
            h = z
            for j, (layer, bias) in enumerate(zip(linears, self.decoder_biases)):
                h = F.linear(h, layer.weight.t(), bias)       # layer.weight: (out, in), so W.T maps out -> in
                if j < len(self.decoder_activations):
                    h = self.decoder_activations[j](h)
        else:
            h = self.decoder(z)
        return self.output_activation(h) if self.output_activation is not None else h

    def forward(self, x):
        """x: (N, D) or (N, ...) -> reconstruction (N, D), flat."""
        return self.decode(self.encode(x))


def corrupt(x, *, kind: str = "mask", level: float = 0.3, generator: torch.Generator | None = None):
    """A corrupted copy of x for a denoising autoencoder; x is not modified. x: any shape,
    such as (N, D); returns a tensor of x's shape.

    kind="mask": each entry is set to 0 with probability ``level`` (masking noise, Vincent
    et al. 2008), no rescaling. kind="gaussian": x + noise with noise ~ N(0, level^2).
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"kind must be one of {CORRUPTIONS}, got {kind!r}")
    level = float(level)
    if kind == "mask" and not 0.0 <= level <= 1.0:
        raise ValueError(f"level (the probability of zeroing an entry) must be in [0, 1], got {level}")
    if kind == "gaussian" and level < 0:
        raise ValueError(f"level (the noise's standard deviation) must be >= 0, got {level}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    device = generator.device if generator is not None else x.device
    dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
    if kind == "mask":
        keep = torch.rand(x.shape, generator=generator, device=device, dtype=dtype).to(x.device) >= level
        return x * keep
    noise = torch.randn(x.shape, generator=generator, device=device, dtype=dtype).to(x.device)
    return x + level * noise


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def train_autoencoder(model: nn.Module, X, *, epochs: int, lr: float = 1e-3, batch_size: int = 128,
                      noise: dict | None = None, X_val=None, generator: torch.Generator | None = None,
                      progress: bool | None = None) -> dict[str, list[float]]:
    """Train ``model`` to reconstruct X: (N, ...) with Adam and the mean squared error.

    Each epoch puts the model in training mode and visits X in mini-batches of a fresh
    random order, moved to the model's device as they are used. With ``noise`` (corrupt's
    keyword arguments, such as {"kind": "mask", "level": 0.3}) the model sees corrupt(x),
    drawn afresh for every batch, and is scored against the clean x: a denoising
    autoencoder. The target is x flattened to (N, D), which is what Autoencoder returns.

    Returns the history {"loss": the mean training loss of each epoch (each batch's loss
    weighted by its size, averaged while the weights change), "val_error": after each
    epoch, in evaluation mode and without gradients, the mean squared error between the
    model's output for X_val (corrupted once, before the first epoch, where ``noise`` is
    given) and the clean X_val; empty without X_val}.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    X = torch.as_tensor(X)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"X must be (N, D) or (N, ...) with N >= 1, got shape {tuple(X.shape)}")
    if noise is not None:
        if not isinstance(noise, dict) or "generator" in noise:
            raise ValueError("noise must be None or a dict of corrupt's keyword arguments (kind, level); "
                             "the generator is train_autoencoder's own")
        corrupt(X[:1], **noise)                               # a bad kind or level fails before training
    device = _model_device(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"loss": [], "val_error": []}
    if X_val is not None:
        clean_val = torch.as_tensor(X_val).to(device)
        if clean_val.ndim < 2 or clean_val.shape[1:] != X.shape[1:]:
            raise ValueError(f"X_val must be (M, ...) like X's {tuple(X.shape[1:])} samples, "
                             f"got shape {tuple(clean_val.shape)}")
        seen_val = corrupt(clean_val, **noise, generator=generator) if noise is not None else clean_val
        target_val = clean_val.reshape(len(clean_val), -1)    # (M, D)
    bar = runtime.progress(range(epochs), desc="autoencoder", enabled=progress is not False)
    for _ in bar:
        model.train()
        order = torch.randperm(len(X), generator=generator)
        total = 0.0
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            x = X[batch].to(device)
            target = x.reshape(len(x), -1)                    # (B, D)
            seen = corrupt(x, **noise, generator=generator) if noise is not None else x
            loss = F.mse_loss(model(seen), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        history["loss"].append(total / len(X))
        if not math.isfinite(history["loss"][-1]):
            raise FloatingPointError(f"the training loss became {history['loss'][-1]}: lower the learning rate")
        if X_val is not None:
            model.eval()
            with torch.no_grad():
                history["val_error"].append(F.mse_loss(model(seen_val), target_val).item())
        bar.set_postfix(loss=f"{history['loss'][-1]:.4f}")
    return history
