"""Every `make` verb passes its command's options: each option of every `python -m autograde`
verb, read from `autograde.cli.build_parser()`, has a Makefile variable (`--no-sandbox` ->
NO_SANDBOX=1, `--roster CSV` -> ROSTER=CSV) that puts it on the command line, documented in
the Makefile's header. Checked with `make -n`: the commands are printed, nothing runs."""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from autograde.cli import build_parser  # noqa: E402

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")

MAKEFILE = (ROOT / "Makefile").read_text()
HEADER = MAKEFILE[:MAKEFILE.index("\n\n")]
VENV = ROOT / ".venv"
STAMP = VENV / ".dlcourse-installed"  # the Makefile's $(STAMP) for this VENV
# Positional arguments and the variables that give them; an option --some-thing is SOME_THING.
POSITIONAL = {"assignment": "ASSIGNMENT", "assignments": "ASSIGNMENT", "source": "SOURCE"}
REQUIRED = {"SOURCE": "submissions"}  # what a verb cannot run without, besides the default ASSIGNMENT


def cli_verbs() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subparsers.choices)


def arguments(verb: str) -> list[argparse.Action]:
    return [a for a in cli_verbs()[verb]._actions if not isinstance(a, argparse._HelpAction)]


def variable(action: argparse.Action) -> str:
    if not action.option_strings:
        return POSITIONAL.get(action.dest, action.dest.upper())
    option = next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])
    return option.lstrip("-").upper().replace("-", "_")


def make_env() -> dict:
    """The caller's environment without anything make would read as one of the Makefile's
    variables: a stray FORCE or SOURCE, or the command-line variables of an enclosing
    `make test ...` (MAKEFLAGS carries them)."""
    names = set(re.findall(r"\$\((\w+)\)", MAKEFILE)) - {"PATH", "SHELL"}
    names |= {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS"}
    names |= {variable(a) for verb in cli_verbs() for a in arguments(verb)}
    return {k: v for k, v in os.environ.items() if k not in names}


def dry_run(verb: str, **variables: str) -> subprocess.CompletedProcess:
    """`make -n VERB VAR=value ...` with the real environment, set up or not: -o takes the
    set-up stamp as up to date, so `setup`'s recipe is not printed."""
    command = [MAKE, "-n", "-o", str(STAMP), verb, f"VENV={VENV}",
               *(f"{name}={value}" for name, value in variables.items())]
    return subprocess.run(command, cwd=ROOT, env=make_env(), capture_output=True, text=True, timeout=60)


def autograde_argv(verb: str, **variables: str) -> list[str]:
    """The arguments `make VERB VAR=value ...` would give `python -m autograde`."""
    shown = " ".join([verb, *(shlex.quote(f"{k}={v}") for k, v in variables.items())])
    result = dry_run(verb, **variables)
    assert result.returncode == 0, f"make -n {shown} failed:\n{result.stdout}{result.stderr}"
    lines = [line for line in result.stdout.splitlines() if " -m autograde " in line]
    assert len(lines) == 1, f"make -n {shown} should print one `-m autograde` command:\n{result.stdout}"
    words = shlex.split(lines[0])
    at = words.index("autograde")
    assert words[at - 2:at] == [str(VENV / "bin" / "python"), "-m"], lines[0]
    return words[at + 1:]


def parsed(verb: str, **variables: str) -> argparse.Namespace:
    argv = autograde_argv(verb, **variables)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"python -m autograde refuses what `make {verb}` gives it: {argv}")
    assert args.verb == verb, argv
    return args


def sample(action: argparse.Action) -> tuple[str, object]:
    """A value for the option's variable, and what the command should then receive."""
    if action.nargs == 0:  # a flag: VAR=1
        return "1", action.const
    if action.choices:
        value = next(str(c) for c in action.choices if c != action.default)
    elif action.type in (int, float):
        value = "7" if action.default != 7 else "8"
    elif getattr(action.type, "__name__", "") == "memory_size":  # --memory takes a size
        value = "5G"
    else:
        value = f"{variable(action).lower()}-value"
    expected = action.type(value) if callable(action.type) else value
    return value, [expected] if action.nargs in ("*", "+") else expected


