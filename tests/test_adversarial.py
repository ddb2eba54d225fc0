"""Adversarial examples: dlcourse.np.adversarial (FGSM, the logistic input gradient, the
L-infinity projection, PGD steps) against finite differences and torch autograd; its
dlcourse.pt twins against the NumPy reference (CPU, and CUDA where present); the attacks on
a model (fgsm, pgd) against autograd written out here, their bounds, and that they leave the
model as they found it; accuracy under attack, adversarial training batches and the widget."""

import copy
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import DEVICES, assert_torch_twin
from torch import nn

from dlcourse import check, data
from dlcourse.np import adversarial as np_adv
from dlcourse.pt import adversarial as pt_adv
from dlcourse.pt.adversarial import PGDConfig
from dlcourse.pt.training import evaluate, mlp

ASSIGNMENT = "10-adversarial"
pytestmark = pytest.mark.usefixtures("one_torch_thread")
TWINS = ["fgsm_step", "project_linf", "pgd_step", "logistic_predict_proba", "logistic_loss",
         "logistic_input_gradient"]



@pytest.fixture(scope="module")
def mnist():
    """600 training and 200 test digits (shuffled out of the digit-sorted subset)."""
    rng = np.random.default_rng(10)
    X, y = data.load_mnist("train")
    Xt, yt = data.load_mnist("test")
    i, j = rng.permutation(len(X))[:600], rng.permutation(len(Xt))[:200]
    return (torch.tensor(X[i]), torch.tensor(y[i])), (torch.tensor(Xt[j]), torch.tensor(yt[j]))


def _train(model, X, y, steps=80, lr=1e-2):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return model.eval()


@pytest.fixture(scope="module")
def linear_model(mnist):
    """Softmax regression on the 600 digits (cross-entropy is convex in x: FGSM never lowers it)."""
    torch.manual_seed(0)
    return _train(mlp(784, [], 10), *mnist[0])


@pytest.fixture(scope="module")
def mlp_model(mnist):
    torch.manual_seed(1)
    return _train(mlp(784, [32], 10), *mnist[0])


def _on(model, device):
    return copy.deepcopy(model).to(device)


# ---------------------------------------------------------------- NumPy reference


def test_np_fgsm_step_steps_by_the_sign_and_clips():
    x = np.array([[0.5, 0.5, 0.5, 0.02, 0.98]])
    grad = np.array([[2.0, -1e-9, 0.0, -3.0, 4.0]])
    np.testing.assert_allclose(np_adv.fgsm_step(x, grad, 0.1), [[0.6, 0.4, 0.5, 0.0, 1.0]])
    np.testing.assert_allclose(np_adv.fgsm_step(x, grad, 0.1, clip=None), [[0.6, 0.4, 0.5, -0.08, 1.08]])
    np.testing.assert_array_equal(np_adv.fgsm_step(x, grad, 0.0), x)  # eps 0: the identity
    np.testing.assert_allclose(np_adv.fgsm_step(x, grad, 0.1, clip=(0.45, 0.55)), [[0.55, 0.45, 0.5, 0.45, 0.55]])
    with pytest.raises(ValueError, match=r"grad must have the shape of x, \(1, 5\), got \(5,\)"):
        np_adv.fgsm_step(x, grad[0], 0.1)
    with pytest.raises(ValueError, match="eps must be >= 0, got -0.1"):
        np_adv.fgsm_step(x, grad, -0.1)
    with pytest.raises(ValueError, match="clip must have low <= high"):
        np_adv.fgsm_step(x, grad, 0.1, clip=(1.0, 0.0))


def test_logistic_input_gradient_matches_finite_differences_and_autograd():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(6, 4)), rng.normal(size=4), 0.3
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    dx = np_adv.logistic_input_gradient(x, y, w, b)
    assert dx.shape == (6, 4)
    numeric = check.numerical_gradient(lambda v: np_adv.logistic_loss(v, y, w, b).sum(), x.copy())
    assert check.rel_error(dx, numeric) < 1e-7
    xt = torch.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(xt @ torch.tensor(w) + b, torch.tensor(y), reduction="sum")
    loss.backward()
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np_adv.logistic_loss(x, y, w, b).sum(), loss.item(), rtol=1e-12)
    p = np_adv.logistic_predict_proba(x, w, b)
    np.testing.assert_allclose(np_adv.logistic_loss(x, y, w, b), -(y * np.log(p) + (1 - y) * np.log(1 - p)))
    with pytest.raises(ValueError, match=r"w must be \(D,\) = \(4,\)"):
        np_adv.logistic_input_gradient(x, y, w[:3], b)
    with pytest.raises(ValueError, match=r"y must be \(N,\) = \(6,\)"):
        np_adv.logistic_input_gradient(x, y[:5], w, b)


