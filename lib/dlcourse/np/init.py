"""Weight initialisations that keep the scale of activations and gradients across layers.

Legend: n_in = fan-in (the layer's input features D), n_out = fan-out (its output features M).
Weights are (n_in, n_out), the shape of affine_forward's w: (D, M); nn.Linear(n_in, n_out)
stores the transpose, (n_out, n_in), as its weight.

    w = xavier_uniform(n_in, n_out, rng=rng)   Var = 2 / (n_in + n_out): tanh, sigmoid, linear
    w = he_normal(n_in, n_out, rng=rng)        Var = 2 / n_in: relu

Randomness is passed in, keyword-only, as in every dlcourse.np function that draws.
"""

import numpy as np

from dlcourse.check import shown


def _check_fans(n_in, n_out):
    for name, value in (("n_in", n_in), ("n_out", n_out)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an int (a number of features), got {type(value).__name__} {shown(value)}")
        if value < 1:
            raise ValueError(f"{name} must be a positive number of features, got {value}")
    return int(n_in), int(n_out)


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")


def xavier_uniform(n_in, n_out, *, rng):
    """Glorot & Bengio (2010): w ~ U(-a, a) with a = sqrt(6 / (n_in + n_out)).

    Var(w) = a^2 / 3 = 2 / (n_in + n_out), the compromise between keeping the forward
    variance (1 / n_in) and the backward variance (1 / n_out). The same distribution as
    torch.nn.init.xavier_uniform_ with gain 1 on nn.Linear's (n_out, n_in) weight.
    rng: np.random.Generator. Returns w: (n_in, n_out) float64.
    """
    n_in, n_out = _check_fans(n_in, n_out)
    _check_rng(rng)
    a = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a, size=(n_in, n_out))


def he_normal(n_in, n_out, *, rng):
    """He et al. (2015): w ~ N(0, 2 / n_in), for layers followed by a relu.

    A relu zeroes half of its inputs on average, so the factor 2 keeps the variance of the
    pre-activations from halving at every layer. The same distribution as
    torch.nn.init.kaiming_normal_(mode='fan_in', nonlinearity='relu') on nn.Linear's
    (n_out, n_in) weight. rng: np.random.Generator. Returns w: (n_in, n_out) float64.
    """
    n_in, n_out = _check_fans(n_in, n_out)
    _check_rng(rng)
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
