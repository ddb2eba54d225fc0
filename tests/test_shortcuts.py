"""Shortcut checks (dlcourse.shortcuts): what an exercise's answer may not call, read from the
submitted source. Each rule is shown to catch what it names and to leave honest code alone; the
declarations in solutions/exercises.toml are each shown to catch a use of what they forbid, on
the real solution notebooks and the real release record. (Scored through the real grader in
tests/test_known_mistakes.py.)"""

import json
import re
import tomllib
from functools import cache

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT

from autograde.manifest import exercise_declarations
from dlcourse.grading import cell_kind, grade_id, source_sha256
from dlcourse.shortcuts import failed_tests, find_shortcuts

RECORD = json.loads((ROOT / "lib" / "dlcourse" / "assignments.json").read_text(encoding="utf-8"))
DECLARED = tomllib.loads((ROOT / "solutions" / "exercises.toml").read_text(encoding="utf-8"))
SETUP = "import numpy as np\nimport torch\nimport torch.nn.functional as F\nfrom dlcourse.np import conv as np_conv\n"
EXERCISE = {"answer": "ex_conv", "functions": ["conv"], "references": ["dlcourse.np.conv.conv2d_forward_naive"],
            "forbidden": ["torch.nn.functional.conv2d", "scipy.signal", ".backward", "torch.autograd"],
            "visible_tests": ["ex_conv-test-visible"], "hidden_tests": ["ex_conv-test-hidden"]}


def notebook(answer: str, *added: str, plain: str = "x = np.ones(3)"):
    """A notebook as a student hands it in: setup, a released plain cell, the answer, added cells."""
    cells = [nbformat.v4.new_code_cell(SETUP, metadata={"nbgrader": {"grade_id": "setup", "locked": True}}),
             nbformat.v4.new_code_cell(plain),
             nbformat.v4.new_code_cell(answer, metadata={"nbgrader": {"grade_id": "ex_conv", "solution": True}})]
    return cells + [nbformat.v4.new_code_cell(source) for source in added]


RELEASED = {"setup": ("setup", source_sha256(SETUP)), "ex_conv": ("answer", None)}


def found(answer: str, *added: str, exercise=EXERCISE) -> list[str]:
    cells = notebook(answer, *added)
    return [s.what for s in find_shortcuts(cells, [exercise], RELEASED, {source_sha256(cells[1].source)})]


@pytest.mark.parametrize("answer, what", [
    ("def conv(x, w):\n    return F.conv2d(x, w)", "uses torch.nn.functional.conv2d"),
    ("def conv(x, w):\n    return torch.nn.functional.conv2d(x, w)", "uses torch.nn.functional.conv2d"),
    ("from torch.nn.functional import conv2d as c\ndef conv(x, w):\n    return c(x, w)",
     "imports torch.nn.functional.conv2d"),
    ("import scipy.signal as ss\ndef conv(x, w):\n    return ss.correlate2d(x, w)", "imports scipy.signal"),
    ("def conv(x, w):\n    y = (x * w).sum()\n    y.backward()\n    return x.grad", "calls .backward()"),
    ("def conv(x, w):\n    return torch.autograd.grad(x.sum(), w)", "uses torch.autograd.grad"),
    ("def conv(x, w):\n    return getattr(F, 'conv2d')(x, w)", "uses torch.nn.functional.conv2d"),
    ("conv = np_conv.conv2d_forward_naive", "uses dlcourse.np.conv.conv2d_forward_naive"),
    ("def conv(x, w):\n    return np_conv.conv2d_forward_naive(x, w)", "uses dlcourse.np.conv.conv2d_forward_naive"),
])
def test_a_forbidden_call_is_found_however_it_is_imported(answer, what):
    assert what in found(answer)


