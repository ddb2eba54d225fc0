"""The record of what a release holds, for ``python -m dlcourse doctor``: every released
notebook's nbgrader cells in order (grade_id, kind, points, the checksum nbgrader stored at
release, the source's sha256; for test cells their source and whether hidden tests follow). It ships inside the dlcourse package
(``lib/dlcourse/assignments.json``), so that the doctor can tell an edited or deleted test
cell from the released one where there is no course/ folder (Colab, a student's download).
``python -m autograde release`` rewrites it; tests/test_release.py keeps it in step with course/.
"""

import json
from pathlib import Path

from dlcourse.doctor import cell_kind, nbgrader_metadata, source_sha256

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "lib" / "dlcourse" / "assignments.json"


def build_manifest(course_dir: Path) -> dict:
    """{notebook stem: {assignment, notebook, path, cells}} for course/<assignment>/*.ipynb.

    A test cell also records its released source (public in course/ anyway), which the doctor
    runs in place of an edited or deleted one as the grader does, and whether its source in
    solutions/ (beside course/) holds hidden tests: those points are decided only at grading."""
    import nbformat

    course_dir = Path(course_dir)
    manifest = {}
    for path in sorted(course_dir.glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        source = course_dir.parent / "solutions" / path.parent.name / path.name
        if not source.is_file():
            raise ValueError(f"{source} is missing: the manifest needs the source of every released notebook")
        hidden = {nbgrader_metadata(c).get("grade_id") for c in nbformat.read(source, as_version=4).cells
                  if "BEGIN HIDDEN TESTS" in c.source}
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
            if kind == "test":
                entry.update(hidden=meta["grade_id"] in hidden, source=cell.source)
            cells.append(entry)
        if path.stem in manifest:
            raise ValueError(f"two released notebooks are named {path.name}: the doctor finds a notebook "
                             f"by its file name, so rename one ({manifest[path.stem]['path']}, {path})")
        manifest[path.stem] = {
            "assignment": path.parent.name,
            "notebook": path.name,
            "path": f"{course_dir.name}/{path.parent.name}/{path.name}",
            "cells": cells,
        }
    return manifest


def manifest_text(manifest: dict) -> str:
    """JSON with one cell a line, so that a release's diff shows which cells changed."""
    notebooks = []
    for stem, entry in manifest.items():
        head = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in entry.items() if k != "cells")
        cells = ",\n".join(f"   {json.dumps(cell)}" for cell in entry["cells"])
        notebooks.append(f" {json.dumps(stem)}: {{\n{head},\n  \"cells\": [\n{cells}\n  ]\n }}")
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
