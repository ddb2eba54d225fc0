"""Representations: dlcourse.np.pca (PCA against sklearn, principal angles on known cases),
its twin dlcourse.pt.pca (against NumPy on CPU and CUDA where present), and dlcourse.pt's
autoencoder (a linear autoencoder that finds PCA's subspace, tied weights, corruption for
denoising), domain_adaptation (gradient reversal), few_shot (episodes, the prototypical
loss) and distillation (the distillation loss against hand computations)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import DEVICES, assert_torch_twin
from sklearn.decomposition import PCA
from torch import nn

from dlcourse.np import pca as np_pca
from dlcourse.pt import autoencoder, distillation, domain_adaptation, few_shot
from dlcourse.pt import pca as pt_pca

ASSIGNMENT = "08-representations"
pytestmark = pytest.mark.usefixtures("one_torch_thread")



def _low_rank_data(rng, n=500, d=10, scales=(3.0, 2.0, 1.5), noise=0.05):
    """(n, d) points near a len(scales)-dimensional subspace through an offset mean, and the
    subspace's orthonormal basis as rows (len(scales), d)."""
    basis = np.linalg.qr(rng.normal(size=(d, len(scales))))[0].T
    X = (rng.normal(size=(n, len(scales))) * scales) @ basis + noise * rng.normal(size=(n, d))
    return X + rng.normal(size=d), basis


# ---------------------------------------------------------------- PCA


@pytest.mark.parametrize("k", [1, 3, 6])
def test_pca_matches_sklearn(k):
    rng = np.random.default_rng(80)
    X = rng.normal(size=(40, 6)) @ rng.normal(size=(6, 6)) + 3.0
    components, mean, variance = np_pca.pca(X, k)
    reference = PCA(n_components=k, svd_solver="full").fit(X)
    assert components.shape == (k, 6) and mean.shape == (6,) and variance.shape == (k,)
    # sklearn picks its own signs: align each of its rows with ours before comparing
    signs = np.sign(np.sum(components * reference.components_, axis=1))
    np.testing.assert_allclose(components, signs[:, None] * reference.components_, atol=1e-10)
    np.testing.assert_allclose(mean, reference.mean_, rtol=1e-12)
    np.testing.assert_allclose(variance, reference.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(components @ components.T, np.eye(k), atol=1e-12)
    assert np.all(np.diff(variance) <= 0)


def test_pca_signs_are_fixed_by_each_rows_largest_entry():
    rng = np.random.default_rng(81)
    components, _, _ = np_pca.pca(rng.normal(size=(30, 5)), 4)
    largest = components[np.arange(4), np.abs(components).argmax(axis=1)]
    assert np.all(largest > 0)
    again, _, _ = np_pca.pca(-rng.normal(size=(30, 5)), 4)  # any data: the rule holds
    assert np.all(again[np.arange(4), np.abs(again).argmax(axis=1)] > 0)


def test_pca_transform_and_reconstruct_round_trip_exactly_with_all_components():
    rng = np.random.default_rng(82)
    X = rng.normal(size=(25, 5)) * [5, 1, 2, 0.5, 3] + 7
    components, mean, _ = np_pca.pca(X, 5)
    Z = np_pca.pca_transform(X, components, mean)
    assert Z.shape == (25, 5)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(np_pca.pca_reconstruct(Z, components, mean), X, atol=1e-12)


def test_pca_reconstruction_with_fewer_components_is_the_projection():
    rng = np.random.default_rng(83)
    X, _ = _low_rank_data(rng, n=60, d=8)
    components, mean, variance = np_pca.pca(X, 3)
    Z = np_pca.pca_transform(X, components, mean)
    X_hat = np_pca.pca_reconstruct(Z, components, mean)
    # the coordinates' variances are the explained variances; the residual is orthogonal
    np.testing.assert_allclose(Z.var(axis=0, ddof=1), variance, rtol=1e-10)
    np.testing.assert_allclose((X - X_hat) @ components.T, 0, atol=1e-10)
    np.testing.assert_allclose(np_pca.pca_transform(X_hat, components, mean), Z, atol=1e-10)


def test_pca_subtracts_the_mean_itself():
    rng = np.random.default_rng(84)
    X = rng.normal(size=(30, 4)) @ rng.normal(size=(4, 4))
    X -= X.mean(axis=0)
    shift = np.array([10.0, -4.0, 2.5, 100.0])
    centred = np_pca.pca(X, 3)
    shifted = np_pca.pca(X + shift, 3)
    np.testing.assert_allclose(shifted[0], centred[0], atol=1e-10)
    np.testing.assert_allclose(shifted[1], shift, rtol=1e-12)
    np.testing.assert_allclose(shifted[2], centred[2], rtol=1e-10)


def test_pca_rejects_bad_input():
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"X must be \(N, D\).*\(5,\)"):
        np_pca.pca(np.zeros(5), 1)
    with pytest.raises(ValueError, match="min"):
        np_pca.pca(X, 4)
    with pytest.raises(ValueError, match="k must be"):
        np_pca.pca(X, 0)
    with pytest.raises(ValueError, match="k must be"):
        np_pca.pca(X, 1.5)
    with pytest.raises(ValueError, match="at least 2 samples"):
        np_pca.pca(np.ones((1, 3)), 1)
    components, mean, _ = np_pca.pca(np.arange(15.0).reshape(5, 3) ** 2, 2)
    with pytest.raises(ValueError, match=r"X must be \(N, 3\)"):
        np_pca.pca_transform(np.zeros((4, 2)), components, mean)
    with pytest.raises(ValueError, match=r"mean must be \(3,\)"):
        np_pca.pca_transform(X, components, mean[:2])
    with pytest.raises(ValueError, match=r"Z must be \(N, 2\)"):
        np_pca.pca_reconstruct(np.zeros((4, 3)), components, mean)


