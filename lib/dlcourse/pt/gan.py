"""Generative adversarial networks (Goodfellow et al. 2014) on small data: the two losses,
MLP builders, one training step, a training loop with snapshots, and a mode-coverage score.

Legend: N batch, Z latent size, D data dimensions, H hidden width.

    G = generator_mlp(Z, [256, 256], D).to(device)          z: (N, Z) -> x: (N, D)
    D_ = discriminator_mlp(D, [256, 256]).to(device)        x: (N, D) -> logits: (N,)
    d_loss = discriminator_loss(D_(real), D_(fake))        -log D(x) - log(1 - D(G(z))), averaged
    g_loss = generator_loss(D_(G(z)))                      -log D(G(z)), averaged (non-saturating)
    d, g = train_step(G, D_, real, opt_g=opt_g, opt_d=opt_d, latent_dim=Z)   one update of each
    history = train_gan(G, D_, sampler, GANConfig(steps=2000, batch_size=256, latent_dim=Z, snapshot_every=500),
                        opt_g=opt_g, opt_d=opt_d)
    history = train_gan(..., step=my_train_step)           the same loop, each round played by my_train_step
    modes_hit, high_quality = mode_coverage(history["snapshots"][-1][1])  on the ring of Gaussians

The discriminator returns one logit per sample, shape (N,): D(x) = sigmoid(logit) is its
probability that x is real. The loss helpers also accept logits (N, 1). Everything works
on logits, never on probabilities, so that log D and log(1 - D) stay finite when the
discriminator is sure (softplus(t) = log(1 + e^t), so -log sigmoid(t) = softplus(-t) and
-log(1 - sigmoid(t)) = softplus(t)).

Library code allocates like its inputs (the models' parameters); random draws use
``generator`` (None: torch's global one) on the generator's own device and are then moved,
so a seeded CPU generator gives the same draws whatever device the models are on.
"""

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse import runtime
from dlcourse.check import shown

# ---------------------------------------------------------------- losses


def _logits(name: str, logits) -> torch.Tensor:
    """logits: (N,) or (N, 1) -> (N,)."""
    if not isinstance(logits, torch.Tensor):
        raise ValueError(f"{name} must be a tensor (N,) or (N, 1), got {type(logits).__name__}")
    if logits.ndim == 2 and logits.shape[1] == 1:
        logits = logits[:, 0]
    if logits.ndim != 1 or len(logits) == 0:
        raise ValueError(f"{name} must be a tensor (N,) or (N, 1) with N >= 1, got shape {tuple(logits.shape)}")
    return logits


def discriminator_loss(real_logits, fake_logits) -> torch.Tensor:
    """The discriminator's loss, a scalar tensor: mean of -log D(x) over the real samples
    plus mean of -log(1 - D(G(z))) over the fake ones, with D = sigmoid(logit).

    real_logits: (N,) or (N, 1), the discriminator on real data; fake_logits: (M,) or
    (M, 1), on generated data (M may differ from N). It is the binary cross-entropy with
    label 1 for real and 0 for fake, computed from the logits (softplus), so it stays
    finite however sure the discriminator is. Its minimum, 0, is a perfect discriminator;
    at D = 1/2 everywhere it is 2 log 2 = 1.386.
    """
    real_logits, fake_logits = _logits("real_logits", real_logits), _logits("fake_logits", fake_logits)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits, *, saturating: bool = False) -> torch.Tensor:
    """The generator's loss, a scalar tensor to be *minimised* over G; fake_logits: (N,) or
    (N, 1), the discriminator on generated samples G(z).

    saturating=False (the default, the non-saturating loss of Goodfellow et al.): the mean
    of -log D(G(z)) = softplus(-logit). saturating=True (the minimax game as first written):
    the mean of log(1 - D(G(z))) = -softplus(logit). Both fall as D(G(z)) rises, so they
    push G the same way; but where the discriminator easily rejects the fakes (D(G(z)) near
    0, logit very negative), the saturating loss is flat (gradient sigmoid(logit) ~ 0 per
    sample) while the non-saturating one keeps a gradient of magnitude ~1.
    """
    fake_logits = _logits("fake_logits", fake_logits)
    if saturating:
        return -F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()


# ---------------------------------------------------------------- models


