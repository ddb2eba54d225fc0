"""Sealed references (dlcourse.sealing): the library copy a graded kernel imports, and the
student edition's library, hold stubs where the graded references were, and nothing of their code.

A sealed copy is checked by parsing it: each sealed function's body is its docstring's first
paragraph and one `raise SealedReference(...)`; no statement of the reference's body survives
anywhere in the copy. In the sandbox, a kernel shown the sealed copy cannot reach the real code
by any route a student could take (the module, its file, a reload, the whole file system)."""

import ast
import importlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, run_with_library

from autograde import sandbox
from dlcourse import sealing

RECORD = json.loads((ROOT / "lib" / "dlcourse" / "assignments.json").read_text(encoding="utf-8"))
EVERY_REFERENCE = sealing.graded_references(RECORD, [e["assignment"] for e in RECORD.values()])


def definition(tree, name):
    return next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name)


def body_statements(node) -> set[str]:
    """The unparsed statements inside a definition (nested ones too), docstrings left out."""
    found = set()
    for statement in ast.walk(node):
        if statement is node or not isinstance(statement, ast.stmt):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        text = ast.unparse(statement)
        if len(text) > 25:  # short ones (`return x`) say nothing of the method
            found.add(text)
    return found


@pytest.fixture(scope="module")
def sealed_everything(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sealed")
    return sealing.write_library(folder, sealing.edition_messages(EVERY_REFERENCE))


def test_the_record_names_a_reference_for_most_exercises():
    exercises = [x for e in RECORD.values() for x in e["exercises"]]
    with_reference = [x for x in exercises if x["references"]]
    assert len(with_reference) >= 40, f"only {len(with_reference)} of {len(exercises)} exercises name a reference"
    for reference in EVERY_REFERENCE:
        module, _, name = reference.rpartition(".")
        assert hasattr(importlib.import_module(module), name), f"the record names {reference}, which does not exist"


def test_a_sealed_function_keeps_its_signature_and_raises_naming_the_exercise(sealed_everything):
    for reference, (assignment, answer) in EVERY_REFERENCE.items():
        module, _, name = reference.rpartition(".")
        path = sealed_everything / Path(*module.split(".")).with_suffix(".py")
        original = definition(ast.parse(inspect.getsource(importlib.import_module(module))), name)
        stub = definition(ast.parse(path.read_text(encoding="utf-8")), name)
        functions = [stub] if isinstance(stub, ast.FunctionDef) else [n for n in stub.body
                                                                      if isinstance(n, ast.FunctionDef)]
        for function in functions:
            rest = [s for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            assert len(rest) == 1 and isinstance(rest[0], ast.Raise), f"{reference}: the stub does more than raise"
            message = rest[0].exc.args[0].value
            assert sealing.exercise_label(answer) in message and assignment in message and reference in message
        if isinstance(original, ast.FunctionDef):
            assert ast.unparse(stub.args) == ast.unparse(original.args), f"{reference} lost its signature"


def test_no_statement_of_a_reference_survives_in_the_sealed_copy(sealed_everything):
    """Statements the library also holds outside every reference (argument checks shared with
    other functions) are not the method; any other statement of a reference's body is a leak."""
    copied = "\n".join(p.read_text(encoding="utf-8") for p in (sealed_everything / "dlcourse").rglob("*.py"))
    statements = {ast.unparse(s) for s in ast.walk(ast.parse(copied)) if isinstance(s, ast.stmt)}
    sealed_names = {r.rpartition(".")[::2] for r in EVERY_REFERENCE}
    elsewhere = set()
    for path in (ROOT / "lib" / "dlcourse").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT / "lib").with_suffix("").parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (module, getattr(node, "name", None)) not in sealed_names:
                elsewhere |= body_statements(node) | {ast.unparse(node)}
    for reference in EVERY_REFERENCE:
        module, _, name = reference.rpartition(".")
        original = definition(ast.parse(inspect.getsource(importlib.import_module(module))), name)
        leaked = (body_statements(original) & statements) - elsewhere
        assert not leaked, f"{reference}: the sealed copy still holds {sorted(leaked)[0]!r}"


def test_the_sealed_library_imports_and_every_reference_raises(sealed_everything):
    code = (
        "import importlib, inspect, sys\n"
        "from dlcourse.sealing import SealedReference\n"
        "import dlcourse\n"
        f"assert dlcourse.__file__.startswith({str(sealed_everything)!r}), dlcourse.__file__\n"
        f"for reference in {sorted(EVERY_REFERENCE)!r}:\n"
        "    module, _, name = reference.rpartition('.')\n"
        "    obj = getattr(importlib.import_module(module), name)\n"
        "    params = [] if isinstance(obj, type) else inspect.signature(obj).parameters.values()\n"
        "    args = [None for p in params if p.default is p.empty and p.kind <= p.POSITIONAL_OR_KEYWORD]\n"
        "    kwargs = {p.name: None for p in params if p.default is p.empty and p.kind == p.KEYWORD_ONLY}\n"
        "    try:\n"
        "        obj(*args, **kwargs)\n"
        "    except SealedReference as error:\n"
        "        assert reference in str(error)\n"
        "    else:\n"
        "        sys.exit(f'{reference} did not raise')\n"
        "import dlcourse.data, dlcourse.widgets, dlcourse.plot, dlcourse.doctor, dlcourse.check\n"
        "print('sealed ok')\n"
    )
    result = run_with_library(code, sealed_everything)
    assert result.returncode == 0 and "sealed ok" in result.stdout, result.stderr[-2000:]


def test_seal_source_keeps_every_other_line_and_drops_helpers_only_sealed_code_used():
    source = ('"""Doc."""\nfrom __future__ import annotations\n\nimport numpy as np  # why\n\n\n'
              "def _only_for_answer(x):\n    return x * 2\n\n\n"
              "def _shared(x):\n    return x + 1\n\n\n"
              "def answer(x, *, k=3):\n    \"\"\"What it does.\n\n    How it does it.\"\"\"\n"
              "    return _only_for_answer(x) + _shared(k)\n\n\n"
              "def other(x):\n    # a comment that stays\n    return _shared(x)\n")
    sealed = sealing.seal_source(source, {"answer": "answer is sealed"})
    assert "# a comment that stays" in sealed and "import numpy as np  # why" in sealed
    assert "_only_for_answer" not in sealed and "def _shared" in sealed
    assert "How it does it" not in sealed and "What it does." in sealed
    lines = sealed.splitlines()
    assert lines.index("from __future__ import annotations") < next(
        i for i, line in enumerate(lines) if "SealedReference" in line)
    namespace = {}
    exec(compile(sealed, "sealed", "exec"), namespace)  # noqa: S102 (the test's own source)
    with pytest.raises(sealing.SealedReference, match="answer is sealed"):
        namespace["answer"](1, k=2)
    assert namespace["other"](1) == 2
    assert sealing.seal_source(source, {"absent": "x"}) == source


def test_sealing_what_the_library_lacks_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no module dlcourse.np.nothing"):
        sealing.write_library(tmp_path, {"dlcourse.np.nothing.f": "m"})
    with pytest.raises(ValueError, match="defines no such function"):
        sealing.write_library(tmp_path, {"dlcourse.np.perceptron.not_there": "m"})


def test_the_warm_factory_refuses_to_preload_a_reference_module():
    server = ROOT / "autograde" / "kernel_factory_server.py"
    result = subprocess.run([sys.executable, "-P", str(server), "numpy", "dlcourse.np.perceptron"],
                            input="", capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "dlcourse.np.perceptron" in result.stdout


# The real body of the reference a student would copy, and the routes to it.
DISGUISES = """
import importlib, inspect, os, sys
from dlcourse.np import perceptron as np_perceptron
found = []
try:
    np_perceptron.perceptron_train(None, None, None)
except Exception as error:
    found.append(type(error).__name__)
found.append(MARKER in inspect.getsource(np_perceptron))
found.append(MARKER in open(np_perceptron.__file__).read())
found.append(MARKER in inspect.getsource(importlib.reload(np_perceptron)))
hits = []
for top in ("/usr", "/home", "/tmp", "/opt", "/root", "/srv", "/work", "/etc", sys.prefix, sys.base_prefix):
    for folder, _, files in os.walk(top):
        for name in files:
            path = os.path.join(folder, name)
            if "perceptron" in path or "dlcourse" in path or name.endswith(".ipynb"):
                try:
                    with open(path, "rb") as handle:
                        if MARKER.encode() in handle.read():
                            hits.append(path)
                except OSError:
                    pass
found.append(hits)
print(found)
"""


@pytest.mark.skipif(sandbox.unavailable_reason() is not None, reason="no sandbox here")
def test_a_sealed_kernel_cannot_reach_the_reference_by_any_route(tmp_path):
    """In the sandbox, with 01-perceptron sealed: calling the reference raises; its source, its
    file, a reload and a search of every file the kernel can read hold no line of its body."""
    from autograde.kernel import Kernel

    module = importlib.import_module("dlcourse.np.perceptron")
    original = definition(ast.parse(inspect.getsource(module)), "perceptron_train")
    marker = max(body_statements(original), key=len).splitlines()[0].strip()
    assert marker in inspect.getsource(module)  # the marker is a real line of the real file
    submission = tmp_path / "submission"
    submission.mkdir()
    os.chmod(tmp_path, 0o755)
    library = sealing.grading_library(RECORD, "01-perceptron")
    kernel = Kernel(submission, limits=sandbox.Limits(), use_sandbox=True, library=library)
    try:
        kernel.start()
        outputs, error = kernel.execute(f"MARKER = {marker!r}\n" + DISGUISES, seconds=240)
    finally:
        kernel.close()
    assert error is None, error
    printed = "".join(o.get("text", "") for o in outputs)
    assert printed.strip() == "['SealedReference', False, False, False, []]", printed


def test_grading_library_is_made_once_per_process_and_readable_by_all():
    first = sealing.grading_library(RECORD, "05-convolution")
    assert sealing.grading_library(RECORD, "05-convolution") == first
    assert sealing.grading_library(RECORD, "no-such-notebook") is None
    assert first.name.startswith(f"dlcourse-sealed-{os.getpid()}-05-convolution-")
    assert Path(tempfile.gettempdir()) == first.parent
    for path in [first, *first.rglob("*")]:
        assert path.stat().st_mode & 0o005 == (0o005 if path.is_dir() else 0o004)
