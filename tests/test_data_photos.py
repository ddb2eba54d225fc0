"""dlcourse.data.load_photo: real photographs that ship inside installed packages."""

import numpy as np
import pytest

from dlcourse import data

ASSIGNMENT = "05-convolution"


def test_photos_ship_with_installed_packages():
    for name in data.PHOTOS:
        gray = data.load_photo(name)
        assert gray.ndim == 2 and gray.dtype == np.float64 and 0.0 <= gray.min() < gray.max() <= 1.0
    colour = data.load_photo("china", gray=False)
    assert colour.shape == (427, 640, 3)
    np.testing.assert_allclose(colour @ [0.299, 0.587, 0.114], data.load_photo("china"))
    with pytest.raises(ValueError, match="unknown photo 'lena'"):
        data.load_photo("lena")


def test_kernel_figure_shows_the_cross_correlation(monkeypatch, capsys):
    import matplotlib.pyplot as plt
    import torch

    from dlcourse import widgets

    image = data.load_photo("china")[:40, :50]
    kernel = np.array(widgets.KERNELS["Sobel x (vertical edges)"], dtype=float)
    fig = widgets.kernel_figure(image, kernel)
    shown = fig.axes[1].images[0].get_array()
    expected = torch.nn.functional.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None], padding=1)
    np.testing.assert_allclose(shown, expected[0, 0].numpy(), atol=1e-12)
    np.testing.assert_array_equal(widgets.parse_kernel("1 0 -1\n2 0 -2\n1 0 -1"), -kernel)
    with pytest.raises(ValueError, match="needs 9 numbers, got 4"):
        widgets.parse_kernel("[1, 2, 3, 4]")
    with pytest.raises(ValueError, match="grayscale"):
        widgets.kernel_figure(data.load_photo("china", gray=False), kernel)
    for name in widgets.HEADLESS_ENV:
        monkeypatch.delenv(name, raising=False)
    editor = widgets.kernel_editor(image)
    assert [c.description for c in editor.widget.children[:2]] == ["preset", "kernel"]
    monkeypatch.setenv("DLCOURSE_HEADLESS", "1")
    assert widgets.kernel_editor(image) is None and "static figure here" in capsys.readouterr().out
    plt.close("all")


def test_kernel_figure_cuts_windows_with_the_im2col_it_is_given():
    """05's notebook passes the student's im2col (the library's is sealed while 05 is graded);
    columns of the wrong shape are named."""
    import matplotlib.pyplot as plt

    from dlcourse import widgets
    from dlcourse.np import conv as np_conv

    image = data.load_photo("china")[:20, :30]
    kernel = np.array(widgets.KERNELS["Laplacian"], dtype=float)
    calls = []

    def counted(x, kh, kw, stride=1, pad=0):
        calls.append((x.shape, kh, kw, stride, pad))
        return np_conv.im2col(x, kh, kw, stride=stride, pad=pad)

    fig = widgets.kernel_figure(image, kernel, im2col=counted)
    assert calls == [((1, 1, 20, 30), 3, 3, 1, 1)]
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(),
                                  widgets.kernel_figure(image, kernel).axes[1].images[0].get_array())
    assert widgets.kernel_editor(image, im2col=counted) is None and len(calls) == 2  # headless: the first preset
    with pytest.raises(ValueError, match=r"im2col\(x, 3, 3, pad=1\) .* got shape \(600, 9\)"):
        widgets.kernel_figure(image, kernel, im2col=lambda x, kh, kw, stride=1, pad=0: counted(x, kh, kw, pad=pad).T)
    plt.close("all")


def test_blend_with_photos_cuts_digits_into_photo_patches():
    rng = np.random.default_rng(0)
    digits = np.zeros((5, 1, 28, 28), dtype=np.float32)
    digits[:, :, 10:18, 12:16] = 1.0   # a white bar on black
    blended = data.blend_with_photos(digits, rng=rng)
    assert blended.shape == digits.shape and blended.dtype == np.float32
    assert 0.0 <= blended.min() and blended.max() <= 1.0
    photo = data.load_photo("china", gray=True)
    # where the digit is 0 the result is the patch itself, a piece of one of the photos
    background = blended[0, 0, :10, :]
    assert background.std() > 0.0, "the background should be photo texture, not flat"
    bar = blended[:, 0, 10:18, 12:16]
    outside = blended[:, 0, 10:18, 4:8]
    assert not np.allclose(bar, outside)
    # deterministic with the generator, and a different draw differs
    again = data.blend_with_photos(digits, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(blended, again)
    assert not np.array_equal(blended, data.blend_with_photos(digits, rng=np.random.default_rng(1)))
    # every crop is a real crop: the first image's patch occurs in one of the photos
    patch = blended[0, 0].astype(np.float64)
    flower = data.load_photo("flower", gray=True)
    found = any(np.allclose(p[top:top + 28, left:left + 28][:10], patch[:10], atol=1e-6)
                for p in (photo, flower) for top in range(p.shape[0] - 27) for left in range(p.shape[1] - 27)
                if abs(p[top, left] - patch[0, 0]) < 1e-6)
    assert found
    with pytest.raises(ValueError, match="must be"):
        data.blend_with_photos(np.zeros((2, 3, 28, 28)), rng=rng)
