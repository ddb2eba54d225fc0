"""Grading one submission: the student's notebook runs in a sandboxed kernel, the tests run here.

Stock nbgrader runs the test cells inside the student's kernel and believes what that kernel
says. Here the kernel only ever runs the student's own cells. The instructor's test cells,
taken from solutions/ (so edited, deleted or renamed test cells change nothing), run in this
process, the judge, where no student code has run: each call of a student's function is
forwarded to the kernel (autograde/kernel_side) and comes back as plain values, which the
test compares here with the reference. Input transformers, a patched np.testing, an
always-equal object or a planted numpy.py act only inside the kernel, on the kernel.

A test cell earns its points when it runs here without an exception: a warning on stderr
costs nothing. When the kernel dies, runs out of time or floods its output at cell k, the
points of the tests before k are kept and the reason is recorded.
"""

import builtins
import copy
import io
import json
import os
import pickle
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
from .kernel_side import dlcourse_grader_kernel as codec

KERNEL_START_SECONDS = 90


class KernelLost(BaseException):
    """The kernel died, ran out of time or was stopped: nothing more can run in it (a
    BaseException, so that a test's `except Exception` cannot swallow it)."""


class SubmissionError(Exception):
    """An exception raised by the student's code, re-raised in the judge as a test failure."""


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
    def __init__(self, submission: Path, *, limits: sandbox.Limits, use_sandbox: bool = True, slot: int = 0):
        self.limits, self.use_sandbox, self.slot = limits, use_sandbox, slot
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
        self.log = self.scratch / "kernel.log"

    @property
    def run_uid(self):
        return sandbox.HOST_UID_BASE + self.slot if self.use_sandbox and os.geteuid() == 0 else os.geteuid()

    def start(self):
        from jupyter_client import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        connection = self.runtime / "kernel.json"
        write_connection_file(str(connection), transport="ipc", ip=str(self.io / "kernel"),
                              key=secrets.token_hex(16).encode())
        os.chmod(connection, 0o644)
        if os.geteuid() == 0:
            os.chown(self.io, self.run_uid, self.run_uid)
        # -P: the submission's folder is not on sys.path until the grader's module (and NumPy
        # with it) is loaded, so a planted numpy.py cannot stand in for NumPy; then it is added
        command = [sys.executable, "-P", "-m", "ipykernel_launcher", "-f", str(connection)]
        env = sandbox.sandbox_environment({"DLCOURSE_GRADER_RUNTIME": str(self.runtime)})
        factory = kernel_factory(self.use_sandbox)
        if not self.use_sandbox:
            workdir = self.scratch / "work"
            shutil.copytree(self.submission, workdir)
            env["HOME"] = str(workdir)
            for key in ("IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):
                env[key] = str(self.scratch / key.lower())
            env["TMPDIR"] = str(self.scratch)
        if factory is not None:
            (self.scratch / "root").mkdir()
            self.log = self.runtime / "kernel.log"
            self.process = factory.start(self, connection, env)
        elif self.use_sandbox:
            (self.scratch / "root").mkdir()
            argv = sandbox.sandbox_argv(command, submission=self.submission, runtime=self.runtime,
                                        newroot=self.scratch / "root", limits=self.limits, slot=self.slot)
            with open(self.log, "wb") as log:
                self.process = subprocess.Popen(argv, cwd="/", env=env, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True,
                                                preexec_fn=die_with_parent)
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
                    raise KernelLost(f"the kernel did not start within {KERNEL_START_SECONDS} s")
        while True:  # drain the start-up status messages
            try:
                self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                break

    def check_alive(self, doing: str):
        code = self.process.poll()
        if code is not None:
            tail = self.log.read_bytes()[-600:].decode(errors="replace").strip() if self.log.exists() else ""
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            raise KernelLost(f"the kernel {how} {doing}" + (f" ({tail.splitlines()[-1][:200]})" if tail else ""))

    def interrupt(self):
        message = self.client.session.msg("interrupt_request", content={})
        self.client.control_channel.send(message)

    def execute(self, code: str, *, seconds: float, silent: bool = False, what: str = "a cell"):
        """Run code; returns (outputs, error) with error None or 'Name: message'. Raises
        KernelLost when the kernel dies or must be killed (time or output limit)."""
        deadline = time.monotonic() + seconds
        msg_id = self.client.execute(code, silent=silent, store_history=not silent, allow_stdin=False)
        outputs, error, idle, reply, stopped, cell_bytes = [], None, False, None, None, 0
        while not (idle and reply is not None):
            now = time.monotonic()
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
                    error = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
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
                    outputs.append(nbformat.v4.output_from_msg(message))
        if stopped is not None:
            reason = (f"ran past its time limit ({seconds:.0f} s)" if stopped[0] == "time" else
                      f"printed more than the output limit ({self.limits.output_kb} KB)")
            error = f"{'TimeoutError' if stopped[0] == 'time' else 'OutputLimit'}: {what} {reason} and was interrupted"
        if reply and reply["content"].get("status") == "error" and error is None:
            content = reply["content"]
            error = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
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

    def close(self):
        try:
            if self.client is not None:
                self.client.stop_channels()
                self.context.destroy(linger=0)
        finally:
            self.kill()
            shutil.rmtree(self.scratch, ignore_errors=True)


def remove_stale_scratch():
    """Scratch folders of grading processes that were killed (their pid is in the name)."""
    for folder in Path(tempfile.gettempdir()).glob("dlcourse-[gf]*-*-*"):
        try:
            owner = int(folder.name.split("-")[2])
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, IndexError, PermissionError):
            continue


