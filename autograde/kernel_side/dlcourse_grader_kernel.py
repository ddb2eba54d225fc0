"""The grader's side door into a submission's kernel, and the plain-value codec both sides use.

The grading judge (autograde/judge.py) runs the instructor's test cells in its own process.
When a test calls a student's function, the judge writes a request (a pickle: the judge is
trusted, the kernel may read it) into the sandbox's runtime folder and asks the kernel to
run `serve(n)`. The kernel calls the function and writes back its result as *plain values*:
JSON holding numbers, strings, containers, and arrays as .npy bytes. The judge reads replies
with `decode`, which builds nothing but those values (no pickle, no eval), so whatever the
submission did to its kernel, the judge only ever sees data, and judges it itself.

Objects that are not data (a student's class, a module built in the kernel, a graph node
with a backward closure) stay in the kernel and travel as handles the judge can call.
"""

import base64
import dataclasses
import hashlib
import io
import json
import math
import pickle
import sys
import traceback
from pathlib import Path

import numpy as np

REPLY_LIMIT_BYTES = 64 * 2**20
# No decoded value may hold more elements than a reply of REPLY_LIMIT_BYTES could spell out one
# by one: a 60-byte `range(10**9)` is not turned into 40 GB of list by the tests that read it.
REPLY_ELEMENTS = REPLY_LIMIT_BYTES // 8
# A symbolic answer: at most this many nodes, and no power, factorial or precision that would
# take the judge minutes to work out when a test simplifies it
SYMBOLIC_NODES = 20_000
SYMBOLIC_EXPONENT = 1_000

# ------------------------------------------------------------------ plain-value codec


def _npy(array) -> str:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _from_npy(text: str) -> np.ndarray:
    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


def _torch():
    return sys.modules.get("torch")


def _sympy():
    return sys.modules.get("sympy")


def _value_class():
    module = sys.modules.get("dlcourse.autograd.value")
    return getattr(module, "Value", None)


def _library_value(obj) -> bool:
    """An instance of a frozen dataclass defined at the top of a dlcourse module: a value, sent as
    its fields (each a round trip to the kernel, were it a handle), rebuilt in the judge from the
    judge's own copy of the class."""
    kind = type(obj)
    return (dataclasses.is_dataclass(obj) and not isinstance(obj, type) and kind.__dataclass_params__.frozen
            and str(kind.__module__).startswith("dlcourse.") and kind.__qualname__ == kind.__name__)


