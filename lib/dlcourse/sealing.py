"""Sealed references: a copy of the library in which some graded references are stubs.

A *graded reference* is a library function (or class) that does an exercise's work, in either
twin: ``dlcourse.np.perceptron.perceptron_train`` and ``dlcourse.pt.perceptron.perceptron_train``
both answer 01-perceptron's Exercise 3. The release record (``assignments.json``, written by
``python -m autograde release``) lists them once, per exercise, under ``references``.

Two places need the library without them:

* **grading** (the station's sandboxed kernel, the known-mistakes harness, the doctor): the
  student's kernel imports a copy with the graded assignment's references sealed, so that an
  answer that hands the work to the library fails however it is disguised (an alias, a copied
  ``__code__``, ``exec`` of the source, ``importlib.reload``, reading the module's file): the
  code is not there to reach. The judge keeps the whole library for the hidden tests.
* **the student edition** (``python -m autograde publish``): the library students install, with
  the references of every assignment not yet revealed sealed.

A sealed function keeps its signature and the first paragraph of its docstring; its body raises
:class:`SealedReference` naming the exercise it answers. Private helpers that only sealed code
used go too, since they hold the method. Standard library only: the doctor runs on Colab.
"""

import ast
import hashlib
import re
import shutil
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# Where an answer's reference may live: the NumPy references, their torch twins, the engine.
REFERENCE_PACKAGES = ("dlcourse.np", "dlcourse.pt", "dlcourse.autograd")


class SealedReference(RuntimeError):
    """Raised by a sealed reference: the library's answer to an exercise is not available here."""


def exercise_label(answer_id: str) -> str:
    """'Exercise 3' for the answer cell ``ex3_train`` (the numbering of the notebook's headings)."""
    match = re.match(r"ex(\d+)", answer_id)
    return f"Exercise {int(match.group(1))}" if match else f"exercise {answer_id}"


def graded_references(record: dict, assignments) -> dict[str, tuple[str, str]]:
    """{qualified reference: (assignment, answer grade_id)} for the notebooks of ``assignments``
    in the release record ``record`` ({notebook stem: entry})."""
    wanted = set(assignments)
    found = {}
    for entry in record.values():
        if entry["assignment"] in wanted:
            for exercise in entry["exercises"]:
                for reference in exercise["references"]:
                    found[reference] = (entry["assignment"], exercise["answer"])
    return found


def grading_messages(references: dict[str, tuple[str, str]]) -> dict[str, str]:
    """{reference: message} for references sealed while their assignment is graded."""
    return {ref: (f"{ref} is sealed while {assignment} is graded: it is the library's answer to "
                  f"{exercise_label(answer)} ({answer}). Write your own in the notebook.")
            for ref, (assignment, answer) in references.items()}


def edition_messages(references: dict[str, tuple[str, str]]) -> dict[str, str]:
    """{reference: message} for references held back from the student edition."""
    return {ref: (f"{ref} is the library's answer to {exercise_label(answer)} of {assignment} ({answer}): "
                  "it arrives after the assignment's deadline. Write your own in the notebook.")
            for ref, (assignment, answer) in references.items()}


# ------------------------------------------------------------------ one module's source