@pytest.mark.parametrize("answer, what", [
    ("out = %time F.conv2d(x, w)\ndef conv(x, w):\n    return out", "uses torch.nn.functional.conv2d"),
    ("m = np_conv\ndef conv(x, w):\n    return m.conv2d_forward_naive(x, w)", "uses the module dlcourse.np.conv"),
    ("def conv(x, w, m=np_conv):\n    return m.conv2d_forward_naive(x, w)", "uses the module dlcourse.np.conv"),
    ("G = torch.nn.functional\ndef conv(x, w):\n    return G.conv2d(x, w)", "uses the module torch.nn.functional"),
    ("def conv(x, w):\n    loss = (x * w).sum()\n    torch.Tensor.backward(loss)\n    return x.grad",
     "calls .backward()"),
    ("def conv(x, w):\n    loss = (x * w).sum()\n    getattr(loss, 'backward')()\n    return x.grad",
     "calls .backward()"),
    ("def conv(x, w):\n    (x * w).sum().backward()\n    return x.grad", "calls .backward()"),
])
def test_a_forbidden_call_is_found_however_it_is_disguised(answer, what):
    assert any(f.startswith(what) for f in found(answer)), found(answer)


@pytest.mark.parametrize("answer, what", [
    ("exec('def conv(x, w): return 0')", "uses exec"),
    ("def conv(x, w):\n    return eval('F.conv' + '2d')(x, w)", "uses eval"),
    ("code = compile('1', 'f', 'eval')\ndef conv(x, w):\n    return code", "uses compile"),
    ("def conv(x, w):\n    return __import__('scipy.signal').signal.correlate2d(x, w)", "uses __import__"),
    ("import importlib\ndef conv(x, w):\n    return importlib.import_module('scipy.signal')", "imports importlib"),
    ("def conv(x, w):\n    return getattr(np_conv, 'conv2d_' + 'forward_naive')(x, w)",
     "calls getattr with a computed name"),
    ("def conv(x, w):\n    pass\nconv.__code__ = np_conv.conv2d_forward_naive.__code__", "uses __code__"),
    ("import sys\ndef conv(x, w):\n    return sys.modules['torch'].nn.functional", "uses sys.modules"),
    ("import base64, marshal\ndef conv(x, w):\n    return marshal.loads(base64.b64decode(b''))", "imports marshal"),
    ("import pickle\ndef conv(x, w):\n    return pickle.loads(b'')", "imports pickle"),
    ("def conv(x, w):\n    return globals()['np_conv']", "uses globals"),
    ("def conv(x, w):\n    _ = !true\n    return x", "runs a shell command"),
    ("def conv(x, w):\n    return get_ipython().ev('F.conv2d(x, w)')", "calls get_ipython().ev"),
    ("def conv(x, w):\n    ip = get_ipython()\n    return ip.ev('F.conv2d(x, w)')", "uses get_ipython"),
    ("from torch.nn.functional import *\ndef conv(x, w):\n    return conv2d(x, w)", "imports * from"),
    ("import inspect\ndef conv(x, w):\n    return dict(inspect.getmembers(np_conv))['x']", "imports inspect"),
    ("from functools import reduce\ndef conv(x, w):\n    return reduce(getattr, ['conv2d'], F)(x, w)",
     "passes getattr around"),
])
def test_dynamic_code_is_found(answer, what):
    assert any(f.startswith(what) for f in found(answer)), found(answer)


@pytest.mark.parametrize("answer", [
    # loops
    "def conv(x, w):\n    out = np.zeros((3, 3))\n    for i in range(3):\n        for j in range(3):\n"
    "            out[i, j] = np.sum(x[i:i + 2, j:j + 2] * w)\n    return out",
    # einsum over stride tricks
    "def conv(x, w):\n    win = np.lib.stride_tricks.sliding_window_view(x, w.shape)\n"
    "    return np.einsum('ijkl,kl->ij', win, w)",
    # np.add.at, float32, math.tanh and np.diff (a module's function, not a forbidden method)
    "import math\ndef conv(x, w):\n    out = np.zeros(4, dtype=np.float32)\n    np.add.at(out, [0, 1], 1.0)\n"
    "    return out * math.tanh(1.0) + np.diff(x).sum()",
    # torch where torch is allowed, a helper in a cell of its own
    "def conv(x, w):\n    return helper(x) + torch.tanh(torch.ones(1)).item()",
])
def test_honest_answers_are_left_alone(answer):
    assert found(answer, "def helper(x):\n    return np.asarray(x).sum()") == []


