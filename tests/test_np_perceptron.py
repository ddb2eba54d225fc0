"""dlcourse.np.perceptron: the course plan's OR trace, the rules, and their gradients."""

import numpy as np
import pytest

from dlcourse import check, data
from dlcourse.np import perceptron as P

ASSIGNMENT = "01-perceptron"


def or_problem():
    X, t = data.logic_gate("or")
    return P.add_bias_column(X), t


def test_or_trace_of_the_course_plan():
    X, t = or_problem()
    W, trace = P.perceptron_train(X, t, np.array([0.0, 1.0, 0.0]), eta=1.0)
    assert len(trace) == 12 and [row.epoch for row in trace] == [1] * 4 + [2] * 4 + [3] * 4
    updates = [(row.epoch, tuple(row.x), tuple(row.w_before), row.y, row.t, tuple(row.w_after))
               for row in trace if row.error]
    assert updates == [
        (1, (1.0, 0.0, 1.0), (0.0, 1.0, 0.0), 0, 1, (1.0, 1.0, 1.0)),
        (2, (1.0, 0.0, 0.0), (1.0, 1.0, 1.0), 1, 0, (0.0, 1.0, 1.0)),
    ]
    assert not any(row.error for row in trace if row.epoch == 3)
    np.testing.assert_array_equal(W, [0.0, 1.0, 1.0])
    table = P.format_trace(trace).splitlines()
    assert len(table) == 13 and table[0].split()[:4] == ["epoch", "x0", "x1", "x2"]
    assert table[2].split() == ["1", "1", "0", "1", "0", "1", "0", "0", "1", "1", "1", "1"]


@pytest.mark.parametrize("gate", ["or", "and", "nand"])
def test_separable_gates_are_learned(gate):
    X, t = data.logic_gate(gate)
    Xb = P.add_bias_column(X)
    W, trace = P.perceptron_train(Xb, t, np.zeros(3))
    np.testing.assert_array_equal(P.perceptron_predict(W, Xb), t)
    assert P.margin(W, Xb, t) >= 0


def test_xor_never_converges_and_stops_at_max_epochs():
    X, t = data.logic_gate("xor")
    Xb = P.add_bias_column(X)
    W, trace = P.perceptron_train(Xb, t, np.zeros(3), max_epochs=25)
    assert len(trace) == 100 and trace[-1].epoch == 25
    assert all(any(r.error for r in trace if r.epoch == e) for e in range(1, 26))


def test_train_does_not_modify_its_inputs():
    X, t = or_problem()
    W0 = np.array([0.0, 1.0, 0.0])
    P.perceptron_train(X, t, W0)
    np.testing.assert_array_equal(W0, [0.0, 1.0, 0.0])


def test_predict_is_strict_and_integer():
    X, _ = or_problem()
    y = P.perceptron_predict(np.array([0.0, 1.0, 0.0]), X)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [0, 0, 1, 1])


def test_delta_rule_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    X = P.add_bias_column(rng.normal(size=(7, 3)))
    t = rng.integers(0, 2, size=7)
    W = rng.normal(size=4)
    numeric = check.numerical_gradient(lambda w: P.delta_rule_loss(w, X, t), W.copy())
    assert check.rel_error(P.delta_rule_gradient(W, X, t), numeric) < 1e-7


def test_delta_rule_descends_to_least_squares():
    rng = np.random.default_rng(1)
    X, t = data.two_blobs(200, rng=rng, separation=3.0, label_noise=0.1)
    Xb = P.add_bias_column(X)
    W, losses = P.delta_rule_train(Xb, t, np.zeros(3), eta=0.002, epochs=60)
    assert losses.shape == (61,) and losses[-1] < losses[0] / 2
    least_squares, *_ = np.linalg.lstsq(Xb, t.astype(float), rcond=None)
    # online LMS with a constant step hovers near, not at, the least-squares solution
    assert P.delta_rule_loss(W, Xb, t) <= P.delta_rule_loss(least_squares, Xb, t) * 1.01
    assert (np.linalg.norm(P.delta_rule_gradient(W, Xb, t))
            < 0.1 * np.linalg.norm(P.delta_rule_gradient(np.zeros(3), Xb, t)))


def test_margin_and_signed_distance():
    X, t = or_problem()
    W = np.array([-0.5, 1.0, 1.0])
    np.testing.assert_allclose(P.signed_distance(W, X), np.array([-0.5, 0.5, 0.5, 1.5]) / np.sqrt(2))
    assert P.margin(W, X, t) == pytest.approx(0.5 / np.sqrt(2))
    assert P.margin(3 * W, X, t) == pytest.approx(0.5 / np.sqrt(2))
    assert P.margin(np.array([-1.5, 1.0, 1.0]), X, t) < 0
    with pytest.raises(ValueError, match="W\\[1:\\] is zero"):
        P.margin(np.array([1.0, 0.0, 0.0]), X, t)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: P.perceptron_predict(np.zeros(3), np.zeros((4, 2))),
         "X must be \\(N, 3\\).*got shape \\(4, 2\\).*bias column"),
        (lambda: P.perceptron_predict(np.zeros((3, 1)), np.zeros((4, 3))), "W must be 1-D"),
        (lambda: P.perceptron_train(np.zeros((4, 3)), np.zeros(3), np.zeros(3)), "t must be \\(4,\\)"),
        (lambda: P.perceptron_train(np.zeros((4, 3)), np.zeros(4), np.zeros(3), max_epochs=0), "max_epochs"),
        (lambda: P.perceptron_train(np.zeros((4, 3)), np.array([-1, 1, 1, -1]), np.zeros(3)), "targets must be 0 or 1"),
        (lambda: P.margin(np.ones(3), np.ones((2, 3)), np.array([0, 2])), "targets must be 0 or 1"),
        (lambda: P.perceptron_update(np.zeros(3), np.zeros((2, 3)), 1), "x must be one sample"),
        (lambda: P.add_bias_column(np.zeros(3)), "X must be 2-D"),
    ],
)
def test_bad_shapes_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
