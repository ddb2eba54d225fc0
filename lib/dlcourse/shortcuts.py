"""Shortcut checks: what an exercise's answer may not call, read from the submitted source.

Where one library call would do an exercise's whole job (``torch.nn.functional.conv2d`` for a
NumPy convolution, ``torch.autograd`` for a hand-written backward), the exercise declares it in
``solutions/exercises.toml``; the release record (``assignments.json``) carries each exercise's
``forbidden`` list, to which its own graded references are added. The grading station's judge
parses the submitted file's cells with :mod:`ast` in its own process (never what the student's
kernel reports), and the doctor runs the same check before hand-in.

What an exercise's answer is: its answer cell, and the cells the student added (cells that are
not in the release) that it uses by name or that (re)define its functions. In those:

* a **forbidden call**: a name or attribute chain that resolves, through the notebook's imports
  (``import torch.nn.functional as F`` makes ``F.conv2d`` ``torch.nn.functional.conv2d``), to a
  forbidden entry or something inside it; an entry starting with "." forbids that method on
  anything (``.backward``);
* **dynamic code**, which could hide a forbidden call: ``exec``, ``eval``, ``compile``,
  ``__import__``, ``getattr`` with a computed name (or passed around), ``sys.modules``, the
  code-object dunders (``__code__``, ``__globals__``, ...) and the modules that find or load code
  by name or from data (``importlib``, ``inspect``, ``operator``, ``marshal``, ``pickle``,
  ``base64``, ...).

A check of the source cannot see every route to a function (Python has many); for an
exercise's graded references the guarantee is sealing (dlcourse.sealing: the code is not in
the kernel at all), and this check gives the clear message and the doctor's warning. Functions
that are only forbidden, not sealed, rest on this check alone.

Each finding costs its exercise's points once, with a message naming the call and its line.
NumPy itself is never forbidden: einsum, stride tricks, ``np.add.at``, loops or vectorised code
all keep their marks. Standard library only: the doctor runs on Colab.
"""

import ast
from dataclasses import dataclass

DYNAMIC_CALLS = ("exec", "eval", "compile", "__import__", "globals", "vars", "locals")
DYNAMIC_MODULES = ("importlib", "marshal", "pickle", "dill", "cloudpickle", "base64", "codecs", "zlib", "ctypes",
                   "types", "runpy", "imp", "pkgutil", "builtins", "subprocess", "os.system", "inspect", "operator",
                   "pydoc")
DYNAMIC = "dynamic code, which could hide a forbidden call"
BY_NAME = ("getattr", "setattr", "delattr", "hasattr")  # a computed name could be anything
DYNAMIC_ATTRIBUTES = ("__code__", "__globals__", "__builtins__", "__dict__", "__subclasses__", "__getattribute__",
                      "__loader__", "__spec__", "__closure__", "__reduce__", "__import__", "f_globals", "f_locals",
                      "co_code")


@dataclass(frozen=True)
class Shortcut:
    exercise: str      # the answer cell's grade_id
    line: int          # line in its cell
    cell: str          # "the answer cell" or "cell 12, which you added or changed"
    what: str          # the call, as resolved

    def message(self) -> str:
        return (f"{self.cell}, line {self.line}, {self.what}: this exercise asks you to write that part "
                "yourself, so its tests are not run and give no points")


