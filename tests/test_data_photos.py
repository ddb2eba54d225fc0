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