class Encoder:
    """Plain encoding of kernel objects; what is not data becomes a handle (see Server)."""

    def __init__(self, server=None):
        self.server = server

    def __call__(self, obj, depth=0):
        if depth > 60:
            raise ValueError("a result nested more than 60 levels deep cannot be graded")
        torch = _torch()
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj if abs(obj) < 2**53 else {"$": "bigint", "v": str(obj)}
        if isinstance(obj, float):
            # float(): NumPy 2 spells an np.float64 (a float) np.float64(inf), which float() cannot read
            return obj if math.isfinite(obj) else {"$": "float", "v": repr(float(obj))}
        if isinstance(obj, complex):
            return {"$": "complex", "v": [self(obj.real), self(obj.imag)]}
        if isinstance(obj, bytes):
            return {"$": "bytes", "v": base64.b64encode(obj).decode("ascii")}
        if isinstance(obj, np.generic) and obj.dtype.kind != "O":
            return {"$": "npscalar", "npy": _npy(np.asarray(obj))}
        if isinstance(obj, np.ndarray) and obj.dtype.kind not in "OV":
            return self.ref_or(obj, lambda: {"$": "ndarray", "npy": _npy(obj)})
        if torch is not None and isinstance(obj, torch.Tensor) and not isinstance(obj, torch.nn.Parameter):
            return self.ref_or(obj, lambda: self.tensor(obj))
        if torch is not None and isinstance(obj, torch.Size):
            return {"$": "size", "v": list(obj)}
        if torch is not None and isinstance(obj, torch.dtype):
            return {"$": "torch_dtype", "v": str(obj).removeprefix("torch.")}
        if _library_value(obj):   # a frozen dataclass of the course's library (a trace's row): its fields
            return {"$": "dataclass", "type": f"{type(obj).__module__}.{type(obj).__name__}",
                    "v": [[f.name, self(getattr(obj, f.name), depth + 1)] for f in dataclasses.fields(obj) if f.init]}
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):
            return {"$": "namedtuple", "type": type(obj).__name__, "fields": list(obj._fields),
                    "v": [self(v, depth + 1) for v in obj]}
        if isinstance(obj, tuple):
            return {"$": "tuple", "v": [self(v, depth + 1) for v in obj]}
        if isinstance(obj, list):
            return [self(v, depth + 1) for v in obj]
        if isinstance(obj, dict):
            return {"$": "dict", "v": [[self(k, depth + 1), self(v, depth + 1)] for k, v in obj.items()]}
        if isinstance(obj, (set, frozenset)):
            return {"$": "set", "v": [self(v, depth + 1) for v in obj]}
        if isinstance(obj, range):
            return {"$": "range", "v": [obj.start, obj.stop, obj.step]}
        sympy = _sympy()
        if sympy is not None and isinstance(obj, sympy.Basic):
            return {"$": "sympy", "v": sympy.srepr(obj)}
        if self.server is not None:
            return self.server.handle_for(obj)
        raise TypeError(f"a {type(obj).__name__} is not a plain value")

    def argument_or_value(self, obj):
        """A reference when obj is one of the call's argument objects, else its encoding."""
        index = self.server.argument_index(obj) if self.server is not None else None
        return {"$": "ref", "v": index} if index is not None else self(obj, 1)

    def ref_or(self, obj, make):
        index = self.server.argument_index(obj) if self.server is not None else None
        return {"$": "ref", "v": index} if index is not None else make()

    def tensor(self, t):
        torch = _torch()
        data = t.detach().cpu()
        if data.is_sparse:
            data = data.to_dense()
        kind = str(data.dtype).removeprefix("torch.")
        if data.dtype == torch.bfloat16:  # NumPy has no bfloat16: sent as float32, cast back
            data = data.float()
        grad = t.grad if t.is_leaf else None
        return {"$": "tensor", "npy": _npy(data.numpy()), "dtype": kind, "requires_grad": bool(t.requires_grad),
                "grad": None if grad is None else self.tensor(grad)}


