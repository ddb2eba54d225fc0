"""Domain adaptation in PyTorch: the gradient-reversal layer of DANN (Ganin & Lempitsky 2015).

Legend: N batch, E feature size (any shape passes through unchanged).

    features = grad_reverse(features, scale=lam)           identity forward, -lam * gradient backward
    domain_logits = nn.Sequential(GradientReversal(0.3), domain_head)(features)   features: (N, E)

Both take the autograd Function that does the reversal as ``function=`` (keyword-only,
GradientReversalFunction by default): a notebook passes the student's own.

The layers before the reversal learn features that make the domain classifier after it
fail, while the classifier itself learns to succeed: features that do not tell the
domains apart.
"""

import torch
from torch import nn


class GradientReversalFunction(torch.autograd.Function):
    """Identity on the way forward, gradient times -scale on the way back (Ganin &
    Lempitsky 2015): the layers before it learn to make the domain classifier after it
    fail, while the classifier itself learns to succeed."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)          # a new tensor (a view), so autograd records this step

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.scale * grad_output, None                 # no gradient for scale


def grad_reverse(x, scale: float = 1.0, *, function=GradientReversalFunction):
    """x unchanged; its gradient multiplied by -scale in backward. x: any shape, (N, E) for
    a batch of features; returns a tensor of x's shape. ``function``: the torch.autograd.Function
    subclass that reverses (``function.apply(x, scale)``), GradientReversalFunction by default."""
    return _checked(function).apply(x, scale)


def _checked(function):
    if not (isinstance(function, type) and issubclass(function, torch.autograd.Function)):
        raise ValueError(f"function must be a torch.autograd.Function subclass such as GradientReversalFunction, "
                         f"got {function!r}")
    return function


class GradientReversal(nn.Module):
    """grad_reverse as a layer: nn.Sequential(features, GradientReversal(0.3), domain_head).
    ``scale`` may be changed during training (DANN ramps it from 0 to 1); ``function`` is
    grad_reverse's, the Function that reverses."""

    def __init__(self, scale: float = 1.0, *, function=GradientReversalFunction):
        super().__init__()
        self.scale = scale
        self.function = _checked(function)  # a wrong one fails here, not in the first training step

    def forward(self, x):
        return grad_reverse(x, self.scale, function=self.function)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"
