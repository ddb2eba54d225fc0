"""Generative adversarial networks: dlcourse.data.ring_of_gaussians (shape, centres, noise,
seeds, errors) and dlcourse.pt.gan (both losses against hand computations with
log(sigmoid), their gradients where the discriminator wins, the order and isolation of the
two updates of a training step, the training loop's snapshots from a fixed latent batch on
CPU and CUDA where present, mode coverage on hand-made samples, and a tiny GAN that learns
a single Gaussian)."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import DEVICES
from torch import nn

from dlcourse import data
from dlcourse.pt import gan
from dlcourse.pt.gan import GANConfig

ASSIGNMENT = "09-gans"
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _centres(modes=8, radius=2.0):
    angle = 2 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _pair(seed=0, latent_dim=4, hidden=(16,), out_dim=2, pack=1):
    torch.manual_seed(seed)
    return (gan.generator_mlp(latent_dim, list(hidden), out_dim),
            gan.discriminator_mlp(out_dim, list(hidden), pack=pack))


def _ring_sampler(rng, **ring):
    return lambda n: torch.from_numpy(data.ring_of_gaussians(n, rng=rng, **ring))


# ---------------------------------------------------------------- the ring of Gaussians


def test_ring_of_gaussians_is_float32_points_in_the_plane():
    X = data.ring_of_gaussians(100, rng=np.random.default_rng(0))
    assert X.shape == (100, 2) and X.dtype == np.float32


def test_ring_of_gaussians_modes_sit_evenly_on_the_circle():
    X = data.ring_of_gaussians(8000, modes=8, radius=3.0, std=1e-3, rng=np.random.default_rng(1))
    centres = _centres(8, 3.0)
    nearest = np.linalg.norm(X[:, None] - centres[None], axis=2).argmin(axis=1)
    counts = np.bincount(nearest, minlength=8)
    assert counts.min() > 800 and counts.max() < 1200       # 1000 expected per mode, uniform choice
    for k in range(8):
        np.testing.assert_allclose(X[nearest == k].mean(axis=0), centres[k], atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 3.0, atol=1e-2)


def test_ring_of_gaussians_noise_has_the_given_std_and_none_at_zero():
    X = data.ring_of_gaussians(20000, modes=1, radius=2.0, std=0.1, rng=np.random.default_rng(2))
    np.testing.assert_allclose(X.mean(axis=0), [2.0, 0.0], atol=0.01)
    np.testing.assert_allclose(X.std(axis=0), [0.1, 0.1], rtol=0.05)
    exact = data.ring_of_gaussians(50, modes=4, radius=1.5, std=0.0, rng=np.random.default_rng(3))
    distance = np.linalg.norm(exact[:, None] - _centres(4, 1.5)[None], axis=2).min(axis=1)
    np.testing.assert_allclose(distance, 0.0, atol=1e-6)


def test_ring_of_gaussians_is_seeded():
    first = data.ring_of_gaussians(64, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(first, data.ring_of_gaussians(64, rng=np.random.default_rng(4)))
    assert not np.array_equal(first, data.ring_of_gaussians(64, rng=np.random.default_rng(5)))


@pytest.mark.parametrize("bad, match", [({"n": 0}, "n must"), ({"modes": 0}, "modes must"),
                                        ({"std": -0.1}, "std must")])
def test_ring_of_gaussians_rejects_bad_arguments(bad, match):
    arguments = {"n": 10, **bad}
    with pytest.raises(ValueError, match=match):
        data.ring_of_gaussians(rng=np.random.default_rng(0), **arguments)


# ---------------------------------------------------------------- losses


def test_discriminator_loss_matches_the_cross_entropy_written_out():
    real = torch.linspace(-3, 3, 7, dtype=torch.float64)
    fake = torch.tensor([-2.0, 0.5, 1.5], dtype=torch.float64)
    expected = -torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(fake)).mean()
    torch.testing.assert_close(gan.discriminator_loss(real, fake), expected)
    torch.testing.assert_close(gan.discriminator_loss(real[:, None], fake[:, None]), expected)   # (N, 1) too
    torch.testing.assert_close(gan.discriminator_loss(torch.zeros(5), torch.zeros(3)),
                               torch.tensor(2 * math.log(2)))


def test_generator_losses_match_their_formulas():
    fake = torch.tensor([-3.0, -0.5, 0.0, 1.0, 2.5], dtype=torch.float64)
    torch.testing.assert_close(gan.generator_loss(fake), -torch.log(torch.sigmoid(fake)).mean())
    torch.testing.assert_close(gan.generator_loss(fake, saturating=True), torch.log(1 - torch.sigmoid(fake)).mean())


def test_losses_stay_finite_when_the_discriminator_is_sure():
    sure, wrong = torch.tensor([100.0, -100.0]), torch.tensor([-100.0, 100.0])
    assert gan.discriminator_loss(sure[:1], sure[1:]).item() == pytest.approx(0.0, abs=1e-30)
    assert gan.discriminator_loss(wrong[:1], wrong[1:]).item() == pytest.approx(200.0)
    for logits in (sure, wrong):
        for value in (gan.generator_loss(logits), gan.generator_loss(logits, saturating=True)):
            assert torch.isfinite(value)
    assert gan.generator_loss(torch.tensor([-100.0])).item() == pytest.approx(100.0)
    assert gan.generator_loss(torch.tensor([-100.0]), saturating=True).item() == pytest.approx(0.0, abs=1e-30)


def test_both_generator_losses_push_the_same_way_but_only_one_does_when_d_wins():
    for value in (-2.0, 0.0, 2.0):
        grads = []
        for saturating in (False, True):
            logit = torch.tensor([value], requires_grad=True)
            gan.generator_loss(logit, saturating=saturating).backward()
            grads.append(logit.grad.item())
        assert grads[0] < 0 and grads[1] < 0        # both fall as D(G(z)) rises
    # D(G(z)) ~ e^-100: the saturating loss gives no signal, the non-saturating one ~ -1
    grads = {}
    for saturating in (False, True):
        logit = torch.tensor([-100.0], requires_grad=True)
        gan.generator_loss(logit, saturating=saturating).backward()
        grads[saturating] = logit.grad.item()
    assert abs(grads[True]) < 1e-30
    assert grads[False] == pytest.approx(-1.0)


@pytest.mark.parametrize("bad", [torch.zeros(3, 2), torch.zeros(0), torch.zeros(2, 1, 1)])
def test_losses_reject_logits_of_the_wrong_shape(bad):
    with pytest.raises(ValueError, match=r"fake_logits must be a tensor \(N,\) or \(N, 1\)"):
        gan.generator_loss(bad)
    with pytest.raises(ValueError, match="real_logits"):
        gan.discriminator_loss(bad, torch.zeros(3))


# ---------------------------------------------------------------- models and sampling


def test_builders_give_the_documented_shapes():
    G, D = _pair(latent_dim=3, hidden=(8, 8), out_dim=2)
    assert G(torch.zeros(5, 3)).shape == (5, 2)
    assert D(torch.zeros(5, 2)).shape == (5,)
    assert sum(isinstance(m, nn.Linear) for m in G) == 3 and not isinstance(G[-1], nn.ReLU)
    assert gan.mlp_from_sizes([4, 6, 1], batchnorm=True)(torch.zeros(5, 4)).shape == (5, 1)
    with pytest.raises(ValueError, match="sizes"):
        gan.mlp_from_sizes([4])


def test_packed_discriminator_judges_pack_samples_at_once():
    D = gan.discriminator_mlp(2, [8], pack=2)
    x = torch.randn(6, 2)
    assert D(x).shape == (3,)
    torch.testing.assert_close(D(x)[1], D(x[2:4])[0])      # rows 2 and 3 form the second pack
    with pytest.raises(ValueError, match="multiple of pack = 2"):
        D(torch.zeros(5, 2))
    with pytest.raises(ValueError, match="pack must"):
        gan.discriminator_mlp(2, [8], pack=0)


def test_sample_latent_is_seeded_standard_normal():
    z = gan.sample_latent(4000, 3, generator=torch.Generator().manual_seed(0))
    assert z.shape == (4000, 3) and z.dtype == torch.float32
    assert abs(z.mean().item()) < 0.05 and abs(z.std().item() - 1) < 0.05
    torch.testing.assert_close(z, gan.sample_latent(4000, 3, generator=torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="latent_dim"):
        gan.sample_latent(4, 0)


@pytest.mark.parametrize("device", DEVICES)
def test_sample_has_no_gradient_follows_g_and_leaves_its_mode(device):
    G = gan.generator_mlp(2, [8], 2, batchnorm=True).to(device)
    for training in (True, False):
        G.train(training)
        x = gan.sample(G, 10, 2, generator=torch.Generator().manual_seed(0))
        assert x.shape == (10, 2) and x.device.type == device and not x.requires_grad
        assert G.training is training
    z = gan.sample_latent(10, 2, generator=torch.Generator().manual_seed(0)).to(device)
    with torch.no_grad():
        torch.testing.assert_close(x, G(z))                  # the same draw, on the CPU generator


# ---------------------------------------------------------------- one training step


def _snapshot(model):
    return [p.detach().clone() for p in model.parameters()]


def _unchanged(model, before):
    return all(torch.equal(p, q) for p, q in zip(model.parameters(), before))


def test_discriminator_step_leaves_the_generator_alone():
    G, D = _pair(seed=1)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    g_before, d_before = _snapshot(G), _snapshot(D)
    loss = gan.discriminator_step(G, D, torch.randn(8, 2), opt_d=opt_d, latent_dim=4)
    assert isinstance(loss, float)
    assert _unchanged(G, g_before) and all(p.grad is None for p in G.parameters())
    assert not _unchanged(D, d_before)
    # gradients a generator step left in G are not touched either
    marks = [torch.full_like(p, 7.0) for p in G.parameters()]
    for p, mark in zip(G.parameters(), marks):
        p.grad = mark.clone()
    gan.discriminator_step(G, D, torch.randn(8, 2), opt_d=opt_d, latent_dim=4)
    assert all(torch.equal(p.grad, mark) for p, mark in zip(G.parameters(), marks))


def test_generator_step_changes_only_the_generator():
    G, D = _pair(seed=2)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    g_before, d_before = _snapshot(G), _snapshot(D)
    loss = gan.generator_step(G, D, 8, opt_g=opt_g, latent_dim=4)
    assert isinstance(loss, float)
    assert _unchanged(D, d_before) and not _unchanged(G, g_before)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in D.parameters())   # documented


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("saturating", [False, True])
def test_train_step_updates_both_in_order_and_returns_floats(device, saturating):
    G, D = (m.to(device) for m in _pair(seed=3))
    opt_g, opt_d = torch.optim.Adam(G.parameters(), lr=1e-2), torch.optim.Adam(D.parameters(), lr=1e-2)
    real = torch.randn(8, 2)                                  # on the CPU: moved to G's device
    g_before, d_before = _snapshot(G), _snapshot(D)
    generator = torch.Generator().manual_seed(0)
    d_loss, g_loss = gan.train_step(G, D, real, opt_g=opt_g, opt_d=opt_d, latent_dim=4, saturating=saturating,
                                    generator=generator)
    assert isinstance(d_loss, float) and isinstance(g_loss, float)
    assert not _unchanged(G, g_before) and not _unchanged(D, d_before)
    # the first half, replayed from the same state and seed, gives the same discriminator loss
    G2, D2 = (m.to(device) for m in _pair(seed=3))
    replay = gan.discriminator_step(G2, D2, real, opt_d=torch.optim.Adam(D2.parameters(), lr=1e-2), latent_dim=4,
                                    generator=torch.Generator().manual_seed(0))
    assert replay == pytest.approx(d_loss, rel=1e-6)


def test_discriminator_step_checks_real_against_g():
    G, D = _pair()
    with pytest.raises(ValueError, match=r"real is \(8, 3\)"):
        gan.discriminator_step(G, D, torch.randn(8, 3), opt_d=torch.optim.SGD(D.parameters(), lr=0.1), latent_dim=4)


# ---------------------------------------------------------------- the training loop


@pytest.mark.parametrize("device", DEVICES)
def test_train_gan_records_losses_and_snapshots_from_one_latent_batch(device):
    G, D = (m.to(device) for m in _pair(seed=4))
    rng = np.random.default_rng(0)
    config = GANConfig(steps=5, batch_size=16, latent_dim=4, snapshot_every=2, snapshot_size=50)
    history = gan.train_gan(G, D, _ring_sampler(rng), config, opt_g=torch.optim.Adam(G.parameters(), lr=1e-2),
                            opt_d=torch.optim.Adam(D.parameters(), lr=1e-2),
                            generator=torch.Generator().manual_seed(0))
    assert len(history["d_loss"]) == len(history["g_loss"]) == 5
    assert all(isinstance(v, float) for v in history["d_loss"] + history["g_loss"])
    assert [step for step, _ in history["snapshots"]] == [0, 2, 4, 5]
    for _, x in history["snapshots"]:
        assert isinstance(x, np.ndarray) and x.shape == (50, 2) and x.dtype == np.float32
    assert not np.array_equal(history["snapshots"][0][1], history["snapshots"][-1][1])
    z = gan.sample_latent(50, 4, generator=torch.Generator().manual_seed(0)).to(device)   # the first draw
    with torch.no_grad():
        np.testing.assert_allclose(history["snapshots"][-1][1], G(z).cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_train_gan_snapshots_differ_only_through_training():
    G, D = _pair(seed=5)
    config = GANConfig(steps=4, batch_size=8, latent_dim=4, snapshot_every=1, snapshot_size=20)
    history = gan.train_gan(G, D, _ring_sampler(np.random.default_rng(1)), config,
                            opt_g=torch.optim.SGD(G.parameters(), lr=0.0),    # G does not learn
                            opt_d=torch.optim.SGD(D.parameters(), lr=0.1))
    first = history["snapshots"][0][1]
    assert len(history["snapshots"]) == 5
    assert all(np.array_equal(first, x) for _, x in history["snapshots"])


def test_train_gan_is_seeded_and_snapshots_at_the_end_by_default():
    runs = []
    for _ in range(2):
        G, D = _pair(seed=6)
        runs.append(gan.train_gan(G, D, _ring_sampler(np.random.default_rng(2)),
                                  GANConfig(steps=3, batch_size=8, latent_dim=4),
                                  opt_g=torch.optim.Adam(G.parameters(), lr=1e-2),
                                  opt_d=torch.optim.Adam(D.parameters(), lr=1e-2),
                                  generator=torch.Generator().manual_seed(3)))
    assert runs[0]["d_loss"] == runs[1]["d_loss"] and runs[0]["g_loss"] == runs[1]["g_loss"]
    assert [step for step, _ in runs[0]["snapshots"]] == [3]
    assert runs[0]["snapshots"][0][1].shape == (1000, 2)


def test_train_gan_with_a_packed_discriminator_and_bad_arguments():
    G, D = _pair(seed=7, pack=2)
    optimizers = dict(opt_g=torch.optim.Adam(G.parameters(), lr=1e-2), opt_d=torch.optim.Adam(D.parameters(), lr=1e-2))
    config = GANConfig(steps=2, batch_size=8, latent_dim=4)
    sampler = _ring_sampler(np.random.default_rng(3))
    history = gan.train_gan(G, D, sampler, config, **optimizers)
    assert len(history["d_loss"]) == 2
    with pytest.raises(ValueError, match="multiple of the discriminator's pack = 2"):
        gan.train_gan(G, D, sampler, replace(config, batch_size=7), **optimizers)
    with pytest.raises(ValueError, match="steps must"):
        gan.train_gan(G, D, sampler, replace(config, steps=0), **optimizers)
    with pytest.raises(ValueError, match=r"real_sampler\(8\) must return a tensor \(8, D\)"):
        gan.train_gan(G, D, lambda n: torch.zeros(n + 1, 2), config, **optimizers)
    with pytest.raises(TypeError, match="config must be a GANConfig"):
        gan.train_gan(G, D, sampler, {"steps": 2, "batch_size": 8, "latent_dim": 4}, **optimizers)


def test_train_gan_plays_each_round_with_the_step_it_is_given():
    """A notebook passes the student's train_step (step=...): the loop must call that one, with
    train_step's arguments, once per round, and record what it returns."""
    G, D = _pair(seed=8)
    optimizers = dict(opt_g=torch.optim.SGD(G.parameters(), lr=0.1), opt_d=torch.optim.SGD(D.parameters(), lr=0.1))
    config = GANConfig(steps=3, batch_size=8, latent_dim=4, saturating=True)
    seeded = torch.Generator().manual_seed(0)
    calls = []

    def my_step(G_, D_, real, *, opt_g, opt_d, latent_dim, saturating, generator):
        calls.append((G_, D_, tuple(real.shape), opt_g, opt_d, latent_dim, saturating, generator))
        return 0.5 + len(calls), -1.0 * len(calls)

    before = [p.detach().clone() for p in [*G.parameters(), *D.parameters()]]
    history = gan.train_gan(G, D, _ring_sampler(np.random.default_rng(4)), config, generator=seeded,
                            step=my_step, **optimizers)
    assert calls == [(G, D, (8, 2), optimizers["opt_g"], optimizers["opt_d"], 4, True, seeded)] * 3
    assert history["d_loss"] == [1.5, 2.5, 3.5] and history["g_loss"] == [-1.0, -2.0, -3.0]
    assert all(torch.equal(a, b) for a, b in zip(before, [*G.parameters(), *D.parameters()])), (
        "the library's train_step ran: only the given step may update G and D")
    with pytest.raises(ValueError, match="step must be a function like train_step"):
        gan.train_gan(G, D, _ring_sampler(np.random.default_rng(4)), config, step="train_step", **optimizers)