# ---------------------------------------------------------------- principal angles


def test_principal_angles_of_a_subspace_with_itself_are_zero():
    rng = np.random.default_rng(85)
    A = rng.normal(size=(3, 7))
    angles = np_pca.principal_angles(A, A)
    assert angles.shape == (3,)
    np.testing.assert_allclose(angles, 0, atol=1e-6)


def test_principal_angles_of_orthogonal_subspaces_are_right_angles():
    A = np.eye(5)[:2]
    B = np.eye(5)[2:] * [[1.0], [3.0], [-2.0]]
    angles = np_pca.principal_angles(A, B)
    assert angles.shape == (2,)
    np.testing.assert_allclose(angles, np.pi / 2, atol=1e-12)


def test_principal_angles_known_example():
    # two lines in the plane at 45 degrees
    np.testing.assert_allclose(np_pca.principal_angles([[1.0, 0.0]], [[2.0, 2.0]]), [np.pi / 4])
    # planes in R^3 sharing the x axis, the second tilted by 45 degrees about it: angles 0 and 45
    A = np.array([[1.0, 0, 0], [0, 1, 0]])
    B = np.array([[3.0, 0, 0], [0, 1, 1]])
    np.testing.assert_allclose(np_pca.principal_angles(A, B), [0, np.pi / 4], atol=1e-7)
    # ascending, whatever the order of the rows
    np.testing.assert_allclose(np_pca.principal_angles(A, B[::-1]), [0, np.pi / 4], atol=1e-7)


def test_principal_angles_do_not_depend_on_the_basis():
    rng = np.random.default_rng(86)
    A, B = rng.normal(size=(3, 8)), rng.normal(size=(4, 8))
    mix = rng.normal(size=(4, 4)) + 4 * np.eye(4)          # invertible
    angles = np_pca.principal_angles(A, B)
    assert angles.shape == (3,) and np.all(np.diff(angles) >= 0)
    assert np.all((angles > 0) & (angles <= np.pi / 2))
    np.testing.assert_allclose(np_pca.principal_angles(A, mix @ B), angles, atol=1e-10)
    np.testing.assert_allclose(np_pca.principal_angles(B, A), angles, atol=1e-10)