class Decoder:
    """Builds values from `Encoder`'s output and nothing else (the judge's side)."""

    def __init__(self, *, references=(), handle=None, value=None):
        self.references = list(references)
        self.handle = handle    # callable(record) -> the judge's stand-in for a kernel object
        self.value = value      # callable(key) -> the judge's Value for a graph node

    def __call__(self, obj):
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, list):
            return [self(v) for v in obj]
        if not isinstance(obj, dict) or "$" not in obj:
            raise ValueError("malformed reply from the kernel")
        kind = obj["$"]
        if kind == "bigint":
            return int(obj["v"])
        if kind == "float":
            return float(obj["v"])
        if kind == "complex":
            return complex(self(obj["v"][0]), self(obj["v"][1]))
        if kind == "bytes":
            return base64.b64decode(obj["v"])
        if kind == "npscalar":
            return _from_npy(obj["npy"])[()]
        if kind == "ndarray":
            return _from_npy(obj["npy"])
        if kind == "tensor":
            return self.tensor(obj)
        if kind == "size":
            return _torch().Size([int(v) for v in obj["v"]])
        if kind == "torch_dtype":
            dtype = getattr(_torch(), str(obj["v"]), None)
            if not isinstance(dtype, _torch().dtype):
                raise ValueError(f"unknown torch dtype {obj['v']!r}")
            return dtype
        if kind == "namedtuple":
            import collections

            fields = [str(f) for f in obj["fields"]]
            if not all(f.isidentifier() for f in fields) or not str(obj["type"]).isidentifier():
                raise ValueError("malformed named tuple")
            return collections.namedtuple(obj["type"], fields)(*[self(v) for v in obj["v"]])
        if kind == "tuple":
            return tuple(self(v) for v in obj["v"])
        if kind == "dataclass":
            return self.library_value(obj)
        if kind == "dict":
            return {_hashable(self(k)): self(v) for k, v in obj["v"]}
        if kind == "set":
            return {_hashable(self(v)) for v in obj["v"]}
        if kind == "range":
            value = range(*[int(v) for v in obj["v"]])
            if len(value) > REPLY_ELEMENTS:
                raise ValueError(f"a range of {len(value):,} numbers in a reply: more than any answer holds "
                                 f"({REPLY_ELEMENTS:,} at most)")
            return value
        if kind == "sympy":
            return parse_srepr(obj["v"])
        if kind == "ref":
            return self.references[int(obj["v"])]
        if kind in ("remote", "value") and (self.handle if kind == "remote" else self.value) is not None:
            return self.handle(obj) if kind == "remote" else self.value(obj["key"])
        raise ValueError(f"unknown kind {kind!r} in a reply from the kernel")

    def library_value(self, obj):
        """The judge's own instance of a frozen dataclass of the library, from its fields; the
        kernel names the class, which must be one (a dlcourse module's, at its top level)."""
        import importlib

        module_name, _, name = str(obj["type"]).rpartition(".")
        if not module_name.startswith("dlcourse.") or not name.isidentifier():
            raise ValueError("malformed library value")
        kind = getattr(importlib.import_module(module_name), name, None)
        if not (isinstance(kind, type) and dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen):
            raise ValueError(f"{obj['type']} is not a value class of the library")
        fields = {str(k): self(v) for k, v in obj["v"]}
        try:
            return kind(**fields)
        except TypeError as error:
            raise ValueError(f"malformed {name}: {error}") from None

    def tensor(self, obj):
        torch = _torch()
        array = _from_npy(obj["npy"])
        t = torch.from_numpy(array.copy())
        dtype = getattr(torch, str(obj["dtype"]), None)
        if isinstance(dtype, torch.dtype) and t.dtype != dtype:
            t = t.to(dtype)
        if obj.get("requires_grad") and (t.is_floating_point() or t.is_complex()):
            t.requires_grad_(True)
        if obj.get("grad") is not None and t.requires_grad:
            t.grad = self.tensor(obj["grad"])
        return t


def _hashable(value):
    if isinstance(value, (list, np.ndarray)):
        raise ValueError("an unhashable key in a reply")
    return value


_SYMPY_NAMES = frozenset("""Add Mul Pow Integer Rational Float Symbol Dummy Function Lambda Tuple
    Derivative Subs Abs sin cos tan exp log sqrt tanh sinh cosh asin acos atan atan2 Max Min
    Heaviside Piecewise ExprCondPair BooleanTrue BooleanFalse true false StrictGreaterThan
    StrictLessThan GreaterThan LessThan Equality Unequality sign pi E I zoo oo nan NegativeOne
    One Zero Half Infinity NegativeInfinity ImaginaryUnit Exp1 Pi NaN ComplexInfinity
    AppliedUndef UndefinedFunction floor ceiling re im conjugate erf gamma sigmoid""".split())