def sandbox_init_pids(pid: int) -> list[int]:
    """Children of the process that made the sandbox (one: the namespace's first process)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


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
    """The worker's zygote (autograde/zygote.py): warm, sandboxed kernels on request."""

    MODULES = ["numpy", "torch", "matplotlib", "matplotlib.pyplot", "ipykernel.kernelapp", "ipywidgets",
               "dlcourse", "dlcourse.check", "dlcourse.data", "dlcourse.plot", "dlcourse.widgets",
               "dlcourse.autograd", "dlcourse_grader_kernel", "sympy"]

    def __init__(self):
        import atexit

        self.home = Path(tempfile.mkdtemp(prefix=f"dlcourse-factory-{os.getpid()}-"))
        atexit.register(shutil.rmtree, self.home, True)
        env = sandbox.sandbox_environment({"MPLCONFIGDIR": str(self.home / "mpl"), "IPYTHONDIR": str(self.home / "ipy"),
                                           "HOME": str(self.home), "TMPDIR": str(self.home)})
        self.process = subprocess.Popen([sys.executable, "-P", str(Path(__file__).with_name("zygote.py")), *self.MODULES],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
                                        cwd=str(self.home), preexec_fn=die_with_parent)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the warm kernel factory did not start")

    def start(self, kernel: "Kernel", connection: Path, env: dict) -> FactoryProcess:
        limits = kernel.limits
        request = {
            "sandbox": kernel.use_sandbox, "runtime": str(kernel.runtime), "newroot": str(kernel.scratch / "root"),
            "home": sandbox.SANDBOX_HOME if kernel.use_sandbox else env["HOME"],
            "script": sandbox.SETUP_SCRIPT, "uid": kernel.run_uid, "env": env, "connection_file": str(connection),
            "script_args": [str(kernel.scratch / "root"), str(kernel.submission), str(kernel.runtime),
                            str(limits.disk_mb), str(limits.tmp_mb), str(kernel.run_uid), " ".join(sandbox.readonly_paths())],
            "limits": {"memory_mb": limits.memory_mb, "cpu_seconds": limits.cpu_seconds, "processes": limits.processes,
                       "file_mb": limits.file_mb, "open_files": limits.open_files},
        }
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            holder = json.loads(self.process.stdout.readline())["pid"]
        except (OSError, ValueError, KeyError) as error:
            raise KernelLost(f"the warm kernel factory stopped ({error}); the next submission starts a new one") from None
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


# ------------------------------------------------------------------ the link: calls into the kernel

