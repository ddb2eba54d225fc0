"""Calls from the judge into a submission's kernel, and plain values back.

A test cell runs in the judge; when it calls a student's function, `KernelCalls.request` writes
the request (a pickle: the judge is trusted, the kernel may read it) into the kernel's runtime
folder and asks the kernel to run `serve(n)` (autograde/kernel_side). The reply is read as plain
values (`kernel_side.Decoder`): numbers, strings, containers, arrays. What is not data (a
student's class, a module, a graph node) stays in the kernel and is stood in for here:

* `KernelObject`: calling it or reading an attribute asks the kernel;
* `StudentFunction`: a torch.autograd.Function whose forward and backward are the student's;
* `KernelBackward`: ties a call's outputs into the judge's autograd graph, so that a
  `.backward()` here asks the kernel for the gradients of the student's computation;
* graph nodes (dlcourse.autograd.Value) mirrored both ways by key.

What the call did to its arguments comes back too (`apply_state`): arrays changed in place,
lists and dicts given new items, tensors, modules, optimizers and generators, so that a test
sees its own arguments as a notebook would after the call.
"""

import builtins
import io
import json
import os
import pickle
import time
from pathlib import Path

from .kernel import Kernel, KernelLost
from .kernel_side import dlcourse_grader_kernel as kernel_side


class SubmissionError(Exception):
    """An exception raised by the student's code, re-raised in the judge as a test failure."""