def parse_srepr(text: str):
    """A SymPy expression from its srepr, without eval: every call must name an allow-listed
    SymPy class or function, and every argument must be a literal or such a call."""
    import ast

    sympy = __import__("sympy")
    if len(text) > 200_000:
        raise ValueError("a symbolic answer longer than 200,000 characters")
    tree = ast.parse(text, mode="eval")
    if sum(1 for _ in ast.walk(tree)) > SYMBOLIC_NODES:
        raise ValueError(f"a symbolic answer of more than {SYMBOLIC_NODES:,} parts")
    heavy = {sympy.Pow: 1, sympy.gamma: 0, sympy.Float: 1}  # the argument that sets the work

    def bounded(function, args):
        position = heavy.get(function)
        if position is None or len(args) <= position:
            return
        argument = args[position]
        number = argument if isinstance(argument, int) else (
            int(argument) if isinstance(argument, sympy.Integer) else None)
        if number is not None and abs(number) > SYMBOLIC_EXPONENT:
            raise ValueError(f"{function.__name__} of {number} in a symbolic answer: numbers that large there "
                             f"(more than {SYMBOLIC_EXPONENT}) are refused")

    def build(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)) or (
                isinstance(node, ast.Constant) and node.value is None):
            if isinstance(node.value, (int, str)) and not isinstance(node.value, bool) and len(str(node.value)) > 40:
                raise ValueError("a number or name longer than 40 characters in a symbolic answer")
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -build(node.operand)
        if isinstance(node, ast.Tuple):
            return tuple(build(e) for e in node.elts)
        if isinstance(node, ast.Name) and node.id in _SYMPY_NAMES:
            return getattr(sympy, node.id)
        if isinstance(node, ast.Call):
            function = build(node.func)
            if not (isinstance(node.func, (ast.Name, ast.Call))):
                raise ValueError("unexpected call in a symbolic answer")
            args = [build(a) for a in node.args]
            kwargs = {k.arg: build(k.value) for k in node.keywords}
            # srepr writes a float as Float('1.0', precision=53): the bits, bounded like its digits
            precision = kwargs.pop("precision", None) if function is sympy.Float else None
            if not all(k in _ASSUMPTIONS and isinstance(v, bool) for k, v in kwargs.items()):
                raise ValueError("only boolean assumptions may be given as keywords in a symbolic answer")
            if precision is not None:
                if type(precision) is not int or not 1 <= precision <= SYMBOLIC_EXPONENT:
                    raise ValueError(f"a Float's precision in a symbolic answer must be an int from 1 to "
                                     f"{SYMBOLIC_EXPONENT}")
                kwargs["precision"] = precision
            if isinstance(node.func, ast.Name) or isinstance(function, sympy.FunctionClass):
                bounded(function, args)
                return function(*args, **kwargs)
        raise ValueError(f"unexpected {type(node).__name__} in a symbolic answer")

    with sympy.evaluate(False):  # built as written: no huge powers or factorials computed here
        expression = build(tree.body)
    if _power_weight(expression, sympy) > SYMBOLIC_EXPONENT ** 2:
        raise ValueError(f"powers of powers in a symbolic answer multiply to more than {SYMBOLIC_EXPONENT ** 2:,}")
    return expression


def _power_weight(expression, sympy) -> int:
    """The largest product of integer exponents along a chain of powers ((10**1000)**1000 ...)."""
    if not isinstance(expression, sympy.Basic) or not expression.args:
        return 1
    if isinstance(expression, sympy.Pow) and isinstance(expression.exp, sympy.Integer):
        return abs(int(expression.exp)) * max(1, _power_weight(expression.base, sympy))
    return max(_power_weight(arg, sympy) for arg in expression.args)


_ASSUMPTIONS = frozenset("""real positive negative nonnegative nonpositive integer rational finite
    commutative zero nonzero complex extended_real""".split())


# ------------------------------------------------------------------ the kernel's server


def _mutable_kinds():
    torch = _torch()
    kinds = [np.ndarray, np.random.Generator]
    if torch is not None:
        kinds += [torch.Tensor, torch.nn.Module, torch.optim.Optimizer, torch.Generator]
    return tuple(kinds)