class Remote:
    """The judge's stand-in for an object that lives in the kernel (a student's function,
    a module the student built): calling it or reading an attribute asks the kernel."""

    def __init__(self, link, record):
        self.__dict__.update(_link=link, _handle=record["handle"], _record=record)

    def __call__(self, *args, **kwargs):
        return self._link.call(("handle", self._handle), args, kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._link.request("getattr", (("handle", self._handle), name))

    def code_facts(self):
        """(module, name, names used or None) for dlcourse.check.assert_written_here."""
        return tuple(self._link.request("code_facts", ("handle", self._handle)))

    def __repr__(self):
        return f"<{self._record['label']} from the notebook>"


class Link:
    """Requests to the kernel's server and plain replies back (see kernel_side)."""

    def __init__(self, kernel: Kernel, deadline: float):
        self.kernel, self.deadline = kernel, deadline
        self.number = 0
        self.values, self.value_keys = {}, {}   # key -> judge-side graph node, id -> key
        self.what = "a test"
        self.last_graph = None
        self.reasons = []

    # graph nodes (dlcourse.autograd.Value) shared with the kernel
    def key_of(self, node):
        key = self.value_keys.get(id(node))
        if key is None:
            key = f"j{len(self.values) + 1}"
            self.values[key], self.value_keys[id(node)] = node, key
            for child in node._children:
                self.key_of(child)
        return key

    def value_states(self):
        return {key: (float(n.data), float(n.grad), str(n._op), [self.key_of(c) for c in n._children])
                for key, n in list(self.values.items())}

    def apply_values(self, states):
        from dlcourse.autograd import Value

        for key, (data, grad, op, children) in states.items():
            node = self.values.get(key)
            if node is None:
                node = Value(data, (), op)
                node._backward = (lambda k=key: self.request("backward", k))
                self.values[key], self.value_keys[id(node)] = node, key
            node.data, node.grad = float(data), float(grad)
        for key, (_, _, _, children) in states.items():
            if key.startswith("k"):
                self.values[key]._children = tuple(self.values[c] for c in children)

    def pickle_payload(self, payload) -> bytes:
        import cloudpickle
        import torch
        from dlcourse.autograd import Value

        link = self

        class Pickler(cloudpickle.Pickler):
            def persistent_id(self, obj):
                if isinstance(obj, Value):
                    return ("value", link.key_of(obj))
                if isinstance(obj, Remote):
                    return ("handle", obj._handle)
                return None

            def reducer_override(self, obj):
                if isinstance(obj, torch.Tensor) and obj.grad_fn is not None:  # not picklable: send its value
                    return torch.Tensor.requires_grad_, (obj.detach().cpu().clone(), obj.requires_grad)
                return super().reducer_override(obj)

        buffer = io.BytesIO()
        Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(payload)
        return buffer.getvalue()

    def call(self, target, args, kwargs):
        """Call a function of the notebook. When tensors that require grad go in, the result's
        tensors are tied into the judge's autograd graph: a .backward() here asks the kernel
        for the gradients of the student's computation."""
        import torch

        payload = (target, args, kwargs)
        inputs = [o for o in codec.argument_objects(payload) if isinstance(o, torch.Tensor) and o.requires_grad]
        if not inputs or not torch.is_grad_enabled():
            return self.request("call", payload)
        result = self.request("call", payload, keep_graph=True)
        outputs = codec.tensors_in(result)
        positions = [i for i, t in enumerate(outputs) if t.requires_grad and t.is_floating_point()]
        if not positions or self.last_graph is None:
            return result
        link, graph = self, self.last_graph

        class Attach(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *_inputs):
                return tuple(outputs[i].detach().clone() for i in positions)

            @staticmethod
            def backward(ctx, *grads):
                return tuple(link.request("graph_backward", (graph, list(grads), positions)))

        attached = Attach.apply(*inputs)
        attached = attached if isinstance(attached, tuple) else (attached,)
        replacements = dict(zip(positions, attached))
        counter = iter(range(len(outputs)))
        return replace_tensors(result, lambda t: replacements.get(next(counter), t))

    def argument_grads(self, payload):
        """Gradients held by the arguments' tensors and modules (a pickle leaves them out)."""
        import torch

        grads = {}
        for index, obj in enumerate(codec.argument_objects(payload)):
            if isinstance(obj, torch.nn.Module):
                found = [None if p.grad is None else p.grad.detach().cpu().numpy() for p in obj.parameters()]
                if any(g is not None for g in found):
                    grads[index] = found
            elif isinstance(obj, torch.Tensor) and obj.is_leaf and obj.grad is not None:
                grads[index] = obj.grad.detach().cpu().numpy()
        return grads

    def request(self, op, payload, keep_graph=False):
        self.number += 1
        number = self.number
        body = self.pickle_payload(payload)
        path = self.kernel.runtime / f"request-{number}.pkl"
        header = {"op": op, "values": self.value_states(), "keep_graph": keep_graph,
                  "grads": self.argument_grads(payload) if op == "call" else {}}
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            pickle.dump(header, handle)
            handle.write(body)
        seconds = min(self.kernel.limits.cell_seconds, self.deadline - time.monotonic())
        if seconds <= 0:
            self.kernel.kill()
            raise KernelLost(f"the notebook went past its time limit ({self.kernel.limits.wall_seconds} s) in {self.what}")
        _, error = self.kernel.execute(f"__import__('dlcourse_grader_kernel').serve({number})", seconds=seconds,
                                       silent=True, what=self.what)
        path.unlink(missing_ok=True)
        if error is not None and error.startswith(("TimeoutError:", "OutputLimit:")):
            self.reasons.append(error.split(": ", 1)[1])
            raise SubmissionError(error)
        text = read_reply(self.kernel.io / f"reply-{number}.json")
        if error is not None or text is None:
            raise SubmissionError(f"the grader could not call into the notebook's kernel ({error or 'no reply'}); "
                                  "was the kernel's state changed (e.g. %reset, an input transformer)?")
        try:
            reply = json.loads(text)
            if not isinstance(reply, dict):
                raise ValueError("not an object")
            self.apply_values(reply.get("values", {}))
            if "error" in reply:
                failure = student_exception(reply["error"])
            else:
                self.last_graph = reply.get("graph")
                objects = codec.argument_objects(payload) if op != "describe" else []
                decode = codec.Decoder(references=objects, handle=self.stand_in, value=self.values.__getitem__)
                for obj, state in zip(objects, reply.get("arguments", [])):
                    apply_state(obj, state, decode)
                return decode(reply.get("result"))
        except (KernelLost, SubmissionError):
            raise
        except Exception as error:  # noqa: BLE001 (whatever the kernel wrote: the test fails, grading goes on)
            raise SubmissionError(f"the kernel's reply could not be read ({type(error).__name__}: {error})"[:500]) from None
        raise failure

    def stand_in(self, record):
        return self.function_class(record) if record.get("function_class") else Remote(self, record)

    def function_class(self, record):
        """A torch.autograd.Function whose forward and backward are the student's, run in
        the kernel on tensors sent as data; autograd itself runs here."""
        import torch

        link, handle = self, record["handle"]

        class Bridged(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *args):
                result = link.request("function_forward", (handle, args, tuple(ctx.needs_input_grad)))
                ctx.bridged = (result["attributes"], result["saved"])
                return result["output"]

            @staticmethod
            def backward(ctx, *grads):
                attributes, saved = ctx.bridged
                return link.request("function_backward", (handle, attributes, saved, tuple(ctx.needs_input_grad), grads))

        Bridged.__name__ = Bridged.__qualname__ = str(record["label"]).rsplit(".", 1)[-1]
        for method in ("forward", "backward"):
            function = getattr(Bridged, method)
            function.code_facts = (lambda m=method: tuple(link.request(
                "code_facts", ("handle", link.request("getattr", (("handle", handle), m))._handle))))
        return Bridged


def read_reply(path: Path) -> str | None:
    """A reply the kernel wrote, read without following links and only if it is a regular
    file of at most the reply limit (the kernel owns the folder); None when there is none."""
    import stat

    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > codec.REPLY_LIMIT_BYTES:
            return None
        data = handle.read(codec.REPLY_LIMIT_BYTES + 1)
    try:
        path.unlink()
    except OSError:
        pass
    return data.decode("utf-8", errors="replace") if len(data) <= codec.REPLY_LIMIT_BYTES else None


def replace_tensors(obj, swap, depth=0):
    """obj with each tensor t (in codec.tensors_in's order) replaced by swap(t)."""
    import torch

    if isinstance(obj, torch.Tensor):
        return swap(obj)
    if depth < 20 and isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*[replace_tensors(v, swap, depth + 1) for v in obj])
    if depth < 20 and isinstance(obj, (list, tuple)):
        return type(obj)(replace_tensors(v, swap, depth + 1) for v in obj)
    if depth < 20 and isinstance(obj, dict):
        return {k: replace_tensors(v, swap, depth + 1) for k, v in obj.items()}
    return obj


