"""course/ is exactly what nbgrader generates from solutions/, gives nothing away, fails its
own tests until filled in (`nbgrader validate --invert`), and states the points it grades."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ASSIGNMENTS, ROOT, copy_course, run_autograde

from dlcourse import grading

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


# ---------------------------------------------------------------- points as stated

NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10}
NUMBER = r"(\d+|" + "|".join(NUMBERS) + r")"
# "### Exercise 2: PPMI (2 points)", "**Exercise 2 (4 points)**", "## Written question (3 points, graded by hand)"
EXERCISE_HEADING = re.compile(r"^(?:#+\s*(?:\*\*)?|\*\*)(Exercise \d+|Written question)\b[^\n]*?\(" + NUMBER
                              + r"\s+points?\b", re.I | re.M)
# "One point each." / "One point per part.": every labelled part, (1), (2), ... or (a), (b), ...
SPLIT_EACH = re.compile(NUMBER + r"\s+points?\s+(?:each|per\s+part)\b", re.I)
# "One point for each of: the four inequalities, the contradiction, the link to the figure."
SPLIT_LIST = re.compile(NUMBER + r"\s+points?\s+for\s+each\s+of:?\s*([^.]+)\.", re.I)
# "One point for (a), two for (b), one for using this notebook's experiments."
SPLIT_FOR = re.compile(r"\b" + NUMBER + r"(?:\s+points?)?\s+for\b", re.I)
SPLIT_SENTENCE = re.compile(r"\b" + NUMBER + r"\s+points?\s+for\b[^.]*", re.I)
# a total for the whole notebook: "this notebook is worth 20 points", "20 points in all"
TOTAL = re.compile(r"\b" + NUMBER + r"\s+points\s+in\s+(?:all|total)\b"
                   r"|\b(?:worth|total\s+of)\s+" + NUMBER + r"\s+points\b", re.I)
LABEL = re.compile(r"\((\d|[a-h])\)")


def _number(word: str) -> float:
    return float(NUMBERS.get(word.lower(), word))


def _stated_split(text: str) -> tuple[float | None, str]:
    """The points a written question's text gives its parts, summed, and the phrase that says so:
    (None, "") when it states no split; (nan, phrase) when the split can be counted more than one
    way ("one point each" over parts it does not label, "each for the two ...")."""
    body = EXERCISE_HEADING.sub("", text, count=1)
    labels = list(dict.fromkeys(LABEL.findall(body)))
    each = SPLIT_EACH.search(body)
    listed = SPLIT_LIST.search(body)
    if listed:
        items = [item for item in re.split(r",\s*(?:and\s+)?|\s+and\s+", listed.group(2)) if item.strip()]
        return _number(listed.group(1)) * len(items), listed.group(0)
    if each:
        # "one point each" over parts the text does not label, or "each for the two ...": the
        # count is the reader's guess
        if re.match(r"\s+for\b", body[each.end():]) or not labels:
            return float("nan"), each.group(0) + body[each.end():].split(".")[0].split(",")[0]
        return _number(each.group(1)) * len(labels), each.group(0)
    sentence = SPLIT_SENTENCE.search(body)
    if sentence:
        return sum(_number(n) for n in SPLIT_FOR.findall(sentence.group(0))), sentence.group(0)
    return None, ""


def stated_points(cells) -> tuple[list[tuple[str, str, float, str]], list[float]]:
    """What a notebook's text says it grades: for every exercise and written-question heading,
    (heading, the grade_id of the answer or written cell that follows it, its points, and how a
    written question splits them), and every total it states for the whole notebook."""
    stated, totals, pending = [], [], []
    for cell in cells:
        if cell.cell_type == "markdown":
            totals += [_number(a or b) for a, b in TOTAL.findall(cell.source)]
            # a heading's text runs to the next heading
            pending += [(m.group(1), _number(m.group(2)), re.split(r"\n#", cell.source[m.start():])[0])
                        for m in EXERCISE_HEADING.finditer(cell.source)]
        kind = grading.cell_kind(cell)
        if kind in (grading.ANSWER, grading.WRITTEN) and pending:
            for name, points, text in pending:
                stated.append((name, grading.grade_id(cell), points, text))
            pending = []
    assert not pending, f"{[name for name, *_ in pending]}: no answer cell follows the heading"
    return stated, totals


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stated_points_are_the_points_graded(assignment):
    """The points an exercise's text states (its heading's "(3 points)", the split a written
    question gives its parts, any total for the notebook) are the points grading gives it: the
    nbgrader points of the exercise's test cells, or of the written answer, in the release
    record. A written question that splits its points labels its parts, (1), (2), ... or
    (a), (b), ..., so that "one point each" counts one way."""
    import nbformat

    from autograde.manifest import MANIFEST

    record = json.loads(MANIFEST.read_text())
    wrong = []
    for entry in (e for e in record.values() if e["assignment"] == assignment):
        cell_points = {cell["grade_id"]: cell["points"] or 0 for cell in entry["cells"]}
        graded = {ex["answer"]: sum(cell_points[t] for t in ex["visible_tests"] + ex["hidden_tests"])
                  for ex in entry["exercises"]}
        graded.update({cell["grade_id"]: cell_points[cell["grade_id"]] for cell in entry["cells"]
                       if cell["kind"] == grading.WRITTEN})
        notebook = nbformat.read(ROOT / entry["path"], as_version=4)
        stated, totals = stated_points(notebook.cells)
        where = entry["notebook"]
        unstated = sorted(graded.keys() - {gid for _, gid, *_ in stated})
        if unstated:
            wrong.append(f"{where}: {unstated} are graded ({[graded[g] for g in unstated]} points) "
                         "but no heading states their points")
        for name, gid, points, text in stated:
            if gid not in graded:
                wrong.append(f"{where} {name}: states {points:g} points, but {gid} is not graded")
            elif points != graded[gid]:
                wrong.append(f"{where} {name} ({gid}): the text states {points:g} points, "
                             f"grading gives {graded[gid]:g}")
            split, phrase = _stated_split(text)
            if split is None:
                continue
            if split != split:  # nan
                wrong.append(f"{where} {name} ({gid}): the split '{phrase}' can be counted more than one way: label "
                             f"the parts (1), (2), ... and say what each is worth ({graded.get(gid, 0):g} in all)")
            elif split != graded.get(gid):
                wrong.append(f"{where} {name} ({gid}): the text's split '{phrase}' gives {split:g} points, "
                             f"grading gives {graded.get(gid, 0):g}")
        total = sum(graded.values())
        wrong += [f"{where}: the text states {t:g} points in all, grading gives {total:g}"
                  for t in totals if t != total]
    assert not wrong, "stated points differ from the points graded:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("text", "points"), ids=["each", "per-part", "for", "each-of", "unlabelled-for",
                                               "unlabelled-each", "each-for", "no-split"], argvalues=[
    ("## Written question (3 points)\n(1) a; (2) b; (3) c. One point each.", 3),
    ("## Written question (3 points)\n(a) a. (b) b. (c) c. One point per part.", 3),
    ("## Written question (3 points)\nOne point for (a), two for (b).", 3),
    ("## Written question (3 points)\nOne point for each of:\nA, B, the link to C with a fix.", 3),
    ("## Written question (3 points)\nOne point for the cost, one for what is stored, one for its price.", 3),
    ("## Written question (3 points)\nExplain a. Say b, and c. One point each.", None),
    ("## Written question (3 points)\nDo (1) and (2) (1 point each for the two derivatives and their values).", None),
    ("## Exercise 4 (2 points)\nOne for the discriminator, one for the generator's.", "no split"),
])
def test_stated_split_is_read_one_way(text, points):
    """How test_stated_points_are_the_points_graded reads a written question's split: labelled
    parts count, an unlabelled "each" is refused (None here), and prose that does not say
    "point" is no split."""
    split, _ = _stated_split(text)
    if points == "no split":
        assert split is None
    elif points is None:
        assert split != split, f"read as {split}, though it can be counted more than one way"
    else:
        assert split == points