def argument_objects(args, kernel_own=frozenset()) -> list:
    """Arrays, tensors, modules, optimizers, generators, lists and dicts reachable from a call's
    arguments (through lists, tuples and dict values), in a fixed order: the judge and the kernel
    list the same objects at the same indices. `kernel_own`: ids of the kernel's objects that the judge
    sent as handles (it holds stand-ins, which it does not list): left out here too."""
    kinds, found, seen = _mutable_kinds(), [], set()

    def walk(obj, depth=0):
        if depth > 20 or id(obj) in seen or id(obj) in kernel_own:
            return
        seen.add(id(obj))
        if isinstance(obj, kinds):
            found.append(obj)
        elif isinstance(obj, (list, tuple)):
            if isinstance(obj, list):
                found.append(obj)
            for item in obj:
                walk(item, depth + 1)
        elif isinstance(obj, dict):
            found.append(obj)
            for item in obj.values():
                walk(item, depth + 1)

    walk(args)
    return found


def tensors_in(obj, depth=0) -> list:
    """Tensors of a result, in the order both sides walk it (tuples, lists, dict values)."""
    torch = _torch()
    if torch is not None and isinstance(obj, torch.Tensor):
        return [obj]
    if depth < 20 and isinstance(obj, (list, tuple)):
        return [t for item in obj for t in tensors_in(item, depth + 1)]
    if depth < 20 and isinstance(obj, dict):
        return [t for item in obj.values() for t in tensors_in(item, depth + 1)]
    return []


def argument_fingerprint(obj):
    """What an in-place change of an argument is measured against, taken before the call: an
    array's `array_fingerprint`, a list's or dict's items (held, so that no id is reused)."""
    if isinstance(obj, list):
        return list(obj)
    if isinstance(obj, dict):
        return [item for pair in obj.items() for item in pair]
    return array_fingerprint(obj)


def _same_items(now, before) -> bool:
    return len(now) == len(before) and all(a is b for a, b in zip(now, before))


def array_fingerprint(array):
    """What an in-place change of an array argument is measured against: its shape, dtype and a
    digest of its values (a digest, not a copy: arguments may be large). None for arrays of
    objects or records, which are not copied back."""
    if not isinstance(array, np.ndarray) or array.dtype.kind in "OV":
        return None
    flat = np.ascontiguousarray(array).reshape(-1)
    values = flat.view(np.uint8) if flat.dtype.itemsize else b""
    return array.shape, array.dtype.str, hashlib.sha256(values).digest()


def object_state(obj, encode, fingerprint=None):
    """What a call may have changed in an argument, as plain values. An array is sent only
    when it differs from `fingerprint`, taken before the call (None: unchanged, or not
    copied back); the judge writes it into its own array (kernel_calls.copy_array_back)."""
    torch = _torch()
    if isinstance(obj, np.ndarray):
        if fingerprint is None or array_fingerprint(obj) == fingerprint:
            return None
        return {"$": "ndarray", "npy": _npy(obj)}
    if isinstance(obj, (list, dict)):
        # sent only when an item was added, removed or replaced; the judge's objects among
        # the items travel as references, so that the judge's container holds them again
        if fingerprint is None or _same_items(argument_fingerprint(obj), fingerprint):
            return None
        member = encode.argument_or_value
        if isinstance(obj, list):
            return [member(item) for item in obj]
        return {"$": "dict", "v": [[member(key), member(value)] for key, value in obj.items()]}
    if isinstance(obj, np.random.Generator):
        return encode(obj.bit_generator.state)
    if isinstance(obj, torch.Tensor):
        return encode.tensor(obj)
    if isinstance(obj, torch.nn.Module):
        return {"state": {k: encode.tensor(v) for k, v in obj.state_dict().items()},
                "grads": {k: None if p.grad is None else encode.tensor(p.grad) for k, p in obj.named_parameters()},
                "training": [m.training for m in obj.modules()]}
    if isinstance(obj, torch.optim.Optimizer):
        return encode(obj.state_dict())
    if isinstance(obj, torch.Generator):
        return encode.tensor(obj.get_state())
    return None