def test_the_students_own_names_and_magics_are_left_alone():
    # a variance named vars, a compiled flag named compile: the student's names, not the builtins
    assert found("def conv(x, w):\n    vars = x.var(0)\n    compile = True\n"
                 "    return vars * w if compile else w") == []
    # timing one's own code with a magic runs that code: it is read like the rest
    assert found("def conv(x, w):\n    return x * w\n%time conv(np.ones(3), 2.0)") == []
    # a scratch cell that compares with the library reaches the answer only by a shared parameter name
    scratch = "x = np.ones((1, 1, 3, 3))\nprint(F.conv2d(torch.tensor(x), torch.tensor(x)))"
    assert found("def conv(x, w):\n    return x * w", scratch) == []


def test_a_changed_setup_cell_or_a_second_answer_cell_is_the_students():
    cells = notebook("def conv(x, w):\n    return helper(x, w)")
    cells[0] = nbformat.from_dict({**cells[0], "source": SETUP + "helper = F.conv2d\n"})
    assert [s.what for s in find_shortcuts(cells, [EXERCISE], RELEASED)] == ["uses torch.nn.functional.conv2d"]
    cells = notebook("def conv(x, w):\n    raise NotImplementedError")
    copy = nbformat.from_dict({**cells[2], "source": "def conv(x, w):\n    return F.conv2d(x, w)"})
    assert [s.what for s in find_shortcuts(cells + [copy], [EXERCISE], RELEASED)] == [
        "uses torch.nn.functional.conv2d"]


def test_an_added_cell_counts_when_the_answer_reaches_it():
    helper = "def helper(x, w):\n    return F.conv2d(x, w)"
    assert found("def conv(x, w):\n    return helper(x, w)", helper) == ["uses torch.nn.functional.conv2d"]
    assert found("def conv(x, w):\n    return x", helper) == [], "a cell the answer does not use is not its"
    # a cell that redefines the exercise's function is its answer too
    assert found("def conv(x, w):\n    raise NotImplementedError", "def conv(x, w):\n    return F.conv2d(x, w)")
    # and the cells that cell uses, in turn
    assert found("def conv(x, w):\n    return a(x)", "def a(x):\n    return b(x)", "def b(x):\n    return exec('')")
    # bound in a top-level loop or block is bound too
    assert found("def conv(x, w):\n    return helpers[0](x, w)", "for helpers in [[F.conv2d]]:\n    pass")


def test_a_released_plain_cell_is_not_the_students():
    cells = notebook("def conv(w):\n    return x * w", plain="x = np.ones(3)\nx.backward()\n")
    released = {source_sha256(cells[1].source)}
    assert find_shortcuts(cells, [EXERCISE], RELEASED, released) == []
    # the same cell changed by the student is theirs: it defines x, which the answer reads
    assert find_shortcuts(cells, [EXERCISE], RELEASED, set()) != []


def test_a_shortcut_fails_every_test_of_its_exercise_once_with_the_line():
    record = {"exercises": [EXERCISE], "cells": [{"grade_id": "setup", "kind": "setup", "sha256": source_sha256(SETUP)},
                                                 {"grade_id": "ex_conv", "kind": "answer"}]}
    failed = failed_tests(notebook("def conv(x, w):\n    y = 1\n    return F.conv2d(x, w)"), record)
    assert set(failed) == {"ex_conv-test-visible", "ex_conv-test-hidden"}
    message = failed["ex_conv-test-visible"]
    assert message.startswith("Shortcut: the answer cell, line 3, uses torch.nn.functional.conv2d")
    assert failed_tests(notebook("def conv(x, w):\n    return x"), record) == {}


def test_a_cell_that_does_not_parse_is_left_to_grading():
    assert found("def conv(x, w):\n    return F.conv2d(x, w") == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solutions_take_no_shortcut(assignment):
    entry = RECORD[assignment]
    source = nbformat.read(ROOT / "solutions" / assignment / entry["notebook"], as_version=4)
    released = nbformat.read(ROOT / "course" / assignment / entry["notebook"], as_version=4)
    for cells in (source.cells, released.cells):
        assert failed_tests(cells, entry) == {}, f"{assignment}: {failed_tests(cells, entry)}"


