"""The release record, ``lib/dlcourse/assignments.json``: what a release holds, and where each
exercise's pieces live.

For every released notebook:
* ``cells``: its nbgrader cells in order (grade_id, kind, points, the checksum nbgrader stored
  at release, the released source's sha256; for test cells their released source and whether
  hidden tests follow). ``python -m dlcourse doctor`` compares a student's notebook with them,
  and runs a released test in place of an edited or deleted one, as the grader does; the record
  ships inside the dlcourse package, so this works where there is no course/ folder (Colab).
* ``exercises``: the exercise map. For each answer cell: the names it defines, the library
  functions that answer it (``dlcourse.np.perceptron.perceptron_train``: its graded references), its
  visible and hidden test cells and the names of its known mistakes (tests/known_mistakes/),
  so that "where are the reference, the tests and the mistakes of this exercise" is one look-up;
  and what its answer may not call (``forbidden``, checked on the submitted source by
  dlcourse.shortcuts). References and forbidden calls are declared in solutions/exercises.toml.
* ``code_sha256``: the released code cells that are not graded, so that a cell a student added
  or changed can be told apart.
* ``time_limits``: each cell's time limit, fitted to the solution's stored run
  (``dlcourse.grading.TimeLimits``): the doctor stops a cell where grading would.

``python -m autograde release`` rewrites it; tests/test_release.py keeps it in step with course/.
"""

import importlib
import json
import pkgutil
from functools import cache
from pathlib import Path

from dlcourse.grading import (
    TEST,
    TimeLimits,
    answer_names,
    cell_kind,
    exercise_tests,
    has_hidden_tests,
    nbgrader_metadata,
    source_sha256,
)
from dlcourse.sealing import REFERENCE_PACKAGES

ROOT = Path(__file__).resolve().parent.parent
# Per exercise, the library functions that answer it and the calls its answer may not make,
# beside the notebooks in solutions/
EXERCISES = "exercises.toml"
MANIFEST = ROOT / "lib" / "dlcourse" / "assignments.json"


def build_manifest(course_dir: Path) -> dict:
    """{notebook stem: {assignment, notebook, path, cells, exercises}} for course/<assignment>/*.ipynb,
    with solutions/ beside course/ (the hidden tests and the answers are read there)."""
    import nbformat

    course_dir = Path(course_dir)
    mistakes_folder = course_dir.parent / "tests" / "known_mistakes"
    declared = exercise_declarations(course_dir.parent / "solutions" / EXERCISES)
    manifest = {}
    for path in sorted(course_dir.glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        source_path = course_dir.parent / "solutions" / path.parent.name / path.name
        if not source_path.is_file():
            raise ValueError(f"{source_path} is missing: the manifest needs the source of every released notebook")
        source = nbformat.read(source_path, as_version=4)
        hidden = {nbgrader_metadata(c).get("grade_id") for c in source.cells if has_hidden_tests(c.source)}
        cells = []
        for cell in notebook.cells:
            meta = nbgrader_metadata(cell)
            if not meta.get("grade_id"):
                continue
            kind = cell_kind(cell)
            entry = {
                "grade_id": meta["grade_id"],
                "kind": kind,
                "points": float(meta["points"]) if kind in ("test", "written") else None,
                "checksum": meta.get("checksum"),
                "sha256": source_sha256(cell.source),
            }
            if kind == TEST:
                entry.update(hidden=meta["grade_id"] in hidden, source=cell.source)
            cells.append(entry)
        code = [source_sha256(c.source) for c in notebook.cells
                if c.cell_type == "code" and not nbgrader_metadata(c).get("grade_id")]
        if path.stem in manifest:
            raise ValueError(f"two released notebooks are named {path.name}: the doctor finds a notebook "
                             f"by its file name, so rename one ({manifest[path.stem]['path']}, {path})")
        manifest[path.stem] = {
            "assignment": path.parent.name,
            "notebook": path.name,
            "path": f"{course_dir.name}/{path.parent.name}/{path.name}",
            "cells": cells,
            "exercises": exercise_map(source, hidden, known_mistakes(mistakes_folder, path.stem),
                                      declared.pop(path.parent.name, {}), path.parent.name),
            # the released code cells without a grade_id: a cell that is not one of them was added
            "code_sha256": sorted(set(code)),
            # each cell's time limit, fitted to the solution's stored run: the doctor applies it too
            "time_limits": TimeLimits.from_run(source.cells).record(),
        }
    if declared:
        raise ValueError(f"solutions/{EXERCISES} names assignments that are not released: {sorted(declared)}")
    return manifest


DECLARED_KEYS = ("references", "not_references", "forbidden")


def exercise_declarations(path: Path) -> dict[str, dict[str, dict[str, list[str]]]]:
    """{assignment: {answer grade_id: {references, not_references, forbidden}}} from ``path``
    (solutions/exercises.toml); each list of dotted names, [] where not given."""
    import tomllib

    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path} is not valid TOML: {error}") from None
    declared = {}
    for assignment, exercises in table.items():
        for answer, entry in exercises.items():
            place = f'{path}: ["{assignment}".{answer}]'
            if not isinstance(entry, dict) or set(entry) - set(DECLARED_KEYS):
                raise ValueError(f"{place} may hold only {', '.join(DECLARED_KEYS)}")
            for key, names in entry.items():
                if not (isinstance(names, list) and all(isinstance(n, str) and n for n in names)):
                    raise ValueError(f'{place} needs {key} = ["module.function", ...]')
            declared.setdefault(assignment, {})[answer] = {key: entry.get(key, []) for key in DECLARED_KEYS}
    return declared


