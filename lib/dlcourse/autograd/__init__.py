"""A tiny reverse-mode automatic differentiation engine, in two sizes.

``Value`` (micrograd's design): one float, the ``Value``s it was computed from, the
operation's name, and a ``_backward`` closure that pushes its gradient to its children;
``backward()`` runs the closures in reverse topological order.
``Tensor``: the same idea over NumPy arrays, enough to train logistic regression.
"""

from dlcourse.autograd.tensor import Tensor
from dlcourse.autograd.value import Value, topological_order

__all__ = ["Tensor", "Value", "topological_order"]
