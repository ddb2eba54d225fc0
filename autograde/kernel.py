"""The kernel a submission runs in, as the judge sees it: started (cold with `unshare`, or warm
from the worker's kernel factory), asked to run a cell under a time and an output limit, and
killed with everything it started.

A sandboxed kernel can see only what autograde/sandbox.py shows it (a copy of the submission,
the system read-only, no network, no other process). The judge talks to it over Unix sockets in
a runtime folder that belongs to the grader; only runtime/io/ belongs to the sandbox's uid.
"""

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from . import sandbox
from .text import printable

KERNEL_START_SECONDS = 90

class KernelLost(BaseException):
    """The kernel died, ran out of time or was stopped: nothing more can run in it (a
    BaseException, so that a test's `except Exception` cannot swallow it)."""


# ------------------------------------------------------------------ the sandboxed kernel

def die_with_parent():
    """Linux: SIGKILL this process when its parent dies (a killed worker leaves no kernel)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class Kernel:
    def __init__(self, submission: Path, *, limits: sandbox.Limits, use_sandbox: bool = True,
                 library: Path | None = None):
        # library: a sealed copy of the course library (dlcourse.sealing) the kernel imports instead
        self.limits, self.use_sandbox, self.library = limits, use_sandbox, library
        self.group = None  # the sandbox's control group (memory and tasks), made at start
        remove_stale_scratch()
        self.scratch = Path(tempfile.mkdtemp(prefix=f"dlcourse-grade-{os.getpid()}-"))
        os.chmod(self.scratch, 0o755)
        # run/ belongs to the grader (requests, connection file, exit status); only run/io/,
        # for the kernel's sockets and replies, belongs to the sandbox's uid. Nothing the
        # kernel can write is ever opened by root except through read_reply (no symlinks).
        self.runtime = self.scratch / "run"
        self.runtime.mkdir(mode=0o755)
        self.io = self.runtime / "io"
        self.io.mkdir(mode=0o700)
        self.submission = submission
        self.output_bytes = 0
        self.process = self.client = None
        self.log_start = 0  # where the kernel's own messages begin in its log, once started
        self.io_mounted = False
        self.peak_mb = None  # the most memory the sandbox held (known once closed, with a control group)
        self.log = self.scratch / "kernel.log"

    @property
    def run_uid(self):
        return sandbox.run_uid() if self.use_sandbox else os.geteuid()

    def start(self):
        from jupyter_client import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        connection = self.runtime / "kernel.json"
        write_connection_file(str(connection), transport="ipc", ip=str(self.io / "kernel"),
                              key=secrets.token_hex(16).encode())
        os.chmod(connection, 0o644)
        # run/io/ gets a tmpfs of its own (root), else the grader watches it (runtime_usage)
        self.io_mounted = self.use_sandbox and sandbox.mount_runtime(self.io, self.limits, self.run_uid)
        if os.geteuid() == 0:
            os.chown(self.io, self.run_uid, self.run_uid)
        # -P: the submission's folder is not on sys.path until the grader's module (and NumPy
        # with it) is loaded, so a planted numpy.py cannot stand in for NumPy; then it is added
        command = [sys.executable, "-P", "-m", "ipykernel_launcher", "-f", str(connection)]
        env = sandbox.sandbox_environment({"DLCOURSE_GRADER_RUNTIME": str(self.runtime)})
        from .kernel_factory import kernel_factory

        # unsandboxed, a warm kernel would find the library the factory imported, not the sealed copy
        factory = kernel_factory(self.use_sandbox) if self.use_sandbox or self.library is None else None
        if not self.use_sandbox:
            workdir = self.scratch / "work"
            shutil.copytree(self.submission, workdir)
            env["HOME"] = str(workdir)
            for key in ("IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):
                env[key] = str(self.scratch / key.lower())
            env["TMPDIR"] = str(self.scratch)
            if self.library is not None:  # ahead of the editable install's path
                env["PYTHONPATH"] = f"{self.library}:{env['PYTHONPATH']}"
        if self.use_sandbox:  # no sandbox without its budget (a Dask worker on another host, say)
            if sandbox.control_groups() is None:
                raise sandbox.SandboxUnavailable(sandbox.memory_budget_reason())
            sandbox.remove_stale_groups()
            self.group = sandbox.SandboxGroup(sandbox.control_groups(), self.limits)
        if factory is not None:
            (self.scratch / "root").mkdir()
            self.log = self.runtime / "kernel.log"
            self.process = factory.start(self, connection, env)
        elif self.use_sandbox:
            (self.scratch / "root").mkdir()
            argv = sandbox.sandbox_argv(command, submission=self.submission, runtime=self.runtime,
                                        newroot=self.scratch / "root", limits=self.limits, library=self.library)
            group = self.group

            def enter_sandbox():  # in the child, before unshare: nothing it starts escapes the budget
                die_with_parent()
                if group is not None:
                    group.join()

            with open(self.log, "wb") as log:
                self.process = subprocess.Popen(argv, cwd="/", env=env, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True,
                                                preexec_fn=enter_sandbox)
        else:
            with open(self.log, "wb") as log:
                self.process = subprocess.Popen(command, cwd=env["HOME"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True,
                                                preexec_fn=die_with_parent)
        import zmq

        self.context = zmq.Context()
        # ipykernel batches a flood of prints into messages of up to a few hundred MB; one
        # above 1 GB drops the link (the cell then times out and the kernel is killed)
        self.context.setsockopt(zmq.MAXMSGSIZE, 2**30)
        self.client = BlockingKernelClient(connection_file=str(connection), context=self.context)
        self.client.load_connection_file()
        self.client.start_channels()
        deadline = time.monotonic() + KERNEL_START_SECONDS
        while True:
            self.check_alive("while starting")
            self.client.kernel_info()
            try:
                self.client.get_shell_msg(timeout=1)
                break
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise KernelLost(f"the kernel did not start within {KERNEL_START_SECONDS} s") from None
        while True:  # drain the start-up status messages
            try:
                self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                break
        self.log_start = self.log.stat().st_size if self.log.exists() else 0

    def check_alive(self, doing: str):
        if self.group is not None and self.group.memory_exceeded():
            self.kill()
            raise KernelLost(f"{sandbox.memory_limit_text(self.limits)}: the submission's processes together "
                             f"needed more than {sandbox.memory_text(self.limits.memory_mb)} {doing}; "
                             "the kernel was stopped")
        if not self.io_mounted and self.use_sandbox:
            past = sandbox.runtime_usage(self.io, self.limits)
            if past:
                self.kill()
                raise KernelLost(f"the kernel wrote {past} to its runtime folder {doing}; it was stopped")
        code = self.process.poll()
        if code is not None:
            # what the kernel wrote after it started (not its banner, which names the grader's paths),
            # its escapes shown, not obeyed: the reason reaches the instructor's terminal
            tail = self.log.read_bytes()[self.log_start:][-600:].decode(errors="replace").strip() \
                if self.log.exists() else ""
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            last = printable(tail.splitlines()[-1][:200], one_line=True) if tail else ""
            raise KernelLost(f"the kernel {how} {doing}" + (f" ({last})" if last else ""))

    def interrupt(self):
        message = self.client.session.msg("interrupt_request", content={})
        self.client.control_channel.send(message)

    def execute(self, code: str, *, seconds: float, silent: bool = False, what: str = "a cell"):
        """Run code; returns (outputs, error) with error None or 'Name: message' (printable: the
        student's code wrote the message). Raises KernelLost when the kernel dies or must be
        killed (time or output limit)."""
        deadline = time.monotonic() + seconds
        msg_id = self.client.execute(code, silent=silent, store_history=not silent, allow_stdin=False)
        outputs, error, idle, reply, stopped, cell_bytes = [], None, False, None, None, 0
        checked = time.monotonic()
        while not (idle and reply is not None):
            now = time.monotonic()
            if now - checked > 0.5:  # a cell that prints without pause is still watched
                self.check_alive(f"while running {what}")
                checked = now
            if now > deadline and stopped is None:
                stopped = ("time", now + 10)
                self.interrupt()
            if stopped is not None and now > stopped[1]:
                self.kill()
                limit = (f"its time limit ({seconds:.0f} s)" if stopped[0] == "time" else
                         f"the output limit ({self.limits.output_kb} KB)")
                raise KernelLost(f"{what} went past {limit} and did not stop when interrupted")
            try:
                message = self.client.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                self.check_alive(f"while running {what}")
                if idle:
                    try:
                        reply = self.client.get_shell_msg(timeout=0.1)
                        if reply["parent_header"].get("msg_id") != msg_id:
                            reply = None
                    except queue.Empty:
                        pass
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                idle = True
                try:
                    reply = self.client.get_shell_msg(timeout=max(0.1, min(5, deadline - time.monotonic())))
                    if reply["parent_header"].get("msg_id") != msg_id:
                        reply = None
                except queue.Empty:
                    pass
            elif kind in ("stream", "display_data", "execute_result", "error"):
                if kind == "error":
                    error = printable(f"{content.get('ename', 'Error')}: {content.get('evalue', '')}")
                size = len(json.dumps(content))
                cell_bytes += size
                self.output_bytes += size
                if cell_bytes > self.limits.output_kb * 1024:
                    if stopped is None:  # a flood: stop the cell, keep what came before
                        outputs.append(nbformat.v4.new_output(
                            "stream", name="stderr", text=f"[grader: output stopped at {self.limits.output_kb} KB]\n"))
                        stopped = ("output", time.monotonic() + 10)
                        self.interrupt()
                    continue
                if not silent and self.output_bytes <= 4 * self.limits.output_kb * 1024:
                    add_output(outputs, message)
        while not silent:  # output that came in behind the idle status (a loaded machine): kept, never waited for
            try:
                message = self.client.get_iopub_msg(timeout=0)
            except queue.Empty:
                break
            if (message["parent_header"].get("msg_id") == msg_id and message["msg_type"] == "stream"
                    and self.output_bytes <= 4 * self.limits.output_kb * 1024):
                self.output_bytes += len(json.dumps(message["content"]))
                add_output(outputs, message)
        if stopped is not None:
            reason = (f"ran past its time limit ({seconds:.0f} s)" if stopped[0] == "time" else
                      f"printed more than the output limit ({self.limits.output_kb} KB)")
            error = f"{'TimeoutError' if stopped[0] == 'time' else 'OutputLimit'}: {what} {reason} and was interrupted"
        if reply and reply["content"].get("status") == "error" and error is None:
            content = reply["content"]
            error = printable(f"{content.get('ename', 'Error')}: {content.get('evalue', '')}")
        return outputs, error

    def kill(self):
        """SIGKILL the sandbox's first process: Linux then kills every process of its PID
        namespace, whatever the student did to signals or parent-death settings."""
        if self.process is None:
            return
        pids = sandbox_init_pids(self.process.pid) + [self.process.pid]
        pid_file = self.runtime / "kernel.pid"  # written by the factory (root-owned folder)
        if pid_file.is_file():
            try:
                pids.insert(0, int(pid_file.read_text()))
            except ValueError:
                pass
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        if self.group is not None:  # a process that left the namespace's tree is still in the group
            sandbox.kill_processes(self.group.tasks())

    def close(self):
        try:
            if self.client is not None:
                self.client.stop_channels()
                self.context.destroy(linger=0)
        finally:
            self.kill()
            if self.group is not None:
                self.peak_mb = self.group.peak_mb()
                self.group.remove()
            sandbox.remove_tree(self.scratch)


def add_output(outputs: list, message) -> None:
    """Append a kernel's output message; text following text on the same stream joins it, as
    Jupyter shows it (how prints are cut into messages depends on the machine's load)."""
    output = nbformat.v4.output_from_msg(message)
    last = outputs[-1] if outputs else None
    if (output.output_type == "stream" and last is not None and last.get("output_type") == "stream"
            and last.get("name") == output.name):
        last["text"] += output.text
    else:
        outputs.append(output)


def remove_stale_scratch():
    """Scratch folders of grading processes that were killed (their pid is in the name)."""
    for folder in Path(tempfile.gettempdir()).glob("dlcourse-[gfs]*-*-*"):
        try:
            owner = int(folder.name.split("-")[2])
            os.kill(owner, 0)
        except ProcessLookupError:
            sandbox.remove_tree(folder)  # never raises: what a killed run left cannot stop this one
        except (ValueError, IndexError, PermissionError):
            continue


def sandbox_init_pids(pid: int) -> list[int]:
    """Children of the process that made the sandbox (one: the namespace's first process)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []

