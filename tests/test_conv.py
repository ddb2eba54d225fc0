"""Convolution and pooling: dlcourse.np.conv (loops and im2col) against torch.nn.functional
and autograd, numerical gradients and each other; its dlcourse.pt twins likewise (CPU, and
CUDA where present); the layer and VGG16 counts against torch.nn modules."""


import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import DEVICES, assert_torch_twin

from dlcourse import check
from dlcourse.np import conv as np_conv
from dlcourse.pt import conv as pt_conv

ASSIGNMENT = "05-convolution"
# (N, C, H, W, F, KH, KW, stride, pad): non-square inputs and kernels, strides 1 to 3,
# pads 0 to 2, and strides that drop the last rows or columns
CONV_CASES = [
    (2, 3, 7, 5, 4, 3, 2, 1, 0),
    (2, 3, 8, 9, 4, 3, 3, 2, 1),
    (3, 2, 6, 7, 3, 2, 3, 2, 2),
    (2, 2, 9, 6, 3, 4, 1, 3, 1),
    (1, 1, 4, 5, 2, 4, 5, 1, 0),  # the kernel covers the whole input: one output value
]
# (N, C, H, W, size, stride): overlapping (stride < size) and dropped windows
POOL_CASES = [(2, 3, 6, 8, 2, 2), (2, 2, 7, 5, 2, 2), (1, 3, 7, 6, 3, 2), (2, 2, 5, 6, 2, 1), (1, 2, 9, 7, 3, 3)]
CONV_PAIRS = {"naive": ("conv2d_forward_naive", "conv2d_backward_naive"),
              "im2col": ("conv2d_forward", "conv2d_backward")}
TENSOR_FUNCTIONS = ["conv2d_forward_naive", "conv2d_backward_naive", "im2col", "col2im", "conv2d_forward",
                    "conv2d_backward", "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward",
                    "avgpool2d_backward"]


def _conv_arrays(rng, case):
    n, c, h, w, f, kh, kw, stride, pad = case
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    return (rng.normal(size=(n, c, h, w)), rng.normal(size=(f, c, kh, kw)), rng.normal(size=f),
            rng.normal(size=(n, f, oh, ow)), {"stride": stride, "pad": pad})


def _conv_pair(module, impl):
    forward, backward = CONV_PAIRS[impl]
    return getattr(module, forward), getattr(module, backward)


def _torch_conv(x, w, b, dout, stride, pad):
    """out, dx, dw, db from F.conv2d and autograd, as NumPy arrays."""
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, stride=stride, padding=pad)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def _torch_pool(kind, x, dout, size, stride):
    """out, dx from F.max_pool2d or F.avg_pool2d and autograd, as NumPy arrays."""
    xt = torch.tensor(x, requires_grad=True)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    out = pool(xt, size, stride)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy()


# ---------------------------------------------------------------- against torch