def required(verb: str) -> dict:
    return {v: value for v, value in REQUIRED.items() if v in {variable(a) for a in arguments(verb)}}


OPTIONS = [(verb, a) for verb in cli_verbs() for a in arguments(verb) if a.option_strings]


@pytest.mark.parametrize("verb, action", OPTIONS,
                         ids=[f"{verb} {a.option_strings[-1]}" for verb, a in OPTIONS])
def test_every_option_has_a_make_variable(verb, action):
    name = variable(action)
    value, expected = sample(action)
    args = parsed(verb, **required(verb), **{name: value})
    option = " ".join([action.option_strings[-1], *([] if action.nargs == 0 else [name])])
    assert getattr(args, action.dest) == expected, (
        f"`make {verb} {name}={value}` does not give `python -m autograde {verb}` its option "
        f"{option}: the {verb} recipe needs $(if $({name}),{option.replace(name, f'$({name})')},)")
    assert re.search(rf"\b{name}=", HEADER), f"the Makefile's header comment should document {name}= for make {verb}"


@pytest.mark.parametrize("verb", list(cli_verbs()))
def test_every_verb_runs_with_its_defaults(verb):
    """`make VERB` alone: the default ASSIGNMENT, no option the caller did not ask for."""
    args = parsed(verb, **required(verb))
    for action in arguments(verb):
        if action.option_strings:
            assert getattr(args, action.dest) == action.default, (
                f"make {verb} passes {action.option_strings[-1]} unasked")
        elif variable(action) == "ASSIGNMENT":
            assert getattr(args, action.dest) in ("01-perceptron", ["01-perceptron"])


@pytest.mark.parametrize("verb", list(cli_verbs()))
def test_positional_arguments_come_from_their_variables(verb):
    positional = [a for a in arguments(verb) if not a.option_strings]
    given = {variable(a): f"{a.dest}-given" for a in positional}
    args = parsed(verb, **given)
    for action in positional:
        expected = given[variable(action)]
        assert getattr(args, action.dest) in (expected, [expected]), f"make {verb} {variable(action)}=..."


@pytest.mark.parametrize("verb", [v for v in cli_verbs() if any(a.nargs == "*" for a in arguments(v))])
def test_several_assignments_or_none(verb):
    assert (parsed(verb, ASSIGNMENT="01-perceptron 02-gradient-descent").assignments
            == ["01-perceptron", "02-gradient-descent"])
    assert parsed(verb, ASSIGNMENT="").assignments == []  # every assignment


def test_collect_force_and_roster_reach_the_command():
    argv = autograde_argv("collect", SOURCE="x", ASSIGNMENT="01-perceptron", ROSTER="r.csv", FORCE="1")
    assert argv == ["collect", "x", "01-perceptron", "--roster", "r.csv", "--force"]


def test_paths_are_passed_as_one_word():
    odd = "Moodle export (it's 01).zip"
    args = parsed("collect", SOURCE=odd, ROSTER="my roster.csv")
    assert (args.source, args.roster) == (odd, "my roster.csv")
    assert parsed("export", TO="grades dir/grades.csv").to == "grades dir/grades.csv"


def test_collect_without_source_says_what_is_missing():
    result = dry_run("collect")
    assert result.returncode != 0 and "SOURCE=" in result.stderr, result.stderr


def test_lab_serves_course_or_the_root_for_formgrader():
    def lab_line(**variables):
        result = dry_run("lab", **variables)
        assert result.returncode == 0, result.stderr
        return next(line for line in result.stdout.splitlines() if "jupyter lab" in line).split()

    root = ["--allow-root"] if os.geteuid() == 0 else []
    assert lab_line()[2:] == ["--ServerApp.root_dir=course", *root]
    assert lab_line(LAB_ROOT=".")[2:] == ["--ServerApp.root_dir=.", *root]


@pytest.mark.parametrize("verb", [v for v in cli_verbs()
                                  if any(a.nargs == "+" and not a.option_strings for a in arguments(v))])
def test_several_assignments_in_one_run(verb):
    assert (parsed(verb, ASSIGNMENT="01-perceptron 02-gradient-descent").assignments
            == ["01-perceptron", "02-gradient-descent"])