def test_principal_angles_rejects_bad_input():
    with pytest.raises(ValueError, match=r"B must be \(m, 4\)"):
        np_pca.principal_angles(np.ones((2, 4)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="A must be"):
        np_pca.principal_angles(np.ones(4), np.ones((2, 4)))
    with pytest.raises(ValueError, match="linearly independent"):
        np_pca.principal_angles(np.array([[1.0, 2, 3], [2, 4, 6]]), np.eye(3)[:2])


# ---------------------------------------------------------------- the PCA twin


def test_pca_is_a_torch_twin():
    assert_torch_twin(np_pca, pt_pca, "pca")


@pytest.mark.parametrize("device", DEVICES)
def test_torch_pca_matches_numpy(device):
    rng = np.random.default_rng(87)
    X = rng.normal(size=(50, 7)) @ rng.normal(size=(7, 7)) - 2.0
    reference = np_pca.pca(X, 4)
    tensor = torch.tensor(X, device=device)
    ours = pt_pca.pca(tensor, 4)
    for value, expected, name in zip(ours, reference, ("components", "mean", "explained_variance")):
        assert value.device.type == device and value.dtype == torch.float64, name
        np.testing.assert_allclose(value.cpu().numpy(), expected, rtol=1e-9, atol=1e-10, err_msg=name)
    assert torch.equal(tensor, torch.tensor(X, device=device)), "X is not modified"
    assert pt_pca.pca(tensor.float(), 2)[0].dtype == torch.float32


def test_torch_pca_rejects_bad_input():
    with pytest.raises(ValueError, match=r"X must be a tensor \(N, D\)"):
        pt_pca.pca(torch.zeros(5), 1)
    with pytest.raises(ValueError, match="k must be"):
        pt_pca.pca(torch.zeros(5, 3), 4)


# ---------------------------------------------------------------- autoencoders


@pytest.mark.parametrize("tied", [False, True])
def test_linear_autoencoder_finds_the_pca_subspace(tied):
    rng = np.random.default_rng(88)
    X, basis = _low_rank_data(rng)
    components, mean, _ = np_pca.pca(X, 3)
    torch.manual_seed(0)
    model = autoencoder.Autoencoder(10, [], 3, activation=None, tied=tied)
    X_t = torch.tensor(X, dtype=torch.float32)
    losses = autoencoder.train_autoencoder(model, X_t, epochs=400, lr=3e-2, batch_size=len(X),
                                           generator=torch.Generator().manual_seed(0))["loss"]
    assert losses[-1] < 0.01 * losses[0]
    # the decoder maps the code into the span of its columns: PCA's subspace, in another basis
    decoder = (model.encoder[0].weight if tied else model.decoder[0].weight.T).detach().double().numpy()  # (3, 10)
    angles = np.degrees(np_pca.principal_angles(decoder, components))
    assert angles.max() < 5, angles
    assert np.degrees(np_pca.principal_angles(components, basis)).max() < 5  # the data's own
    # and it reconstructs about as well as PCA, the best any rank-3 linear map can do
    projection = np_pca.pca_reconstruct(np_pca.pca_transform(X, components, mean),
                                                     components, mean)
    with torch.no_grad():
        error = F.mse_loss(model(X_t), X_t).item()
    assert error < 1.5 * np.mean((X - projection) ** 2)
    # an untrained model's subspace is nowhere near
    fresh = autoencoder.Autoencoder(10, [], 3, activation=None, tied=tied)
    w = (fresh.encoder[0].weight if tied else fresh.decoder[0].weight.T).detach().double().numpy()
    assert np.degrees(np_pca.principal_angles(w, components)).max() > 20


def _count(model):
    return sum(p.numel() for p in model.parameters())


def test_tied_autoencoder_has_only_the_decoders_biases_of_its_own():
    untied = autoencoder.Autoencoder(784, [64, 32], 8)
    tied = autoencoder.Autoencoder(784, [64, 32], 8, tied=True)
    encoder = (784 * 64 + 64) + (64 * 32 + 32) + (32 * 8 + 8)
    assert _count(untied) == encoder + (8 * 32 + 32) + (32 * 64 + 64) + (64 * 784 + 784)
    assert _count(tied) == encoder + 32 + 64 + 784
    linear = autoencoder.Autoencoder(10, [], 3, activation=None, tied=True)
    assert _count(linear) == 10 * 3 + 3 + 10
    # the decoder really uses the encoder's weights: a change in them changes the output
    x = torch.randn(4, 10)
    before = linear(x)
    with torch.no_grad():
        linear.encoder[0].weight.mul_(2)
    assert not torch.allclose(linear(x), before)


def test_tied_decoder_is_the_transpose_of_the_encoder():
    torch.manual_seed(1)
    model = autoencoder.Autoencoder(6, [5], 3, activation=nn.Tanh, tied=True)
    with torch.no_grad():
        for bias in model.decoder_biases:
            bias.normal_()
    z = torch.randn(4, 3)
    (w1, b1), (w2, b2) = [(m.weight, m.bias) for m in model.encoder if isinstance(m, nn.Linear)]
    c1, c2 = model.decoder_biases
    expected = torch.tanh(z @ w2 + c1) @ w1 + c2
    torch.testing.assert_close(model.decode(z), expected)
    torch.testing.assert_close(model.encode(torch.ones(2, 6)), torch.tanh(torch.ones(2, 6) @ w1.T + b1) @ w2.T + b2)


@pytest.mark.parametrize("tied", [False, True])
def test_autoencoder_shapes_flatten_images(tied):
    torch.manual_seed(2)
    model = autoencoder.Autoencoder(784, [32], 8, tied=tied, output_activation=nn.Sigmoid)
    images = torch.randn(5, 1, 28, 28) * 10
    z = model.encode(images)
    assert z.shape == (5, 8)
    assert model.decode(z).shape == (5, 784)
    out = model(images)
    assert out.shape == (5, 784)
    assert torch.all((out > 0) & (out < 1))
    assert model(images.reshape(5, 28, 28)).shape == (5, 784)
    torch.testing.assert_close(model(images.reshape(5, 784)), out)
    # the code layer has no activation (ReLU would make it non-negative)
    assert (z < 0).any()
    with pytest.raises(ValueError, match=r"\(N, 784\)"):
        model(torch.randn(5, 1, 27, 27))
    with pytest.raises(ValueError, match=r"z must be \(N, 8\)"):
        model.decode(torch.randn(5, 7))


def test_autoencoder_layers():
    model = autoencoder.Autoencoder(20, [16, 12], 4, activation=nn.Tanh)
    kinds = [type(m) for m in model.encoder]
    assert kinds == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert [m.out_features for m in model.encoder if isinstance(m, nn.Linear)] == [16, 12, 4]
    assert [type(m) for m in model.decoder] == kinds
    assert [m.out_features for m in model.decoder if isinstance(m, nn.Linear)] == [12, 16, 20]
    assert model.output_activation is None
    with pytest.raises(ValueError, match="linear autoencoder"):
        autoencoder.Autoencoder(20, [16], 4, activation=None)
    with pytest.raises(ValueError, match="positive ints"):
        autoencoder.Autoencoder(20, [0], 4)


# ---------------------------------------------------------------- corruption


@pytest.mark.parametrize("device", DEVICES)
def test_corrupt_mask_zeroes_about_level_of_the_entries(device):
    x = torch.rand(200, 100, device=device) + 0.5            # no zeros of its own
    copy = x.clone()
    out = autoencoder.corrupt(x, kind="mask", level=0.3, generator=torch.Generator().manual_seed(3))
    assert out.shape == x.shape and out.device == x.device and out.dtype == x.dtype
    assert torch.equal(x, copy), "x is not modified"
    zeroed = (out == 0).float().mean().item()
    assert abs(zeroed - 0.3) < 0.01                           # 20 000 draws: sd 0.003
    kept = out != 0
    assert torch.equal(out[kept], x[kept]), "the kept entries are unchanged, not rescaled"
    again = autoencoder.corrupt(x, kind="mask", level=0.3, generator=torch.Generator().manual_seed(3))
    assert torch.equal(out, again)
    assert torch.equal(autoencoder.corrupt(x, level=0.0), x)
    assert torch.all(autoencoder.corrupt(x, level=1.0) == 0)


@pytest.mark.parametrize("device", DEVICES)
def test_corrupt_gaussian_adds_noise_of_std_level(device):
    x = torch.linspace(-1, 1, 40_000, device=device).reshape(200, 200)
    copy = x.clone()
    out = autoencoder.corrupt(x, kind="gaussian", level=0.5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(x, copy)
    noise = out - x
    assert abs(noise.std().item() - 0.5) < 0.01
    assert abs(noise.mean().item()) < 0.01


def test_corrupt_rejects_unknown_kinds_and_levels():
    with pytest.raises(ValueError, match="mask.*gaussian"):
        autoencoder.corrupt(torch.ones(3), kind="salt")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        autoencoder.corrupt(torch.ones(3), kind="mask", level=1.5)
    with pytest.raises(ValueError, match=">= 0"):
        autoencoder.corrupt(torch.ones(3), kind="gaussian", level=-0.1)


# ---------------------------------------------------------------- training


def _blobs(n=256, d=20, seed=5):
    g = torch.Generator().manual_seed(seed)
    centres = torch.rand(4, d, generator=g)
    return (centres[torch.randint(4, (n,), generator=g)] + 0.05 * torch.randn(n, d, generator=g)).clamp(0, 1)


@pytest.mark.parametrize("device", DEVICES)
def test_train_autoencoder_lowers_the_loss(device):
    X = _blobs()
    torch.manual_seed(6)
    model = autoencoder.Autoencoder(20, [16], 4, output_activation=nn.Sigmoid).to(device)
    history = autoencoder.train_autoencoder(model, X, epochs=15, lr=1e-2, batch_size=32,
                                            generator=torch.Generator().manual_seed(0))
    losses = history["loss"]
    assert history["val_error"] == []
    assert len(losses) == 15 and all(isinstance(v, float) for v in losses)
    assert losses[-1] < 0.5 * losses[0]
    with torch.no_grad():
        assert F.mse_loss(model(X.to(device)), X.to(device)).item() < losses[0]


def test_train_autoencoder_is_reproducible_and_denoises():
    X = _blobs()

    def run(noise):
        torch.manual_seed(7)
        model = autoencoder.Autoencoder(20, [16], 4, output_activation=nn.Sigmoid)
        history = autoencoder.train_autoencoder(model, X, epochs=15, lr=1e-2, batch_size=64, noise=noise,
                                                generator=torch.Generator().manual_seed(1))
        return model, history["loss"]

    noise = {"kind": "mask", "level": 0.3}
    model, losses = run(noise)
    assert losses == run(noise)[1]
    assert losses[-1] < 0.5 * losses[0]
    # it reconstructs clean points from corrupted ones better than the corrupted points are
    noisy = autoencoder.corrupt(X, **noise, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert F.mse_loss(model(noisy), X) < 0.5 * F.mse_loss(noisy, X)
    assert run({"kind": "gaussian", "level": 0.1})[1][-1] < losses[0]


def test_train_autoencoder_history_with_lr_zero_and_modes():
    # lr = 0: the weights stay put, so each epoch's loss is the untouched model's error on all of X (the last
    # batch is smaller and weighs by its size), and val_error its error on X_val, measured in evaluation mode
    torch.manual_seed(3)
    modes = []
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    model.register_forward_pre_hook(lambda module, args: modes.append((module.training, bool((args[0] < 0).any()))))
    X = torch.rand(10, 3, generator=torch.Generator().manual_seed(4))
    X_val = -torch.rand(4, 3, generator=torch.Generator().manual_seed(5))
    history = autoencoder.train_autoencoder(model, X, epochs=3, lr=0.0, batch_size=4, X_val=X_val,
                                            generator=torch.Generator().manual_seed(6), progress=False)
    model.eval()
    with torch.no_grad():
        want_val = F.mse_loss(model(X_val), X_val).item()
    assert history["val_error"] == pytest.approx([want_val] * 3, rel=1e-6)
    assert len(history["loss"]) == 3
    assert [training for training, val in modes[:-1] if not val] == [True] * 9   # training batches in train mode
    assert [training for training, val in modes[:-1] if val] == [False] * 3      # validation in eval mode
    # without dropout the epoch loss is exactly the error on all of X
    torch.manual_seed(3)
    linear = nn.Linear(3, 3)
    history = autoencoder.train_autoencoder(linear, X, epochs=2, lr=0.0, batch_size=4, progress=False,
                                            generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        assert history["loss"] == pytest.approx([F.mse_loss(linear(X), X).item()] * 2, rel=1e-6)


def test_train_autoencoder_denoiser_learns_the_mean_from_nothing():
    # every entry masked: the input says nothing, so the model trained against the CLEAN batch outputs the mean
    torch.manual_seed(4)
    mean = torch.tensor([1.0, 2.0, -1.0, 0.5])
    X = mean + 0.1 * torch.randn(64, 4)
    model = nn.Linear(4, 4)
    history = autoencoder.train_autoencoder(model, X, epochs=40, lr=0.05, batch_size=16, X_val=X[:16],
                                            noise={"kind": "mask", "level": 1.0}, progress=False,
                                            generator=torch.Generator().manual_seed(5))
    assert torch.allclose(model.bias.detach(), mean, atol=0.1)
    assert history["val_error"][-1] < 0.05


def test_train_autoencoder_rejects_bad_arguments():
    model = autoencoder.Autoencoder(20, [], 4)
    X = _blobs(n=8)
    with pytest.raises(ValueError, match="epochs"):
        autoencoder.train_autoencoder(model, X, epochs=0)
    with pytest.raises(ValueError, match="kind"):
        autoencoder.train_autoencoder(model, X, epochs=1, noise={"kind": "salt"})
    with pytest.raises(ValueError, match="generator"):
        autoencoder.train_autoencoder(model, X, epochs=1, noise={"generator": None})
    with pytest.raises(ValueError, match="X_val"):
        autoencoder.train_autoencoder(model, X, epochs=1, X_val=torch.zeros(3, 5))


# ---------------------------------------------------------------- gradient reversal


@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_gradient_reversal_is_the_identity_forward_and_negates_backward(scale):
    x = torch.randn(4, 5, requires_grad=True)
    upstream = torch.randn(4, 5)
    for reverse in (lambda t: domain_adaptation.grad_reverse(t, scale), domain_adaptation.GradientReversal(scale)):
        x.grad = None
        y = reverse(x)
        assert torch.equal(y, x) and y is not x
        y.backward(upstream)
        assert torch.equal(x.grad, -scale * upstream)


def test_gradient_reversal_negates_the_gradients_of_the_layers_before_it():
    torch.manual_seed(8)
    features, head = nn.Linear(6, 4), nn.Linear(4, 2)
    x, y = torch.randn(10, 6), torch.randint(2, (10,))

    def gradients(*middle):
        features.zero_grad()
        head.zero_grad()
        F.cross_entropy(nn.Sequential(features, *middle, head)(x), y).backward()
        return features.weight.grad.clone(), head.weight.grad.clone()

    plain_features, plain_head = gradients()
    reversed_features, reversed_head = gradients(domain_adaptation.GradientReversal(0.5))
    torch.testing.assert_close(reversed_features, -0.5 * plain_features)
    torch.testing.assert_close(reversed_head, plain_head)            # the layers after it are untouched
    layer = domain_adaptation.GradientReversal()
    assert layer.scale == 1.0 and "scale=1.0" in repr(layer)
    layer.scale = 0.2
    assert not list(layer.parameters())


def test_gradient_reversal_runs_the_function_it_is_given():
    """The notebook passes the student's GradientReversalFunction (Exercise 5): grad_reverse and
    the layer apply that class, not the library's."""
    calls = []

    class Halving(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            calls.append(scale)
            return x.view_as(x)

        @staticmethod
        def backward(ctx, grad_output):
            return 0.5 * grad_output, None

    for reverse in (lambda t: domain_adaptation.grad_reverse(t, 0.3, function=Halving),
                    domain_adaptation.GradientReversal(0.3, function=Halving)):
        x = torch.ones(3, 2, requires_grad=True)  # the gradient does not depend on the values
        reverse(x).sum().backward()
        assert torch.equal(x.grad, torch.full((3, 2), 0.5))
    assert calls == [0.3, 0.3]
    with pytest.raises(ValueError, match="torch.autograd.Function subclass"):
        domain_adaptation.grad_reverse(torch.ones(2), function=lambda x, scale: -x)
    with pytest.raises(ValueError, match="torch.autograd.Function subclass"):
        domain_adaptation.GradientReversal(function=Halving.apply)


# ---------------------------------------------------------------- few-shot episodes


def _labels():
    return torch.arange(10).repeat_interleave(8)[torch.randperm(80, generator=torch.Generator().manual_seed(9))]


@pytest.mark.parametrize("device", DEVICES)
def test_episode_samples_distinct_classes_and_disjoint_examples(device):
    labels = _labels().to(device)
    support, query, classes = few_shot.episode(labels, 5, 2, 3, generator=torch.Generator().manual_seed(0))
    assert support.shape == (5, 2) and query.shape == (5, 3) and classes.shape == (5,)
    assert support.device == labels.device and classes.device == labels.device
    assert len(set(classes.tolist())) == 5
    everything = torch.cat([support.flatten(), query.flatten()]).tolist()
    assert len(set(everything)) == len(everything) == 25
    assert torch.equal(labels[support], classes[:, None].expand(5, 2))
    assert torch.equal(labels[query], classes[:, None].expand(5, 3))


def test_episode_is_reproducible_and_varies_with_the_seed():
    labels = _labels()
    draws = [few_shot.episode(labels, 4, 1, 2, generator=torch.Generator().manual_seed(s)) for s in (0, 0, 1)]
    for a, b in zip(draws[0], draws[1]):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(draws[0], draws[2]))
    # over many episodes every class and every example turns up
    g = torch.Generator().manual_seed(2)
    seen_classes, seen = set(), set()
    for _ in range(60):
        support, query, classes = few_shot.episode(labels, 3, 2, 2, generator=g)
        seen_classes.update(classes.tolist())
        seen.update(support.flatten().tolist() + query.flatten().tolist())
    assert seen_classes == set(range(10)) and len(seen) > 70


def test_episode_restricts_itself_to_the_classes_given():
    labels = _labels()
    g = torch.Generator().manual_seed(3)
    for _ in range(10):
        support, query, classes = few_shot.episode(labels, 3, 1, 1, generator=g, classes=[7, 2, 4, 9])
        assert set(classes.tolist()) <= {7, 2, 4, 9}
        assert set(labels[support].flatten().tolist()) <= {7, 2, 4, 9}
    # all of them: a permutation of the classes given
    _, _, classes = few_shot.episode(labels, 4, 1, 1, generator=g, classes=torch.tensor([7, 2, 4, 9]))
    assert sorted(classes.tolist()) == [2, 4, 7, 9]


def test_episode_rejects_impossible_requests():
    labels = _labels()
    with pytest.raises(ValueError, match="n_way = 11.*10 classes"):
        few_shot.episode(labels, 11, 1, 1)
    with pytest.raises(ValueError, match="n_way = 3.*2 classes"):
        few_shot.episode(labels, 3, 1, 1, classes=[0, 1])
    with pytest.raises(ValueError, match="needs k_shot \\+ n_query = 9.*class 0 has 8"):
        few_shot.episode(labels, 2, 4, 5)
    short = torch.cat([labels, torch.tensor([10, 10])])
    with pytest.raises(ValueError, match="class 10 has 2"):
        few_shot.episode(short, 2, 2, 1)
    few_shot.episode(short, 2, 2, 1, classes=list(range(10)))   # leaving it out works
    with pytest.raises(ValueError, match="1-D integer"):
        few_shot.episode(labels.float(), 2, 1, 1)
    with pytest.raises(ValueError, match="k_shot"):
        few_shot.episode(labels, 2, 0, 1)


# ---------------------------------------------------------------- prototypical loss


def _prototypical_by_hand(support, query, prototype_axis=1):
    """Explicit loops: prototypes, squared distances, log-softmax over the prototypes.
    prototype_axis=0 is the mistake of averaging over the classes (n_way) instead of the
    shots, which only runs when k_shot == n_way."""
    n_way, n_query, _ = query.shape
    prototypes = support.mean(axis=prototype_axis)
    total, correct = 0.0, 0
    for i in range(n_way):
        for q in range(n_query):
            logits = np.array([-np.sum((query[i, q] - prototypes[j]) ** 2) for j in range(n_way)])
            log_p = logits - (logits.max() + np.log(np.sum(np.exp(logits - logits.max()))))
            total -= log_p[i]
            correct += int(np.argmax(logits) == i)
    return total / (n_way * n_query), correct / (n_way * n_query)


@pytest.mark.parametrize("device", DEVICES)
def test_prototypical_loss_matches_a_hand_computation(device):
    rng = np.random.default_rng(90)
    support, query = rng.normal(size=(4, 3, 5)), rng.normal(size=(4, 6, 5))
    loss, accuracy = few_shot.prototypical_loss(torch.tensor(support, device=device),
                                                          torch.tensor(query, device=device))
    expected_loss, expected_accuracy = _prototypical_by_hand(support, query)
    assert loss.ndim == 0 and loss.device.type == device
    assert isinstance(accuracy, float)
    assert loss.item() == pytest.approx(expected_loss, rel=1e-12)
    assert accuracy == pytest.approx(expected_accuracy)
    # with k_shot == n_way a mean over the wrong axis (n_way) has the right shape, and another value
    support = rng.normal(size=(4, 4, 5))
    loss, accuracy = few_shot.prototypical_loss(torch.tensor(support, device=device),
                                                          torch.tensor(query, device=device))
    expected_loss, expected_accuracy = _prototypical_by_hand(support, query)
    assert loss.item() == pytest.approx(expected_loss, rel=1e-12)
    assert accuracy == pytest.approx(expected_accuracy)
    wrong_loss, _ = _prototypical_by_hand(support, query, prototype_axis=0)
    assert abs(wrong_loss - expected_loss) > 1e-2


def test_prototypical_loss_accuracy_on_constructed_cases():
    prototypes = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    offsets = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])                  # the support averages to the prototype
    support = prototypes[:, None, :] + offsets[None]                   # (3, 2, 2)
    query = prototypes[:, None, :].expand(3, 4, 2)                     # every query on its own prototype
    loss, accuracy = few_shot.prototypical_loss(support, query)
    assert accuracy == 1.0
    assert loss.item() < 1e-20                                         # log(1 + 2 e^-100) at most
    swapped = query[[1, 0, 2]]                                         # classes 0 and 1 exchange queries
    loss, accuracy = few_shot.prototypical_loss(support, swapped)
    assert accuracy == pytest.approx(1 / 3)
    assert loss.item() == pytest.approx(2 / 3 * 100, rel=1e-6)         # -log p = distance^2 = 100 for 8 of 12


def test_prototypical_loss_trains_an_embedding():
    support = torch.randn(3, 2, 4, generator=torch.Generator().manual_seed(10), requires_grad=True)
    query = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(11))
    loss, _ = few_shot.prototypical_loss(support, query)
    loss.backward()
    assert support.grad is not None and torch.isfinite(support.grad).all() and support.grad.abs().sum() > 0


def test_prototypical_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"support must be \(n_way, k_shot, E\)"):
        few_shot.prototypical_loss(torch.zeros(3, 2, 4), torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="same n_way"):
        few_shot.prototypical_loss(torch.zeros(3, 2, 4), torch.zeros(3, 5, 3))
    with pytest.raises(ValueError, match="support must be"):
        few_shot.prototypical_loss(torch.zeros(3, 4), torch.zeros(3, 5, 4))