@pytest.mark.parametrize("impl", CONV_PAIRS)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_matches_torch_conv2d_and_autograd(case, impl):
    x, w, b, dout, kwargs = _conv_arrays(np.random.default_rng(30), case)
    forward, backward = _conv_pair(np_conv, impl)
    out, cache = forward(x, w, b, **kwargs)
    ours = (out, *backward(dout, cache))
    reference = _torch_conv(x, w, b, dout, kwargs["stride"], kwargs["pad"])
    for name, value, expected in zip(("out", "dx", "dw", "db"), ours, reference):
        assert value.shape == expected.shape, name
        np.testing.assert_allclose(value, expected, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pooling_matches_torch_and_autograd(case, kind):
    n, c, h, w, size, stride = case
    rng = np.random.default_rng(31)
    x = rng.normal(size=(n, c, h, w))
    out, cache = getattr(np_conv, f"{kind}pool2d_forward")(x, size=size, stride=stride)
    dout = rng.normal(size=out.shape)
    dx = getattr(np_conv, f"{kind}pool2d_backward")(dout, cache)
    out_t, dx_t = _torch_pool(kind, x, dout, size, stride)
    np.testing.assert_allclose(out, out_t, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dx, dx_t, rtol=1e-12, atol=1e-15)


def test_maxpool_ties_and_overlapping_windows_match_autograd():
    rng = np.random.default_rng(32)
    x = rng.integers(0, 3, size=(2, 3, 6, 7)).astype(np.float64)  # many ties in every window
    x[0, 0] = 1.0                                                  # a constant channel: all ties
    for size, stride in ((2, 1), (3, 1), (3, 2), (2, 2)):
        for module, arr in ((np_conv, np.asarray), (pt_conv, torch.tensor)):
            out, cache = module.maxpool2d_forward(arr(x), size=size, stride=stride)
            dout = rng.normal(size=tuple(out.shape))
            dx = check.as_numpy(module.maxpool2d_backward(arr(dout), cache))
            out_t, dx_t = _torch_pool("max", x, dout, size, stride)
            np.testing.assert_array_equal(check.as_numpy(out), out_t)
            np.testing.assert_allclose(dx, dx_t, rtol=1e-12, atol=1e-15, err_msg=f"size {size}, stride {stride}")
    # all ties: the whole gradient goes to each window's first (top-left) element
    out, cache = np_conv.maxpool2d_forward(np.ones((1, 1, 4, 4)), size=2, stride=2)
    dx = np_conv.maxpool2d_backward(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    # overlapping windows (size 2, stride 1): the central maximum collects all four gradients
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0
    out, cache = np_conv.maxpool2d_forward(x, size=2, stride=1)
    np.testing.assert_array_equal(out[0, 0], [[5, 5], [5, 5]])
    dx = np_conv.maxpool2d_backward(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), cache)
    assert dx[0, 0, 1, 1] == 10.0 and dx.sum() == 10.0


# ---------------------------------------------------------------- numerical gradients


@pytest.mark.parametrize("impl", CONV_PAIRS)
def test_conv_backward_matches_numerical_gradients(impl):
    rng = np.random.default_rng(33)
    x, w, b, dout, kwargs = _conv_arrays(rng, (2, 2, 5, 4, 3, 3, 2, 2, 1))
    forward, backward = _conv_pair(np_conv, impl)
    _, cache = forward(x, w, b, **kwargs)
    grads = backward(dout, cache)
    for i, (value, grad) in enumerate(zip((x, w, b), grads)):
        assert grad.shape == value.shape

        def f(v, i=i):
            args = [x, w, b]
            args[i] = v
            return forward(*args, **kwargs)[0]
        numeric = check.numerical_gradient(f, value.copy(), df=dout)
        assert check.rel_error(grad, numeric) < 1e-7, ("dx", "dw", "db")[i]


@pytest.mark.parametrize("kind, size, stride", [("max", 2, 2), ("max", 2, 1), ("avg", 2, 2), ("avg", 3, 2)])
def test_pooling_backward_matches_numerical_gradient(kind, size, stride):
    rng = np.random.default_rng(34)
    # distinct values 0.1 apart: the finite differences (h = 1e-6) never change a window's maximum
    x = rng.permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) * 0.1
    forward, backward = getattr(np_conv, f"{kind}pool2d_forward"), getattr(np_conv, f"{kind}pool2d_backward")
    out, cache = forward(x, size=size, stride=stride)
    dout = rng.normal(size=out.shape)
    numeric = check.numerical_gradient(lambda v: forward(v, size=size, stride=stride)[0], x.copy(), df=dout)
    assert check.rel_error(backward(dout, cache), numeric) < 1e-7


# ---------------------------------------------------------------- im2col


@pytest.mark.parametrize("case", CONV_CASES)
def test_naive_and_im2col_agree_and_im2col_is_the_adjoint_of_col2im(case):
    rng = np.random.default_rng(35)
    x, w, b, dout, kwargs = _conv_arrays(rng, case)
    out_naive, cache_naive = np_conv.conv2d_forward_naive(x, w, b, **kwargs)
    out_fast, cache_fast = np_conv.conv2d_forward(x, w, b, **kwargs)
    np.testing.assert_allclose(out_fast, out_naive, rtol=1e-12, atol=1e-13)
    for fast, naive in zip(np_conv.conv2d_backward(dout, cache_fast), np_conv.conv2d_backward_naive(dout, cache_naive)):
        np.testing.assert_allclose(fast, naive, rtol=1e-12, atol=1e-13)
    kh, kw = w.shape[2:]
    cols = np_conv.im2col(x, kh, kw, **kwargs)
    n, c, oh, ow = x.shape[0], x.shape[1], *out_naive.shape[2:]
    assert cols.shape == (c * kh * kw, n * oh * ow)
    # column (n, i, j) is the window of output (n, i, j); its rows are in w.reshape(F, -1)'s order
    np.testing.assert_allclose((w.reshape(len(w), -1) @ cols).reshape(-1, n, oh, ow).transpose(1, 0, 2, 3),
                               out_naive - b[:, None, None], rtol=1e-12, atol=1e-13)
    y = rng.normal(size=cols.shape)
    back = np_conv.col2im(y, x.shape, kh, kw, **kwargs)
    assert back.shape == x.shape
    assert np.sum(cols * y) == pytest.approx(np.sum(x * back), rel=1e-12)  # <im2col(x), y> = <x, col2im(y)>