def _parse(source: str):
    lines = [line for line in source.split("\n") if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def import_aliases(sources) -> dict[str, str]:
    """{bound name: dotted path} for the imports in ``sources`` (the notebook's code cells)."""
    aliases = {}
    for source in sources:
        tree = _parse(source)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        aliases[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _dotted(node, aliases: dict) -> str | None:
    """The dotted path an attribute chain or name stands for (its imports resolved), or None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def names_read(source: str, aliases: dict) -> set[str]:
    """Every dotted name ``source`` reads or imports, its imports resolved through ``aliases``
    (``np_perceptron.perceptron_train`` -> ``dlcourse.np.perceptron.perceptron_train``), with
    each of its prefixes; empty for a source that does not parse."""
    tree = _parse(source)
    if tree is None:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)):
            path = _dotted(node, aliases)
            if path:
                found.add(path)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _root(node) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _matches(path: str, entry: str) -> bool:
    return path == entry or path.startswith(entry + ".")


def _findings_in(tree, aliases: dict, forbidden: list[str]) -> list[tuple[int, str]]:
    """(line, what) for each forbidden call or piece of dynamic code in ``tree``."""
    found = []
    methods = [e[1:] for e in forbidden if e.startswith(".")]
    modules = [e for e in forbidden if not e.startswith(".")]
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [f"{node.module}.{a.name}" for a in node.names] if node.module and not node.level else [])
            for name in names:
                if any(_matches(name, m) for m in (*modules, *DYNAMIC_MODULES)):
                    found.append((line, f"imports {name}"))
        elif isinstance(node, ast.Attribute) and node.attr in DYNAMIC_ATTRIBUTES:
            found.append((line, f"uses {node.attr} ({DYNAMIC})"))
        elif isinstance(node, ast.Attribute) and not isinstance(getattr(node, "parent", None), ast.Attribute):
            path = _dotted(node, aliases)
            if path and any(_matches(path, m) for m in modules):
                found.append((line, f"uses {path}"))
            elif path and any(_matches(path, m) for m in DYNAMIC_MODULES) or path == "sys.modules":
                found.append((line, f"uses {path} ({DYNAMIC})"))
            elif node.attr in methods and _root(node) not in aliases:  # a method, not a module's function
                found.append((line, f"calls .{node.attr}()"))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and not isinstance(
                getattr(node, "parent", None), ast.Attribute):
            path = aliases.get(node.id, node.id)
            parent = getattr(node, "parent", None)
            if node.id in BY_NAME and not (isinstance(parent, ast.Call) and parent.func is node):
                found.append((line, f"passes {node.id} around ({DYNAMIC})"))  # reduce(getattr, names, module)
            elif node.id in DYNAMIC_CALLS or node.id in DYNAMIC_ATTRIBUTES:
                found.append((line, f"uses {node.id} ({DYNAMIC})"))
            elif node.id in aliases and any(_matches(path, m) for m in modules):
                found.append((line, f"uses {path}"))
            elif node.id in aliases and any(_matches(path, m) for m in DYNAMIC_MODULES):
                found.append((line, f"uses {path} ({DYNAMIC})"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BY_NAME:
            name = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                found.append((line, f"calls {node.func.id} with a computed name ({DYNAMIC})"))
            else:
                path = _dotted(ast.Attribute(value=node.args[0], attr=name.value, ctx=ast.Load()), aliases)
                if path and any(_matches(path, m) for m in modules):
                    found.append((line, f"uses {path}"))
                elif name.value in DYNAMIC_ATTRIBUTES:
                    found.append((line, f"uses {name.value} ({DYNAMIC})"))
    return sorted(set(found))


def _link_parents(tree) -> None:
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child.parent = node


def _names(tree, *, defined: bool) -> set[str]:
    """The names a cell defines at its top level (defined=True) or reads anywhere."""
    if defined:
        found = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found |= {(a.asname or a.name).split(".")[0] for a in node.names}
        return found
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def find_shortcuts(cells, exercises: list[dict], released_ids: set, released_code: set = frozenset()) -> list[Shortcut]:
    """The shortcuts in a submitted notebook's ``cells`` (nbformat cells), for the release
    record's ``exercises`` (each with ``answer``, ``functions``, ``references`` and ``forbidden``).
    ``released_ids``: the grade_ids of the release's cells; ``released_code``: the sha256 of its
    other code cells' sources (dlcourse.grading.source_sha256). A code cell that is neither is one
    the student added or changed. Cells that do not parse are left to grading (they fail when run)."""
    from dlcourse.grading import grade_id, source_sha256

    code = [(n, c) for n, c in enumerate(cells, 1) if c.get("cell_type") == "code"]
    aliases = import_aliases(c.get("source", "") for _, c in code)
    answers, added = {}, []
    for number, cell in code:
        gid, tree = grade_id(cell), _parse(cell.get("source", ""))
        if tree is None:
            continue
        _link_parents(tree)
        if gid is not None and gid in released_ids:
            answers.setdefault(gid, tree)
        elif source_sha256(cell.get("source", "")) not in released_code:
            added.append((f"cell {number}, which you added or changed", tree))
    shortcuts = []
    for exercise in exercises:
        tree = answers.get(exercise["answer"])
        if tree is None:
            continue
        forbidden = list(dict.fromkeys([*exercise.get("forbidden", []), *exercise.get("references", [])]))
        checked = [("the answer cell", tree)]
        wanted = _names(tree, defined=False) | set(exercise.get("functions", []))
        grown = True
        while grown:  # the added cells the answer reaches, and the cells those reach
            grown = False
            for where, other in added:
                if all(other is not t for _, t in checked) and _names(other, defined=True) & wanted:
                    checked.append((where, other))
                    wanted |= _names(other, defined=False)
                    grown = True
        for where, checked_tree in checked:
            for line, what in _findings_in(checked_tree, aliases, forbidden):
                shortcuts.append(Shortcut(exercise["answer"], line, where, what))
    return shortcuts


def failed_tests(cells, record: dict) -> dict[str, str]:
    """{test grade_id: "Shortcut: ..."} for the test cells that lose their points to a shortcut in
    the submitted ``cells``, by the release record's entry ``record`` of the notebook: every test
    of an exercise with a finding (its first finding's message), so that a shortcut costs that
    exercise's points once, and nothing else. The judge and the doctor both ask this."""
    found = find_shortcuts(cells, record["exercises"], {c["grade_id"] for c in record["cells"]},
                           set(record.get("code_sha256", ())))
    tests = {e["answer"]: e["visible_tests"] + e["hidden_tests"] for e in record["exercises"]}
    failed = {}
    for shortcut in found:
        for test in tests.get(shortcut.exercise, []):
            failed.setdefault(test, f"Shortcut: {shortcut.message()}")
    return failed
