"""The student edition: ``python -m autograde publish DEST [--reveal ASSIGNMENT ...] [--repository URL]``.

It writes the repository students get, and only that:

* ``course/``: the released notebooks, their install cell pointing at URL;
* ``lib/dlcourse``: the course library, with the graded references of every assignment not
  revealed sealed (stubs that name the exercise they answer and say they arrive after its
  deadline, dlcourse.sealing), and so are the library functions those assignments' exercises
  forbid that no notebook uses (np.rnn.gru_step_forward is 06's GRU step); its release record
  without the known mistakes' names;
* the set-up files (requirements.txt, environment.yml, pyproject.toml with URL, postBuild,
  a Makefile with set-up, lab and doctor) and a README for students.

No ``solutions/``, no hidden test, no known mistake, no gradebook, no ``autograde/`` (the
instructor's configuration), no tests or benchmarks.

Publishing again into DEST updates it in place: the files of the last edition that are no longer
part of it go, everything else there (a ``.git`` folder, with its history) stays. Revealing is
cumulative (DEST/.edition.json remembers what was revealed), so the references are revealed
assignment by assignment after each deadline. An assignment whose notebook calls a graded
reference of an assignment not revealed is refused, naming both: its students could not run it.
"""

import ast
import copy
import json
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

import nbformat

from dlcourse import sealing
from dlcourse.grading import grade_id, nbgrader_metadata, source_sha256
from dlcourse.shortcuts import import_aliases, names_read

EDITION_RECORD = ".edition.json"  # in DEST: what the last publish wrote and revealed
SETUP_FILES = ("requirements.txt", "environment.yml", "postBuild")
GITIGNORE = ".venv/\n*.egg-info/\n__pycache__/\n.ipynb_checkpoints/\n"
INSTALL_CELL = "install"  # grade_id of the notebooks' first cell, which installs the library on Colab


class PublishError(Exception):
    """The edition cannot be written as asked (the message says why and what to do)."""


def repository_of(root: Path) -> str:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]["Repository"]