# ---------------------------------------------------------------- distillation


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("device", DEVICES)
def test_distillation_loss_matches_a_hand_computation(device):
    rng = np.random.default_rng(91)
    student, teacher = rng.normal(size=(6, 5)) * 3, rng.normal(size=(6, 5)) * 3
    labels = rng.integers(5, size=6)
    T, alpha = 3.0, 0.7
    p_teacher, p_student = _softmax(teacher / T), _softmax(student / T)
    kl = np.sum(p_teacher * (np.log(p_teacher) - np.log(p_student))) / 6
    ce = -np.mean(np.log(_softmax(student)[np.arange(6), labels]))
    expected = alpha * T * T * kl + (1 - alpha) * ce
    loss = distillation.distillation_loss(torch.tensor(student, device=device),
                                                torch.tensor(teacher, device=device),
                                                torch.tensor(labels, device=device), temperature=T, alpha=alpha)
    assert loss.ndim == 0 and loss.device.type == device
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_distillation_with_t1_and_alpha0_is_cross_entropy_and_the_teacher_is_not_trained():
    g = torch.Generator().manual_seed(12)
    student, teacher = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g, requires_grad=True)
    labels = torch.randint(4, (8,), generator=g)
    loss = distillation.distillation_loss(student, teacher, labels, temperature=1.0, alpha=0.0)
    torch.testing.assert_close(loss, F.cross_entropy(student, labels))
    same = distillation.distillation_loss(student, student, labels, temperature=5.0, alpha=1.0)
    assert abs(same.item()) < 1e-6                                     # KL(p || p) = 0
    distillation.distillation_loss(student.requires_grad_(True), teacher, labels).backward()
    assert teacher.grad is None


