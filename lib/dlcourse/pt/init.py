"""Torch twin of ``dlcourse.np.init``: Xavier and He initialisations.

Legend: n_in = fan-in (the layer's input features D), n_out = fan-out (its output features M).

    w = xavier_uniform(n_in, n_out, generator=g)   Var = 2 / (n_in + n_out): tanh, sigmoid, linear
    w = he_normal(n_in, n_out, generator=g)        Var = 2 / n_in: relu

Weights are (n_in, n_out), the shape of affine_forward's w; nn.Linear(n_in, n_out) stores
the transpose. Samples are drawn with ``generator`` (None: torch's global generator) on the
generator's own device and then moved to ``device`` (None: torch's default device), so a
seeded CPU generator gives the same weights on every device.
"""

import math
import numbers

import torch

from dlcourse.check import shown


def _check_fans(n_in, n_out):
    for name, value in (("n_in", n_in), ("n_out", n_out)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int (a number of features), got {type(value).__name__} {shown(value)}")
        if value < 1:
            raise ValueError(f"{name} must be a positive number of features, got {value}")
    return int(n_in), int(n_out)


def _empty(n_in, n_out, generator, device, dtype):
    """An (n_in, n_out) tensor on the generator's device, and the device it must end on."""
    n_in, n_out = _check_fans(n_in, n_out)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    target = torch.empty(0, device=device).device  # device=None: torch's default device
    where = generator.device if generator is not None else target
    return torch.empty((n_in, n_out), dtype=dtype, device=where), target


def xavier_uniform(n_in, n_out, *, generator=None, device=None, dtype=torch.float32):
    """Torch twin of np.init.xavier_uniform: U(-a, a), a = sqrt(6 / (n_in + n_out)).

    generator: torch.Generator or None (torch's global one). Returns w: (n_in, n_out) on
    ``device`` in ``dtype``.
    """
    w, target = _empty(n_in, n_out, generator, device, dtype)
    a = math.sqrt(6.0 / (n_in + n_out))
    return w.uniform_(-a, a, generator=generator).to(target)


def he_normal(n_in, n_out, *, generator=None, device=None, dtype=torch.float32):
    """Torch twin of np.init.he_normal: N(0, 2 / n_in).

    generator: torch.Generator or None (torch's global one). Returns w: (n_in, n_out) on
    ``device`` in ``dtype``.
    """
    w, target = _empty(n_in, n_out, generator, device, dtype)
    return w.normal_(0.0, math.sqrt(2.0 / n_in), generator=generator).to(target)
