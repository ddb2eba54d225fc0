"""Reverse-mode autodiff over NumPy arrays: ``Tensor`` and the ``Function``s that create them.

A Tensor holds its value (an ndarray), a link to its creator (the Function that computed
it, None for inputs and parameters) and, after ``backward()``, its gradient (an ndarray
of the value's shape). A Function remembers its input Tensors and what its backward pass
needs, and turns the gradient of its output into gradients for its inputs.

    w = Tensor(np.zeros(3), requires_grad=True)
    p = (Tensor(X) @ w).sigmoid()
    loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    loss.backward()          # w.grad = d loss / d w
"""

import numpy as np


class Tensor:
    __array_priority__ = 100  # so that ndarray + Tensor calls Tensor.__radd__

    def __init__(self, value, creator: "Function | None" = None, requires_grad: bool = False):
        self.value = np.asarray(value, dtype=np.float64)
        self.creator = creator
        self.requires_grad = requires_grad or (creator is not None and creator.requires_grad)
        self.grad = None

    @property
    def shape(self):
        return self.value.shape

    def __repr__(self):
        made = f", creator={type(self.creator).__name__}" if self.creator else ""
        return f"Tensor({self.value!r}{made})"

    # ---------------------------------------------------------------- operations
    def __add__(self, other):
        return Add.apply(self, other)

    def __radd__(self, other):
        return Add.apply(other, self)

    def __sub__(self, other):
        return Add.apply(self, Neg.apply(other))

    def __rsub__(self, other):
        return Add.apply(other, Neg.apply(self))

    def __neg__(self):
        return Neg.apply(self)

    def __mul__(self, other):
        return Mul.apply(self, other)

    def __rmul__(self, other):
        return Mul.apply(other, self)

    def __matmul__(self, other):
        return MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return MatMul.apply(other, self)

    def sum(self):
        return Sum.apply(self)

    def mean(self):
        return Mean.apply(self)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def log(self):
        return Log.apply(self)

    # ---------------------------------------------------------------- backward
    def backward(self, grad=None):
        """Accumulate d self / d t into t.grad for every tensor t that self depends on and
        that requires a gradient. ``grad`` defaults to 1 for a scalar."""
        if grad is None:
            if self.value.size != 1:
                raise ValueError(f"backward() of a tensor of shape {self.shape} needs grad= of that shape")
            grad = np.ones_like(self.value)
        grads = {id(self): np.asarray(grad, dtype=np.float64)}
        for tensor in reversed(_topological_order(self)):
            g = grads.pop(id(tensor), None)
            if g is None:
                continue
            if tensor.requires_grad and tensor.creator is None:
                tensor.grad = g if tensor.grad is None else tensor.grad + g
            if tensor.creator is not None:
                for source, source_grad in zip(tensor.creator.inputs, tensor.creator.backward(g)):
                    if source.requires_grad:
                        grads[id(source)] = grads.get(id(source), 0) + source_grad


def _as_tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def _topological_order(root: Tensor) -> list[Tensor]:
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
        elif id(tensor) not in seen:
            seen.add(id(tensor))
            stack.append((tensor, True))
            if tensor.creator is not None:
                stack.extend((t, False) for t in tensor.creator.inputs if id(t) not in seen)
    return order


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient over the axes that broadcasting added or stretched, back to ``shape``."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Function:
    """An operation in the graph: ``forward`` on arrays, ``backward`` from the output's
    gradient to one gradient per input."""

    def __init__(self, *inputs: Tensor):
        self.inputs = inputs
        self.requires_grad = any(t.requires_grad for t in inputs)

    @classmethod
    def apply(cls, *inputs) -> Tensor:
        function = cls(*(_as_tensor(t) for t in inputs))
        return Tensor(function.forward(*(t.value for t in function.inputs)), creator=function)

    def forward(self, *values):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return tuple(_unbroadcast(grad, t.shape) for t in self.inputs)


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return (-grad,)


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        return _unbroadcast(grad * self.b, self.a.shape), _unbroadcast(grad * self.a, self.b.shape)


class MatMul(Function):
    """a: (N, D) or (D,), b: (D, M) or (D,), as np.matmul."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, grad):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a  # (N, D)
        b2 = b[:, None] if b.ndim == 1 else b  # (D, M)
        g2 = np.reshape(grad, (a2.shape[0], b2.shape[1]))  # (N, M)
        return (g2 @ b2.T).reshape(a.shape), (a2.T @ g2).reshape(b.shape)


class Sum(Function):
    def forward(self, a):
        self.shape = a.shape
        return np.sum(a)

    def backward(self, grad):
        return (np.broadcast_to(grad, self.shape).copy(),)


class Mean(Function):
    def forward(self, a):
        self.shape = a.shape
        return np.mean(a)

    def backward(self, grad):
        return (np.broadcast_to(grad / np.prod(self.shape), self.shape).copy(),)


class Sigmoid(Function):
    def forward(self, a):
        self.out = 0.5 * (1 + np.tanh(0.5 * a))
        return self.out

    def backward(self, grad):
        return (grad * self.out * (1 - self.out),)


class Log(Function):
    def forward(self, a):
        if np.any(a <= 0):
            raise ValueError("log of a non-positive entry")
        self.a = a
        return np.log(a)

    def backward(self, grad):
        return (grad / self.a,)