def publish(root: Path, dest: Path, *, reveal=(), repository: str | None = None, assignments=()) -> dict:
    """Write the student edition of the course at ``root`` into ``dest``; returns a summary
    {files, published, revealed, sealed, repository, removed}. ``assignments``: those to publish,
    added to the last edition's (default: every released one the first time). PublishError when
    it cannot."""
    root, dest = Path(root), Path(dest)
    record = json.loads((root / "lib" / "dlcourse" / "assignments.json").read_text(encoding="utf-8"))
    released = sorted({entry["assignment"] for entry in record.values()})
    for verb, asked in (("reveal", reveal), ("publish", assignments)):
        unknown = sorted(set(asked) - set(released))
        if unknown:
            raise PublishError(f"cannot {verb} {', '.join(unknown)}: the release holds {', '.join(released)}")
    if dest.resolve() == root.resolve() or root.resolve() in dest.resolve().parents:
        raise PublishError(f"{dest} is inside the course repository: publish the edition to a folder of its own")
    previous = read_edition(dest)
    revealed = sorted(set(previous.get("revealed", [])) | set(reveal))
    published = sorted(set(previous.get("published", [])) | set(assignments)) or released
    shown = {stem: entry for stem, entry in record.items() if entry["assignment"] in published}
    held = [a for a in released if a not in revealed]
    sealed = sealing.graded_references(record, held)
    old_url = repository_of(root)
    url = repository or previous.get("repository") or old_url
    reads = library_reads(root / "lib" / "dlcourse")
    check_references(root, shown, sealed, reads)
    for name, owner in held_back(root, record, shown, held, reads).items():
        sealed.setdefault(name, owner)  # a graded reference keeps the exercise it answers

    with tempfile.TemporaryDirectory(prefix="dlcourse-edition-") as scratch:
        staging = Path(scratch)
        sealing.write_library(staging / "lib", sealing.edition_messages(sealed), package=root / "lib" / "dlcourse")
        install_cells = write_notebooks(root, staging, old_url, url, published)
        (staging / "lib" / "dlcourse" / "assignments.json").write_text(
            edition_record(shown, install_cells), encoding="utf-8")
        for name in SETUP_FILES:
            shutil.copy2(root / name, staging / name)
        postbuild = staging / "postBuild"  # the edition holds no solutions/: its comment must not say so
        postbuild.write_text("\n".join(line for line in postbuild.read_text(encoding="utf-8").split("\n")
                                       if "solutions/" not in line), encoding="utf-8")
        (staging / "pyproject.toml").write_text(
            (root / "pyproject.toml").read_text(encoding="utf-8").replace(old_url, url), encoding="utf-8")
        (staging / "Makefile").write_text(MAKEFILE, encoding="utf-8")
        (staging / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        (staging / "README.md").write_text(student_readme(url, published, revealed), encoding="utf-8")
        prune_untracked(root, staging, ("course", "lib/dlcourse"))
        files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        removed = sync(staging, dest, files, previous.get("files", []))
    summary = {"files": files, "published": published, "revealed": revealed, "sealed": sorted(sealed),
               "repository": url, "removed": removed}
    kept = ("files", "published", "revealed", "repository")
    (dest / EDITION_RECORD).write_text(json.dumps({k: summary[k] for k in kept}, indent=1) + "\n", encoding="utf-8")
    return summary


def prune_untracked(root: Path, staging: Path, folders) -> None:
    """Leave out of the staged ``folders`` what git does not track in ``root`` (a scratch file in
    course/ or lib/ is no part of the edition); nothing to do where ``root`` is no git checkout.
    Files the edition writes itself (the sealed modules, the record) are tracked by their path."""
    import subprocess

    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", *folders], capture_output=True)
    if listed.returncode != 0:
        return
    tracked = set(listed.stdout.decode("utf-8").split("\0")) - {""}
    for folder in folders:
        for path in sorted((staging / folder).rglob("*"), reverse=True):
            name = str(path.relative_to(staging))
            if path.is_file() and name not in tracked:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def read_edition(dest: Path) -> dict:
    path = dest / EDITION_RECORD
    if not path.is_file():
        if dest.is_dir() and any(p.name != ".git" for p in dest.iterdir()):
            raise PublishError(f"{dest} holds files but no {EDITION_RECORD}: it is not an edition this command "
                               "wrote; publish into an empty folder or a previous edition")
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise PublishError(f"{path} is damaged ({error}): restore it from the edition's history") from None


def library_reads(package: Path) -> dict[str, set[str]]:
    """{qualified function or class of the library: the qualified names its code reads}, imports
    and the module's own top-level names resolved (``conv2d_forward`` reads dlcourse.np.conv.im2col).
    A function's parameters shadow the module's names, and defaults are not counted, in the
    signature or in the body (``if step is None: step = ...``, ``... if step is None else step``,
    ``step or ...``): a helper that takes an exercise's function as an argument reaches the
    reference only when a caller leaves it out, which the doctor's run finds, not this reading."""
    reads = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        aliases = import_aliases([source])
        own = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        aliases.update({name: f"{module}.{name}" for name in own if name not in aliases})
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dlcourse"):
                for alias in node.names:  # a re-export (dlcourse.autograd.Value is ...autograd.value.Value)
                    reads.setdefault(f"{module}.{alias.asname or alias.name}", set()).add(f"{node.module}.{alias.name}")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                reads[f"{module}.{node.name}"] = _function_reads(node, aliases)
            elif isinstance(node, ast.ClassDef):  # its methods read like functions, the rest as it is
                reads[f"{module}.{node.name}"] = set().union(set(), *(
                    _function_reads(item, aliases) if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    else names_read(ast.unparse(item), aliases) for item in node.body))
    return reads


def _function_reads(node, aliases: dict) -> set[str]:
    """What a function's body reads, its parameters shadowing the module's names and what it falls
    back on when a parameter is None left out."""
    arguments = node.args
    params = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                              arguments.vararg, arguments.kwarg] if a is not None}
    local = {name: path for name, path in aliases.items() if name not in params}
    body = [_WithoutDefaults(params).visit(statement) for statement in copy.deepcopy(node.body)]
    return set().union(set(), *(names_read(ast.unparse(statement), local)
                                for statement in body if statement is not None))


class _WithoutDefaults(ast.NodeTransformer):
    """A function's body less what it falls back on when a parameter is None: the default."""

    def __init__(self, params: set):
        self.params = params

    def _none_test(self, test) -> bool:  # `param is None`
        return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id in self.params
                and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)
                and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None)

    def visit_If(self, node):
        if self._none_test(node.test) and not node.orelse:
            return None
        return self.generic_visit(node)

    def visit_IfExp(self, node):
        return self.visit(node.orelse) if self._none_test(node.test) else self.generic_visit(node)

    def visit_BoolOp(self, node):
        first = node.values[0]
        if isinstance(node.op, ast.Or) and isinstance(first, ast.Name) and first.id in self.params:
            return first
        return self.generic_visit(node)


def names_reached(sources, reads: dict[str, set[str]], aliases: dict | None = None) -> dict[str, str | None]:
    """{qualified name: None where ``sources`` read it themselves, else the name they read whose
    library code reaches it}, through ``reads`` (library_reads); ``aliases``: the imports in
    force (default: those of ``sources``)."""
    sources = list(sources)
    aliases = import_aliases(sources) if aliases is None else aliases
    reached = dict.fromkeys(set().union(set(), *(names_read(source, aliases) for source in sources)))
    frontier = [(name, name) for name in reached]
    while frontier:
        name, through = frontier.pop()
        for read in reads.get(name, ()):
            if read not in reached:
                reached[read] = through
                frontier.append((read, through))
    return reached


