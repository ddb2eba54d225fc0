"""`python -m autograde similarity` on a generated class: its time, and what it flags.

A scratch copy of the course gets N submissions of 01-perceptron. For each exercise, each
student's answer comes from one of a few origins: the course's solution, or one of the
answers written independently below (loops against vectorised code, other idioms); a student
copies an origin under a disguise of its own (local names renamed, comments and blank lines
changed, spacing changed). One student in ten leaves an exercise blank (the release's stub).
Two students of the same origin are copies of each other; of different origins, independent.

The similarity of every pair, by kind (the spread a threshold has to separate), then the
time of the whole command (reading every notebook included) and how the flags match the
origins: copies found, independent pairs flagged, blanks flagged (must be none).

    python benchmarks/bench_similarity.py                    # 200 submissions: the budget is 60 s
    python benchmarks/bench_similarity.py --submissions 12   # a quick look
"""

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import nbformat
from bench_grading import ROOT, scratch_course

from dlcourse.doctor import load_manifest
from dlcourse.grading import ANSWER, cell_kind, grade_id

sys.path.insert(0, str(ROOT))  # autograde/ is not installed: it runs from the checkout
from autograde import similarity  # noqa: E402

ASSIGNMENT = "01-perceptron"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"
BUDGET_SECONDS = 60

# Answers written for this benchmark, independently of the course's solution (function bodies).
HONEST = {
    "ex1_predict": [
        """
    X = np.asarray(X, dtype=float)
    out = np.zeros(len(X), dtype=np.int64)
    for n in range(len(X)):
        s = 0.0
        for d in range(len(W)):
            s += W[d] * X[n, d]
        out[n] = 1 if s > 0 else 0
    return out
""",
        """
    scores = np.dot(np.asarray(X, dtype=float), np.asarray(W, dtype=float))
    return np.where(scores > 0, 1, 0).astype(np.int64)
""",
    ],
    "ex2_update": [
        """
    W = np.array(W, dtype=float)
    y = 1 if np.dot(W, x) > 0 else 0
    if y != t:
        W = W + eta * (t - y) * np.asarray(x, dtype=float)
    return W, y
""",
        """
    prediction = int(perceptron_predict(W, np.atleast_2d(x))[0])
    error = t - prediction
    new_W = np.copy(W).astype(float)
    new_W += eta * error * np.asarray(x)
    return new_W, prediction
""",
    ],
    "ex3_train": [
        """
    W = np.array(W0, dtype=float)
    X = np.asarray(X, dtype=float)
    trace = []
    epoch = 0
    while epoch < max_epochs:
        epoch += 1
        mistakes = 0
        for i in range(X.shape[0]):
            before = W.copy()
            W, y = perceptron_update(W, X[i], t[i], eta=eta)
            trace.append(np_perceptron.PerceptronStep(epoch, X[i], before, y, int(t[i]), W))
            if y != t[i]:
                mistakes += 1
        if not mistakes:
            break
    return W, trace
""",
        """
    weights = np.asarray(W0, dtype=float).copy()
    steps = []
    for ep in range(max_epochs):
        clean = True
        for xi, ti in zip(X, t):
            updated, pred = perceptron_update(weights, xi, ti, eta=eta)
            steps.append(np_perceptron.PerceptronStep(ep + 1, np.asarray(xi, dtype=float), weights, pred,
                                                      int(ti), updated))
            clean = clean and pred == ti
            weights = updated
        if clean:
            return weights, steps
    return weights, steps
""",
    ],
    "ex4_gradient": [
        """
    grad = np.zeros(len(W))
    for n in range(len(X)):
        y = np.dot(X[n], W)
        grad -= (t[n] - y) * np.asarray(X[n], dtype=float)
    return grad
""",
        """
    X = np.asarray(X, float)
    err = X @ W - t
    return np.einsum('n,nd->d', err, X)
""",
    ],
    "ex5_margin": [
        """
    W = np.asarray(W, dtype=float)
    norm = np.sqrt(np.sum(W[1:] ** 2))
    best = np.inf
    for x, target in zip(X, t):
        s = 1 if target == 1 else -1
        best = min(best, s * np.dot(x, W) / norm)
    return float(best)
""",
        """
    signs = np.where(np.asarray(t) > 0, 1.0, -1.0)
    scores = np.asarray(X, dtype=float) @ W
    return float((signs * scores).min() / np.linalg.norm(np.asarray(W, dtype=float)[1:]))
""",
    ],
}
BLANK = "blank"
PARAMETERS = {"W", "X", "t", "x", "W0", "eta", "max_epochs"}  # the starter's: a copier keeps them