def apply_state(obj, state, decode):
    """Copy what the student's function did to an argument into the judge's object, so that a
    test sees in-place changes (and can reject them)."""
    import numpy as np
    import torch

    if state is None:
        return
    if isinstance(obj, np.ndarray):
        new = decode(state)
        if obj.shape == new.shape and obj.flags.writeable and not np.array_equal(obj, new, equal_nan=True):
            obj[...] = new
    elif isinstance(obj, np.random.Generator):
        obj.bit_generator.state = decode(state)
    elif isinstance(obj, torch.Tensor):
        new = decode.tensor(state)
        with torch.no_grad():
            if obj.shape == new.shape and not torch.equal(obj.detach().cpu(), new.detach().to(obj.dtype)):
                obj.copy_(new.detach())
        if obj.is_leaf and obj.requires_grad and new.grad is not None:
            obj.grad = new.grad.to(obj.device)
    elif isinstance(obj, torch.nn.Module):
        states = {k: decode.tensor(v).detach() for k, v in state["state"].items()}
        obj.load_state_dict(states, strict=False)
        for name, parameter in obj.named_parameters():
            grad = state["grads"].get(name)
            parameter.grad = None if grad is None else decode.tensor(grad).detach().to(parameter.device)
        for module, training in zip(obj.modules(), state["training"]):
            module.training = bool(training)
    elif isinstance(obj, torch.optim.Optimizer):
        obj.load_state_dict(decode(state))
    elif isinstance(obj, torch.Generator):
        obj.set_state(decode.tensor(state).to(torch.uint8))