class Pack(nn.Module):
    """PacGAN packing (Lin et al. 2018): x: (N, D) -> (N / pack, pack * D), each row
    ``pack`` consecutive samples side by side, so the discriminator judges them jointly."""

    def __init__(self, pack: int):
        super().__init__()
        if isinstance(pack, bool) or not isinstance(pack, Integral) or pack < 1:
            raise ValueError(f"pack must be an int >= 1, got {shown(pack)}")
        self.pack = int(pack)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or len(x) % self.pack:
            raise ValueError(f"x must be (N, D) with N a multiple of pack = {self.pack}, got shape {tuple(x.shape)}")
        return x.reshape(len(x) // self.pack, self.pack * x.shape[1])   # (N / pack, pack * D)

    def extra_repr(self) -> str:
        return f"pack={self.pack}"


def mlp_from_sizes(sizes: list[int], *, activation=nn.ReLU, batchnorm: bool = False) -> nn.Sequential:
    """Linear layers between consecutive ``sizes`` [in, H1, ..., out], each but the last
    followed by (BatchNorm1d ->) activation. No output activation: x: (N, in) -> (N, out).
    (dlcourse.pt.training.mlp is the classifier of the other notebooks: it flattens its
    input first and takes (n_in, hidden, n_out).)"""
    sizes = list(sizes)
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, Integral) or s < 1 for s in sizes):
        raise ValueError(f"sizes must be at least two positive ints [in, ..., out], got {shown(sizes)}")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            if batchnorm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(activation())
    return nn.Sequential(*layers)


def generator_mlp(latent_dim: int, hidden: list[int], out_dim: int, *, activation=nn.ReLU,
                  batchnorm: bool = False) -> nn.Sequential:
    """The generator G: z: (N, Z) -> x: (N, D), an MLP with a linear output (data on any
    scale, such as the ring of Gaussians of radius 2)."""
    return mlp_from_sizes([latent_dim, *hidden, out_dim], activation=activation, batchnorm=batchnorm)


def discriminator_mlp(in_dim: int, hidden: list[int], *, activation=nn.ReLU, pack: int = 1) -> nn.Sequential:
    """The discriminator: x: (N, D) -> logits: (N,), one logit per sample, D(x) = sigmoid(logit).

    With ``pack`` > 1 (PacGAN, Lin et al. 2018, the remedy for mode collapse used here) it
    first puts ``pack`` consecutive samples side by side, x: (N, D) -> (N / pack, pack * D),
    and returns one logit per pack: (N / pack,). N must then be a multiple of ``pack``;
    train_step packs reals with reals and fakes with fakes simply by passing each batch
    whole. A discriminator that sees several samples at once can tell that fakes all look
    alike, which makes a collapsed generator easy to reject.
    """
    packer = Pack(pack)
    net = mlp_from_sizes([in_dim * packer.pack, *hidden, 1], activation=activation)
    layers = ([packer] if packer.pack > 1 else []) + [*net, nn.Flatten(0)]   # (N, 1) -> (N,)
    return nn.Sequential(*layers)


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _model_dtype(model: nn.Module) -> torch.dtype:
    parameter = next(model.parameters(), None)
    return parameter.dtype if parameter is not None else torch.get_default_dtype()


def _pack(model: nn.Module) -> int:
    return max([m.pack for m in model.modules() if isinstance(m, Pack)], default=1)


# ---------------------------------------------------------------- sampling