class FakeContext:
    """What a torch.autograd.Function's forward and backward see as `ctx` when the judge's
    autograd graph calls a student's Function: attributes and saved tensors travel as data."""

    def __init__(self, attributes=None, saved=(), needs_input_grad=()):
        self.__dict__.update(attributes or {})
        self._saved = tuple(saved)
        self.needs_input_grad = tuple(needs_input_grad)

    def save_for_backward(self, *tensors):
        self._saved = tuple(tensors)

    @property
    def saved_tensors(self):
        return self._saved

    def mark_dirty(self, *args):
        pass

    def mark_non_differentiable(self, *args):
        pass

    def set_materialize_grads(self, value):
        pass


class Server:
    def __init__(self, folder: Path):
        self.folder = folder
        self.handles = {}           # handle -> kernel object
        self.values = {}            # key -> graph node (dlcourse.autograd.Value)
        self.value_keys = {}        # id(node) -> key
        self.arguments = {}         # id(object) -> index in this request's argument objects
        self.kernel_own = set()     # ids of the objects this request named by handle
        self.graphs = {}            # id -> (inputs, outputs) kept for a backward the judge may ask for

    # ---- handles and graph nodes
    def handle_for(self, obj):
        Value = _value_class()
        if Value is not None and isinstance(obj, Value):
            return {"$": "value", "key": self.key_of(obj)}
        handle = len(self.handles) + 1
        self.handles[handle] = obj
        torch = _torch()
        function_class = bool(torch is not None and isinstance(obj, type)
                              and issubclass(obj, torch.autograd.Function))
        return {"$": "remote", "handle": handle, "type": f"{type(obj).__module__}.{type(obj).__qualname__}",
                "callable": callable(obj), "function_class": function_class,
                "label": getattr(obj, "__qualname__", type(obj).__name__)}

    def key_of(self, node):
        key = self.value_keys.get(id(node))
        if key is None:
            key = f"k{len(self.values) + 1}"
            self.values[key], self.value_keys[id(node)] = node, key
        return key

    def argument_index(self, obj):
        return self.arguments.get(id(obj))

    def sync_values_in(self, states):
        """Create or update the kernel's copies of the judge's graph nodes."""
        Value = _value_class()
        for key, (data, grad, op, _children) in states.items():
            node = self.values.get(key)
            if node is None:
                node = Value(data)
                node._op = op
                self.values[key], self.value_keys[id(node)] = node, key
            node.data, node.grad = data, grad
        for key, (_, _, _, children) in states.items():
            if key.startswith("j"):
                self.values[key]._children = tuple(self.values[c] for c in children)

    def values_out(self):
        """State of every graph node the judge and the kernel share (new ones included)."""
        out, pending = {}, list(self.values)
        while pending:
            key = pending.pop()
            if key in out:
                continue
            node = self.values[key]
            children = [self.key_of(c) for c in getattr(node, "_children", ())]
            pending.extend(children)
            out[key] = [float(node.data), float(node.grad), str(getattr(node, "_op", "")), children]
        return out

    # ---- requests
    def load(self, number: int):
        path = self.folder / f"request-{number}.pkl"
        server = self

        class Unpickler(pickle.Unpickler):
            def persistent_load(self, pid):
                kind, value = pid
                if kind == "value":
                    return server.values[value]
                if kind == "handle":
                    server.kernel_own.add(id(server.handles[value]))
                    return server.handles[value]
                raise pickle.UnpicklingError(f"unknown reference {kind}")

        with open(path, "rb") as handle:
            request = pickle.load(handle)
            self.sync_values_in(request.get("values", {}))
            request["payload"] = Unpickler(handle).load()
        return request

    def resolve(self, target):
        kind, value = target
        if kind == "global":
            namespace = get_ipython().user_ns  # noqa: F821 (the kernel's IPython)
            if value not in namespace:
                raise NameError(f"name {value!r} is not defined in the notebook")
            return namespace[value]
        return self.handles[value]

    def serve(self, number: int):
        encode = Encoder(self)
        reply, objects, before = {}, [], []
        try:
            self.kernel_own = set()
            request = self.load(number)
            op, payload = request["op"], request["payload"]
            objects = argument_objects(payload, self.kernel_own)
            self.arguments = {id(obj): index for index, obj in enumerate(objects)}
            self.restore_grads(objects, request.get("grads", {}))
            before = [argument_fingerprint(obj) for obj in objects]
            if op == "describe":
                reply["result"] = self.describe(payload, encode)
            elif op == "call":
                target, args, kwargs = payload
                result = self.resolve(target)(*args, **kwargs)
                reply["result"] = encode(result)
                if request.get("keep_graph"):
                    torch = _torch()
                    inputs = [o for o in objects if isinstance(o, torch.Tensor) and o.requires_grad]
                    graph = len(self.graphs) + 1
                    self.graphs[graph] = (inputs, tensors_in(result))
                    reply["graph"] = graph
            elif op == "graph_backward":
                reply["result"] = encode(self.graph_backward(*payload))
            elif op == "getattr":
                target, name = payload
                reply["result"] = encode(getattr(self.resolve(target), name))
            elif op == "backward":
                self.values[payload]._backward()
                reply["result"] = None
            elif op == "forget_values":
                self.values, self.value_keys = {}, {}
                reply["result"] = None
            elif op == "function_forward":
                reply["result"] = self.function_forward(*payload, encode=encode)
            elif op == "function_backward":
                reply["result"] = self.function_backward(*payload, encode=encode)
            else:
                raise ValueError(f"unknown request {op!r}")
            reply["arguments"] = self.argument_states(objects, before, encode)
        except BaseException as error:  # the student's exception, reported to the judge as data
            frames = traceback.format_exception(type(error), error, error.__traceback__)
            reply = {"error": {"type": type(error).__name__, "message": str(error)[:4000],
                               "builtin": type(error).__module__ == "builtins",
                               "traceback": "".join(frames[-6:])[-6000:]}}
            if isinstance(error, Exception) and len(before) == len(objects):
                try:  # what the function changed before it raised stays changed, as in a notebook
                    reply["arguments"] = self.argument_states(objects, before, encode)
                except Exception:  # noqa: BLE001 (the student's exception is what the judge reports)
                    pass
        reply["values"] = self.values_out()
        self.arguments = {}
        text = json.dumps(reply, allow_nan=False)
        (self.folder / "io" / f"reply-{number}.json").write_text(text)

    @staticmethod
    def argument_states(objects, before, encode):
        return [object_state(obj, encode, fingerprint) for obj, fingerprint in zip(objects, before)]

    def restore_grads(self, objects, grads):
        """Gradients the judge's arguments carried (pickling a tensor drops its .grad)."""
        torch = _torch()
        for index, grad in grads.items():
            obj = objects[int(index)]
            if isinstance(obj, torch.nn.Module):
                for parameter, g in zip(obj.parameters(), grad):
                    parameter.grad = None if g is None else torch.as_tensor(g).to(parameter.dtype)
            elif isinstance(obj, torch.Tensor) and obj.is_leaf and grad is not None:
                obj.grad = torch.as_tensor(grad).to(obj.dtype)

    def graph_backward(self, number, grads, positions):
        """Gradients of a kept call's outputs w.r.t. its tensor inputs: autograd across the
        process boundary (the judge's .backward() reaches the student's computation)."""
        torch = _torch()
        inputs, outputs = self.graphs[number]
        pairs = [(outputs[i], g) for i, g in zip(positions, grads) if g is not None and outputs[i].requires_grad]
        if not pairs or not inputs:
            return [None] * len(inputs)
        found = torch.autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                                    allow_unused=True, retain_graph=True)
        return list(found)

    def describe(self, names, encode):
        """The notebook's current answers: values travel as data, the rest as handles."""
        namespace = get_ipython().user_ns  # noqa: F821
        return encode({name: namespace[name] for name in names if name in namespace})

    def function_forward(self, handle, args, needs_input_grad, *, encode):
        torch = _torch()
        cls = self.handles[handle]
        ctx = FakeContext(needs_input_grad=needs_input_grad)
        with torch.no_grad():
            output = cls.forward(ctx, *args)
        attributes = {k: v for k, v in vars(ctx).items() if k not in ("_saved", "needs_input_grad")}
        return encode({"output": output, "attributes": attributes, "saved": ctx._saved})

    def function_backward(self, handle, attributes, saved, needs_input_grad, grads, *, encode):
        cls = self.handles[handle]
        ctx = FakeContext(attributes, saved, needs_input_grad)
        return encode(cls.backward(ctx, *grads))


