"""Scalar reverse-mode autodiff: ``Value``.

    x = Value(2.0); y = Value(-3.0)
    z = (x * y + x.tanh()) ** 2
    z.backward()            # fills x.grad = dz/dx and y.grad = dz/dy

Gradients accumulate (``+=``): a value used twice receives both contributions, which is
the multivariate chain rule. Plain numbers mix in on either side (``2 * x``, ``1 - x``).

``backward`` and ``zero_grad`` visit the graph in the order of ``topological_order``, or of
the function given as ``order=`` (03-backprop passes the student's own Exercise 5).
"""

import math


class Value:
    """A float that remembers how it was computed."""

    __slots__ = ("data", "grad", "_children", "_op", "_backward", "label")

    def __init__(self, data, _children=(), _op: str = "", label: str = ""):
        if isinstance(data, Value):
            raise TypeError("Value(Value(...)) is not needed: use the Value itself")
        self.data = float(data)
        self.grad = 0.0
        self._children = tuple(_children)
        self._op = _op
        self._backward = lambda: None
        self.label = label

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    # ------------------------------------------------------------------ operations
    def __add__(self, other):
        other = _lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            raise TypeError("only number exponents are supported: write (x.log() * y).exp() for x ** y")
        exponent = float(exponent)
        out = Value(self.data**exponent, (self,), f"**{exponent:g}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log of a non-positive value {self.data:g}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def sin(self):
        out = Value(math.sin(self.data), (self,), "sin")

        def _backward():
            self.grad += math.cos(self.data) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self):
        # 0.5 (1 + tanh(x/2)) never overflows, unlike 1 / (1 + exp(-x))
        out = Value(0.5 * (1 + math.tanh(0.5 * self.data)), (self,), "sigmoid")

        def _backward():
            self.grad += out.data * (1 - out.data) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    # ------------------------------------------------------------------ derived
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-_lift(other))

    def __truediv__(self, other):
        return self * _lift(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return _lift(other) - self

    def __rtruediv__(self, other):
        return _lift(other) / self

    # ------------------------------------------------------------------ backward
    def backward(self, *, order=None):
        """Set self.grad = 1 and every ancestor's grad to d self / d ancestor, running the
        closures in reversed ``order(self)``: a function that lists every node of the graph
        once, each after its children (None: this module's ``topological_order``).

        Gradients are accumulated, so call ``zero_grad()`` first when reusing a graph."""
        if order is None:
            order = topological_order
        self.grad = 1.0
        for node in reversed(order(self)):
            node._backward()

    def zero_grad(self, *, order=None):
        """Set the grad of every node in ``order(self)`` to 0 (None: ``topological_order``)."""
        if order is None:
            order = topological_order
        for node in order(self):
            node.grad = 0.0


def _lift(value) -> Value:
    if isinstance(value, Value):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Value(value)
    raise TypeError(f"cannot combine a Value with {type(value).__name__}")


def topological_order(root: Value) -> list[Value]:
    """Every node of root's graph once, each after all the nodes it was computed from
    (so reversed, each node comes before its children). Iterative, so deep graphs do not
    hit Python's recursion limit."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for child in node._children:
            if id(child) not in seen:
                stack.append((child, False))
    return order
