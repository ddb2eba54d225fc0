"""What a student's function does to its arguments reaches the judge, as in a notebook: a call
into the sandboxed kernel sends the judge's arrays as copies, and an array the function changed
in place comes back and is written into the judge's own array (autograde/kernel_calls.py,
copy_array_back); so do the new items of a list or dict. Both directions: a function that
updates W in place and returns it is judged on the new W, and one that must leave x alone fails
the check that says so.

One sandboxed kernel serves every test here (module fixture), as in the judge. End to end: the
station corpus's ``in-place`` (tests/station_corpus.py) keeps its points, and the known mistakes
that change the caller's W, w or state but return new ones (tests/known_mistakes/01-perceptron.py,
02-gradient-descent.py), which scored full marks before, lose them."""

import json
import os
import sys
import time

import numpy as np
import pytest
from conftest import ROOT

if str(ROOT) not in sys.path:  # the grading station is not an installed package
    sys.path.insert(0, str(ROOT))
from autograde import sandbox  # noqa: E402
from autograde.kernel import Kernel  # noqa: E402
from autograde.kernel_calls import KernelCalls, SubmissionError, shared_buffers  # noqa: E402
from autograde.kernel_side import dlcourse_grader_kernel as kernel_side  # noqa: E402
from dlcourse import check  # noqa: E402

# the student's functions, defined in the kernel as a notebook's cells would
NOTEBOOK = '''
import numpy as np

def sgd_step(w, dw, lr):
    w -= lr * dw
    return w

def scaled_sum(x):
    x *= 2.0
    return float(x.sum())

def add_one(*arrays, **named):
    for array in [*arrays, *named.values()]:
        array += 1
    return None

def add_one_nested(items, table):
    first, (second,) = items
    first += 1
    second += 1
    table["c"] += 1

def set_to(x, value):
    x[...] = value

def row_then_sum(whole, row):
    row[:] = 5.0
    return float(whole.sum())

def flatten_in_place(x):
    x.shape = (-1,)
    return x

def reinterpret_in_place(x):
    x.dtype = np.float32
    return x

def grow_in_place(x):
    x.resize((10,), refcheck=False)
    return x

def total(x):
    return float(np.sum(x))

def momentum_into_state(state, dw):
    state["velocity"] = 0.5 * state["velocity"] + dw
    state["steps"] = state.get("steps", 0) + 1

def append_to(items, value):
    items.append(value)
    return len(items)

def make_generator():
    return np.random.default_rng(0)

def fill_from(generator, x):
    x[...] = generator.integers(1, 10, size=x.shape)

from dataclasses import dataclass
from dlcourse.np import perceptron as np_perceptron

def trace_of(n):
    w = np.zeros(3)
    return w, [np_perceptron.PerceptronStep(epoch=1, x=np.ones(3), w_before=w, y=0, t=1, w_after=w + i)
               for i in range(n)]

@dataclass(frozen=True)
class OwnRow:
    value: float

def own_rows():
    return [OwnRow(1.0), OwnRow(2.0)]
'''


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    problem = sandbox.unavailable_reason()
    if problem is not None:
        pytest.skip(f"no sandbox here: {problem}")
    folder = tmp_path_factory.mktemp("fidelity")
    submission = folder / "submission"
    submission.mkdir()
    os.chmod(folder, 0o755)
    kernel = Kernel(submission, limits=sandbox.Limits(), use_sandbox=True)
    try:
        kernel.start()
        _, error = kernel.execute("import dlcourse_grader_kernel", seconds=60, silent=True)
        assert error is None, error
        _, error = kernel.execute(NOTEBOOK, seconds=60)
        assert error is None, error
        calls = KernelCalls(kernel, deadline=time.monotonic() + 600)

        def call_into_kernel(name, *args, **kwargs):
            return calls.call(("global", name), args, kwargs)

        call_into_kernel.calls = calls   # its counters: requests made, bytes moved
        yield call_into_kernel
    finally:
        kernel.close()


# ------------------------------------------------------------------ (a) an update in place counts

def test_an_array_updated_in_place_and_returned_is_the_callers_new_array(call):
    w, dw = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, -1.0])
    result = call("sgd_step", w, dw, 0.5)
    assert result is w, "the function returned its argument: the judge gets its own array back, as in a notebook"
    np.testing.assert_array_equal(w, [0.5, 2.0, 3.5])
    np.testing.assert_array_equal(dw, [1.0, 0.0, -1.0])  # what the function left alone stays as it was