def sample_latent(n: int, latent_dim: int, *, generator: torch.Generator | None = None,
                  device=None) -> torch.Tensor:
    """z: (n, Z) standard normal, drawn with ``generator`` on its own device and moved to
    ``device`` (None: the generator's device, else the CPU)."""
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {shown(n)}")
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, Integral) or latent_dim < 1:
        raise ValueError(f"latent_dim must be an int >= 1, got {shown(latent_dim)}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    draw_device = generator.device if generator is not None else (device if device is not None else "cpu")
    z = torch.randn(int(n), int(latent_dim), generator=generator, device=draw_device)
    return z if device is None else z.to(device)


@torch.no_grad()
def sample(G: nn.Module, n: int, latent_dim: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """x: (n, D) = G(z) for fresh z: (n, Z), without gradients, on G's device.

    G's mode is left as it is (no .eval() or .train()): a G with batch norm in training
    mode normalises with the statistics of these n samples.
    """
    device = _model_device(G)
    return G(sample_latent(n, latent_dim, generator=generator, device=device))


# ---------------------------------------------------------------- training


def discriminator_step(G: nn.Module, D: nn.Module, real, *, opt_d: torch.optim.Optimizer, latent_dim: int,
                       generator: torch.Generator | None = None) -> float:
    """One update of D on real: (N, D) (moved to G's device and dtype) and N fakes G(z), z fresh.

    The fakes are made under torch.no_grad(), so nothing flows back into G: its
    parameters and their .grad are untouched. D's gradients are zeroed first (the
    previous generator step leaves some there). Returns the discriminator loss.
    """
    device = _model_device(G)
    real = torch.as_tensor(real).to(device=device, dtype=_model_dtype(G))
    if real.ndim != 2:
        raise ValueError(f"real must be a batch (N, D), got shape {tuple(real.shape)}")
    with torch.no_grad():
        fake = G(sample_latent(len(real), latent_dim, generator=generator, device=device))   # (N, D)
    if fake.shape != real.shape:
        raise ValueError(f"G makes samples of shape {tuple(fake.shape)} but real is {tuple(real.shape)}")
    loss = discriminator_loss(D(real), D(fake))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def generator_step(G: nn.Module, D: nn.Module, n: int, *, opt_g: torch.optim.Optimizer, latent_dim: int,
                   saturating: bool = False, generator: torch.Generator | None = None) -> float:
    """One update of G on n fresh samples G(z), scored by D (generator_loss).

    The backward pass goes through D, so D's parameters receive gradients too; opt_g steps
    only G, and discriminator_step zeroes D's gradients before using them. Returns the
    generator loss.
    """
    device = _model_device(G)
    fake = G(sample_latent(n, latent_dim, generator=generator, device=device))   # (n, D)
    loss = generator_loss(D(fake), saturating=saturating)
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    return loss.item()


def train_step(G: nn.Module, D: nn.Module, real, *, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
               latent_dim: int, saturating: bool = False,
               generator: torch.Generator | None = None) -> tuple[float, float]:
    """One round of the game on real: (N, D); returns (d_loss, g_loss) as floats.

    In this order: (1) discriminator_step: D learns to tell real from N fakes G(z), made
    without gradients (G.detach() in effect: G's parameters and .grad are untouched);
    (2) generator_step: N fresh z, G learns to fool the D just updated. The second
    backward leaves gradients in D's parameters, which (1) zeroes at the next round.
    """
    d_loss = discriminator_step(G, D, real, opt_d=opt_d, latent_dim=latent_dim, generator=generator)
    g_loss = generator_step(G, D, len(real), opt_g=opt_g, latent_dim=latent_dim, saturating=saturating,
                            generator=generator)
    return d_loss, g_loss


@dataclass(frozen=True)
class GANConfig:
    """The settings of ``train_gan``.

    steps: rounds of train_step; batch_size: real (and fake) samples per round, a multiple
    of the discriminator's pack; latent_dim: Z, G's input width; saturating: the generator
    loss (see generator_loss); snapshot_every: take snapshots at step 0, every so many steps
    and at the end (None: at the end only); snapshot_size: samples per snapshot.
    """

    steps: int
    batch_size: int
    latent_dim: int
    saturating: bool = False
    snapshot_every: int | None = None
    snapshot_size: int = 1000


def train_gan(G: nn.Module, D: nn.Module, real_sampler, config: GANConfig, *, opt_g: torch.optim.Optimizer,
              opt_d: torch.optim.Optimizer, generator: torch.Generator | None = None,
              progress: bool | None = None, step=train_step) -> dict:
    """``config.steps`` rounds of ``step`` (train_step unless given), each on a fresh real
    batch ``real_sampler(config.batch_size)`` (a tensor (batch_size, D) on any device, moved
    to G's device).

    step: the round of the game, called as step(G, D, real, opt_g=opt_g, opt_d=opt_d,
    latent_dim=config.latent_dim, saturating=config.saturating, generator=generator) ->
    (d_loss, g_loss) as floats: this module's train_step, or one written elsewhere with its
    signature (a notebook passes its own, so that the loop trains with it).

    Returns {"d_loss": [...], "g_loss": [...], "snapshots": [(step, x), ...]}: the losses
    of every step, and samples x: (snapshot_size, D) float32 NumPy of G after ``step``
    steps, all from one latent batch fixed at the start, so that snapshots differ only
    through training. With ``snapshot_every`` they are taken at step 0 (before training),
    every ``snapshot_every`` steps and at the end; without it, at the end only. G and D
    are put in training mode. The latent batches are drawn with ``generator``. A progress
    bar shows the steps (``runtime.progress``).
    """
    if not isinstance(config, GANConfig):
        raise TypeError(f"config must be a GANConfig, such as GANConfig(steps=2000, batch_size=256, latent_dim=2), "
                        f"got {type(config).__name__}")
    steps, batch_size, latent_dim = config.steps, config.batch_size, config.latent_dim
    snapshot_every, snapshot_size = config.snapshot_every, config.snapshot_size
    for name, value in (("steps", steps), ("batch_size", batch_size), ("snapshot_size", snapshot_size)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {shown(value)}")
    if snapshot_every is not None and (isinstance(snapshot_every, bool) or not isinstance(snapshot_every, Integral)
                                       or snapshot_every < 1):
        raise ValueError(f"snapshot_every must be None or an int >= 1, got {shown(snapshot_every)}")
    if not callable(step):
        raise ValueError(f"step must be a function like train_step(G, D, real, *, opt_g, opt_d, latent_dim, "
                         f"saturating, generator) -> (d_loss, g_loss), got {type(step).__name__}")
    pack = _pack(D)
    if batch_size % pack:
        raise ValueError(f"batch_size must be a multiple of the discriminator's pack = {pack}, got {batch_size}")
    device = _model_device(G)
    z_fixed = sample_latent(snapshot_size, latent_dim, generator=generator, device=device)   # (snapshot_size, Z)

    def snapshot(done: int) -> None:
        with torch.no_grad():
            history["snapshots"].append((done, G(z_fixed).float().cpu().numpy()))

    history = {"d_loss": [], "g_loss": [], "snapshots": []}
    G.train()
    D.train()
    if snapshot_every is not None:
        snapshot(0)
    bar = runtime.progress(range(1, steps + 1), desc="GAN", enabled=progress is not False)
    for done in bar:   # rounds played so far, this one included
        real = real_sampler(batch_size)
        if not isinstance(real, torch.Tensor) or real.ndim != 2 or len(real) != batch_size:
            raise ValueError(f"real_sampler({batch_size}) must return a tensor ({batch_size}, D), got "
                             f"{tuple(real.shape) if isinstance(real, torch.Tensor) else type(real).__name__}")
        d_loss, g_loss = step(G, D, real, opt_g=opt_g, opt_d=opt_d, latent_dim=latent_dim,
                              saturating=config.saturating, generator=generator)
        if not (math.isfinite(d_loss) and math.isfinite(g_loss)):
            raise FloatingPointError(f"at step {done} the losses became d = {d_loss}, g = {g_loss}: "
                                     "lower the learning rates")
        history["d_loss"].append(d_loss)
        history["g_loss"].append(g_loss)
        if snapshot_every is not None and done % snapshot_every == 0 and done != steps:
            snapshot(done)
        if done % 50 == 0 or done == steps:
            bar.set_postfix(d_loss=f"{d_loss:.3f}", g_loss=f"{g_loss:.3f}")
    snapshot(steps)
    return history


# ---------------------------------------------------------------- evaluation


def mode_coverage(samples, *, modes: int = 8, radius: float = 2.0, std: float = 0.02) -> tuple[int, float]:
    """(modes_hit, high_quality_fraction) of samples: (M, 2), NumPy or torch on any device,
    against the ring of Gaussians of dlcourse.data.ring_of_gaussians(modes, radius, std).

    A sample is high quality when it lies within 3 std of its nearest mode (Euclidean
    distance), and a mode is hit when at least 1 % of the high-quality samples fall on it
    (have it as nearest mode).

    "Within" includes the boundary: a sample exactly 3 std from its mode is high quality.
    "At least 1 %" includes it too: 1 sample of 100 high-quality ones hits its mode.
    Without any high-quality sample the result is (0, 0.0). Computed in float64.
    """
    if isinstance(samples, torch.Tensor):
        samples = samples.detach().cpu().numpy()
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) == 0:
        raise ValueError(f"samples must be (M, 2) with M >= 1, got shape {samples.shape}")
    if modes < 1:
        raise ValueError(f"modes must be at least 1, got {modes}")
    if not std > 0.0:
        raise ValueError(f"std must be positive, got {std}")
    angle = 2 * np.pi * np.arange(modes) / modes
    centres = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)            # (modes, 2)
    distance = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)   # (M, modes)
    nearest = distance.argmin(axis=1)                                               # (M,)
    high_quality = distance[np.arange(len(samples)), nearest] <= 3 * std            # (M,)
    n_high = int(high_quality.sum())
    if n_high == 0:
        return 0, 0.0
    counts = np.bincount(nearest[high_quality], minlength=modes)                    # (modes,)
    return int((100 * counts >= n_high).sum()), n_high / len(samples)