def student_exception(error: dict) -> Exception:
    kind = getattr(builtins, str(error.get("type")), None) if error.get("builtin") else None
    if (not (isinstance(kind, type) and issubclass(kind, Exception))
            or issubclass(kind, (StopIteration, StopAsyncIteration, UnicodeError, OSError))):
        kind = SubmissionError  # these change control flow or need other arguments
    message = str(error.get("message", ""))
    if kind is SubmissionError:
        message = f"{error.get('type')}: {message}"
    try:
        exception = kind(message)
    except Exception:  # noqa: BLE001
        exception = SubmissionError(f"{error.get('type')}: {message}")
    exception.add_note("raised in the notebook's code:\n" + str(error.get("traceback", ""))[-3000:])
    return exception


# ------------------------------------------------------------------ the judge's own interpreter

_shell = None


def judge_shell():
    """One IPython shell per worker process, reset for every notebook (imports stay cached)."""
    global _shell
    if _shell is None:
        os.environ.setdefault("MPLBACKEND", "Agg")
        os.environ["DLCOURSE_QUICK"] = "1"
        os.environ["DLCOURSE_HEADLESS"] = "1"
        import torch
        from IPython.core.interactiveshell import InteractiveShell

        torch.set_num_threads(1)
        _shell = InteractiveShell.instance()
    return _shell


class JudgeTimeout(Exception):
    """A test ran too long in the judge itself (e.g. on an absurd symbolic answer)."""


def run_in_judge(shell, source: str, seconds: float | None = None):
    """Run instructor code in the judge; returns None or 'Name: message' (no traceback: a
    traceback would show the hidden test's lines). With `seconds`, a timer stops a test that
    runs too long here (main thread only: Python delivers signals there)."""
    import threading

    from IPython.utils.capture import capture_output

    timed = seconds is not None and threading.current_thread() is threading.main_thread()
    if timed:
        def expire(*_):
            raise JudgeTimeout(f"the test ran past {seconds:.0f} s in the grader")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with capture_output():
            result = shell.run_cell(source, store_history=False, silent=True)
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    error = result.error_before_exec or result.error_in_exec
    if error is None:
        return None
    if isinstance(error, KernelLost):
        raise error
    message = str(error).strip()
    return f"{type(error).__name__}: {message}" if message else f"{type(error).__name__} (a hidden check failed)"


# ------------------------------------------------------------------ one notebook

