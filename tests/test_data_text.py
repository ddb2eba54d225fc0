"""dlcourse.data's sequence sources (the shipped text excerpt, the adding problem) and the LSTM gate widget."""

import numpy as np
import pytest

from dlcourse import data

ASSIGNMENT = "06-rnn-lstm"


def test_text_excerpt_is_the_stemmed_wikipedia_sample():
    text = data.load_text_characters()
    assert 2_000_000 < len(text) < 2_600_000 and len(text.split()) == 331_339
    assert text.startswith("anarch greek rule") and text == text.lower()
    assert data.load_text_characters(max_chars=100) == text[:100]


def test_adding_problem_has_one_marker_in_each_half():
    X, y = data.adding_problem(500, 20, rng=np.random.default_rng(0))
    assert X.shape == (500, 20, 2) and y.shape == (500,) and X.dtype == np.float32
    markers = X[:, :, 1]
    assert (markers.sum(axis=1) == 2).all()
    assert (markers[:, :10].sum(axis=1) == 1).all() and (markers[:, 10:].sum(axis=1) == 1).all()
    np.testing.assert_allclose((X[:, :, 0] * markers).sum(axis=1), y, rtol=1e-6)
    big = data.adding_problem(20_000, 10, rng=np.random.default_rng(1))[1]
    assert abs(big.mean() - 1.0) < 0.02 and abs(big.var() - 1 / 6) < 0.01  # the 0.167 baseline
    with pytest.raises(ValueError, match="length must be at least 2"):
        data.adding_problem(5, 1, rng=np.random.default_rng(0))


def test_missing_gensim_is_named(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="ships with the gensim package.*make setup"):
        data.load_text_characters()


def test_lstm_gate_widget_keeps_overwrites_and_hides(monkeypatch, capsys):
    import matplotlib.pyplot as plt

    from dlcourse import widgets

    g, c, h = widgets.lstm_gate_trajectory(1.0, 0.0, 1.0)
    assert np.all(c == 1.0) and np.allclose(h, np.tanh(1.0)), "f = 1, i = 0 keeps the cell"
    g, c, h = widgets.lstm_gate_trajectory(0.0, 1.0, 1.0)
    np.testing.assert_allclose(c, g)  # f = 0, i = 1 overwrites it with the candidate
    assert np.all(widgets.lstm_gate_trajectory(0.5, 0.5, 0.0)[2] == 0), "o = 0 hides it"
    with pytest.raises(ValueError, match="forget gate is a sigmoid output"):
        widgets.lstm_gate_trajectory(1.5, 0.0, 1.0)
    for name in widgets.HEADLESS_ENV:
        monkeypatch.delenv(name, raising=False)
    explorer = widgets.lstm_gate_explorer()
    assert [c.description for c in explorer.widget.children[:3]] == ["forget f", "input i", "output o"]
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    assert widgets.lstm_gate_explorer() is None and "static figure here" in capsys.readouterr().out
    plt.close("all")
