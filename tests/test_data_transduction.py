"""dlcourse.data.digit_transduction, the toy translation task of 11-attention."""

import numpy as np
import pytest

from dlcourse import data


@pytest.mark.parametrize("task", ["reverse", "sort"])
def test_targets_are_the_sources_transformed(task):
    src, tgt, lengths = data.digit_transduction(50, 7, rng=np.random.default_rng(0), task=task, min_length=2)
    assert src.shape == (50, 7) and tgt.shape == (50, 9) and lengths.shape == (50,)
    assert src.dtype == tgt.dtype == np.int64
    assert lengths.min() >= 2 and lengths.max() <= 7 and len(set(lengths.tolist())) > 1
    for s, t, m in zip(src, tgt, lengths):
        digits = s[:m]
        assert (digits < 10).all() and (s[m:] == data.DIGIT_PAD).all()
        want = digits[::-1] if task == "reverse" else np.sort(digits)
        assert t[0] == data.DIGIT_START and (t[1:m + 1] == want).all() and t[m + 1] == data.DIGIT_END
        assert (t[m + 2:] == data.DIGIT_PAD).all()


def test_seeded_and_fixed_length_by_default():
    a = data.digit_transduction(5, 4, rng=np.random.default_rng(3))
    b = data.digit_transduction(5, 4, rng=np.random.default_rng(3))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert (a[2] == 4).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="task"):
        data.digit_transduction(3, 4, rng=np.random.default_rng(0), task="copy")
    with pytest.raises(ValueError, match="min_length"):
        data.digit_transduction(3, 4, rng=np.random.default_rng(0), min_length=5)