def seal_source(source: str, messages: dict[str, str], *, used_elsewhere: frozenset = frozenset()) -> str:
    """The module ``source`` with its top-level functions and classes named in ``messages``
    ({name: message}) replaced by stubs that raise :class:`SealedReference` with the message,
    and its private helpers that nothing left uses removed (``used_elsewhere``: names other
    modules of the library use, which stay). Every other line is kept as it was, comments too."""
    tree = ast.parse(source)
    if not any(name in messages for name in _defined(tree.body)):
        return source
    stubs = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in messages:
            stubs[node.name] = _stub_function(node, messages[node.name])
        elif isinstance(node, ast.ClassDef) and node.name in messages:
            stubs[node.name] = _stub_class(node, messages[node.name])
    kept = _without_unused_helpers([stubs.get(getattr(node, "name", None), node) for node in tree.body],
                                   used_elsewhere)
    kept_names = set(_defined(kept))
    lines = source.splitlines()
    # splice from the bottom up so that earlier line numbers stay valid
    for node in reversed(tree.body):
        name = getattr(node, "name", None)
        if name not in stubs and (name in kept_names or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))):
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        lines[first:node.end_lineno] = ast.unparse(stubs[name]).splitlines() if name in stubs else []
    position = 0  # after the docstring and any __future__ import, which must come first
    for node in tree.body:
        if not (_is_docstring(node) and node is tree.body[0]
                or isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            break
        position = node.end_lineno
    lines.insert(position, "from dlcourse.sealing import SealedReference  # sealed copy: graded references are stubs")
    return "\n".join(lines) + "\n"


def _defined(body) -> list[str]:
    return [node.name for node in body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _is_docstring(node) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _summary(node) -> list:
    """The first paragraph of a definition's docstring, as a body statement ([] when none)."""
    doc = ast.get_docstring(node, clean=True)
    if not doc:
        return []
    return [ast.Expr(ast.Constant(doc.split("\n\n")[0].strip()))]


def _raise(message: str):
    return ast.Raise(exc=ast.Call(func=ast.Name("SealedReference", ast.Load()), args=[ast.Constant(message)],
                                  keywords=[]), cause=None)


def _stub_function(node, message: str):
    stub = type(node)(name=node.name, args=node.args, body=[*_summary(node), _raise(message)],
                      decorator_list=node.decorator_list, returns=node.returns, type_comment=None,
                      type_params=getattr(node, "type_params", []))
    return ast.copy_location(stub, node)


def _stub_class(node, message: str):
    methods = [_stub_function(item, message) for item in node.body
               if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not any(m.name == "__init__" for m in methods):
        init = ast.parse("def __init__(self, *args, **kwargs):\n    pass").body[0]
        methods.insert(0, _stub_function(init, message))
    stub = ast.ClassDef(name=node.name, bases=node.bases, keywords=node.keywords,
                        body=[*_summary(node), *methods], decorator_list=node.decorator_list,
                        type_params=getattr(node, "type_params", []))
    return ast.copy_location(stub, node)


def _without_unused_helpers(body: list, used_elsewhere: frozenset) -> list:
    """``body`` less its private top-level functions that nothing else in it (or elsewhere) uses."""
    while True:
        used = set()
        for node in body:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name):
                    used.add(inner.id)
                elif isinstance(inner, ast.Attribute):
                    used.add(inner.attr)
        unused = {node.name for node in body
                  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("_")
                  and not node.name.startswith("__") and node.name not in used and node.name not in used_elsewhere}
        # a helper's own recursion keeps it: only names used outside their definitions count
        if not unused:
            return body
        body = [node for node in body if not (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                                              and node.name in unused)]


# ------------------------------------------------------------------ the whole library

def _module_files(package: Path) -> dict[str, Path]:
    """{dotted module name: file} for the package's Python files."""
    files = {}
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    return files


def write_library(dest: Path, messages: dict[str, str], *, package: Path = PACKAGE) -> Path:
    """Copy the ``dlcourse`` package to ``dest``/dlcourse with the references in ``messages``
    ({qualified name: message}) sealed; returns ``dest`` (the folder to put on sys.path).
    A reference the library does not define is an error: the record and the library disagree."""
    dest = Path(dest)
    target = dest / package.name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    files = _module_files(package)
    by_module: dict[str, dict[str, str]] = {}
    for qualified, message in messages.items():
        module, _, name = qualified.rpartition(".")
        if module not in files:
            raise ValueError(f"cannot seal {qualified}: the library has no module {module}")
        by_module.setdefault(module, {})[name] = message
    sources = {module: path.read_text(encoding="utf-8") for module, path in files.items()}
    for module, names in by_module.items():
        missing = set(names) - set(_defined(ast.parse(sources[module]).body))
        if missing:
            raise ValueError(f"cannot seal {module}.{sorted(missing)[0]}: {module} defines no such function or class")
        elsewhere = frozenset(word for other, text in sources.items() if other != module
                              for word in re.findall(r"\b_\w+", text))
        sealed = seal_source(sources[module], names, used_elsewhere=elsewhere)
        (target / files[module].relative_to(package)).write_text(sealed, encoding="utf-8")
    return dest


_grading_copies: dict[tuple, Path] = {}


def grading_library(record: dict, notebook_stem: str) -> Path | None:
    """A folder holding the library with the graded references of the notebook ``notebook_stem``
    sealed (None when its release record lists none), made once per process and library state.
    Readable by every user (the sandbox's uid reads it); removed when the process ends (the pid in
    its name lets the station remove those of killed processes)."""
    entry = record.get(notebook_stem)
    if entry is None:
        return None
    messages = grading_messages(graded_references(record, [entry["assignment"]]))
    if not messages:
        return None
    state = hashlib.sha256()
    for path in _module_files(PACKAGE).values():
        state.update(path.read_bytes())
    key = (entry["assignment"], state.hexdigest())
    if key not in _grading_copies or not _grading_copies[key].is_dir():
        import atexit
        import os

        folder = Path(tempfile.mkdtemp(prefix=f"dlcourse-sealed-{os.getpid()}-{entry['assignment']}-"))
        atexit.register(shutil.rmtree, folder, True)
        write_library(folder, messages)
        for path in [folder, *folder.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        _grading_copies[key] = folder
    return _grading_copies[key]