def exercise_map(source, hidden: set, mistakes: dict, declared: dict | None = None,
                 assignment: str = "") -> list[dict]:
    """One entry per answer cell of the solution notebook ``source`` (see the module's docstring)."""
    answers = {nbgrader_metadata(c)["grade_id"]: c.source for c in source.cells if cell_kind(c) == "answer"}
    declared = dict(declared or {})
    unknown = set(declared) - set(answers)
    if unknown:
        raise ValueError(f"solutions/{EXERCISES} declares exercises {assignment} lacks: {sorted(unknown)}")
    defined = {ref for refs in library_references().values() for ref in refs}
    exercises = []
    for answer, tests in exercise_tests(source.cells).items():
        functions = answer_names(answers[answer])
        entry = declared.get(answer, dict.fromkeys(DECLARED_KEYS, []))
        missing = [ref for ref in entry["references"] if ref not in defined]
        if missing:
            raise ValueError(f"solutions/{EXERCISES}: {assignment} {answer} names {missing[0]}, which the library's "
                             f"reference packages do not define")
        # a same-named library function is the answer or says why not: never left to a guess
        unsettled = [ref for name in functions for ref in library_references().get(name, [])
                     if ref not in entry["references"] and ref not in entry["not_references"]]
        if unsettled:
            raise ValueError(f"solutions/{EXERCISES}: {assignment} {answer} defines {unsettled[0].rpartition('.')[2]}, "
                             f"like {unsettled[0]}: list it under the exercise's references (or not_references)")
        exercises.append({
            "answer": answer,
            "functions": functions,
            "references": entry["references"],
            "visible_tests": [t for t in tests if t not in hidden],
            "hidden_tests": [t for t in tests if t in hidden],
            "known_mistakes": sorted(mistakes.get(answer, [])),
            "forbidden": entry["forbidden"],
        })
    return exercises


@cache
def library_references() -> dict[str, list[str]]:
    """{name: ["dlcourse.np.module.name", ...]} for every public function and class the
    library's reference packages define."""
    found = {}
    for package_name in REFERENCE_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package_name}.{info.name}")
            for name, obj in vars(module).items():
                if (not name.startswith("_") and callable(obj)
                        and getattr(obj, "__module__", None) == module.__name__):
                    found.setdefault(name, []).append(f"{module.__name__}.{name}")
    return found


def known_mistakes(folder: Path, stem: str) -> dict[str, list[str]]:
    """{answer grade_id: mistake names} read from ``folder``/<stem>.py's ``MISTAKES`` dict literal
    (tests/known_mistakes/ beside course/) without running the file ({} where there is none)."""
    import ast

    path = folder / f"{stem}.py"
    if not path.is_file():
        return {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "MISTAKES" for t in node.targets)
                and isinstance(node.value, ast.Dict)):
            return {ast.literal_eval(key): [ast.literal_eval(k) for k in value.keys]
                    for key, value in zip(node.value.keys, node.value.values) if isinstance(value, ast.Dict)}
    raise ValueError(f"{path} defines no MISTAKES = {{exercise: {{name: source}}}} dict literal")


def manifest_text(manifest: dict) -> str:
    """JSON with one cell or exercise a line, so that a release's diff shows which ones changed."""
    notebooks = []
    for stem, entry in manifest.items():
        head = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in entry.items()
                          if k not in ("cells", "exercises"))
        lists = ",\n".join(f"  {json.dumps(key)}: [\n" + ",\n".join(f"   {json.dumps(item)}" for item in entry[key])
                           + "\n  ]" for key in ("cells", "exercises"))
        notebooks.append(f" {json.dumps(stem)}: {{\n{head},\n{lists}\n }}")
    return "{\n" + ",\n".join(notebooks) + "\n}\n"


def write_manifest(course_dir: Path, path: Path = MANIFEST) -> dict:
    """Write the manifest of ``course_dir`` to ``path`` (only when it changed) and return it."""
    manifest = build_manifest(course_dir)
    path = Path(path)
    text = manifest_text(manifest)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return manifest