def test_fgsm_with_the_closed_form_gradient_raises_every_logistic_loss():
    """BCE of a logistic regression is convex in x: a step along sign(dL/dx) cannot lower it."""
    rng = np.random.default_rng(1)
    x, w, b = rng.uniform(size=(50, 8)), rng.normal(size=8), -0.2
    y = (rng.uniform(size=50) < 0.5).astype(float)
    x_adv = np_adv.fgsm_step(x, np_adv.logistic_input_gradient(x, y, w, b), 0.1)
    assert np.all(np_adv.logistic_loss(x_adv, y, w, b) >= np_adv.logistic_loss(x, y, w, b))
    assert np.abs(x_adv - x).max() <= 0.1 + 1e-12 and 0 <= x_adv.min() and x_adv.max() <= 1


def test_project_linf_and_pgd_step_stay_in_the_ball_and_the_box():
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(5, 1, 4, 4))
    far = x + rng.normal(scale=0.5, size=x.shape)
    projected = np_adv.project_linf(far, x, 0.1)
    assert np.abs(projected - x).max() <= 0.1 + 1e-12 and projected.min() >= 0 and projected.max() <= 1
    inside = x + rng.uniform(-0.05, 0.05, size=x.shape)
    np.testing.assert_array_equal(np_adv.project_linf(inside, x, 0.1, clip=None), inside)  # a fixed point
    np.testing.assert_array_equal(np_adv.project_linf(far, x, 0.0), x)
    x_adv = x.copy()
    for _ in range(5):
        x_adv = np_adv.pgd_step(x_adv, x, rng.normal(size=x.shape), 0.1, 0.04)
        assert np.abs(x_adv - x).max() <= 0.1 + 1e-12 and x_adv.min() >= 0 and x_adv.max() <= 1
    step = np_adv.pgd_step(x, x, np.ones_like(x), 0.1, 0.03, clip=None)
    np.testing.assert_allclose(step, x + 0.03)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        np_adv.pgd_step(x, x, x, 0.1, -1.0)
    with pytest.raises(ValueError, match=r"x_adv must have the shape of x"):
        np_adv.project_linf(x[:2], x, 0.1)


# ---------------------------------------------------------------- torch twins


@pytest.mark.parametrize("name", TWINS)
def test_twins_take_the_same_arguments(name):
    assert_torch_twin(np_adv, pt_adv, name)


def test_fgsm_is_the_attack_on_a_model_and_fgsm_step_the_step_on_both_sides():
    # one name, one meaning: the step takes a gradient, the attack a model (no np.fgsm)
    assert not hasattr(np_adv, "fgsm")
    assert list(inspect.signature(pt_adv.fgsm).parameters)[:4] == ["model", "x", "y", "eps"]