def test_the_t_squared_factor_keeps_the_soft_gradient_steady_across_temperatures():
    g = torch.Generator().manual_seed(13)
    teacher, start = torch.randn(16, 10, generator=g), torch.randn(16, 10, generator=g)
    labels = torch.randint(10, (16,), generator=g)

    def gradient_norm(T, *, undo_t_squared=False):
        student = start.clone().requires_grad_(True)
        loss = distillation.distillation_loss(student, teacher, labels, temperature=T, alpha=1.0)
        (loss / T**2 if undo_t_squared else loss).backward()
        return student.grad.norm().item()

    ratio = gradient_norm(2.0) / gradient_norm(8.0)
    assert 0.5 < ratio < 2.0, ratio
    ratio_without = gradient_norm(2.0, undo_t_squared=True) / gradient_norm(8.0, undo_t_squared=True)
    assert ratio_without == pytest.approx(16 * ratio)
    assert ratio_without > 8


def test_distillation_loss_rejects_bad_arguments():
    s = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="both be \\(N, K\\)"):
        distillation.distillation_loss(s, torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"labels must be \(4,\)"):
        distillation.distillation_loss(s, s, torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="temperature"):
        distillation.distillation_loss(s, s, torch.zeros(4, dtype=torch.long), temperature=0)
    with pytest.raises(ValueError, match="alpha"):
        distillation.distillation_loss(s, s, torch.zeros(4, dtype=torch.long), alpha=1.5)


