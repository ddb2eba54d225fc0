"""Answers that change their arguments after computing the right result: no test may be steered.

Grading copies back what a student's function did to its arguments (arrays, tensors, lists and
dicts), as a notebook shows it. A test that computes its expected value from an argument *after*
passing it to the student's function could then be steered: a wrong function that zeroes its
input makes the expected value match. ``changing_arguments`` wraps every exercise's functions so
that each call first puts back what the previous call scrambled (later calls reuse inputs), then
computes the solution's result, then scrambles its NumPy arrays and tensors (those that need no
gradient) in place; a wrapped function called by another (a training loop calling the update)
is left as it is, so that the caller's result stays right. Every test must keep its points,
but where the exercise says its function must not change an argument: there the check that
says so ("... in place") fails, and a visible test says it before a hidden one takes points
(tests/test_known_mistakes.py).

The wrapper runs in the student's kernel as part of the answer cell, so it passes the shortcut
checks the cell is graded with: no torch import (some exercises forbid it), no dynamic code.
"""

from dlcourse.grading import ANSWER, cell_kind, grade_id

WRAPPER = '''
try:
    _SCRAMBLED
except NameError:
    _SCRAMBLED = {}  # scrambled contents -> what they were, shared by every wrapped function
    _CALLS_UNDER_WAY = [0]  # a wrapped function another one calls leaves its caller's arrays alone


def _changing_its_arguments(function):
    import copy
    import dataclasses
    import functools

    import numpy as np

    def is_tensor(value):
        return type(value).__module__.startswith("torch") and hasattr(value, "requires_grad") \\
            and not value.requires_grad and value.numel() and (value.is_floating_point() or
                                                               str(value.dtype) in ("torch.int64", "torch.bool"))

    def key(value):
        values = value if isinstance(value, np.ndarray) else value.detach().cpu().numpy()
        return type(value).__name__, values.dtype.str, values.shape, values.tobytes()

    def arrays(value, depth=0):
        if isinstance(value, np.ndarray) and value.flags.writeable and value.size and value.dtype.kind in "fciub":
            return [value]
        if is_tensor(value):
            return [value]
        if isinstance(value, (list, tuple)) and depth < 3:
            return [a for item in value for a in arrays(item, depth + 1)]
        if isinstance(value, dict) and depth < 3:
            return [a for item in value.values() for a in arrays(item, depth + 1)]
        return []

    def scramble(value):
        numpy = isinstance(value, np.ndarray)
        before = value.copy() if numpy else value.detach().clone()
        # values no test writes by hand, so that a fresh array is not taken for a scrambled one
        if (value.dtype.kind in "fc") if numpy else value.is_floating_point():
            value *= 1.7320508
            value += 0.3141593
        elif str(value.dtype) in ("bool", "torch.bool"):
            value[...] = ~value
        else:
            value += 7919
        _SCRAMBLED[key(value)] = before

    def copied(value, depth=0):
        if isinstance(value, np.ndarray):
            return value.copy()
        if type(value).__module__.startswith("torch") and hasattr(value, "clone"):
            return value.clone()
        if isinstance(value, list) and depth < 3:
            return [copied(item, depth + 1) for item in value]
        if isinstance(value, tuple) and depth < 3:
            return tuple(copied(item, depth + 1) for item in value)
        if isinstance(value, dict) and depth < 3:
            return {k: copied(item, depth + 1) for k, item in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a trace row may view an input
            return copy.deepcopy(value)
        return value

    if not callable(function) or isinstance(function, type):
        return function

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        inputs = [] if _CALLS_UNDER_WAY[0] else arrays([args, kwargs])
        if not inputs:  # nothing to scramble (graph nodes, numbers): the call as it is
            return function(*args, **kwargs)
        for value in inputs:
            before = _SCRAMBLED.get(key(value))
            if before is not None:
                value[...] = before
        _CALLS_UNDER_WAY[0] += 1
        try:
            result = copied(function(*args, **kwargs))  # what the caller gets stays as computed
        finally:
            _CALLS_UNDER_WAY[0] -= 1
        for value in inputs:
            scramble(value)
        return result

    return wrapper
'''


def changing_arguments(notebook, exercises: list[dict]) -> dict[str, str]:
    """{answer grade_id: the solution's answer cell with its functions wrapped} for every
    exercise of the release record's ``exercises``."""
    answers = {grade_id(c): c.source for c in notebook.cells if cell_kind(c) == ANSWER}
    return {exercise["answer"]: answers[exercise["answer"]] + "\n" + WRAPPER + "".join(
        f"{name} = _changing_its_arguments({name})\n" for name in exercise["functions"]) for exercise in exercises}