@pytest.mark.parametrize("device", DEVICES)
def test_twins_agree_with_numpy(device):
    rng = np.random.default_rng(3)
    x, grad, x_adv = rng.uniform(size=(4, 3, 5, 5)), rng.normal(size=(4, 3, 5, 5)), rng.uniform(size=(4, 3, 5, 5))
    t = {k: torch.tensor(v, device=device) for k, v in {"x": x, "grad": grad, "x_adv": x_adv}.items()}
    for clip in ((0.0, 1.0), None):
        got = pt_adv.fgsm_step(t["x"], t["grad"], 0.07, clip=clip)
        assert got.device.type == device and got.dtype == torch.float64
        np.testing.assert_allclose(got.cpu().numpy(), np_adv.fgsm_step(x, grad, 0.07, clip=clip), rtol=0, atol=1e-15)
        got = pt_adv.project_linf(t["x_adv"], t["x"], 0.1, clip=clip)
        np.testing.assert_allclose(got.cpu().numpy(), np_adv.project_linf(x_adv, x, 0.1, clip=clip), atol=1e-15)
        got = pt_adv.pgd_step(t["x_adv"], t["x"], t["grad"], 0.1, 0.03, clip=clip)
        np.testing.assert_allclose(got.cpu().numpy(), np_adv.pgd_step(x_adv, x, grad, 0.1, 0.03, clip=clip),
                                   atol=1e-15)
    xs, w, y = rng.normal(size=(7, 3)), rng.normal(size=3), (rng.uniform(size=7) < 0.5).astype(float)
    args = [torch.tensor(v, device=device) for v in (xs, y, w)]
    for name in ("logistic_loss", "logistic_input_gradient"):
        got = getattr(pt_adv, name)(*args, 0.5).cpu().numpy()
        np.testing.assert_allclose(got, getattr(np_adv, name)(xs, y, w, 0.5), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(pt_adv.logistic_predict_proba(args[0], args[2], 0.5).cpu().numpy(),
                               np_adv.logistic_predict_proba(xs, w, 0.5), rtol=1e-12)
    with pytest.raises(ValueError, match="grad must have the shape of x"):
        pt_adv.fgsm_step(t["x"], t["grad"][0], 0.1)


# ---------------------------------------------------------------- attacks on a model


@pytest.mark.parametrize("device", DEVICES)
def test_fgsm_is_the_sign_of_the_input_gradient(mnist, mlp_model, device):
    model = _on(mlp_model, device)
    x, y = (t[:50].to(device) for t in mnist[1])
    reference = copy.deepcopy(model)
    xr = x.clone().requires_grad_(True)
    F.cross_entropy(reference(xr), y).backward()
    expected = (x + 0.1 * xr.grad.sign()).clamp(0.0, 1.0)
    x_adv = pt_adv.fgsm(model, x, y, 0.1)
    assert x_adv.device == x.device and x_adv.dtype == x.dtype and not x_adv.requires_grad
    torch.testing.assert_close(x_adv, expected, rtol=0, atol=0)
    target = (y + 1) % 10
    xr = x.clone().requires_grad_(True)
    F.cross_entropy(reference(xr), target).backward()
    torch.testing.assert_close(pt_adv.fgsm(model, x, target, 0.1, targeted=True),
                               (x - 0.1 * xr.grad.sign()).clamp(0.0, 1.0), rtol=0, atol=0)
    np.testing.assert_array_equal(pt_adv.fgsm(model, x, y, 0.0).cpu().numpy(), x.cpu().numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_attacks_stay_in_the_ball_and_the_box(mnist, mlp_model, device):
    model = _on(mlp_model, device)
    x, y = (t[:40].to(device) for t in mnist[1])
    x = x.clone()
    x[:, :, :3] = 0.01          # near the edges of the box: clipping bites
    x[:, :, -3:] = 0.99
    eps = 0.2
    for x_adv in (pt_adv.fgsm(model, x, y, eps), pt_adv.pgd(model, x, y, eps, PGDConfig(alpha=0.05, steps=5)),
                  pt_adv.fgsm(model, x, y, eps, targeted=True),
                  pt_adv.pgd(model, x, y, eps, PGDConfig(alpha=0.3, steps=3, random_start=False))):
        assert x_adv.shape == x.shape and x_adv.device == x.device and x_adv.dtype == x.dtype
        assert (x_adv - x).abs().max().item() <= eps + 1e-6
        assert x_adv.min().item() >= 0.0 and x_adv.max().item() <= 1.0
    x_adv = pt_adv.fgsm(model, x, y, eps, clip=None)
    assert x_adv.min().item() < 0 and x_adv.max().item() > 1
    torch.testing.assert_close((x_adv - x).abs(), torch.full_like(x, eps), rtol=0, atol=1e-6)


def test_targeted_lowers_the_target_loss_and_untargeted_raises_the_true_one(mnist, linear_model, mlp_model):
    x, y = mnist[1][0][:100], mnist[1][1][:100]
    target = (y + 3) % 10

    def losses(model, inputs, labels):
        with torch.no_grad():
            return F.cross_entropy(model(inputs), labels, reduction="none")

    # the linear model's loss is convex in x: the untargeted step raises every example's loss
    assert torch.all(losses(linear_model, pt_adv.fgsm(linear_model, x, y, 0.05), y) >= losses(linear_model, x, y))
    for model in (linear_model, mlp_model):
        assert losses(model, pt_adv.fgsm(model, x, y, 0.05), y).mean() > losses(model, x, y).mean()
        towards = pt_adv.fgsm(model, x, target, 0.05, targeted=True)
        assert losses(model, towards, target).mean() < losses(model, x, target).mean()
        with torch.no_grad():
            logit_gain = (model(towards) - model(x)).gather(1, target[:, None])
        assert logit_gain.mean() > 0
        towards = pt_adv.pgd(model, x, target, 0.2, PGDConfig(alpha=0.05, steps=10, targeted=True),
                             generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            hit = (model(towards).argmax(1) == target).float().mean().item()
        assert hit > 0.5, "PGD with eps 0.2 reaches most targets"


def _batchnorm_dropout_model():
    torch.manual_seed(2)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(16, 10))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("training", [True, False])
def test_attacks_leave_the_model_as_they_found_it(mnist, device, training):
    model = _batchnorm_dropout_model().to(device)
    x, y = (t[:32].to(device) for t in mnist[0])
    model.train()
    model(x)  # running statistics that are not the initial ones
    model.train(training)
    model[4].train(not training)  # mixed modes must survive too (batch norm follows the model)
    flags = [m.training for m in model.modules()]
    generator = torch.Generator().manual_seed(0)
    for p in model.parameters():
        p.grad = torch.randn(p.shape, generator=generator).to(device)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    grads = [p.grad.clone() for p in model.parameters()]
    pt_adv.fgsm(model, x, y, 0.1)
    pt_adv.fgsm(model, x, y, 0.1, targeted=True)
    pt_adv.pgd(model, x, y, 0.1, PGDConfig(alpha=0.03, steps=3), generator=generator)
    pt_adv.adversarial_batch(model, x, y, 0.1, attack="pgd", config=PGDConfig(alpha=0.03, steps=2))
    pt_adv.accuracy_under_attack(model, x, y, [0.0, 0.1])
    pt_adv.accuracy_under_attack(model, x, y, [0.1], attack="pgd", config=PGDConfig(alpha=0.03, steps=2))
    with torch.no_grad():
        pt_adv.fgsm(model, x, y, 0.1)  # the attack needs gradients even under no_grad
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0, msg=key)
    for p, grad in zip(model.parameters(), grads):
        torch.testing.assert_close(p.grad, grad, rtol=0, atol=0)
        assert p.requires_grad
    assert [m.training for m in model.modules()] == flags


def test_fgsm_computes_in_the_current_mode(mnist):
    """In training mode batch norm normalises with the batch's statistics, in eval mode with
    its running ones: the attack follows whichever mode the model is in."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 10))
    x, y = mnist[0][0][:32], mnist[0][1][:32]
    for training in (True, False):
        reference = copy.deepcopy(model).train(training)
        xr = x.clone().requires_grad_(True)
        F.cross_entropy(reference(xr), y).backward()
        x_adv = pt_adv.fgsm(model.train(training), x, y, 0.1)
        torch.testing.assert_close(x_adv, (x + 0.1 * xr.grad.sign()).clamp(0, 1), rtol=0, atol=0)
    assert not torch.equal(pt_adv.fgsm(model.train(), x, y, 0.1), pt_adv.fgsm(model.eval(), x, y, 0.1))


def test_pgd_without_random_start_for_one_step_of_eps_is_fgsm(mnist, mlp_model):
    x, y = mnist[1][0][:50], mnist[1][1][:50]
    torch.testing.assert_close(pt_adv.pgd(mlp_model, x, y, 0.1, PGDConfig(alpha=0.1, steps=1, random_start=False)),
                               pt_adv.fgsm(mlp_model, x, y, 0.1), rtol=0, atol=0)


def test_pgd_is_at_least_as_strong_as_fgsm(mnist, linear_model, mlp_model):
    X, y = mnist[1]
    for model in (linear_model, mlp_model):
        fgsm_acc = pt_adv.accuracy_under_attack(model, X, y, [0.0, 0.05, 0.1])
        pgd_acc = pt_adv.accuracy_under_attack(model, X, y, [0.0, 0.05, 0.1], attack="pgd",
                                               config=PGDConfig(alpha=0.02, steps=10),
                                               generator=torch.Generator().manual_seed(0))
        assert fgsm_acc[0] == pgd_acc[0] > 0.7
        assert all(p <= f for p, f in zip(pgd_acc, fgsm_acc)), (pgd_acc, fgsm_acc)
        assert pgd_acc[2] < 0.5 * pgd_acc[0], "eps 0.1 breaks an undefended MNIST classifier"
        x_adv = pt_adv.pgd(model, X[:50], y[:50], 0.1, PGDConfig(alpha=0.02, steps=10),
                           generator=torch.Generator().manual_seed(0))
        assert (x_adv - X[:50]).abs().max().item() <= 0.1 + 1e-6
        with torch.no_grad():
            pgd_loss = F.cross_entropy(model(x_adv), y[:50])
            fgsm_loss = F.cross_entropy(model(pt_adv.fgsm(model, X[:50], y[:50], 0.1)), y[:50])
        assert pgd_loss >= fgsm_loss


@pytest.mark.parametrize("device", DEVICES)
def test_random_start_follows_the_generator(mnist, mlp_model, device):
    model = _on(mlp_model, device)
    x, y = (t[:20].to(device) for t in mnist[1])

    def run(seed, steps=3):
        return pt_adv.pgd(model, x, y, 0.1, PGDConfig(alpha=0.02, steps=steps),
                          generator=torch.Generator().manual_seed(seed))

    torch.testing.assert_close(run(0), run(0), rtol=0, atol=0)
    assert not torch.equal(run(0), run(1))
    start = run(0, steps=0)  # the random start alone: in the ball, not x
    assert 0 < (start - x).abs().max().item() <= 0.1 + 1e-6 and start.min() >= 0 and start.max() <= 1
    cpu_start = pt_adv.pgd(mlp_model, x.cpu(), y.cpu(), 0.1, PGDConfig(alpha=0.02, steps=0),
                           generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(start.cpu(), cpu_start, rtol=0, atol=0)  # the same draws on every device


@pytest.mark.parametrize("device", DEVICES)
def test_accuracy_under_attack_at_eps_zero_is_the_clean_accuracy(mnist, mlp_model, device):
    model = _on(mlp_model, device).train()
    X, y = mnist[1]  # on the CPU: batches move to the model's device
    accs = pt_adv.accuracy_under_attack(model, X, y, [0.0, 0.1, 0.3], batch_size=64)
    assert model.training, "the mode is restored"
    assert len(accs) == 3 and accs[0] == evaluate(model, (X, y))[1]
    assert accs[2] <= accs[1] < accs[0]
    mine = pt_adv.accuracy_under_attack(model, X, y, [0.1], attack=lambda m, x, t, eps: pt_adv.fgsm(m, x, t, eps))
    assert mine == [accs[1]]
    with pytest.raises(ValueError, match="unknown attack 'cw'"):
        pt_adv.accuracy_under_attack(model, X, y, [0.1], attack="cw")


def test_adversarial_batch_replaces_the_first_fraction(mnist, mlp_model):
    x, y = mnist[0][0][:30], mnist[0][1][:30]
    x_mixed, y_mixed = pt_adv.adversarial_batch(mlp_model, x, y, 0.1, fraction=0.4)
    assert x_mixed.shape == x.shape and torch.equal(y_mixed, y) and y_mixed is not y
    torch.testing.assert_close(x_mixed[:12], pt_adv.fgsm(mlp_model, x[:12], y[:12], 0.1), rtol=0, atol=0)
    assert torch.equal(x_mixed[12:], x[12:]) and not torch.equal(x_mixed[:12], x[:12])
    assert torch.equal(pt_adv.adversarial_batch(mlp_model, x, y, 0.1, fraction=0.0)[0], x)
    x_all, _ = pt_adv.adversarial_batch(mlp_model, x, y, 0.1, fraction=1.0, attack="pgd",
                                        config=PGDConfig(alpha=0.02, steps=3),
                                        generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(x_all, pt_adv.pgd(mlp_model, x, y, 0.1, PGDConfig(alpha=0.02, steps=3),
                                                 generator=torch.Generator().manual_seed(0)), rtol=0, atol=0)
    with pytest.raises(ValueError, match="fraction must be in"):
        pt_adv.adversarial_batch(mlp_model, x, y, 0.1, fraction=1.5)


def test_attacks_name_bad_arguments(mnist, mlp_model):
    x, y = mnist[1][0][:4], mnist[1][1][:4]
    with pytest.raises(ValueError, match=r"y must be \(N,\) = \(4,\)"):
        pt_adv.fgsm(mlp_model, x, y[:3], 0.1)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        pt_adv.fgsm(mlp_model, x, y, -0.1)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        pt_adv.pgd(mlp_model, x, y, 0.1, PGDConfig(alpha=0.01, steps=-1))
    with pytest.raises(TypeError, match="config must be a PGDConfig"):
        pt_adv.pgd(mlp_model, x, y, 0.1, {"alpha": 0.01, "steps": 1})
    with pytest.raises(ValueError, match="floating-point"):
        pt_adv.fgsm(mlp_model, (x * 255).to(torch.uint8), y, 0.1)


# ---------------------------------------------------------------- widget


def test_adversarial_figure_and_explorer(mnist, mlp_model, monkeypatch, capsys):
    import matplotlib.pyplot as plt

    from dlcourse import widgets

    image, label = mnist[1][0][0], int(mnist[1][1][0])
    mlp_model.train()
    names = [f"digit {d}" for d in range(10)]
    fig = widgets.adversarial_figure(mlp_model, image.numpy(), label, 0.1, class_names=names)
    assert mlp_model.training, "the mode is restored"
    mlp_model.eval()
    assert len(fig.axes) == 3
    x_adv = pt_adv.fgsm(mlp_model, image[None], torch.tensor([label]), 0.1)
    with torch.no_grad():
        probs = torch.softmax(mlp_model(torch.cat([image[None], x_adv])), dim=1)
    titles = [ax.get_title() for ax in fig.axes]
    for title, p in ((titles[0], probs[0]), (titles[2], probs[1])):
        assert f"predicted digit {p.argmax().item()} ({p.max().item():.1%})" in title
    assert f"label digit {label}" in titles[0] and "eps = 0.1" in titles[1]
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), (x_adv - image[None])[0, 0].numpy(), atol=1e-6)
    assert len(widgets.adversarial_figure(mlp_model, image[0], label, 0.0).axes) == 3  # (H, W) works too
    with pytest.raises(ValueError, match="image must be"):
        widgets.adversarial_figure(mlp_model, image[None], label, 0.1)
    for name in widgets.HEADLESS_ENV:
        monkeypatch.delenv(name, raising=False)
    explorer = widgets.adversarial_explorer(mlp_model, image, label, max_eps=0.25)
    slider = explorer.widget.children[0]
    assert slider.description == "eps" and slider.min == 0 and slider.max == 0.25
    monkeypatch.setenv("PYTEST_VERSION", "8")
    assert widgets.adversarial_explorer(mlp_model, image, label) is None
    assert "static figure here" in capsys.readouterr().out
    plt.close("all")


# ---------------------------------------------------------------- the rules an attack takes (a notebook passes its own)


def _recording(rule, calls):
    """``rule``, logging each call's positional arguments' shapes and keywords in ``calls``."""
    def recorded(*args, **kwargs):
        calls.append((rule.__name__, [tuple(a.shape) for a in args if isinstance(a, torch.Tensor)], kwargs))
        return rule(*args, **kwargs)
    recorded.__name__ = rule.__name__
    return recorded


def test_attacks_take_each_step_with_the_rules_they_are_given(mnist, mlp_model):
    x, y = mnist[1][0][:20], mnist[1][1][:20]
    calls = []
    adv = pt_adv.fgsm(mlp_model, x, y, 0.1, clip=(0.0, 0.9), step=_recording(pt_adv.fgsm_step, calls))
    assert calls == [("fgsm_step", [(20, 1, 28, 28)] * 2, {"clip": (0.0, 0.9)})]
    torch.testing.assert_close(adv, pt_adv.fgsm(mlp_model, x, y, 0.1, clip=(0.0, 0.9)), rtol=0, atol=0)
    calls.clear()
    config = PGDConfig(alpha=0.02, steps=3)
    adv = pt_adv.pgd(mlp_model, x, y, 0.1, config, generator=torch.Generator().manual_seed(0),
                     step=_recording(pt_adv.pgd_step, calls), project=_recording(pt_adv.project_linf, calls))
    assert [name for name, _, _ in calls] == ["project_linf"] + ["pgd_step"] * 3
    torch.testing.assert_close(adv, pt_adv.pgd(mlp_model, x, y, 0.1, config,
                                               generator=torch.Generator().manual_seed(0)), rtol=0, atol=0)
    # a rule that is not the library's is the one that acts: here, no step at all
    unmoved = pt_adv.fgsm(mlp_model, x, y, 0.1, step=lambda x, grad, eps, *, clip: x.clone())
    torch.testing.assert_close(unmoved, x, rtol=0, atol=0)
    calls.clear()
    pt_adv.accuracy_under_attack(mlp_model, x, y, [0.0, 0.1], attack="fgsm", step=_recording(pt_adv.fgsm_step, calls))
    assert len(calls) == 1, "eps = 0 runs no attack; eps = 0.1 one fgsm step through the given rule"
    calls.clear()
    x_mixed, _ = pt_adv.adversarial_batch(mlp_model, x, y, 0.1, fraction=0.5, step=_recording(pt_adv.fgsm_step, calls))
    assert calls == [("fgsm_step", [(10, 1, 28, 28)] * 2, {"clip": (0.0, 1.0)})]


def test_a_rule_must_return_a_tensor_of_x_shape(mnist, mlp_model):
    x, y = mnist[1][0][:4], mnist[1][1][:4]
    with pytest.raises(ValueError, match=r"fgsm_step must return a tensor of x's shape \(4, 1, 28, 28\), got ndarray"):
        pt_adv.fgsm(mlp_model, x, y, 0.1, step=np_adv.fgsm_step)
    with pytest.raises(ValueError, match=r"must return a tensor of x's shape \(4, 1, 28, 28\), got \(4, 784\)"):
        pt_adv.fgsm(mlp_model, x, y, 0.1, step=lambda x, grad, eps, *, clip: x.reshape(4, -1))


@pytest.mark.parametrize("device", DEVICES)
def test_on_tensors_runs_a_numpy_rule_on_tensors_like_the_torch_twin(mnist, mlp_model, device):
    model = _on(mlp_model, device)
    x, y = mnist[1][0][:30].to(device), mnist[1][1][:30].to(device)
    numpy_fgsm = pt_adv.on_tensors(np_adv.fgsm_step)
    assert numpy_fgsm.__name__ == "fgsm_step"
    adv = pt_adv.fgsm(model, x, y, 0.1, step=numpy_fgsm)
    assert adv.device == x.device and adv.dtype == x.dtype == torch.float32 and adv.shape == x.shape
    torch.testing.assert_close(adv, pt_adv.fgsm(model, x, y, 0.1), rtol=0, atol=1e-6)
    config = PGDConfig(alpha=0.03, steps=3)
    adv = pt_adv.pgd(model, x, y, 0.1, config, generator=torch.Generator().manual_seed(1),
                     step=pt_adv.on_tensors(np_adv.pgd_step), project=pt_adv.on_tensors(np_adv.project_linf))
    torch.testing.assert_close(adv, pt_adv.pgd(model, x, y, 0.1, config, generator=torch.Generator().manual_seed(1)),
                               rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="rule must be a function"):
        pt_adv.on_tensors("fgsm_step")
    with pytest.raises(ValueError, match="needs at least one tensor argument"):
        numpy_fgsm(np.zeros(2), np.ones(2), 0.1)


def test_adversarial_figure_attacks_with_the_step_it_is_given(mnist, mlp_model):
    import matplotlib.pyplot as plt

    from dlcourse import widgets

    image, label = mnist[1][0][0], int(mnist[1][1][0])
    calls = []
    fig = widgets.adversarial_figure(mlp_model, image, label, 0.1, step=_recording(pt_adv.fgsm_step, calls))
    assert len(calls) == 1
    unmoved = widgets.adversarial_figure(mlp_model, image, label, 0.1, step=lambda x, grad, eps, *, clip: x.clone())
    assert not unmoved.axes[1].images[0].get_array().any(), "no step taken: the perturbation panel is all 0"
    assert fig.axes[1].images[0].get_array().any()
    plt.close("all")