def test_a_change_through_a_view_lands_in_the_array_it_views(call):
    whole = np.zeros((4, 6))
    call("set_to", whole[1:3, ::2], 7.0)  # a strided slice: not contiguous
    expected = np.zeros((4, 6))
    expected[1:3, ::2] = 7.0
    np.testing.assert_array_equal(whole, expected)

    matrix = np.arange(6.0).reshape(2, 3)
    call("add_one", matrix.T, matrix[::-1, ::-1][0])  # transposed and reversed views of one array, both changed
    np.testing.assert_array_equal(matrix, np.arange(6.0).reshape(2, 3) + [[1, 1, 1], [2, 2, 2]])


def test_views_of_one_array_stay_one_array_in_the_kernel(call):
    """W and W[0] passed together: a change through the row is seen through W during the call,
    and W's unchanged copy does not overwrite the row afterwards."""
    W = np.ones((3, 4))
    assert call("row_then_sum", W, W[0]) == 5.0 * 4 + 8.0
    np.testing.assert_array_equal(W, [[5.0] * 4, [1.0] * 4, [1.0] * 4])
    assert len(shared_buffers([W, W[0], np.ones(2)])) == 2, "only the overlapping arrays share a buffer"


def test_zero_d_nested_and_non_native_arrays_come_back(call):
    scalar = np.array(3.0)
    big_endian = np.arange(3, dtype=">i4")
    integers = np.arange(4, dtype=np.int16)
    call("add_one", scalar, big_endian, named=integers)
    assert scalar.shape == () and scalar == 4.0
    np.testing.assert_array_equal(big_endian, [1, 2, 3])
    assert big_endian.dtype == np.dtype(">i4") and integers.dtype == np.int16
    np.testing.assert_array_equal(integers, [1, 2, 3, 4])

    a, b, c = np.zeros(2), np.zeros(3), np.zeros(1)
    items = [a, (b,)]
    call("add_one_nested", items, {"c": c})
    assert items[0] is a and items[1][0] is b
    for array in (a, b, c):
        np.testing.assert_array_equal(array, np.ones_like(array))


def test_items_added_or_replaced_in_a_list_or_dict_come_back(call):
    velocity = np.ones(2)
    state = {"velocity": velocity}
    call("momentum_into_state", state, np.ones(2))
    assert set(state) == {"velocity", "steps"} and state["steps"] == 1
    np.testing.assert_array_equal(state["velocity"], [1.5, 1.5])
    np.testing.assert_array_equal(velocity, [1.0, 1.0])  # replaced, not changed

    kept = np.zeros(3)
    items = [kept]
    assert call("append_to", items, 2.5) == 2
    assert items[0] is kept and items[1] == 2.5, "the judge's own objects stay in its list"


def test_a_kernel_object_among_the_arguments_leaves_the_others_in_place(call):
    """A generator the kernel made is sent back by handle: the kernel does not count it among
    the arguments the judge holds, so x's change reaches x."""
    generator = call("make_generator")
    x = np.zeros(4)
    call("fill_from", generator, x)
    assert x.min() >= 1


# ------------------------------------------------------------------ (b) a change that must not happen is seen

def test_a_function_that_must_not_change_its_argument_fails_the_check_that_says_so(call):
    x = np.array([1.0, 2.0])
    x_before = x.copy()
    assert call("scaled_sum", x) == 6.0
    with pytest.raises(AssertionError, match="x passed in is wrong"):
        check.assert_close(x, x_before, name="x passed in", hint="scaled_sum must not change x in place")

    unchanged = np.array([1.0, 2.0])
    assert call("total", unchanged) == 3.0
    np.testing.assert_array_equal(unchanged, [1.0, 2.0])


