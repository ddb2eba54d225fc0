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
import functools
from dataclasses import dataclass

DYNAMIC_CALLS = ("exec", "eval", "compile", "__import__", "globals", "vars", "locals")
DYNAMIC_MODULES = ("importlib", "marshal", "pickle", "dill", "cloudpickle", "base64", "codecs", "zlib", "ctypes",
                   "types.FunctionType", "types.CodeType", "types.ModuleType", "types.MethodType", "types.LambdaType",
                   "runpy", "imp", "pkgutil", "builtins", "subprocess", "os.system", "inspect",
                   "operator.attrgetter", "operator.methodcaller", "pydoc", "gc.get_referents")
# IPython's own calls for magics whose argument is code to run: that code is checked as well
CODE_MAGICS = ("time", "timeit", "prun", "capture", "debug")
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
    """The cell's syntax tree, its IPython syntax (``%time ...``, ``x = !ls``) turned into the calls
    IPython runs (``get_ipython().run_line_magic(...)``), as the kernel does; None when it does not
    parse (it then fails when run, and its tests with it). A fresh tree each time: callers link
    parents into it."""
    code = _python_code(source)
    if code is None:
        return None
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


@functools.lru_cache(maxsize=4096)
def _python_code(source: str) -> str | None:
    """``source`` as the Python IPython runs for it; None when IPython cannot read it. Cached: the
    transformation costs milliseconds, and a grader asks it of the same cells again and again."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # a bare Python: magics and shell lines left out
        return "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 (IPython could not read it either)
        return None


def import_aliases(sources) -> dict[str, str]:
    """{bound name: dotted path} for the imports in ``sources`` (the notebook's code cells)."""
    aliases = {}
    for source in sources:
        aliases.update(_source_aliases(source))
    return aliases


@functools.lru_cache(maxsize=4096)
def _source_aliases(source: str) -> tuple[tuple[str, str], ...]:
    """import_aliases of one cell, in the order its imports bind (cached, as _python_code is)."""
    aliases, tree = [], _parse(source)
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases.append((alias.asname, alias.name))
                else:
                    top = alias.name.split(".")[0]
                    aliases.append((top, top))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            aliases += [(alias.asname or alias.name, f"{node.module}.{alias.name}") for alias in node.names]
    return tuple(aliases)


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


def _findings_in(tree, aliases: dict, forbidden: list[str], bound: set = frozenset()) -> list[tuple[int, str]]:
    """(line, what) for each forbidden call or piece of dynamic code in ``tree``; ``bound``: the
    notebook's own names, which are not the builtins they may shadow."""
    found = []
    methods = [e[1:] for e in forbidden if e.startswith(".")]
    modules = [e for e in forbidden if not e.startswith(".")]

    def check_path(line, path, node):
        """A name or attribute chain read as a whole (not the start of a longer chain)."""
        if any(_matches(path, m) for m in modules):
            found.append((line, f"uses {path}"))
        elif any(_matches(path, m) for m in DYNAMIC_MODULES) or path == "sys.modules":
            found.append((line, f"uses {path} ({DYNAMIC})"))
        elif any(m.startswith(path + ".") for m in modules):
            # the module that holds a forbidden function, handed around (m = np_rnn; m.rnn_step_forward(...))
            found.append((line, f"uses the module {path}, which holds what this exercise forbids, as a value"))
        elif isinstance(node, ast.Attribute) and node.attr in methods and not _is_module(path.rpartition(".")[0]):
            found.append((line, f"calls .{node.attr}()"))  # a method of an object, not a module's function

    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        parent = getattr(node, "parent", None)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                found.append((line, f"imports * from {node.module} (hides what is called; {DYNAMIC})"))
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [f"{node.module}.{a.name}" for a in node.names] if node.module and not node.level else [])
            for name in names:
                if any(_matches(name, m) for m in (*modules, *DYNAMIC_MODULES)):
                    found.append((line, f"imports {name}"))
        elif isinstance(node, ast.Attribute) and node.attr in DYNAMIC_ATTRIBUTES:
            found.append((line, f"uses {node.attr} ({DYNAMIC})"))
        elif isinstance(node, ast.Attribute) and not isinstance(parent, ast.Attribute):
            path = _dotted(node, aliases)
            if path:
                check_path(line, path, node)
            elif node.attr in methods:  # on a call's result or a subscript: an object's method
                found.append((line, f"calls .{node.attr}()"))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and not isinstance(parent, ast.Attribute):
            if node.id in bound and node.id not in aliases:
                continue  # the student's own name, whatever builtin it shadows
            if node.id in BY_NAME and not (isinstance(parent, ast.Call) and parent.func is node):
                found.append((line, f"passes {node.id} around ({DYNAMIC})"))  # reduce(getattr, names, module)
            elif node.id in DYNAMIC_CALLS or node.id in DYNAMIC_ATTRIBUTES or node.id == "get_ipython" and not (
                    _magic_call(_up(node, 3)) is not None):  # get_ipython().run_line_magic(...): a magic, read below
                found.append((line, f"uses {node.id} ({DYNAMIC})"))
            elif node.id in aliases:
                check_path(line, aliases[node.id], node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BY_NAME:
            name = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                found.append((line, f"calls {node.func.id} with a computed name ({DYNAMIC})"))
            elif name.value in DYNAMIC_ATTRIBUTES:
                found.append((line, f"uses {name.value} ({DYNAMIC})"))
            else:
                chain = ast.Attribute(value=node.args[0], attr=name.value, ctx=ast.Load())
                path = _dotted(chain, aliases)
                if path:
                    check_path(line, path, chain)
                elif name.value in methods:
                    found.append((line, f"calls .{name.value}()"))
        if isinstance(node, ast.Call) and _magic_call(node) is not None:
            magic, code = _magic_call(node)
            inner = _parse(code) if magic in CODE_MAGICS else None
            if inner is None:
                what = (f"runs %{magic}" if not magic.startswith("get_ipython") else "runs a shell command"
                        if magic.endswith((".system", ".getoutput")) else f"calls {magic}")
                found.append((line, f"{what} ({DYNAMIC})"))
            else:
                _link_parents(inner)
                found += [(line, what) for _, what in _findings_in(inner, aliases, forbidden, bound)]
    return sorted(set(found))


def _up(node, levels: int):
    for _ in range(levels):
        node = getattr(node, "parent", None)
    return node


def _magic_call(node):
    """(magic, its code) for the call IPython makes of a magic or shell line
    (``get_ipython().run_line_magic('time', 'f(x)')``, ``...run_cell_magic('timeit', '', body)``,
    ``...system('ls')``); None for anything else."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "get_ipython"):
        return None
    texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if node.func.attr == "run_line_magic" and len(texts) == 2:
        return texts[0], texts[1]
    if node.func.attr == "run_cell_magic" and len(texts) == 3:
        return texts[0], texts[1] + "\n" + texts[2]
    return f"get_ipython().{node.func.attr}", ""


@functools.lru_cache(maxsize=4096)
def _source_bound(source: str) -> frozenset[str] | None:
    """_bound of a cell's tree, None for a cell that does not parse (cached)."""
    tree = _parse(source)
    return None if tree is None else frozenset(_bound(tree))


def _bound(tree) -> set[str]:
    """Every name a cell binds anywhere: assignments, parameters, definitions, imports, loop and
    comprehension targets (they shadow builtins and modules of the same name)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return found


def _is_module(path: str) -> bool:
    """Whether ``path`` names a module, asked of Python's import system without importing
    anything new (a name whose parent package is not loaded counts as no module)."""
    import importlib.util
    import sys

    if path in sys.modules:
        return True
    parent = path.rpartition(".")[0]
    if parent and parent not in sys.modules:
        return False
    try:
        return importlib.util.find_spec(path) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _link_parents(tree) -> None:
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child.parent = node


def _defined(tree) -> set[str]:
    """The names a cell binds in the notebook's namespace: at its top level, including inside
    top-level loops, ``with`` and ``if`` blocks, not inside its functions and classes."""
    found, stack = set(), list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= {(a.asname or a.name).split(".")[0] for a in node.names}
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                stack.append(child)
            else:
                found |= {n.id for n in ast.walk(child) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return found


def _free(tree) -> set[str]:
    """The names a cell reads that it does not bind itself (parameters and locals left out):
    what it takes from the rest of the notebook."""
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loaded - _bound(tree)


def find_shortcuts(cells, exercises: list[dict], released: dict, released_code: set = frozenset()) -> list[Shortcut]:
    """The shortcuts in a submitted notebook's ``cells`` (nbformat cells), for the release
    record's ``exercises`` (each with ``answer``, ``functions``, ``references`` and ``forbidden``).
    ``released``: {grade_id: (kind, sha256)} of the release's graded cells (the record's
    ``cells``); ``released_code``: the sha256 of its other code cells' sources
    (dlcourse.grading.source_sha256). An answer cell is the first cell with its grade_id; a setup
    cell as released and the test cells (grading runs the released ones) are not the student's;
    every other code cell (added, changed, or a second copy of a graded cell) is one the student
    wrote. Cells that do not parse are left to grading (they fail when run)."""
    from dlcourse.grading import grade_id, source_sha256

    code = [(n, c) for n, c in enumerate(cells, 1) if c.get("cell_type") == "code"]
    aliases = import_aliases(c.get("source", "") for _, c in code)
    answers, added, bound = {}, [], set()
    def linked_tree(source):
        tree = _parse(source)
        _link_parents(tree)
        return tree

    for number, cell in code:
        gid, source = grade_id(cell), cell.get("source", "")
        kind, sha = released.get(gid, (None, None))
        names = _source_bound(source)
        if names is None or kind == "test":
            continue
        bound |= names
        if kind == "answer" and gid not in answers:
            answers[gid] = linked_tree(source)
        elif not ((kind is not None and kind != "answer" and source_sha256(source) == sha)
                  or (gid is None and source_sha256(source) in released_code)):
            added.append((f"cell {number}, which you added or changed", linked_tree(source)))
    shortcuts = []
    for exercise in exercises:
        tree = answers.get(exercise["answer"])
        if tree is None:
            continue
        forbidden = list(dict.fromkeys([*exercise.get("forbidden", []), *exercise.get("references", [])]))
        checked = [("the answer cell", tree)]
        wanted = _free(tree) | set(exercise.get("functions", []))
        grown = True
        while grown:  # the added cells the answer reaches, and the cells those reach
            grown = False
            for where, other in added:
                if all(other is not t for _, t in checked) and _defined(other) & wanted:
                    checked.append((where, other))
                    wanted |= _free(other)
                    grown = True
        for where, checked_tree in checked:
            for line, what in _findings_in(checked_tree, aliases, forbidden, bound):
                shortcuts.append(Shortcut(exercise["answer"], line, where, what))
    return shortcuts


def released_cells(record: dict) -> dict[str, tuple[str, str]]:
    """{grade_id: (kind, sha256)} of a release record entry's graded cells, for find_shortcuts."""
    return {c["grade_id"]: (c["kind"], c.get("sha256")) for c in record["cells"]}


def failed_tests(cells, record: dict) -> dict[str, str]:
    """{test grade_id: "Shortcut: ..."} for the test cells that lose their points to a shortcut in
    the submitted ``cells``, by the release record's entry ``record`` of the notebook: every test
    of an exercise with a finding (its first finding's message), so that a shortcut costs that
    exercise's points once, and nothing else. The judge and the doctor both ask this."""
    found = find_shortcuts(cells, record["exercises"], released_cells(record), set(record.get("code_sha256", ())))
    tests = {e["answer"]: e["visible_tests"] + e["hidden_tests"] for e in record["exercises"]}
    failed = {}
    for shortcut in found:
        for test in tests.get(shortcut.exercise, []):
            failed.setdefault(test, f"Shortcut: {shortcut.message()}")
    return failed
