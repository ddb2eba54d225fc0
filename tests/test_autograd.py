"""dlcourse.autograd against torch.autograd: random scalar expressions for Value, logistic
regression and broadcasting for Tensor."""

import json
import math
import random

import numpy as np
import pytest
import torch
from conftest import ROOT, run_with_library

from dlcourse.autograd import Tensor, Value, topological_order

ASSIGNMENT = "03-backprop"

# each op builds the same expression on a Value and on a torch scalar
UNARY = [
    ("tanh", lambda v: v.tanh(), torch.tanh),
    ("sigmoid", lambda v: v.sigmoid(), torch.sigmoid),
    ("relu", lambda v: v.relu(), torch.relu),
    ("exp of tanh", lambda v: v.tanh().exp(), lambda t: torch.exp(torch.tanh(t))),
    ("log of square + 1", lambda v: (v**2 + 1).log(), lambda t: torch.log(t**2 + 1)),
    ("cube", lambda v: v**3, lambda t: t**3),
    ("reciprocal of square + 2", lambda v: 1 / (v * v + 2), lambda t: 1 / (t * t + 2)),
    ("negate", lambda v: -v, lambda t: -t),
    ("sin", lambda v: v.sin(), torch.sin),
]
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    ("number on the left", lambda a, b: 2.5 - a * 3 + b, lambda a, b: 2.5 - a * 3 + b),
]


def random_expression(rng: random.Random, leaves, depth):
    """The same random expression as a Value and as a torch tensor."""
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(leaves)
    if rng.random() < 0.4:
        _, on_value, on_torch = rng.choice(UNARY)
        v, t = random_expression(rng, leaves, depth - 1)
        return on_value(v), on_torch(t)
    _, on_value, on_torch = rng.choice(BINARY)
    (va, ta), (vb, tb) = random_expression(rng, leaves, depth - 1), random_expression(rng, leaves, depth - 1)
    return on_value(va, vb), on_torch(ta, tb)


@pytest.mark.parametrize("seed", range(25))
def test_value_matches_torch_on_random_expressions(seed):
    rng = random.Random(seed)
    numbers = [rng.uniform(-2, 2) for _ in range(3)]
    values = [Value(x) for x in numbers]
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in numbers]
    out_value, out_torch = random_expression(rng, list(zip(values, tensors)), depth=5)
    if not isinstance(out_value, Value) or not out_torch.requires_grad:
        pytest.skip("the draw was a bare leaf")
    out_value.backward()
    out_torch.backward()
    assert out_value.data == pytest.approx(out_torch.item(), rel=1e-12, abs=1e-12)
    for v, t in zip(values, tensors):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_gradients_accumulate_when_a_value_is_reused():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0
    y.zero_grad()
    assert x.grad == 0.0


def test_topological_order_puts_children_first_and_each_node_once():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert len(order) == len({id(n) for n in order}) == 5
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for child in node._children:
            assert position[id(child)] < position[id(node)]


def test_backward_and_zero_grad_walk_the_graph_in_the_order_given():
    """03-backprop runs backward() with the student's topological_order: the function given
    is the one used, and the default is still the module's own."""
    x = Value(3.0)
    y = x * x + x
    roots = []

    def recorded(root):
        roots.append(root)
        return topological_order(root)

    y.backward(order=recorded)
    assert roots == [y] and x.grad == 7.0
    y.zero_grad(order=recorded)
    assert roots == [y, y] and x.grad == y.grad == 0.0
    # an order that lists the output alone: only its closure runs, x gets the + node's 1, not 2x + 1
    y.backward(order=lambda root: [root])
    assert x.grad == 1.0
    y.zero_grad(order=lambda root: [root])
    assert y.grad == 0.0 and x.grad == 1.0
    y.zero_grad()
    y.backward()
    assert x.grad == 7.0


def test_backward_runs_in_a_kernel_with_topological_order_sealed():
    """Grading 03-backprop seals topological_order (Exercise 5's reference): backward() with the
    default stops with SealedReference, backward(order=...) with the student's own runs."""
    from dlcourse import sealing

    record = json.loads((ROOT / "lib" / "dlcourse" / "assignments.json").read_text(encoding="utf-8"))
    library = sealing.grading_library(record, ASSIGNMENT)
    code = (
        "import dlcourse\n"
        "from dlcourse.autograd import Value\n"
        "from dlcourse.sealing import SealedReference\n"
        f"assert dlcourse.__file__.startswith({str(library)!r}), dlcourse.__file__\n"
        "def own(root):\n"
        "    order, seen = [], set()\n"
        "    def visit(node):\n"
        "        if id(node) not in seen:\n"
        "            seen.add(id(node))\n"
        "            for child in node._children:\n"
        "                visit(child)\n"
        "            order.append(node)\n"
        "    visit(root)\n"
        "    return order\n"
        "x = Value(3.0)\n"
        "y = x * x + x\n"
        "try:\n"
        "    y.backward()\n"
        "except SealedReference:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('the default order is not sealed')\n"
        "y.zero_grad(order=own)\n"
        "y.backward(order=own)\n"
        "print('grad', x.grad)\n"
    )
    result = run_with_library(code, library)
    assert result.returncode == 0 and result.stdout.strip() == "grad 7.0", result.stderr[-2000:]


def test_deep_chain_does_not_hit_the_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**5000)


def test_value_errors_are_clear():
    with pytest.raises(TypeError, match="number exponents"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match="non-positive"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="cannot combine a Value with str"):
        Value(1.0) + "1"


def test_sigmoid_is_stable_for_large_inputs():
    assert Value(800.0).sigmoid().data == 1.0 and Value(-800.0).sigmoid().data == 0.0
    assert math.isfinite(Value(-800.0).sigmoid().data)


def test_tensor_trains_logistic_regression_like_torch():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.integers(0, 2, size=50).astype(float)
    w = Tensor(rng.normal(size=3), requires_grad=True)
    b = Tensor(np.zeros(1), requires_grad=True)
    wt = torch.tensor(w.value.copy(), requires_grad=True)
    bt = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    for _ in range(20):
        w.grad = b.grad = None
        p = (Tensor(X) @ w + b).sigmoid()
        loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
        loss.backward()
        lt = torch.nn.functional.binary_cross_entropy(torch.sigmoid(torch.tensor(X) @ wt + bt), torch.tensor(y))
        wt.grad = bt.grad = None
        lt.backward()
        assert loss.value == pytest.approx(lt.item(), rel=1e-12)
        np.testing.assert_allclose(w.grad, wt.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(b.grad, bt.grad.numpy(), rtol=1e-10, atol=1e-14)
        w.value -= 0.5 * w.grad
        b.value -= 0.5 * b.grad
        with torch.no_grad():
            wt -= 0.5 * wt.grad
            bt -= 0.5 * bt.grad
    assert loss.creator is not None and w.creator is None


def test_tensor_broadcasting_and_matmul_gradients_match_torch():
    rng = np.random.default_rng(1)
    A, B, c = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=(1, 5))
    a, b, cc = (Tensor(v, requires_grad=True) for v in (A, B, c))
    out = ((a @ b + cc) * (a @ b)).sum()
    out.backward()
    at, bt, ct = (torch.tensor(v, requires_grad=True) for v in (A, B, c))
    ((at @ bt + ct) * (at @ bt)).sum().backward()
    for ours, theirs in ((a, at), (b, bt), (cc, ct)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="needs grad="):
        (a @ b).backward()