def test_col2im_adds_overlapping_windows():
    # a 3x3 image, 2x2 windows, stride 1: the centre lies in all four windows, corners in one
    ones = np.ones((4, 4))
    counts = np_conv.col2im(ones, (1, 1, 3, 3), 2, 2)
    np.testing.assert_array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    counts = pt_conv.col2im(torch.ones(4, 4, dtype=torch.float64), (1, 1, 3, 3), 2, 2)
    np.testing.assert_array_equal(counts[0, 0].numpy(), [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# ---------------------------------------------------------------- worked examples


def test_the_one_dimensional_stride_example():
    x = np.array([-1.0, 1, -1, 1, -1]).reshape(1, 1, 1, 5)
    w = np.array([10.0, -10]).reshape(1, 1, 1, 2)
    for forward in (np_conv.conv2d_forward_naive, np_conv.conv2d_forward):
        np.testing.assert_array_equal(forward(x, w, np.zeros(1))[0].ravel(), [-20, 20, -20, 20])
        np.testing.assert_array_equal(forward(x, w, np.zeros(1), stride=2)[0].ravel(), [-20, -20])
    assert np_conv.conv_output_size(5, 2, stride=2) == 2  # (5 - 2) // 2 + 1: the last -1 is dropped


def test_the_hand_example_is_a_cross_correlation_not_a_convolution():
    x = np.array([[5.0, 6, -3], [-7, 6, -6], [-2, 1, -1]])
    w = np.array([[-1.0, 1, 0], [-3, -3, -1], [7, 1, -6]])
    for forward in (np_conv.conv2d_forward_naive, np_conv.conv2d_forward):
        out, _ = forward(x[None, None], w[None, None], np.zeros(1))
        assert out.shape == (1, 1, 1, 1) and out.item() == 3.0
    assert F.conv2d(torch.tensor(x)[None, None], torch.tensor(w)[None, None]).item() == 3.0
    assert np.sum(x * w[::-1, ::-1]) == -36.0  # the true convolution flips the kernel: another number


# ---------------------------------------------------------------- counting


def test_conv_output_size_and_conv2d_cost():
    assert np_conv.conv_output_size(32, 3, pad=1) == 32
    assert np_conv.conv_output_size(7, 3, stride=2) == 3
    assert np_conv.conv_output_size(8, 3, stride=2) == 3  # floor: the last row is dropped
    assert np_conv.conv_output_size(3, 5, pad=1) == 1
    cost = np_conv.conv2d_cost(3, 32, 32, 6, 3, pad=1)
    assert cost == {"out_shape": (6, 32, 32), "weights": 162, "biases": 6, "multiply_adds": 165_888}
    layer = torch.nn.Conv2d(3, 6, 3, padding=1)
    assert layer.weight.numel() == cost["weights"] and layer.bias.numel() == cost["biases"]
    assert tuple(layer(torch.zeros(1, 3, 32, 32)).shape[1:]) == cost["out_shape"]
    cost = np_conv.conv2d_cost(4, 9, 8, 5, 3, 2, stride=2, pad=1)
    assert cost["out_shape"] == (5, 5, 5) and cost["weights"] == 5 * 4 * 3 * 2
    assert cost["multiply_adds"] == 5 * 5 * 5 * 4 * 3 * 2


def _torch_vgg16():
    """VGG16 (configuration D) from torch.nn modules, on the meta device (no memory)."""
    layers, c = [], 3
    for item in (64, 64, "P", 128, 128, "P", 256, 256, 256, "P", 512, 512, 512, "P", 512, 512, 512, "P"):
        if item == "P":
            layers.append(torch.nn.MaxPool2d(2, 2))
        else:
            layers += [torch.nn.Conv2d(c, item, 3, padding=1, device="meta"), torch.nn.ReLU()]
            c = item
    layers += [torch.nn.Flatten(), torch.nn.Linear(7 * 7 * 512, 4096, device="meta"), torch.nn.ReLU(),
               torch.nn.Linear(4096, 4096, device="meta"), torch.nn.ReLU(), torch.nn.Linear(4096, 1000, device="meta")]
    return torch.nn.Sequential(*layers)


def test_vgg16_counts_match_torch_nn_modules():
    model = _torch_vgg16()
    totals = np_conv.vgg16_totals()
    assert totals["params"] == 138_357_544 == sum(p.numel() for p in model.parameters())
    layers = np_conv.vgg16_layers()
    assert [layer["name"][:2] for layer in layers].count("co") == 13
    assert [layer["name"] for layer in layers if not layer["name"].startswith("conv")] == [
        "pool1", "pool2", "pool3", "pool4", "pool5", "fc6", "fc7", "fc8"]
    # the same shapes and parameters layer by layer, from a forward pass on the meta device
    ours = iter(layers)
    activation = torch.empty(1, 3, 224, 224, device="meta")
    for module in model:
        activation = module(activation)
        if isinstance(module, torch.nn.Conv2d | torch.nn.MaxPool2d | torch.nn.Linear):
            layer = next(ours)
            assert layer["out_shape"] == tuple(activation.shape[1:]), layer["name"]
            assert layer["activations"] == activation[0].numel(), layer["name"]
            assert layer["params"] == sum(p.numel() for p in module.parameters()), layer["name"]
    assert next(ours, None) is None
    assert totals["activations"] == 3 * 224 * 224 + sum(layer["activations"] for layer in layers) == 15_237_608
    assert totals["activation_megabytes"] == pytest.approx(58.13, abs=0.01)
    assert layers[0]["activations"] == 224 * 224 * 64 and layers[-4]["params"] == 0  # pool5: no weights


def test_vgg16_counts_use_the_conv_output_size_they_are_given():
    """05's notebook passes the student's conv_output_size (the library's is sealed while 05 is
    graded): the pools take their sizes from it, and an answer that is not a size is named."""
    calls = []

    def counted(h, k, stride=1, pad=0):
        calls.append((h, k, stride, pad))
        return (h + 2 * pad - k) // stride + 1

    assert np_conv.vgg16_layers(conv_output_size=counted) == np_conv.vgg16_layers()
    assert calls[:2] == [(224, 2, 2, 0), (224, 2, 2, 0)] and len(calls) == 10  # five pools, two axes each
    assert np_conv.vgg16_totals(conv_output_size=counted) == np_conv.vgg16_totals()
    off_by_one = np_conv.vgg16_layers(conv_output_size=lambda h, k, stride=1, pad=0: (h - k) // stride + 2)
    assert off_by_one[2]["out_shape"] == (64, 113, 113)  # pool1 follows the function, right or wrong
    with pytest.raises(ValueError, match=r"conv_output_size must return a positive int.*\(112\.0, 112\.0\) for pool1"):
        np_conv.vgg16_layers(conv_output_size=lambda h, k, stride=1, pad=0: (h - k) / stride + 1)


# ---------------------------------------------------------------- torch twins


@pytest.mark.parametrize("name", TENSOR_FUNCTIONS)
def test_every_tensor_function_has_a_torch_twin_with_the_same_parameters(name):
    assert_torch_twin(np_conv, pt_conv, name)
    for counting in ("conv_output_size", "conv2d_cost", "vgg16_layers", "vgg16_totals"):
        assert getattr(pt_conv, counting) is getattr(np_conv, counting)


@pytest.mark.parametrize("device", DEVICES)
def test_torch_twins_match_numpy_and_autograd(device):
    rng = np.random.default_rng(36)

    def t(a):
        return torch.tensor(a, device=device)

    for case in CONV_CASES[1:4]:
        x, w, b, dout, kwargs = _conv_arrays(rng, case)
        reference = _torch_conv(x, w, b, dout, kwargs["stride"], kwargs["pad"])
        for impl in CONV_PAIRS:
            forward, backward = _conv_pair(pt_conv, impl)
            out, cache = forward(t(x), t(w), t(b), **kwargs)
            ours = (out, *backward(t(dout), cache))
            for name, value, expected in zip(("out", "dx", "dw", "db"), ours, reference):
                assert value.device.type == device and value.dtype == torch.float64, name
                np.testing.assert_allclose(value.cpu().numpy(), expected, rtol=1e-10, atol=1e-12,
                                           err_msg=f"{impl} {name} {case}")
        kh, kw = w.shape[2:]
        cols = pt_conv.im2col(t(x), kh, kw, **kwargs)
        np.testing.assert_allclose(cols.cpu().numpy(), np_conv.im2col(x, kh, kw, **kwargs), rtol=0, atol=0)
        y = rng.normal(size=tuple(cols.shape))
        back = pt_conv.col2im(t(y), x.shape, kh, kw, **kwargs)
        assert back.device.type == device
        np.testing.assert_allclose(back.cpu().numpy(), np_conv.col2im(y, x.shape, kh, kw, **kwargs),
                                   rtol=1e-12, atol=1e-13)
    for n, c, h, w, size, stride in POOL_CASES:
        x = rng.normal(size=(n, c, h, w))
        for kind in ("max", "avg"):
            out, cache = getattr(pt_conv, f"{kind}pool2d_forward")(t(x), size=size, stride=stride)
            dout = rng.normal(size=tuple(out.shape))
            dx = getattr(pt_conv, f"{kind}pool2d_backward")(t(dout), cache)
            assert out.device.type == device and dx.device.type == device and dx.dtype == torch.float64
            out_t, dx_t = _torch_pool(kind, x, dout, size, stride)
            np.testing.assert_allclose(out.cpu().numpy(), out_t, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(dx.cpu().numpy(), dx_t, rtol=1e-12, atol=1e-15)
    # float32 stays float32
    out, cache = pt_conv.conv2d_forward(torch.ones(1, 2, 4, 4, device=device), torch.ones(3, 2, 3, 3, device=device),
                                        torch.zeros(3, device=device), pad=1)
    assert out.dtype == torch.float32 and out.device.type == device and out[0, 0, 1, 1].item() == 18.0
    dx, dw, db = pt_conv.conv2d_backward(torch.ones_like(out), cache)
    assert dx.dtype == dw.dtype == db.dtype == torch.float32 and dx.device.type == device


# ---------------------------------------------------------------- bad inputs


def test_bad_inputs_raise_errors_naming_the_problem():
    x, w, b = np.zeros((2, 3, 5, 4)), np.zeros((4, 3, 3, 3)), np.zeros(4)
    for module, arr in ((np_conv, np.asarray), (pt_conv, torch.tensor)):
        for forward in (module.conv2d_forward_naive, module.conv2d_forward):
            with pytest.raises(ValueError, match=r"x must be 4-D \(N, C, H, W\), got shape \(3, 5, 4\):"
                                                 r" add a batch axis with x\[None\]"):
                forward(arr(x[0]), arr(w), arr(b))
            with pytest.raises(ValueError, match=r"w must be \(F, 3, KH, KW\)"
                                                 r".*the filters have 2 channels but x has 3"):
                forward(arr(x), arr(w[:, :2]), arr(b))
            with pytest.raises(ValueError, match=r"w must be 4-D \(F, C, KH, KW\)"):
                forward(arr(x), arr(w[0]), arr(b))
            with pytest.raises(ValueError, match=r"b must be \(4,\) to match w"):
                forward(arr(x), arr(w), arr(np.zeros(3)))
            with pytest.raises(ValueError, match=r"kernel width KW = 6 is larger than the padded input width W"
                                                 r" \+ 2\*pad = 4 \+ 2\*0 = 4:"
                                                 r" OW = \(W \+ 2\*pad - KW\) // stride \+ 1"):
                forward(arr(x), arr(np.zeros((4, 3, 3, 6))), arr(b))
            with pytest.raises(ValueError, match="kernel height KH = 8 is larger than the padded input height"):
                forward(arr(x), arr(np.zeros((4, 3, 8, 1))), arr(b), pad=1)
            with pytest.raises(ValueError, match="stride must be at least 1, got 0"):
                forward(arr(x), arr(w), arr(b), stride=0)
            with pytest.raises(ValueError, match="pad must be at least 0, got -1"):
                forward(arr(x), arr(w), arr(b), pad=-1)
            with pytest.raises(TypeError, match="stride must be an int"):
                forward(arr(x), arr(w), arr(b), stride=1.5)
        for kind in ("max", "avg"):
            forward = getattr(module, f"{kind}pool2d_forward")
            with pytest.raises(ValueError, match=r"pooling window size = 5 is larger than the input width W = 4:"
                                                 r" OW = \(W - size\)"):
                forward(arr(x), size=5)
            with pytest.raises(ValueError, match=r"add a batch axis with x\[None\]"):
                forward(arr(x[0]))
            with pytest.raises(ValueError, match="stride must be at least 1, got 0"):
                forward(arr(x), stride=0)
        with pytest.raises(ValueError, match=r"cols must be \(C\*KH\*KW, N\*OH\*OW\) = \(27, 40\)"):
            module.col2im(arr(np.zeros((27, 39))), x.shape, 3, 3, pad=1)
    with pytest.raises(ValueError, match=r"k = 5 is larger than the padded h \+ 2\*pad = 3 \+ 2\*0 = 3"):
        np_conv.conv_output_size(3, 5)
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        np_conv.conv_output_size(3, 0)
    with pytest.raises(ValueError, match="h must be at least 1"):
        np_conv.conv_output_size(0, 1)
    with pytest.raises(ValueError, match="stride must be at least 1, got 0: a stride of 0 would never move the window"):
        np_conv.conv_output_size(5, 3, stride=0)
    with pytest.raises(ValueError, match="pad must be at least 0, got -1"):
        np_conv.conv_output_size(5, 3, pad=-1)