_server = None


def serve(number: int) -> None:
    """Entry point the judge calls through the kernel: answers request `number`."""
    global _server
    if _server is None:
        _server = Server(Path(__import__("os").environ["DLCOURSE_GRADER_RUNTIME"]))
    _server.serve(number)


def send_lone_surrogates() -> None:
    """Let this kernel send a message holding a lone surrogate ('\\ud800', which an exception's
    text may hold). jupyter_client's packer cannot encode one: the cell's error output is lost
    and the reply names the kernel's own UnicodeEncodeError. Such a message goes as a JSON
    escape instead; the judge writes it visibly (autograde/text.py)."""
    from IPython import get_ipython
    from jupyter_client.jsonutil import json_default

    session = get_ipython().kernel.session
    packer = session.pack

    def pack(obj):
        try:
            return packer(obj)
        except UnicodeEncodeError:
            return json.dumps(obj, default=json_default, ensure_ascii=False,
                              allow_nan=False).encode("utf-8", errors="backslashreplace")

    session.pack = pack


class OutputCapped(Exception):
    """Raised in a cell that has written more than the kernel's cap on one execution's output."""


def cap_cell_output(limit: int) -> None:
    """Stop an execution in the kernel once it has written ``limit`` characters (stdout, stderr
    and displays together), and drop whatever it writes after. The judge stops a flood at its
    own, lower limit (sandbox.Limits.output_kb) when it reads the output in time; but on a
    loaded machine its interrupt comes late, and what the cell printed meanwhile, all kept in
    the kernel (IPython keeps every byte a cell prints for its history, and unsent messages
    queue up), reached the sandbox's memory limit first: a loop printing 10 KB lines lost the
    rest of its notebook to the memory limit instead of one cell to the output limit. Here the
    flood ends where it starts, whatever the judge's pace; a cell that undoes the cap meets the
    memory limit as before."""
    from IPython import get_ipython

    shell = get_ipython()
    written = [0]

    def start_execution(*_):
        # IPython puts its own write on the streams for each execution (it keeps what a cell
        # prints, in memory, for its history) and puts the stream's back after: the cap goes on
        # top of whichever write the execution runs with, so what is over it is neither sent
        # nor kept
        written[0] = 0
        for stream in (sys.stdout, sys.stderr):
            if not getattr(stream.write, "output_capped", False):
                stream.write = capped_write(stream.write)

    def count(size: int) -> None:
        if written[0] > limit:
            raise OutputCapped(f"the cell wrote more than {limit // 1024} KB of output; it was stopped")
        written[0] += size

    def capped_write(write):
        def guarded(text, *args, **kwargs):
            count(len(text))
            return write(text, *args, **kwargs)
        guarded.output_capped = True
        return guarded

    def capped_publish(publish):
        def guarded(data, *args, **kwargs):
            count(sum(len(str(value)) for value in (data or {}).values()))
            return publish(data, *args, **kwargs)
        return guarded

    shell.events.register("pre_execute", start_execution)
    shell.display_pub.publish = capped_publish(shell.display_pub.publish)