class KernelObject:
    """The judge's stand-in for an object that lives in the kernel (a student's function,
    a module the student built): calling it or reading an attribute asks the kernel."""

    def __init__(self, calls, record):
        self.__dict__.update(_calls=calls, _handle=record["handle"], _record=record)

    def __call__(self, *args, **kwargs):
        return self._calls.call(("handle", self._handle), args, kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._calls.request("getattr", (("handle", self._handle), name))

    def __repr__(self):
        return f"<{self._record['label']} from the notebook>"


class KernelCalls:
    """Requests to the kernel's server and plain replies back (see kernel_side)."""

    def __init__(self, kernel: Kernel, deadline: float):
        self.kernel, self.deadline = kernel, deadline
        self.number, self.bytes_moved = 0, 0   # requests made, and the bytes of requests and replies
        self.values, self.value_keys = {}, {}   # key -> judge-side graph node, id -> key
        self.what = "a test"
        self.seconds = kernel.limits.cell_seconds  # each call's limit: the test cell's (JudgeSession.judge_test)
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

    def forget_values(self):
        """Stop sharing the graph nodes shared so far, on both sides. Every call sends the state of
        every shared node, so a session that judges many independent cases one after another
        (judge.grade_cases) would otherwise send more with each: its calls grew from 1 s to 30 s
        a case on 03-backprop's Value exercises."""
        self.values, self.value_keys = {}, {}
        self.request("forget_values", None)

    def value_states(self):
        return {key: (float(n.data), float(n.grad), str(n._op), [self.key_of(c) for c in n._children])
                for key, n in list(self.values.items())}

    def apply_values(self, states):
        from dlcourse.autograd import Value

        for key, (data, grad, op, _children) in states.items():
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

        calls = self
        shared = shared_buffers([o for o in kernel_side.argument_objects(payload) if is_plain_array(o)])

        class Pickler(cloudpickle.Pickler):
            def persistent_id(self, obj):
                if isinstance(obj, Value):
                    return ("value", calls.key_of(obj))
                if isinstance(obj, KernelObject):
                    return ("handle", obj._handle)
                return None

            def reducer_override(self, obj):
                if isinstance(obj, torch.Tensor) and obj.grad_fn is not None:  # not picklable: send its value
                    return torch.Tensor.requires_grad_, (obj.detach().cpu().clone(), obj.requires_grad)
                if is_plain_array(obj):
                    return plain_array(obj, shared.get(id(obj)))
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
        inputs = [o for o in kernel_side.argument_objects(payload) if isinstance(o, torch.Tensor) and o.requires_grad]
        if not inputs or not torch.is_grad_enabled():
            return self.request("call", payload)
        result = self.request("call", payload, keep_graph=True)
        outputs = kernel_side.tensors_in(result)
        positions = [i for i, t in enumerate(outputs) if t.requires_grad and t.is_floating_point()]
        if not positions or self.last_graph is None:
            return result
        calls, graph = self, self.last_graph

        class KernelBackward(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *_inputs):
                return tuple(outputs[i].detach().clone() for i in positions)

            @staticmethod
            def backward(ctx, *grads):
                return tuple(calls.request("graph_backward", (graph, list(grads), positions)))

        attached = KernelBackward.apply(*inputs)
        attached = attached if isinstance(attached, tuple) else (attached,)
        replacements = dict(zip(positions, attached))
        counter = iter(range(len(outputs)))
        return replace_tensors(result, lambda t: replacements.get(next(counter), t))

    def argument_grads(self, payload):
        """Gradients held by the arguments' tensors and modules (a pickle leaves them out)."""
        import torch

        grads = {}
        for index, obj in enumerate(kernel_side.argument_objects(payload)):
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
        self.bytes_moved += len(body)
        path = self.kernel.runtime / f"request-{number}.pkl"
        header = {"op": op, "values": self.value_states(), "keep_graph": keep_graph,
                  "grads": self.argument_grads(payload) if op == "call" else {}}
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            pickle.dump(header, handle)
            handle.write(body)
        seconds = min(self.seconds, self.deadline - time.monotonic())
        if seconds <= 0:
            self.kernel.kill()
            raise KernelLost(f"the notebook went past its time limit ({self.kernel.limits.wall_seconds} s)"
                             f" in {self.what}")
        _, error = self.kernel.execute(f"__import__('dlcourse_grader_kernel').serve({number})", seconds=seconds,
                                       silent=True, what=self.what)
        path.unlink(missing_ok=True)
        if error is not None and error.startswith(("TimeoutError:", "OutputLimit:")):
            self.reasons.append(error.split(": ", 1)[1])
            raise SubmissionError(error)
        text = read_reply(self.kernel.io / f"reply-{number}.json")
        self.bytes_moved += len((text or "").encode("utf-8", "backslashreplace"))
        if error is not None or text is None:
            raise SubmissionError(f"the grader could not call into the notebook's kernel ({error or 'no reply'}); "
                                  "was the kernel's state changed (e.g. %reset, an input transformer)?")
        try:
            reply = json.loads(text)
            if not isinstance(reply, dict):
                raise ValueError("not an object")
            self.apply_values(reply.get("values", {}))
            objects = kernel_side.argument_objects(payload) if op != "describe" else []
            decode = kernel_side.Decoder(references=objects, handle=self.stand_in, value=self.values.__getitem__)
            # in-place changes to the arguments, kept also when the function then raised (as in a
            # notebook); read-only arrays last: one that changed only through a writable array it
            # shares memory with is then already as the kernel left it
            changes = list(zip(objects, reply.get("arguments", [])))
            for obj, state in sorted(changes, key=lambda change: is_read_only_array(change[0])):
                apply_state(obj, state, decode)
            if "error" in reply:
                failure = student_exception(reply["error"])
            else:
                self.last_graph = reply.get("graph")
                return decode(reply.get("result"))
        except (KernelLost, SubmissionError):
            raise
        except Exception as error:  # noqa: BLE001 (whatever the kernel wrote: the test fails, grading goes on)
            message = f"the kernel's reply could not be read ({type(error).__name__}: {error})"
            raise SubmissionError(message[:500]) from None
        raise failure

    def stand_in(self, record):
        return self.function_class(record) if record.get("function_class") else KernelObject(self, record)

    def function_class(self, record):
        """A torch.autograd.Function whose forward and backward are the student's, run in
        the kernel on tensors sent as data; autograd itself runs here."""
        import torch

        calls, handle = self, record["handle"]

        class StudentFunction(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *args):
                result = calls.request("function_forward", (handle, args, tuple(ctx.needs_input_grad)))
                ctx.from_kernel = (result["attributes"], result["saved"])
                return result["output"]

            @staticmethod
            def backward(ctx, *grads):
                attributes, saved = ctx.from_kernel
                return calls.request("function_backward",
                                     (handle, attributes, saved, tuple(ctx.needs_input_grad), grads))

        StudentFunction.__name__ = StudentFunction.__qualname__ = str(record["label"]).rsplit(".", 1)[-1]
        return StudentFunction


def is_read_only_array(obj) -> bool:
    import numpy as np

    return isinstance(obj, np.ndarray) and not obj.flags.writeable


def is_plain_array(obj) -> bool:
    import numpy as np

    return type(obj) is np.ndarray and obj.dtype.kind in "biufcmM" and obj.dtype.isnative


def plain_array(array, shared=None):
    """How an array travels to the kernel: rebuilt there as np.ndarray(shape, dtype string,
    buffer). Unpickled the usual way, its dtype is a copy of float64 rather than NumPy's own
    float64, and np.asarray(W, dtype=float) then copies it: a student's W += ... after that line
    would change W in a notebook but not in grading, and the in-place change would go unseen.

    A writable array gets a writable buffer (bytearray), a read-only one an immutable one (bytes),
    so that writing to it fails in the kernel as it would in a notebook. `shared`: (buffer, offset)
    from `shared_buffers` when the array overlaps another argument in memory."""
    import numpy as np

    if shared is None:
        values = np.ascontiguousarray(array).tobytes()
        return np.ndarray, (array.shape, array.dtype.str, bytearray(values) if array.flags.writeable else values)
    buffer, offset = shared
    arguments = (array.shape, array.dtype.str, buffer, offset, array.strides)
    if isinstance(buffer, bytearray) and not array.flags.writeable:  # a read-only view of a writable array
        return np.ndarray, arguments, False, None, None, np.ndarray.setflags
    return np.ndarray, arguments


def byte_span(array) -> tuple[int, int]:
    """[first, last + 1) addresses of an array's elements (strides may be negative)."""
    start = end = array.__array_interface__["data"][0]
    for count, stride in zip(array.shape, array.strides):
        if stride < 0:
            start += stride * (count - 1)
        else:
            end += stride * (count - 1)
    return start, end + array.itemsize


def shared_buffers(arrays) -> dict:
    """Arguments that overlap in memory (W and W[0], x and x.T) travel as views of one buffer
    holding the bytes they span, with their own offsets and strides: in the kernel, as in a
    notebook, a change made through one is seen through the other, and the values copied back
    agree. {id(array): (buffer, offset)} for each array that overlaps another."""
    import ctypes

    spans = sorted((byte_span(a), index) for index, a in enumerate(arrays) if a.size)
    groups, end = [], None
    for (start, stop), index in spans:
        if end is not None and start < end:
            groups[-1].append((start, index))
            end = max(end, stop)
        else:
            groups.append([(start, index)])
            end = stop
    shared = {}
    for group in groups:
        if len(group) < 2:
            continue
        members = [arrays[index] for _, index in group]
        low, high = group[0][0], max(byte_span(a)[1] for a in members)
        values = ctypes.string_at(low, high - low)  # the judge's own memory, spanned by its arrays
        buffer = bytearray(values) if any(a.flags.writeable for a in members) else values
        for array in members:
            shared[id(array)] = (buffer, array.__array_interface__["data"][0] - low)
    return shared


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
        if not stat.S_ISREG(info.st_mode) or info.st_size > kernel_side.REPLY_LIMIT_BYTES:
            return None
        data = handle.read(kernel_side.REPLY_LIMIT_BYTES + 1)
    try:
        path.unlink()
    except OSError:
        pass
    return data.decode("utf-8", errors="replace") if len(data) <= kernel_side.REPLY_LIMIT_BYTES else None


def replace_tensors(obj, swap, depth=0):
    """obj with each tensor t (in kernel_side.tensors_in's order) replaced by swap(t)."""
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
    test sees in-place changes (and can reject them): a function that updates W in place and
    returns it is graded on the new W, and one that must leave x alone fails the check that
    says so."""
    import numpy as np
    import torch

    if state is None:
        return
    if isinstance(obj, np.ndarray):
        copy_array_back(obj, decode(state))
    elif isinstance(obj, (list, dict)):  # an item added, removed or replaced: the new items
        new = decode(state)
        if type(new) is not (list if isinstance(obj, list) else dict):
            raise ValueError(f"a {type(obj).__name__} argument's new value is a {type(new).__name__}")
        if isinstance(obj, list):
            obj[:] = new
        else:
            obj.clear()
            obj.update(new)
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


def copy_array_back(array, new):
    """What the student's function did to an array argument, done to the judge's array: its new
    values written into it (through a view, into the array it views, as in a notebook). A change
    the judge's array cannot take fails the call, with what to do instead: another shape or
    dtype (`x.shape = ...`, `x.resize(...)`, `x.dtype = ...` on the caller's array are side
    effects a notebook's caller would trip over later), or a write to a read-only array."""
    import numpy as np

    if not isinstance(new, np.ndarray):
        raise ValueError("an argument's new value is not an array")
    if new.shape != array.shape or new.dtype != array.dtype:
        raise SubmissionError(
            f"the function changed an array argument's shape or dtype in place, from {array.shape} {array.dtype} "
            f"to {new.shape} {new.dtype} (e.g. x.shape = ..., x.resize(...), x.dtype = ...): that changes the "
            "caller's array too. Make a new one instead (x = x.reshape(...), x = x.astype(...)).")
    if np.array_equal(array, new, equal_nan=True):
        return  # already so: changed through another argument that shares its memory
    if not array.flags.writeable:
        raise SubmissionError(f"the function changed a read-only array argument ({array.shape} {array.dtype}) "
                              "in place; make a copy to change (x = x.copy())")
    array[...] = new


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