def held_back(root: Path, record: dict, shown: dict, assignments, reads: dict) -> dict[str, tuple[str, str]]:
    """{library function: (assignment, answer)} for what ``assignments``' exercises forbid of the
    library (a function that does an exercise's work without being its graded reference, such
    as np.rnn.gru_step_forward for 06's GRU step) and that no released notebook reaches: the
    edition holds it back with the references. What a published notebook (``shown``) uses stays
    (a forward that a check differentiates through)."""
    defined = set(reads)
    reached = set()
    for entry in shown.values():
        notebook = nbformat.read(root / entry["path"], as_version=4)
        reached |= set(names_reached([c.source for c in notebook.cells if c.cell_type == "code"], reads))
    wanted = set(assignments)
    return {name: (entry["assignment"], exercise["answer"])
            for entry in record.values() if entry["assignment"] in wanted
            for exercise in entry["exercises"] for name in exercise["forbidden"]
            if name in defined and name not in reached}


def check_references(root: Path, record: dict, sealed: dict, reads: dict) -> None:
    """Refuse an edition whose notebooks call a reference it seals (of another assignment, not
    revealed), directly or through library code that calls it: its students would meet a stub
    where the notebook expects working code."""
    from dlcourse.grading import ANSWER, cell_kind

    problems = []
    for entry in record.values():
        notebook = nbformat.read(root / entry["path"], as_version=4)
        sources = [c.source for c in notebook.cells if c.cell_type == "code"]
        # what students are to write counts too: the solution's answers (an answer that builds on
        # an earlier assignment's layer, like 04's residual block on 03's affine_backward)
        solution = root / "solutions" / entry["assignment"] / entry["notebook"]
        answers = ([c.source for c in nbformat.read(solution, as_version=4).cells if cell_kind(c) == ANSWER]
                   if solution.is_file() else [])
        reached = names_reached(sources, reads)
        from_answers = names_reached(answers, reads, import_aliases(sources + answers))
        for reference in sorted((set(reached) | set(from_answers)) & set(sealed)):
            owner, answer = sealed[reference]
            if owner != entry["assignment"]:
                through = reached.get(reference, from_answers.get(reference))
                how = f"calls {through}, which calls {reference}" if through else f"calls {reference}"
                who = entry["assignment"] if reference in reached else f"{entry['assignment']}'s solution"
                problems.append(f"{who} {how}, the answer to "
                                f"{sealing.exercise_label(answer)} of {owner}, which is not revealed")
    if problems:
        raise PublishError("; ".join(problems) + ": reveal those assignments (--reveal) or publish after their "
                           "deadlines")


def write_notebooks(root: Path, staging: Path, old_url: str, url: str, published) -> dict[str, dict]:
    """course/<assignment> of the ``published`` ones into ``staging``, each install cell pointing
    at ``url``; returns {notebook stem: the install cell's new {sha256, checksum}} for the record."""
    from nbgrader.utils import compute_checksum

    changed = {}
    for path in sorted((root / "course").rglob("*")):
        if not path.is_file() or ".ipynb_checkpoints" in path.parts or path.relative_to(root / "course").parts[0] \
                not in published:
            continue
        target = staging / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix != ".ipynb":
            shutil.copy2(path, target)
            continue
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if grade_id(cell) == INSTALL_CELL and old_url in cell.source:
                cell.source = cell.source.replace(old_url, url)
                nbgrader_metadata(cell)["checksum"] = compute_checksum(cell)
                changed[path.stem] = {"sha256": source_sha256(cell.source),
                                      "checksum": nbgrader_metadata(cell)["checksum"]}
        nbformat.write(notebook, target)
    return changed


def edition_record(record: dict, install_cells: dict) -> str:
    """The release record as students get it: the install cells as rewritten, no known mistakes."""
    from .manifest import manifest_text

    edition = json.loads(json.dumps(record))
    for stem, entry in edition.items():
        for exercise in entry["exercises"]:
            exercise.pop("known_mistakes", None)
        for cell in entry["cells"]:
            if cell["grade_id"] == INSTALL_CELL and stem in install_cells:
                cell.update(install_cells[stem])
    return manifest_text(edition)


