"""The worker's warm kernel factory (autograde/kernel_factory_server.py): one long-lived process
per grading worker that has imported Python, NumPy, PyTorch, Matplotlib and the course library
once, and forks a sandboxed kernel for each submission on request. Without it every kernel
starts cold (about two seconds of imports a submission).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import sandbox
from .kernel import KernelLost, die_with_parent


class FactoryProcess:
    """A kernel made by the warm factory: the worker's handle on it (not its child)."""

    def __init__(self, holder: int, runtime: Path):
        self.pid, self.runtime = holder, runtime

    def poll(self):
        exit_file = self.runtime / "kernel.exit"
        if exit_file.is_file():
            try:
                return int(exit_file.read_text() or -9)
            except ValueError:
                return -9
        try:
            os.kill(self.pid, 0)
            return None
        except ProcessLookupError:
            return -9

    def wait(self, timeout=None):
        deadline = time.monotonic() + (timeout or 3600)
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)


class KernelFactory:
    """The worker's factory process (autograde/kernel_factory_server.py): warm, sandboxed kernels on request."""

    # none of the library's reference packages (dlcourse.np, .pt, .autograd): a kernel imports
    # those from the sealed copy it is shown (dlcourse.sealing), never from the factory's memory
    MODULES = ["numpy", "torch", "matplotlib", "matplotlib.pyplot", "ipykernel.kernelapp", "ipywidgets",
               "dlcourse", "dlcourse.check", "dlcourse.data", "dlcourse.plot", "dlcourse.widgets",
               "dlcourse_grader_kernel", "sympy"]

    def __init__(self):
        import atexit

        self.home = Path(tempfile.mkdtemp(prefix=f"dlcourse-factory-{os.getpid()}-"))
        atexit.register(shutil.rmtree, self.home, True)
        env = sandbox.sandbox_environment({"MPLCONFIGDIR": str(self.home / "mpl"), "IPYTHONDIR": str(self.home / "ipy"),
                                           "HOME": str(self.home), "TMPDIR": str(self.home)})
        server = Path(__file__).with_name("kernel_factory_server.py")
        self.process = subprocess.Popen([sys.executable, "-P", str(server), *self.MODULES],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
                                        cwd=str(self.home), preexec_fn=die_with_parent)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the warm kernel factory did not start")

    def start(self, kernel, connection: Path, env: dict) -> FactoryProcess:
        limits = kernel.limits
        request = {
            "sandbox": kernel.use_sandbox, "runtime": str(kernel.runtime), "newroot": str(kernel.scratch / "root"),
            "home": sandbox.SANDBOX_HOME if kernel.use_sandbox else env["HOME"],
            "script": sandbox.SETUP_SCRIPT, "uid": kernel.run_uid, "env": env, "connection_file": str(connection),
            "script_args": [str(kernel.scratch / "root"), str(kernel.submission), str(kernel.runtime),
                            str(limits.disk_mb), str(limits.tmp_mb), str(kernel.run_uid),
                            " ".join(sandbox.readonly_paths(kernel.library))],
            "cgroups": kernel.group.procs_files if kernel.group is not None else [],
            "limits": {"address_space_mb": limits.address_space_mb, "cpu_seconds": limits.cpu_seconds,
                       "processes": limits.processes, "file_mb": limits.file_mb, "open_files": limits.open_files},
        }
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            holder = json.loads(self.process.stdout.readline())["pid"]
        except (OSError, ValueError, KeyError) as error:
            raise KernelLost(f"the warm kernel factory stopped ({error}); "
                             "the next submission starts a new one") from None
        return FactoryProcess(holder, kernel.runtime)


_factory = None


def kernel_factory(use_sandbox: bool):
    """The worker's warm kernel factory, or None where it cannot serve (a sandbox asked for by
    someone not root, or DLCOURSE_GRADER_FACTORY=0): kernels then start cold (`unshare`)."""
    global _factory
    if (use_sandbox and os.geteuid() != 0) or os.environ.get("DLCOURSE_GRADER_FACTORY", "1") == "0":
        return None
    if _factory is None or _factory.process.poll() is not None:
        _factory = KernelFactory()
    return _factory