@cache
def solution(assignment: str):
    return nbformat.read(ROOT / "solutions" / assignment / RECORD[assignment]["notebook"], as_version=4)


def use_of(entry: str) -> str:
    """Lines that use ``entry`` the way an answer would."""
    if entry.startswith("."):
        return f"_used = lambda value: value{entry}()"
    module = entry.rpartition(".")[0] or entry
    return f"import {module}\n_used = {entry}"


DECLARATIONS = [pytest.param(a, ex, entry, id=f"{a}-{ex}-{entry}")
                for a, exercises in DECLARED.items() for ex, d in exercises.items() for entry in d.get("forbidden", [])]


@pytest.mark.parametrize("assignment, exercise, entry", DECLARATIONS)
def test_each_declared_shortcut_is_found_in_the_solution_answer(assignment, exercise, entry):
    """The solution's answer cell with one use of the forbidden entry: found, named, and it costs
    that exercise's tests (and only those)."""
    record = RECORD[assignment]
    source = solution(assignment)
    cells = [nbformat.from_dict({**c, "source": c.source + "\n" + use_of(entry)})
             if grade_id(c) == exercise and cell_kind(c) == "answer" else c for c in source.cells]
    failed = failed_tests(cells, record)
    tests = next(e["visible_tests"] + e["hidden_tests"] for e in record["exercises"] if e["answer"] == exercise)
    assert set(failed) == set(tests), f"{entry}: {failed}"
    assert entry.lstrip(".") in failed[tests[0]]


def test_declarations_name_released_exercises_and_reach_the_record():
    for assignment, exercises in DECLARED.items():
        entries = {e["answer"]: e for e in RECORD[assignment]["exercises"]}
        for exercise, declared in exercises.items():
            assert entries[exercise]["forbidden"] == declared.get("forbidden", [])
            assert entries[exercise]["references"] == declared.get("references", [])


def test_bad_declarations_are_refused_with_the_place(tmp_path):
    path = tmp_path / "exercises.toml"
    path.write_text('["01-perceptron".ex1_predict]\nforbidden = "sklearn"\n')
    with pytest.raises(ValueError, match=re.escape('["01-perceptron".ex1_predict] needs forbidden')):
        exercise_declarations(path)
    path.write_text('["01-perceptron".ex1_predict]\nforbiden = ["sklearn"]\n')
    with pytest.raises(ValueError, match="may hold only references, not_references, forbidden"):
        exercise_declarations(path)
    path.write_text("[broken\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        exercise_declarations(path)


def test_references_are_declared_never_guessed():
    """Every exercise's references come from solutions/exercises.toml; an answer named like a
    library function that the file does not account for stops the release."""
    from autograde.manifest import exercise_map
    from dlcourse.grading import has_hidden_tests, nbgrader_metadata

    source = solution("01-perceptron")
    hidden = {nbgrader_metadata(c).get("grade_id") for c in source.cells if has_hidden_tests(c.source)}
    declared = exercise_declarations(ROOT / "solutions" / "exercises.toml")["01-perceptron"]
    exercises = exercise_map(source, hidden, {}, declared, "01-perceptron")
    assert [e["references"] for e in exercises] == [declared[e["answer"]]["references"] for e in exercises]
    forgetful = {**declared, "ex3_train": {**declared["ex3_train"], "references": []}}
    with pytest.raises(ValueError, match="ex3_train defines perceptron_train, like "
                       "dlcourse.np.perceptron.perceptron_train: list it under the exercise's references"):
        exercise_map(source, hidden, {}, forgetful, "01-perceptron")
    wrong = {**declared, "ex3_train": {**declared["ex3_train"], "references": ["dlcourse.np.perceptron.nothing"]}}
    with pytest.raises(ValueError, match="names dlcourse.np.perceptron.nothing, which the library"):
        exercise_map(source, hidden, {}, wrong, "01-perceptron")