def test_a_tiny_gan_learns_a_single_gaussian():
    torch.manual_seed(0)
    G = gan.generator_mlp(2, [32, 32], 2)
    D = gan.discriminator_mlp(2, [32, 32])
    sampler = _ring_sampler(np.random.default_rng(0), modes=1, radius=2.0, std=0.05)
    history = gan.train_gan(G, D, sampler, GANConfig(steps=300, batch_size=64, latent_dim=2, snapshot_every=300),
                            opt_g=torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999)),
                            opt_d=torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999)),
                            generator=torch.Generator().manual_seed(0))
    start, end = history["snapshots"][0][1], history["snapshots"][-1][1]
    distance = np.linalg.norm(end - [2.0, 0.0], axis=1)
    assert np.linalg.norm(start - [2.0, 0.0], axis=1).mean() > 1.0
    assert np.median(distance) < 0.2 and (distance < 0.5).mean() > 0.8


# ---------------------------------------------------------------- mode coverage


def test_mode_coverage_of_samples_on_one_mode_and_on_all():
    centres = _centres()
    assert gan.mode_coverage(np.repeat(centres[3:4], 50, axis=0)) == (1, 1.0)
    assert gan.mode_coverage(np.repeat(centres, 10, axis=0)) == (8, 1.0)
    assert gan.mode_coverage(np.zeros((20, 2))) == (0, 0.0)              # the centre of the ring
    assert gan.mode_coverage(np.full((20, 2), 5.0)) == (0, 0.0)
    mixed = np.concatenate([np.repeat(centres[:2], 5, axis=0), np.zeros((10, 2))])
    assert gan.mode_coverage(mixed) == (2, 0.5)


