"""course/ is exactly what nbgrader generates from solutions/, gives nothing away, and fails its
own tests until filled in (`nbgrader validate --invert`)."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ASSIGNMENTS, ROOT, copy_course, run_autograde

NBGRADER = str(Path(sys.executable).parent / "nbgrader")

MARKERS = re.compile(r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS|BEGIN MARK SCHEME")
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def released_files(assignment):
    return sorted(p for p in (ROOT / "course" / assignment).rglob("*") if p.is_file())


def secret_lines(assignment) -> set[str]:
    """Lines that only the solutions may hold: inside solution and hidden-test regions,
    long enough to be specific (short ones such as `return W, trace` may be scaffolding)."""
    secrets = set()
    for notebook in (ROOT / "solutions" / assignment).glob("*.ipynb"):
        for cell in json.loads(notebook.read_text())["cells"]:
            for _, body in REGION.findall("".join(cell["source"])):
                secrets.update(line.strip() for line in body.splitlines() if len(line.strip()) >= 25)
    return secrets


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("release"))
    result = run_autograde(course, "release", "--force")
    assert result.returncode == 0, result.stdout + result.stderr
    return course


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_in_sync(assignment, regenerated):
    committed = {p.relative_to(ROOT / "course"): p.read_bytes() for p in released_files(assignment)}
    fresh = {p.relative_to(regenerated / "course"): p.read_bytes()
             for p in sorted((regenerated / "course" / assignment).rglob("*")) if p.is_file()}
    assert committed.keys() == fresh.keys(), "course/ and a fresh release hold different files"
    stale = [str(name) for name in committed if committed[name] != fresh[name]]
    assert not stale, f"{stale} differ from a fresh release: run `make release ASSIGNMENT= FORCE=1` and commit course/"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_leaks_nothing(assignment):
    secrets = secret_lines(assignment)
    assert secrets, "no solution or hidden-test lines found: is the source notebook marked up?"
    for path in released_files(assignment):
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":
            # the cells' text as a student sees it (in the raw JSON quotes and backslashes are escaped)
            cells = json.loads(text)["cells"]
            assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), f"{path} carries outputs"
            text = "\n".join("".join(c["source"]) for c in cells)
        assert not MARKERS.search(text), f"{path}: a solution or hidden-test marker was released"
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{path} contains solution or hidden-test lines: {leaked[:3]}"


def test_release_refuses_to_overwrite_without_force(tmp_path):
    course = copy_course(tmp_path)
    edited = next((course / "course").rglob("*.ipynb"))
    edited.write_text(edited.read_text() + " ")  # an instructor's hand edit must survive
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (course / "course").rglob("*") if p.is_file()}
    result = run_autograde(course, "release")
    assert result.returncode == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (course / "course").rglob("*") if p.is_file()}
    assert after == before


def test_release_rejects_unknown_assignment(tmp_path):
    result = run_autograde(copy_course(tmp_path), "release", "99-nothing")
    assert result.returncode == 2 and "unknown assignment '99-nothing'" in result.stderr


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_manifest_is_in_sync(assignment):
    """lib/dlcourse/assignments.json, which `python -m dlcourse doctor` compares notebooks with,
    records exactly the cells course/ holds."""
    from autograde.manifest import MANIFEST, build_manifest

    committed = json.loads(MANIFEST.read_text())
    fresh = build_manifest(ROOT / "course")
    assert committed.keys() == fresh.keys(), "the manifest and course/ list different notebooks"
    stems = [p.stem for p in (ROOT / "course" / assignment).glob("*.ipynb")]
    assert all(committed[stem] == fresh[stem] for stem in stems), (
        f"lib/dlcourse/assignments.json is stale for {assignment}:"
        " `make release ASSIGNMENT= FORCE=1` rewrites it; commit it")


def test_reference_scan_resolves_every_way_of_naming_a_reference_and_follows_the_library():
    from autograde.publish import library_reads, names_reached

    reads = library_reads(ROOT / "lib" / "dlcourse")
    reached = names_reached([
        "%matplotlib inline\nfrom dlcourse.np import perceptron as np_perceptron\nimport dlcourse",
        "np_perceptron.margin(W, X, t)\nf = np_perceptron.perceptron_train\n"
        "dlcourse.pt.perceptron.perceptron_predict(W, X)\nfrom dlcourse.np.perceptron import delta_rule_gradient as g\n"
        "g(W, X, t)\n!ls",
        "from dlcourse.np import conv as np_conv\nout, cache = np_conv.conv2d_forward_im2col_free(x)\n"
        "out, cache = np_conv.maxpool2d_forward(x)"], reads)
    assert {"dlcourse.np.perceptron.margin", "dlcourse.np.perceptron.perceptron_train",
            "dlcourse.pt.perceptron.perceptron_predict", "dlcourse.np.perceptron.delta_rule_gradient"} <= set(reached)
    assert reached["dlcourse.np.perceptron.margin"] is None
    # maxpool2d_forward's code calls the module's _windows: reached through it
    assert reached["dlcourse.np.conv._windows"] == "dlcourse.np.conv.maxpool2d_forward"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_never_calls_its_own_references(assignment):
    """Grading seals the graded assignment's references in the student's kernel and the student
    edition ships them as stubs: no released code cell, test or plain, may use one (the release
    record's `references` of the assignment's exercises), itself or through library code it
    calls. Later cells use the student's own function (check.needs), and a library helper that
    composes exercises takes them as arguments; references of other assignments are fine."""
    import nbformat

    from autograde.manifest import MANIFEST
    from autograde.publish import library_reads, names_reached
    from dlcourse.shortcuts import import_aliases

    record = json.loads(MANIFEST.read_text())
    reads = library_reads(ROOT / "lib" / "dlcourse")
    entries = [entry for entry in record.values() if entry["assignment"] == assignment]
    assert entries, f"the release record has no notebook of {assignment}"
    uses = []
    for entry in entries:
        references = {ref: exercise["answer"] for exercise in entry["exercises"] for ref in exercise["references"]}
        assert references, f"{entry['notebook']}: the release record names no reference: is the scan looking?"
        notebook = nbformat.read(ROOT / entry["path"], as_version=4)
        aliases = import_aliases(c.source for c in notebook.cells if c.cell_type == "code")
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            for name, through in names_reached([cell.source], reads, aliases).items():
                if name in references:
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "a plain code cell")
                    how = f" (through {through})" if through else ""
                    uses.append(f"{entry['notebook']} cell {index} ({grade_id}): {name}{how}, "
                                f"the reference of {references[name]}")
    assert not uses, "released cells use their own assignment's references:\n" + "\n".join(uses)


def test_release_writes_the_manifest(regenerated):
    from autograde.manifest import build_manifest, manifest_text

    written = regenerated / "lib" / "dlcourse" / "assignments.json"
    assert written.read_text() == manifest_text(build_manifest(regenerated / "course"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_invert_released_notebook_fails_every_test(assignment, tmp_path):
    """`nbgrader validate --invert`: each released notebook fails every one of its tests until
    filled in."""
    for notebook in (ROOT / "course" / assignment).glob("*.ipynb"):
        shutil.copy(notebook, tmp_path / notebook.name)
        result = subprocess.run([NBGRADER, "validate", "--invert", notebook.name], cwd=tmp_path,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        assert "Success! The notebook does not pass any tests." in result.stdout, (
            f"{notebook.name}: some test cells pass on the blank notebook:\n{result.stdout[-3000:]}")