# ---------------------------------------------------------------- the denoising widget


def test_corrupted_reconstructions_and_denoising_figure(monkeypatch, capsys):
    import matplotlib.pyplot as plt

    from dlcourse import widgets

    images = torch.rand(3, 16, generator=torch.Generator().manual_seed(0))
    half = nn.Linear(16, 16, bias=False)
    with torch.no_grad():
        half.weight.copy_(0.5 * torch.eye(16))          # reconstructs x as x / 2
    rows, errors = widgets.corrupted_reconstructions({"half": half}, images, 0.0)
    assert list(rows) == ["clean", "corrupted", "half"] and list(errors) == ["corrupted", "half"]
    np.testing.assert_allclose(rows["corrupted"], images.numpy())          # level 0: nothing corrupted
    np.testing.assert_allclose(rows["half"], images.numpy() / 2, rtol=1e-6)
    assert errors["corrupted"] == 0.0
    assert errors["half"] == pytest.approx(float(torch.mean((images / 2) ** 2)), rel=1e-5)
    # every level shows the same draw: the pixels masked at level 0.3 are also masked at 0.6
    low, _ = widgets.corrupted_reconstructions({}, images, 0.3, seed=5)
    high, errors = widgets.corrupted_reconstructions({}, images, 0.6, seed=5)
    assert np.all(high["corrupted"][low["corrupted"] == 0] == 0)
    assert errors["corrupted"] == pytest.approx(float(np.mean((high["corrupted"] - images.numpy()) ** 2)))
    gaussian, _ = widgets.corrupted_reconstructions({}, images.reshape(3, 1, 4, 4), 0.5, kind="gaussian")
    assert gaussian["corrupted"].shape == (3, 16)
    with pytest.raises(ValueError, match="clean"):
        widgets.corrupted_reconstructions({"clean": half}, images, 0.5)

    fig = widgets.denoising_figure({"half": half}, images, 0.5, image_shape=(4, 4))
    assert len(fig.axes) == 9 and "half" in fig.axes[6].get_ylabel()
    plt.close("all")

    monkeypatch.setenv("DLCOURSE_HEADLESS", "1")
    monkeypatch.setattr(plt, "show", lambda: None)
    assert widgets.denoising_explorer({"half": half}, images, image_shape=(4, 4)) is None
    assert "static figure" in capsys.readouterr().out
    plt.close("all")

