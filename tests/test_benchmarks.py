"""The benchmark scripts run and print their ratios (on tiny settings: the timings
themselves are for people to read, not for tests to assert)."""

import re
import subprocess
import sys

import pytest
from conftest import ROOT
from grading_batch import sandbox


def run_script(*args: str) -> str:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_word2vec_benchmark_compares_with_gensim():
    out = run_script("benchmarks/bench_word2vec.py", "--epochs", "1", "--max-tokens", "20000")
    assert "20,000 tokens" in out
    rows = {name: line for line in out.splitlines() for name in ("gensim Word2Vec", "dlcourse skip-gram")
            if line.startswith(name)}
    assert len(rows) == 2, out
    # both models see the same vocabulary, so they are scored on the same pairs and questions
    vocab_sizes = {re.split(r"\s{2,}", line.strip())[2] for line in rows.values()}
    assert len(vocab_sizes) == 1, rows
    assert re.search(r"time: ours / gensim's\s+= [0-9.]+x", out), out
    assert re.search(r"Spearman: ours / gensim's\s+= -?[0-9.]+", out), out


def test_conv_benchmark_checks_agreement_before_timing():
    out = run_script("benchmarks/bench_conv.py", "--repeat", "1")
    assert "outputs agree" in out
    assert re.search(r"naive / im2col\s+=\s+[0-9.]+x", out), out


def test_grading_benchmark_checks_scores_before_timing():
    out = run_script("benchmarks/bench_grading.py", "03-backprop", "--submissions", "2")
    assert "scores: stock nbgrader and the station agree on every submission of every assignment" in out, out
    row = re.search(r"^03-backprop\s+[0-9.]+ s\s+[0-9.]+ s\s+([0-9.]+)x\s+"
                    r"agree \(2 submissions, 0 to [0-9.]+ points\)$", out, re.MULTILINE)
    assert row, out
    if float(row.group(1)) < 3:  # the rows under the table say where the station's time went
        assert re.search(r"^  solution .*the whole submission [0-9.]+ s.*tests [0-9.]+ s \([0-9]+ calls\)", out,
                         re.MULTILINE), out
        assert re.search(r"^  blank ", out, re.MULTILINE), out
    else:
        assert "under 3x: none" in out, out


def test_quick_grading_benchmark_prints_each_time_against_its_budget():
    out = run_script("benchmarks/bench_quick_grading.py", "01-perceptron")
    assert re.search(r"^01-perceptron\s+[0-9.]+ s\s+30 s\s+[0-9.]+x$", out, re.MULTILINE), out
    assert "over budget: " in out


def test_soak_kills_the_coordinator_and_finds_no_difference():
    """Grading killed with SIGKILL and resumed gives what one uninterrupted run gives (the small
    version of the soak: 12 submissions of the station corpus, one kill)."""
    if sandbox.unavailable_reason() is not None:
        pytest.skip(f"no sandbox here: {sandbox.unavailable_reason()}")
    out = run_script("benchmarks/soak_grading.py", "--submissions", "12", "--kills", "1", "--no-slow")
    killed = re.search(r"run 1: coordinator killed \(SIGKILL\) after [0-9.]+ s, ([0-9]+) of 12 graded", out)
    assert killed and int(killed.group(1)) < 12, f"the kill must land with submissions still to grade:\n{out}"
    assert "graded: 12 of 12 submissions have a results file" in out, out
    assert "differences from the uninterrupted run: none" in out, out
    assert "recorded twice in the log: none; never recorded: none" in out, out
    assert "left behind by sandboxes: nothing" in out, out
