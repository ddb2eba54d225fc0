"""Helpers that exercises, visible checks and tests use to compare answers.

Every failure message names the quantity, the expected and received shapes or values,
and a hint that points at the likely mistake, so that a student can act on it.
"""

from collections.abc import Callable
from contextlib import contextmanager

import numpy as np


def as_numpy(value, *, name: str = "value") -> np.ndarray:
    """A NumPy array from an array, a torch tensor (any device) or a nested list."""
    if value is None:
        raise AssertionError(f"{name} is None: did the function forget to `return` its result?")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as error:  # e.g. ragged lists
        raise AssertionError(f"{name} could not be read as an array: {error}") from error


def plain(value):
    """``value`` with NumPy scalars and arrays and torch tensors, also inside tuples, lists, sets
    and dicts, as plain Python numbers and lists: what a failure message should print.
    NumPy 2's repr of a scalar is ``np.float64(0.25)``, so that ``f"{[(1, x)]}"`` reads
    ``[(1, np.float64(0.25))]``; ``f"{check.plain([(1, x)])}"`` reads ``[(1, 0.25)]``."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple keeps its names
        return type(value)(*(plain(item) for item in value))
    if isinstance(value, (tuple, list, set, frozenset)):
        return type(value)(plain(item) for item in value)
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    return value


def shown(value) -> str:
    """How a failure message shows a value: its repr with plain numbers (:func:`plain`)."""
    return repr(plain(value))


def rel_error(x, y, *, floor: float = 1e-8) -> float:
    """Largest relative error max |x - y| / max(|x| + |y|, floor), elementwise.

    The floor keeps two near-zero values from reading as a large relative error.
    """
    x = as_numpy(x, name="x").astype(np.float64)
    y = as_numpy(y, name="y").astype(np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs equal shapes, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(x) + np.abs(y), floor)))


def numerical_gradient(f: Callable, x: np.ndarray, *, df=None, h: float = 1e-6) -> np.ndarray:
    """Centred finite-difference gradient of f at x.

    With ``df=None`` f(x) must return a scalar and the result is d f / d x. With an upstream
    gradient ``df`` (the shape of f(x)) the result is d sum(f(x) * df) / d x, which checks a
    backward pass that receives ``dout = df``. x is perturbed in place and restored.
    x: float64 array of any shape; returns an array of the same shape.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(
            f"numerical_gradient needs a float64 NumPy array x, got {type(x).__name__}"
            f" of dtype {getattr(x, 'dtype', None)}: finite differences in float32 are too coarse"
        )
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views: writes reach x and grad
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + h
        plus = np.asarray(f(x), dtype=np.float64)
        flat_x[i] = old - h
        minus = np.asarray(f(x), dtype=np.float64)
        flat_x[i] = old
        if df is None:
            if plus.size != 1:
                raise ValueError(
                    f"f returned shape {plus.shape}: pass df (the upstream gradient) for non-scalar f"
                )
            flat_grad[i] = (plus.item() - minus.item()) / (2 * h)
        else:
            flat_grad[i] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def assert_shape(actual, shape: tuple, *, name: str, hint: str | None = None) -> None:
    """Raise an AssertionError naming the quantity unless its shape is ``shape``."""
    got = as_numpy(actual, name=name).shape
    if got != tuple(shape):
        tail = f"\nHint: {hint}" if hint else ""
        raise AssertionError(f"{name} has the wrong shape: expected {tuple(shape)}, got {got}.{tail}")