def cell_kind(cell) -> str:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.get("cell_type") != "code":
        return "manual" if meta.get("solution") and meta.get("grade") else "text"
    if meta.get("grade") and not meta.get("solution"):
        return "test"
    if meta.get("solution"):
        return "answer"
    return "code"


def grade_notebook(source_path: Path, released_path: Path, submission_dir: Path, notebook_name: str, *,
                   limits: sandbox.Limits, use_sandbox: bool, slot: int = 0) -> dict:
    """Grade one notebook of a submission. Returns plain data: scores per test cell, the
    answers waiting for a manual grade, the graded notebook (for feedback) and reasons."""
    source = nbformat.read(source_path, as_version=4)
    released = nbformat.read(released_path, as_version=4)
    tests = {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells if cell_kind(c) == "test"}
    released_cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in released.cells}
    result = {"cells": {gid: {"score": 0.0, "max": float(c.metadata["nbgrader"].get("points", 0)),
                              "message": "not run"} for gid, c in tests.items()},
              "manual": {}, "reasons": [], "notebook": None}
    try:
        if (submission_dir / notebook_name).is_symlink():  # it could point at solutions/
            raise ValueError("it is a symbolic link, not a file")
        submitted = nbformat.read(submission_dir / notebook_name, as_version=4)
        nbformat.validate(submitted)
    except Exception as error:  # noqa: BLE001 (JSON, schema, encoding: all mean unreadable)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        reason = f"{notebook_name} is not a readable notebook ({first})"
        for cell in result["cells"].values():
            cell["message"] = reason
        result["reasons"].append(reason)
        return result

    # manual answers: a grade is needed only where the student wrote something
    stubs = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in released.cells if cell_kind(c) == "manual"}
    for cell in submitted.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in stubs and gid not in result["manual"]:
            result["manual"][gid] = cell.source.strip() != stubs[gid].strip()
    for gid in stubs:
        result["manual"].setdefault(gid, False)

    plan = execution_plan(source, submitted, tests)
    answer_names = answer_names_of(source)
    # the source's set-up cells (imports, data) minus magics: the judge displays nothing
    setup = ["\n".join(line for line in c.source.splitlines() if not line.lstrip().startswith("%"))
             for c in source.cells[:first_answer_index(source)] if c.cell_type == "code"]
    shell = judge_shell()
    shell.reset(new_session=False)
    graded = nbformat.v4.new_notebook(metadata=submitted.metadata)
    kernel = Kernel(submission_dir, limits=limits, use_sandbox=use_sandbox, slot=slot)
    deadline = time.monotonic() + limits.wall_seconds
    lost = None
    try:
        for code in setup:
            error = run_in_judge(shell, code)
            if error:
                raise RuntimeError(f"the instructor's set-up cell failed in the judge: {error}")
        kernel.start()
        link = Link(kernel, deadline)
        _, error = kernel.execute("import dlcourse_grader_kernel, sys\nsys.path.insert(0, '')", seconds=60,
                                  silent=True, what="the grader's set-up")
        if error:  # before any student code: the grader's own installation is at fault
            raise RuntimeError(f"the grader's module could not be loaded in the sandboxed kernel: {error}")
        execution_count, stale = 0, True
        for position, (kind, cell) in enumerate(plan):
            if kind == "test":
                gid = cell.metadata["nbgrader"]["grade_id"]
                visible = released_cells.get(gid)  # never the source's cell: it holds the hidden tests
                shown = nbformat.v4.new_code_cell(visible.source if visible is not None else
                                                  "# a test cell of the instructor's (not in your release)",
                                                  metadata=cell.metadata)
                if lost is not None:
                    result["cells"][gid]["message"] = f"not run: {lost}"
                    shown.outputs = [_note(f"Not graded: {lost}")]
                    graded.cells.append(shown)
                    continue
                link.what = f"test {gid}"
                try:
                    if stale:  # a student cell ran since the names were bound: they may have changed
                        bind_answers(shell, link, answer_names)
                        stale = False
                    error = run_in_judge(shell, cell.source, seconds=2 * limits.cell_seconds + 30)
                except KernelLost as error_lost:
                    lost = f"{error_lost} (in test {gid})"
                    error = f"KernelLost: {error_lost}"
                    result["reasons"].append(lost)
                except Exception as error_link:  # noqa: BLE001 (the link failed on this test: it fails)
                    error = f"{type(error_link).__name__}: {error_link}"
                points = result["cells"][gid]["max"]
                result["cells"][gid].update(score=0.0 if error else points, message=error or "passed")
                shown.outputs = [_note(f"Passed: {points:g} / {points:g} point(s)") if not error else
                                 nbformat.v4.new_output("error", ename="Failed", evalue=error[:3000], traceback=[
                                     f"Failed ({0:g} / {points:g} point(s)): {error[:3000]}"])]
                graded.cells.append(shown)
            elif kind == "code":
                stale = True
                executed = nbformat.v4.new_code_cell(cell.source, metadata=cell.metadata)
                if lost is None:
                    execution_count += 1
                    seconds = min(limits.cell_seconds, deadline - time.monotonic())
                    try:
                        if seconds <= 0:
                            kernel.kill()
                            raise KernelLost(f"the notebook went past its time limit ({limits.wall_seconds} s)")
                        executed.outputs, error = kernel.execute(cell.source, seconds=seconds,
                                                                 what=f"cell {position + 1}")
                        if error and error.startswith(("TimeoutError:", "OutputLimit:")):
                            result["reasons"].append(error.split(": ", 1)[1])
                        executed.execution_count = execution_count
                    except KernelLost as error_lost:
                        lost = f"{error_lost}"
                        result["reasons"].append(f"{lost} (cell {position + 1})")
                        executed.outputs = [_note(f"Stopped here: {lost}")]
                graded.cells.append(executed)
            else:
                graded.cells.append(cell)
    except KernelLost as error_lost:
        lost = str(error_lost)
        result["reasons"].append(lost)
        for cell in result["cells"].values():
            if cell["message"] == "not run":
                cell["message"] = f"not run: {lost}"
    finally:
        kernel.close()
        if "link" in locals():
            result["reasons"] += link.reasons
    result["notebook"] = nbformat.writes(graded)
    return result


