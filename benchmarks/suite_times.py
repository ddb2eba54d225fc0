"""Where the test suite's time goes: seconds per test file (and per notebook), from a JUnit XML
report of a pytest run, longest first.

    make test PYTEST_ARGS="--junitxml=/tmp/suite.xml --durations=40"
    .venv/bin/python benchmarks/suite_times.py /tmp/suite.xml

A test's time is its set-up, call and teardown (pytest's junit_duration_report = total), so a
module-scoped fixture counts for the first test that uses it. With several workers (-n) the
files' times add up to more than the wall time: it is the work each file asks for.
"""

import argparse
import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict


def file_of(case) -> str:
    """The file a <testcase> came from: its ``file`` attribute, else its dotted class name
    (tests.test_x -> tests/test_x.py; nbval's cells carry the notebook's path)."""
    if case.get("file"):
        return case.get("file")
    name = case.get("classname", "")
    if ".ipynb" in name:
        return name[: name.index(".ipynb") + len(".ipynb")]
    return name.replace(".", "/") + ".py" if name else "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="pytest's --junitxml file")
    parser.add_argument("--top", type=int, default=0, help="only the N longest files (default: all)")
    args = parser.parse_args()
    try:
        root = ElementTree.parse(args.report).getroot()
    except (OSError, ElementTree.ParseError) as error:
        sys.exit(f"cannot read {args.report} as a JUnit XML report: {error}")
    seconds, counts = defaultdict(float), defaultdict(int)
    for case in root.iter("testcase"):
        where = file_of(case)
        seconds[where] += float(case.get("time") or 0)
        counts[where] += 1
    if not seconds:
        sys.exit(f"{args.report} holds no test cases")
    suites = list(root.iter("testsuite"))
    wall = sum(float(s.get("time") or 0) for s in suites)
    total = sum(seconds.values())
    rows = sorted(seconds.items(), key=lambda item: -item[1])
    if args.top:
        rows = rows[: args.top]
    width = max(len(name) for name, _ in rows)
    print(f"{'file':<{width}}  {'tests':>6}  {'seconds':>8}  {'share':>6}")
    for name, spent in rows:
        print(f"{name:<{width}}  {counts[name]:>6}  {spent:>8.1f}  {spent / total:>6.1%}")
    print(f"{'all files':<{width}}  {sum(counts.values()):>6}  {total:>8.1f}")
    print(f"wall time of the run: {wall:.1f} s ({wall / 60:.1f} min); work / wall = {total / wall:.2f}")


if __name__ == "__main__":
    main()