def test_mode_coverage_of_the_real_data():
    X = data.ring_of_gaussians(5000, rng=np.random.default_rng(0))
    modes, high_quality = gan.mode_coverage(X)
    assert modes == 8 and high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.01)   # Rayleigh, r <= 3 std


def test_a_mode_needs_one_percent_of_the_high_quality_samples():
    centres = _centres()
    far = np.full((300, 2), 10.0)                             # not high quality: not in the denominator
    exactly = np.concatenate([np.repeat(centres[:1], 99, axis=0), centres[1:2], far])
    assert gan.mode_coverage(exactly) == (2, 100 / 400)        # 1 of 100: exactly 1 % counts
    fewer = np.concatenate([np.repeat(centres[:1], 199, axis=0), centres[1:2]])
    assert gan.mode_coverage(fewer) == (1, 1.0)                # 1 of 200: not hit


def test_mode_coverage_counts_the_three_std_boundary_as_high_quality():
    # radius 2, std 0.25: 3 std = 0.75 and 2.75 - 2 are exact in binary floating point
    on = np.array([[2.75, 0.0], [2.0, 0.75], [1.25, 0.0]])
    assert gan.mode_coverage(on, radius=2.0, std=0.25, modes=4) == (1, 1.0)
    off = np.array([[2.75 + 1e-9, 0.0], [2.0, 0.0]])
    assert gan.mode_coverage(off, radius=2.0, std=0.25, modes=4) == (1, 0.5)


