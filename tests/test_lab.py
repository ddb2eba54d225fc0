"""The README's first command (`make lab`) brings up JupyterLab serving course/: started here on
loopback with a token and private Jupyter folders, then asked for the released notebook."""

import json
import os

import pytest
from conftest import ASSIGNMENTS, ROOT
from lab_server import TOKEN, free_port, get, private_env, running


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    home = tmp_path_factory.mktemp("jupyter")
    port = free_port()
    args = f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --IdentityProvider.token={TOKEN}"
    # PATH as the caller has it: `make lab` must put the environment's commands first itself
    env = private_env(home, PATH=os.environ.get("PATH", ""))
    with running(["make", "lab", f"LAB_ARGS={args}"], port=port, cwd=ROOT, env=env,
                 log_path=home / "lab.log") as base:
        yield base, TOKEN


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_lab_serves_the_released_notebook(lab, assignment):
    base, token = lab
    status, body = get(f"{base}/api/contents/{assignment}/{assignment}.ipynb?token={token}")
    assert status == 200
    model = json.loads(body)
    assert model["type"] == "notebook" and model["content"]["nbformat"] == 4
    released = json.loads((ROOT / "course" / assignment / f"{assignment}.ipynb").read_text())
    assert len(model["content"]["cells"]) == len(released["cells"])
    status, page = get(f"{base}/lab/tree/{assignment}/{assignment}.ipynb?token={token}")
    assert status == 200 and b"JupyterLab" in page


def test_lab_serves_course_not_solutions(lab):
    base, token = lab
    status, body = get(f"{base}/api/contents?token={token}")
    names = {item["name"] for item in json.loads(body)["content"]}
    assert set(ASSIGNMENTS) <= names and "solutions" not in names
    assert get(f"{base}/api/contents/01-perceptron/01-perceptron.ipynb")[0] in (401, 403), "a token must be required"
