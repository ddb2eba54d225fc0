"""Binder and Colab: what can be checked without either service.

Colab: the first cell of every notebook installs the course library from the repository when
it is not importable, does nothing when it is, and nothing else in a notebook needs a local
checkout. Binder (repo2docker): environment.yml at the root builds the environment and
postBuild makes JupyterLab open course/; here postBuild runs against a private Jupyter
configuration folder and a JupyterLab started with it is asked for its start page.
"""

import ast
import http.cookiejar
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
import zipfile

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT
from lab_server import TOKEN, free_port, lab_command, private_env, running

REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
INSTALL_CELL = f'''# On Colab or a bare Python, install the course library first (a no-op where it is installed).
import importlib.util, subprocess, sys
if importlib.util.find_spec("dlcourse") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "dlcourse @ git+{REPOSITORY}"], check=True)'''
# What a notebook may import besides the standard library: the library and its dependencies
# (pyproject.toml installs them on Colab along with dlcourse).
IMPORTABLE = {"dlcourse", "numpy", "torch", "matplotlib", "ipywidgets", "tqdm", "mlxtend", "sklearn",
              "scipy", "sympy", "gensim", "nbformat", "nbclient", "IPython"}


NOTEBOOKS = [pytest.param(ROOT / folder / assignment / f"{assignment}.ipynb", id=f"{folder}-{assignment}")
             for assignment in ASSIGNMENTS for folder in ("solutions", "course")]


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_first_cell_installs_the_library_and_nothing_needs_a_checkout(path):
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "code" and first.source == INSTALL_CELL, (
        f"{path.relative_to(ROOT)}: the first cell must be the install cell of tests/test_binder_colab.py")
    assert first.metadata["nbgrader"]["locked"] and first.metadata["nbgrader"]["grade_id"] == "install"
    for index, cell in enumerate(notebook.cells[1:], start=1):
        if cell.cell_type != "code":
            continue
        where = f"{path.relative_to(ROOT)} cell {index}"
        for pattern in (r"\.\./", r"\b(lib|solutions|course|autograde)/", r"sys\.path", r"os\.chdir", r"/work/",
                        r"/home/"):
            assert not re.search(pattern, cell.source), f"{where} assumes a local checkout: {pattern}"
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in IMPORTABLE, (
                    f"{where} imports {name}, which Colab would not have: add it to pyproject.toml's dependencies")


def run_install_cell(monkeypatch, *, installed: bool) -> list:
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    if not installed:
        real = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *rest: None if name == "dlcourse" else real(name, *rest))
    exec(compile(INSTALL_CELL, "install-cell", "exec"), {})
    return calls


def test_install_cell_does_nothing_where_dlcourse_is_importable(monkeypatch):
    assert importlib.util.find_spec("dlcourse") is not None
    assert run_install_cell(monkeypatch, installed=True) == []


def test_install_cell_installs_from_the_repository_where_dlcourse_is_missing(monkeypatch):
    calls = run_install_cell(monkeypatch, installed=False)
    assert len(calls) == 1
    (command,), options = calls[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert command[-1] == f"dlcourse @ git+{REPOSITORY}" and options == {"check": True}


def test_the_package_pip_builds_from_the_repository_holds_the_whole_library(tmp_path):
    """What `pip install "dlcourse @ git+..."` builds on Colab: every subpackage and the data
    file the doctor reads, and the dependencies the notebooks import."""
    source = tmp_path / "repository"  # built from a copy: setuptools writes build/ where it builds
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "lib", source / "lib", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("dlcourse-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    library = ROOT / "lib" / "dlcourse"
    for source in library.rglob("*.py"):
        assert f"dlcourse/{source.relative_to(library).as_posix()}" in names, f"{source} missing from the wheel"
    assert "dlcourse/assignments.json" in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    required = {re.split(r"[<>=!;\[ ]", line.split(":", 1)[1].strip())[0].lower()
                for line in metadata.splitlines() if line.startswith("Requires-Dist:")}
    import_names = {"scikit-learn": "sklearn"}
    assert IMPORTABLE - {"dlcourse", "IPython"} <= {import_names.get(name, name) for name in required}


def test_binder_builds_from_the_root_and_postbuild_opens_course(tmp_path):
    """repo2docker uses a binder/ folder instead of the root when there is one; there is none,
    so it builds environment.yml (tests/test_setup.py checks its pins) and runs postBuild."""
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    post_build = ROOT / "postBuild"
    assert post_build.is_file() and os.access(post_build, os.X_OK)
    assert post_build.read_text().startswith("#!/usr/bin/env bash")
    home = tmp_path / "home"
    env = private_env(tmp_path, HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"))
    subprocess.run([str(post_build)], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    with running(lab_command(ROOT, port), port=port, cwd=ROOT, env=env, log_path=tmp_path / "lab.log") as base:
        # the start page (what a Binder link without a path opens) is JupyterLab in course/;
        # the token goes once, then the session cookie, as in a browser
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with browser.open(f"{base}/?token={TOKEN}", timeout=30) as response:
            assert response.geturl().split("?")[0] == f"{base}/lab/tree/course"
            page = response.read().decode()
    config = json_page_config(page)
    for plugin in ("formgrader", "create-assignment", "course-list"):
        assert f"@jupyter/nbgrader:{plugin}" in config["disabledExtensions"]
    assert not any("validate" in name for name in config["disabledExtensions"])


def json_page_config(page: str) -> dict:
    match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    assert match, "JupyterLab's page config is missing from the start page"
    return json.loads(match.group(1))


def test_readme_links_binder_and_colab_to_the_repository():
    readme = (ROOT / "README.md").read_text()
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    assert f"https://mybinder.org/v2/gh/{owner_repo}/HEAD?urlpath=lab/tree/course" in readme
    assert f"https://colab.research.google.com/github/{owner_repo}/blob/main/course/" in readme
    assert "python -m dlcourse doctor" in readme