def assert_close(
    actual,
    expected,
    *,
    name: str,
    hint: str | None = None,
    rtol: float = 1e-7,
    atol: float = 1e-9,
) -> None:
    """Raise an AssertionError that explains the difference unless actual ~= expected.

    Checks the shape first (a wrong shape is usually a missing sum or transpose), then
    the values with ``np.allclose(actual, expected, rtol, atol)`` semantics, and reports
    where the first and the largest differences are. Accepts arrays, torch tensors,
    numbers and nested lists.
    """
    got = as_numpy(actual, name=name)
    want = as_numpy(expected, name=f"expected {name}")
    tail = f"\nHint: {hint}" if hint else ""
    assert_shape(got, want.shape, name=name, hint=hint)
    if not (np.issubdtype(got.dtype, np.number) or got.dtype == np.bool_):
        raise AssertionError(f"{name} should hold numbers, got dtype {got.dtype}.{tail}")
    if np.iscomplexobj(got):
        raise AssertionError(f"{name} should hold real numbers, got dtype {got.dtype}.{tail}")
    got64 = np.atleast_1d(got.astype(np.float64))
    want64 = np.atleast_1d(want.astype(np.float64))
    bad = ~np.isclose(got64, want64, rtol=rtol, atol=atol, equal_nan=False)
    if not bad.any():
        return
    difference = np.abs(got64 - want64)
    difference[~np.isfinite(difference)] = np.inf
    first = np.unravel_index(np.argmax(bad), bad.shape)
    where = f" at index {tuple(int(i) for i in first)}" if got.ndim else ""
    raise AssertionError(
        f"{name} is wrong in {int(bad.sum())} of {bad.size} entries{where}: "
        f"expected {want64[first].item():.6g}, got {got64[first].item():.6g} "
        f"(largest difference {difference.max():.3g}).{tail}"
    )


def assert_same_expression(actual, expected, *, name: str, hint: str | None = None) -> None:
    """Raise an AssertionError unless two SymPy expressions are equal for all values of
    their symbols (``simplify(actual - expected) == 0``): any equivalent form passes, a
    wrong sign or factor does not."""
    import sympy

    tail = f"\nHint: {hint}" if hint else ""
    if not isinstance(actual, sympy.Expr):
        raise AssertionError(
            f"{name} must be a SymPy expression (not an equation or {type(actual).__name__}), "
            f"got {shown(actual)}.{tail}")
    # symbols are matched by name: Symbol('x', real=True) and Symbol('x') are the same x here
    by_name = {s.name: s for s in expected.free_symbols}
    actual = actual.xreplace({s: by_name[s.name] for s in actual.free_symbols if s.name in by_name})
    try:
        equal = sympy.simplify(sympy.expand(actual - expected)) == 0
    except (TypeError, ValueError) as error:
        raise AssertionError(f"{name} could not be compared with the expected expression: {error}.{tail}") from error
    if not equal:
        raise AssertionError(f"{name} is not equal to the expected expression: got {actual}.{tail}")


class ExerciseUnfinished(Exception):
    """A later cell needs an exercise the student has not finished yet. IPython shows
    ``_render_traceback_``'s one line in place of a traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


@contextmanager
def needs(exercise: str, *names: str):
    """Run a cell's body that uses the student's answers ``names`` to ``exercise``: while one of
    them is still the released blank (it raises NotImplementedError), stop with one line,
    "finish Exercise 3 first: perceptron_train is used from here on", instead of a traceback.

        with check.needs("Exercise 3", "perceptron_train"):
            W, trace = perceptron_train(X, t, W0)

    A NameError raised by the cell's own code (not inside a function it calls) means that a
    result of an earlier cell is missing, usually because that cell stopped the same way: it
    gets the same line, naming the missing result. Any other error goes on unchanged.
    """
    used = " and ".join(filter(None, [", ".join(names[:-1]), names[-1] if names else ""]))
    message = f"finish {exercise} first" + (f": {used} {'are' if len(names) > 1 else 'is'} used from here on"
                                            if names else "")
    try:
        yield
    except NotImplementedError:
        raise ExerciseUnfinished(message) from None
    except NameError as error:
        if not _raised_in_block(error.__traceback__):
            raise  # a name missing inside a function, e.g. a slip in an answer: its traceback helps
        raise ExerciseUnfinished(f"{message} ({error.name} comes from a cell above that did not finish)") from None


def _raised_in_block(tb) -> bool:
    """Whether the error in ``tb`` comes from the code of the cell that holds the ``with
    needs(...)`` block (the first frame outside this module): every frame from there on runs
    code of that same cell (a comprehension, a helper defined in the cell), none a function
    defined elsewhere, such as an answer in a cell above."""
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    if tb is None:
        return False
    cell = tb.tb_frame.f_code.co_filename
    while tb is not None:
        if tb.tb_frame.f_code.co_filename != cell:
            return False
        tb = tb.tb_next
    return True