def sync(staging: Path, dest: Path, files: list[str], previous_files: list[str]) -> list[str]:
    """Copy the staged edition over ``dest``: changed files rewritten, files of the previous
    edition that are gone removed (only inside ``dest``), anything else in ``dest`` left alone."""
    for name in previous_files:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise PublishError(f"{dest / EDITION_RECORD} lists {name!r}, which is not a file of the edition's "
                               "folder: the record was edited; restore it from the edition's history")
    dest.mkdir(parents=True, exist_ok=True)
    for name in files:
        source, target = staging / name, dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_bytes() != source.read_bytes():
            shutil.copy2(source, target)
    removed = sorted(set(previous_files) - set(files))
    for name in removed:
        target = dest / name
        if Path(name).is_absolute() or ".." in Path(name).parts or dest.resolve() not in target.resolve().parents:
            raise PublishError(f"{dest / EDITION_RECORD} lists {name!r}, which is not a file of the edition's "
                               "folder: the record was edited; restore it from the edition's history")
        if target.is_file():
            target.unlink()
        for folder in target.parents:  # folders left empty go too
            if folder == dest or any(folder.iterdir()):
                break
            folder.rmdir()
    return removed


MAKEFILE = """\
# Set-up and JupyterLab for the course (python3 with venv; Debian/Ubuntu: apt-get install python3-venv make).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dlcourse-installed

.PHONY: setup lab doctor

setup: $(STAMP)

# PyTorch first, on its own: resolved with the rest it can pull a multi-GB CUDA build
$(STAMP): requirements.txt pyproject.toml
\tpython3 -m venv $(VENV)
\t$(PY) -m pip install --quiet --upgrade pip
\t$(PY) -m pip install --quiet "$$(grep -E '^torch==' requirements.txt)"
\t$(PY) -m pip install --quiet -r requirements.txt
\t$(PY) -m pip install --quiet --no-deps -e .
\t@touch $(STAMP)

lab: setup
\t$(VENV)/bin/jupyter lab course

# make doctor NOTEBOOK=course/01-perceptron/01-perceptron.ipynb
doctor: setup
\t$(PY) -m dlcourse doctor $(NOTEBOOK)
"""


def github_path(url: str) -> str | None:
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", url)
    return match.group(1) if match else None


def student_readme(url: str, assignments: list[str], revealed: list[str]) -> str:
    first = assignments[0] if assignments else "01-perceptron"
    github = github_path(url)
    if github:
        online = (f"- **Binder**: [open the course on Binder](https://mybinder.org/v2/gh/{github}/HEAD?urlpath=lab/tree/course)"
                  " (the first start builds the environment for several minutes; download your notebook before you"
                  " close the tab).\n"
                  f"- **Colab**: [{first} on Colab](https://colab.research.google.com/github/{github}/blob/main/course/"
                  f"{first}/{first}.ipynb) (change the folder and file name for the others). The first cell installs "
                  "the course library; run `!python -m dlcourse doctor PATH` in a cell to check a saved notebook.\n")
    else:
        online = (f"- Binder and Colab open notebooks from a GitHub repository; this edition's repository is {url}.\n")
    held_back = [a for a in assignments if a not in revealed]
    library = ("The library's own versions of the exercises' functions arrive after each assignment's deadline: "
               "until then, calling one says which exercise it answers. "
               + (f"Revealed so far: {', '.join(revealed)}." if revealed else "None is revealed yet.")
               if held_back else "The library's versions of every exercise are included.")
    return f"""# Deep learning, as notebooks you run

The notebooks are in `course/`, one folder per assignment ({', '.join(assignments)}). Each one
teaches an idea from the ground up, has exercises you write yourself, checks you can run, and
a written question. Everything runs on a laptop CPU and uses a GPU when there is one; nothing
downloads while you work.

## Set up (once)

On Linux or macOS with Python 3.11 or newer and `make`:

```bash
make lab
```

It makes a virtual environment in `.venv/`, installs the pinned packages (PyTorch first) and
the course library, and opens JupyterLab in `course/`. Without `make`: create and activate a
virtual environment, then `pip install "$(grep '^torch==' requirements.txt)" && pip install -r requirements.txt -e .`.

## Work through an assignment

Open its notebook and run the cells from the top. Fill in every cell that says
`# YOUR CODE HERE` (delete the `raise NotImplementedError()` line) and every `YOUR ANSWER HERE`.
After each exercise run its check cell: a failing check names what is wrong and gives a hint.
Hidden checks of the same kind run when your work is graded. Later cells use your own
functions; while an exercise is unfinished they stop with one line that names it.

{library}

## Before you hand in: the doctor

```bash
make doctor NOTEBOOK=course/{first}/{first}.ipynb
```

It runs a copy of your notebook as grading will (a fresh kernel, every cell once from the top,
quick mode, the grader's time limits) and reports cells that fail, cells run out of order,
check cells you changed, unanswered exercises, calls an exercise does not allow, and a score
estimated from the visible checks. Your file is not changed.

## Hand in

Save the notebook and upload the `.ipynb` file as your instructor asks (usually on the course's
learning platform), under its own name.

## Online, with nothing installed

{online}"""