@pytest.mark.parametrize("device", DEVICES)
def test_mode_coverage_takes_tensors_on_any_device(device):
    centres = torch.tensor(_centres(), dtype=torch.float32, device=device)
    samples = torch.cat([centres[:4].repeat(5, 1), torch.zeros(5, 2, device=device)]).requires_grad_()
    assert gan.mode_coverage(samples) == (4, 0.8)


def test_mode_coverage_rejects_bad_samples():
    with pytest.raises(ValueError, match=r"samples must be \(M, 2\)"):
        gan.mode_coverage(np.zeros((5, 3)))


# ---------------------------------------------------------------- the latent interpolation widget


def test_latent_path_and_interpolation_figure(monkeypatch, capsys):
    import matplotlib.pyplot as plt

    from dlcourse import widgets

    z0, z1 = torch.zeros(4), torch.ones(4) * 2
    path = widgets.latent_path(z0, z1, 5)
    assert path.shape == (5, 4)
    torch.testing.assert_close(path[0], z0)
    torch.testing.assert_close(path[-1], z1)
    torch.testing.assert_close(path[2], torch.ones(4))           # the midpoint
    with pytest.raises(ValueError, match="same length"):
        widgets.latent_path(torch.zeros(3), torch.zeros(4), 5)
    with pytest.raises(ValueError, match="at least 2"):
        widgets.latent_path(z0, z1, 1)

    seen = []

    class Recorder(nn.Module):   # a "generator" that records the latent vectors it is given
        def forward(self, z):
            seen.append(z.clone())
            return torch.sigmoid(z.sum(dim=1, keepdim=True)).expand(len(z), 784)

    fig = widgets.latent_interpolation_figure(Recorder(), z0, z1, 0.25, steps=5)
    assert len(fig.axes) == 6 and "0.25" in fig.axes[0].get_title()
    torch.testing.assert_close(seen[-1][-1], 0.75 * z0 + 0.25 * z1)  # the large image is G at t
    with pytest.raises(ValueError, match=r"t must be in \[0, 1\]"):
        widgets.latent_interpolation_figure(Recorder(), z0, z1, 1.5)
    plt.close("all")

    monkeypatch.setenv("DLCOURSE_HEADLESS", "1")
    monkeypatch.setattr(plt, "show", lambda: None)
    assert widgets.latent_interpolation_explorer(Recorder(), z0, z1) is None
    assert "static figure" in capsys.readouterr().out
    plt.close("all")
