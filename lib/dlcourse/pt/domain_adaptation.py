"""Domain adaptation in PyTorch: the gradient-reversal layer of DANN (Ganin & Lempitsky 2015).

Legend: N batch, E feature size (any shape passes through unchanged).

    features = grad_reverse(features, scale=lam)           identity forward, -lam * gradient backward
    domain_logits = nn.Sequential(GradientReversal(0.3), domain_head)(features)   features: (N, E)

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


def grad_reverse(x, scale: float = 1.0):
    """x unchanged; its gradient multiplied by -scale in backward. x: any shape, (N, E) for
    a batch of features; returns a tensor of x's shape."""
    return GradientReversalFunction.apply(x, scale)


class GradientReversal(nn.Module):
    """grad_reverse as a layer: nn.Sequential(features, GradientReversal(0.3), domain_head).
    ``scale`` may be changed during training (DANN ramps it from 0 to 1)."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return grad_reverse(x, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"
