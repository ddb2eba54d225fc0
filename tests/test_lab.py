"""The README's first command (`make lab`) brings up JupyterLab serving course/: started here on
loopback with a token and private Jupyter folders, then asked for the released notebook."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from conftest import ASSIGNMENTS, ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    home = tmp_path_factory.mktemp("jupyter")
    port, token = free_port(), "dlcourse-test-token"
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"))
    args = f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --IdentityProvider.token={token}"
    log = open(home / "lab.log", "w")
    process = subprocess.Popen(["make", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"`make lab` exited with {process.returncode}:\n{(home / 'lab.log').read_text()}")
            try:
                if get(f"{base}/api/status?token={token}")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not answer within 120 s:\n{(home / 'lab.log').read_text()}")
        yield base, token
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


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