def test_a_read_only_array_cannot_be_changed_in_the_kernel_either(call):
    frozen = np.arange(3.0)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        call("add_one", frozen)
    broadcast = np.broadcast_to(np.arange(3.0), (2, 3))  # read-only, with a stride of 0
    with pytest.raises(ValueError, match="read-only"):
        call("add_one", broadcast)
    np.testing.assert_array_equal(frozen, np.arange(3.0))
    assert call("total", frozen) == 3.0

    base = np.zeros(4)
    view = base[1:3]
    view.flags.writeable = False  # a read-only view beside its writable array: one buffer in the kernel
    with pytest.raises(ValueError, match="read-only"):
        call("add_one", base, view)
    # base was changed before the function raised: that stays, as in a notebook
    np.testing.assert_array_equal(base, np.ones(4))


@pytest.mark.parametrize(("function", "change"), [("flatten_in_place", "shape"), ("reinterpret_in_place", "dtype")])
def test_a_new_shape_or_dtype_in_place_fails_the_call_with_what_to_do(call, function, change):
    x = np.arange(6.0).reshape(2, 3)
    with pytest.raises(SubmissionError, match=r"shape or dtype in place.*\(2, 3\) float64.*x.reshape"):
        call(function, x)
    np.testing.assert_array_equal(x, np.arange(6.0).reshape(2, 3))


def test_resize_in_place_fails_as_in_a_notebook(call):
    x = np.arange(4.0)
    with pytest.raises(ValueError, match="resize"):  # a notebook's caller holds x: resize refuses there too
        call("grow_in_place", x)
    np.testing.assert_array_equal(x, np.arange(4.0))


# ------------------------------------------------------------------ only what changed travels back

def test_an_unchanged_array_is_not_sent_back():
    """The kernel compares each array argument with a digest taken before the call: a large
    argument left alone costs no reply (the reply limit is 64 MB)."""
    large = np.zeros(10_000_000)
    before = kernel_side.array_fingerprint(large)
    encode = kernel_side.Encoder()
    assert kernel_side.object_state(large, encode, before) is None
    large[-1] = 1.0
    assert kernel_side.object_state(large, encode, before)["$"] == "ndarray"
    objects = np.array([None, 1], dtype=object)
    assert kernel_side.array_fingerprint(objects) is None  # arrays of objects are not copied back


def test_infinite_and_nan_results_come_back_as_numbers():
    """A loss that overflows is a wrong answer, not an unreadable reply: NumPy's scalars (floats
    whose repr is np.float64(inf)) come back as the plain float, as Python's do."""
    encode, decode = kernel_side.Encoder(), kernel_side.Decoder()
    for value in (np.float64(np.inf), np.float64(-np.inf), float("inf"), np.float32(np.inf)):
        assert decode(json.loads(json.dumps(encode(value)))) == value
    for value in (np.float64(np.nan), float("nan"), np.float16(np.nan)):
        assert np.isnan(decode(json.loads(json.dumps(encode(value)))))


# ------------------------------------------------------------------ values of the library come back as values

def test_a_trace_of_library_rows_comes_back_in_one_call(call):
    """A list of the library's frozen dataclasses (01's perceptron trace) is sent as values: the
    judge gets its own PerceptronStep objects, in one round trip (as handles, each field read
    was one more: 1,293 calls for 01's hidden test of Exercise 3). A student's own class stays
    in the kernel as a handle."""
    from dlcourse.np import perceptron as np_perceptron

    before = call.calls.number
    w, trace = call("trace_of", 40)
    assert call.calls.number - before == 1
    assert all(isinstance(row, np_perceptron.PerceptronStep) for row in trace) and len(trace) == 40
    np.testing.assert_array_equal(trace[39].w_after, np.full(3, 39.0))
    assert trace[0].error and trace[0].t == 1
    rows = call("own_rows")
    assert not isinstance(rows[0], np_perceptron.PerceptronStep) and rows[1].value == 2.0   # a handle: asks the kernel


@pytest.mark.parametrize("named", ["os.system", "dlcourse.np.perceptron.perceptron_train",
                                   "dlcourse.np.perceptron.np", "dlcourse.grading.PlannedCell"])
def test_a_reply_naming_something_else_than_a_library_value_class_is_refused(named):
    decode = kernel_side.Decoder()
    with pytest.raises(ValueError):
        decode({"$": "dataclass", "type": named, "v": [["a", 1]]})
    with pytest.raises(ValueError, match="malformed PerceptronStep"):
        decode({"$": "dataclass", "type": "dlcourse.np.perceptron.PerceptronStep", "v": [["nope", 1]]})
