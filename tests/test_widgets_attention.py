"""The attention widget of 11-attention: its pure functions, and no widget where no front end answers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcourse import widgets  # noqa: E402


def _weights():
    scores = np.random.default_rng(0).normal(size=(2, 4, 5))
    e = np.exp(scores)
    return e / e.sum(-1, keepdims=True)


def test_attention_row_is_the_chosen_head_and_query():
    w = _weights()
    assert np.array_equal(widgets.attention_row(w, 2, 1), w[1, 2])
    assert np.array_equal(widgets.attention_row(w[0], 3), w[0, 3])   # (T, S): one head
    with pytest.raises(ValueError, match="query"):
        widgets.attention_row(w, 4, 0)
    with pytest.raises(ValueError, match="head"):
        widgets.attention_row(w, 0, 2)


def test_attention_figure_draws_the_row():
    fig = widgets.attention_figure(_weights(), 1, 1, queries="abcd", keys="vwxyz")
    bars = [p.get_height() for p in fig.axes[1].patches]
    assert np.allclose(bars, _weights()[1, 1])
    plt.close(fig)


def test_attention_explorer_returns_at_once_without_a_front_end(monkeypatch, capsys):
    monkeypatch.setenv("DLCOURSE_QUICK", "1")
    monkeypatch.setattr(widgets.runtime, "headless", lambda: True)
    assert widgets.attention_explorer(_weights()) is None
    assert "static figure" in capsys.readouterr().out
    plt.close("all")
