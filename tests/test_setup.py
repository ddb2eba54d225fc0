"""The set-up files agree with each other and with the README (tests, not conventions)."""

import re

import yaml
from conftest import ROOT


def requirement_lines() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def test_requirements_are_pinned_and_torch_is_the_local_build():
    for line in requirement_lines():
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.+]*", line), f"not pinned: {line}"
    assert "torch==2.13.0" in requirement_lines()


def test_environment_yml_installs_requirements_and_the_library():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    python = [d for d in deps if isinstance(d, str) and d.startswith("python")]
    assert python and python[0] in {"python=3.11", "python>=3.11"}
    pip_sections = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1
    pip = pip_sections[0]
    assert "-r requirements.txt" in pip and "-e ." in pip
    # anything pinned beside the -r line must be pinned the same in requirements.txt
    pinned_here = [line for line in pip if "==" in line]
    assert set(pinned_here) <= set(requirement_lines()), f"{pinned_here} disagree with requirements.txt"
    assert pip.index("torch==2.13.0") < pip.index("-r requirements.txt"), "torch must come first"


def test_readme_gives_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert block, "README needs a '## Quick start' section with one code block"
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["make lab", "make test"], commands
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#") and not line.startswith("set ") and not line.startswith("cd ")]
    assert ci == ["make test"], f".ci/run must call the README's test command and nothing narrower: {ci}"


def test_makefile_installs_torch_before_the_rest():
    makefile = (ROOT / "Makefile").read_text()
    torch_step = makefile.index("grep -E '^torch==' requirements.txt")
    assert torch_step < makefile.index("-r requirements.txt") < makefile.index("-e .")