def _note(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text + "\n")


def first_answer_index(source) -> int:
    for index, cell in enumerate(source.cells):
        if cell_kind(cell) == "answer":
            return index
    return len(source.cells)


def answer_names_of(source) -> list[str]:
    """Names the answer cells define: what the tests may ask of the student's kernel."""
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    names = []
    for cell in source.cells:
        if cell_kind(cell) != "answer":
            continue
        tree = ast.parse(TransformerManager().transform_cell(cell.source))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, ast.Assign):
                names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))


def bind_answers(shell, link: Link, names: list[str]):
    """Point the judge's names for the student's answers at the kernel's current ones."""
    found = link.request("describe", names)
    for name in names:
        if name in found:
            shell.user_ns[name] = found[name]
        else:
            shell.user_ns.pop(name, None)


def execution_plan(source, submitted, tests) -> list[tuple[str, object]]:
    """The submitted cells in their order, each test cell replaced by the source's; test
    cells missing from the submission are put back after the cell that precedes them in the
    source (or at the end)."""
    plan, seen = [], set()
    source_meta = {_gid(c): c.metadata["nbgrader"] for c in source.cells if _gid(c) is not None}
    for cell in submitted.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in tests:
            if gid not in seen:
                plan.append(("test", tests[gid]))
                seen.add(gid)
            continue
        cell = copy.deepcopy(cell)
        # nbgrader metadata comes from the source: a student's edits to it (renamed ids, a
        # cell turned into a graded one, a duplicate) change nothing
        if gid in source_meta and gid not in seen:
            cell.metadata["nbgrader"] = copy.deepcopy(source_meta[gid])
            seen.add(gid)
        else:
            cell.metadata.pop("nbgrader", None)
        plan.append(("code" if cell.cell_type == "code" else "text", cell))
    missing = [gid for gid in tests if gid not in seen]
    source_ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in source.cells]
    for gid in missing:
        index = source_ids.index(gid)
        anchor = next((source_ids[i] for i in range(index - 1, -1, -1) if source_ids[i] is not None
                       and any(_gid(c) == source_ids[i] for _, c in plan)), None)
        at = len(plan)
        if anchor is not None:
            at = max(i for i, (_, c) in enumerate(plan) if _gid(c) == anchor) + 1
        plan.insert(at, ("test", tests[gid]))
    return plan


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