def disguise(body: str, rng: random.Random, heavy: bool = False) -> str:
    """The body as a copier hands it in: every local name renamed, a comment and blank lines
    added, spacing around ``=`` and after commas changed; ``heavy``: also ``a += b`` spelled
    ``a = a + b`` and a dead line added."""
    import ast

    tree = ast.parse("def f():\n" + body)
    stored = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)})
    stored = [name for name in stored if name not in PARAMETERS]
    renames = {name: f"{rng.choice(['my', 'tmp', 'v', 'var'])}_{name.lower()}{rng.randrange(100)}" for name in stored}
    out = re.sub(r"(?<![\w.])([A-Za-z_]\w*)\b", lambda m: renames.get(m.group(1), m.group(1)), body)
    out = re.sub(r" = ", "=", out) if rng.random() < 0.5 else out.replace(", ", " , ")
    if heavy:
        out = re.sub(r"([\w\[\], ]+?) \+= ", lambda m: f"{m.group(1)} = {m.group(1).strip()} + ", out)
    lines = out.strip("\n").split("\n")
    lines.insert(rng.randrange(len(lines)), "")
    if heavy:
        lines.insert(rng.randrange(len(lines)), "    unused_counter = 0")
    comment = rng.choice(["my solution", "worked on this with care", "see lecture 2"])
    return "\n".join([f"    # {comment}", *lines]) + "\n"


def solution_bodies() -> dict[str, str]:
    """The course's answers: each solution cell's region, as a body."""
    notebook = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    found = {}
    for cell in notebook.cells:
        if cell_kind(cell) == ANSWER:
            region = re.search(r"### BEGIN SOLUTION\n(.*?)\n\s*### END SOLUTION", cell.source, re.S)
            found[grade_id(cell)] = "\n" + region.group(1) + "\n"
    return found


def spread(rng: random.Random) -> dict[str, tuple[float, str]]:
    """The similarity the command gives each kind of pair, over the exercises of 01-perceptron:
    {kind: (lowest or highest similarity, where)}. Independent answers: every two origins of an
    exercise, under a light disguise each (their highest matters); copies under the heavy
    disguise against the origin under the light one, and the NumPy reference's body pasted
    under the starter's signature (their lowest matters)."""
    notes = []
    exercises, _ = similarity.course_exercises(ASSIGNMENT, load_manifest(), ROOT / "solutions", ROOT / "course", notes)
    released = {grade_id(c): c.source for c in nbformat.read(ROOT / "course" / ASSIGNMENT / NOTEBOOK,
                                                              as_version=4).cells if cell_kind(c) == ANSWER}
    record = {item["answer"]: item for item in load_manifest()[ASSIGNMENT]["exercises"]}
    kinds = {"independent answers": [], "independent answer ~ reference": [], "heavy copy ~ its origin": [],
             "pasted library body ~ reference": []}
    for exercise in exercises:
        gid = exercise.answer

        def answer(body, exercise=exercise, gid=gid):
            return similarity.fingerprints([released[gid].replace(STUB, body.rstrip("\n"))], exercise.starter)

        def to_course(found, exercise=exercise):
            return max(similarity.jaccard(found, source)[0] for source in exercise.reference)

        pool = {"solution": solution_bodies()[gid], **{f"honest{i + 1}": h for i, h in enumerate(HONEST.get(gid, []))}}
        light = {origin: answer(disguise(body, rng)) for origin, body in pool.items()}
        for (one, a), (other, b) in combinations(light.items(), 2):
            kinds["independent answers"].append((similarity.jaccard(a, b)[0], f"{gid} {one} ~ {other}"))
        for origin, body in pool.items():
            heavy = answer(disguise(body, rng, heavy=True))
            kinds["heavy copy ~ its origin"].append((similarity.jaccard(heavy, light[origin])[0], f"{gid} {origin}"))
            if origin != "solution":
                kinds["independent answer ~ reference"].append((to_course(light[origin]), f"{gid} {origin}"))
        if not record[gid]["references"]:   # an exercise the library does not answer (01's ex6_fit)
            continue
        library = similarity.reference_source(record[gid]["references"][0])
        body = library.split('"""', 2)[2]  # after the docstring
        kinds["pasted library body ~ reference"].append((to_course(answer(body)), gid))
    return {kind: (max if kind.startswith("independent") else min)(values) for kind, values in kinds.items()}


def make_class(course: Path, submissions: int, seed: int) -> dict[str, dict[str, str]]:
    """Write the submissions; returns {student: {exercise: origin}} (an origin, or "blank")."""
    rng = random.Random(seed)
    base = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)  # with outputs, as handed in
    released = {grade_id(c): c.source for c in nbformat.read(ROOT / "course" / ASSIGNMENT / NOTEBOOK,
                                                              as_version=4).cells if cell_kind(c) == ANSWER}
    # an exercise without answers written here (01's ex6_fit) is handed in as the solution, disguised
    pools = {gid: {"solution": body, **{f"honest{i + 1}": h for i, h in enumerate(HONEST.get(gid, []))}}
             for gid, body in solution_bodies().items()}
    origins = {}
    for index in range(submissions):
        student = f"student{index:03d}"
        notebook, origins[student] = nbformat.from_dict(json.loads(json.dumps(base))), {}
        for cell in notebook.cells:
            gid = grade_id(cell)
            if cell_kind(cell) != ANSWER:
                continue
            if rng.random() < 0.1:
                origins[student][gid] = BLANK
                cell.source = released[gid]
                continue
            origin = rng.choice(sorted(pools[gid]))
            origins[student][gid] = origin
            cell.source = released[gid].replace(STUB, disguise(pools[gid][origin], rng).rstrip("\n"))
        folder = course / "autograde" / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / NOTEBOOK)
    return origins


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.submissions < 2:
        parser.error("--submissions must be at least 2")
    print(f"machine: {platform.machine()}, os.cpu_count() = {os.cpu_count()}")
    print(f"the spread, over the exercises of {ASSIGNMENT} (default threshold {similarity.DEFAULT_THRESHOLD}):")
    for kind, (value, where) in spread(random.Random(args.seed)).items():
        label = f"{'highest' if kind.startswith('independent') else 'lowest'} {kind}"
        print(f"  {label:<41} = {value:.2f}  ({where})")
    print()
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as scratch:
        course = scratch_course(Path(scratch), ASSIGNMENT, 0)
        origins = make_class(course, args.submissions, args.seed)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "autograde", "similarity", ASSIGNMENT, "--json"], cwd=course,
                                capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"similarity failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    pairs = json.loads(result.stdout)
    exercises = sorted({gid for chosen in origins.values() for gid in chosen})
    students = sorted(origins)
    copies = sum(1 for gid in exercises for a, b in combinations(students, 2)
                 if origins[a][gid] == origins[b][gid] != BLANK)
    flagged = [p for p in pairs if p["flagged"] and p["b"] != "reference"]
    found = sum(1 for p in flagged if origins[p["a"]][p["exercise"]] == origins[p["b"]][p["exercise"]])
    wrong = [p for p in flagged if origins[p["a"]][p["exercise"]] != origins[p["b"]][p["exercise"]]]
    blanks = [p for p in pairs if p["flagged"] and (origins[p["a"]][p["exercise"]] == BLANK
                                                     or origins.get(p["b"], {}).get(p["exercise"]) == BLANK)]
    to_course = [p for p in pairs if p["flagged"] and p["b"] == "reference"]
    course_copies = sum(1 for s in students for gid in exercises if origins[s][gid] == "solution")
    print(f"{args.submissions} submissions of {ASSIGNMENT}, {len(exercises)} exercises "
          f"({len(students) * (len(students) - 1) // 2} pairs each)\n")
    print(f"similarity, whole command (reading every notebook) = {seconds:.1f} s (budget {BUDGET_SECONDS} s: "
          f"{seconds / BUDGET_SECONDS:.2f}x)")
    print(f"copies of one origin flagged           = {found} / {copies}")
    print(f"independent pairs flagged              = {len(wrong)}")
    for pair in wrong[:10]:
        print(f"    {pair['exercise']} {pair['a']} ({origins[pair['a']][pair['exercise']]}) ~ {pair['b']} "
              f"({origins[pair['b']][pair['exercise']]}): {pair['similarity']:.2f}")
    print(f"copies of the course's solution flagged = {len(to_course)} against reference "
          f"({course_copies} answers are disguised copies of it)")
    print(f"blank answers flagged                  = {len(blanks)}")


if __name__ == "__main__":
    main()
