"""default_collate / default_convert against torch 2.13: dtype, shape, structure, errors."""
import collections

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.utils.data import default_collate as torch_collate, default_convert as torch_convert

import ember
from ember.utils.data import default_collate, default_convert
from _data_helpers import assert_same_batch

Point = collections.namedtuple("Point", "x y")


class FrozenMapping(collections.abc.Mapping):
    """A read-only mapping that cannot be built from a dict (collates to a plain dict)."""

    def __init__(self, key, value):
        self._d = {key: value}

    def __getitem__(self, k):
        return self._d[k]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)


# each case builds a batch (a list of samples) with the given tensor library
COLLATE_CASES = {
    "tensors_f32": lambda fw: [fw.arange(6, dtype=fw.float32).reshape(2, 3) + i for i in range(4)],
    "tensors_i64": lambda fw: [fw.tensor([i, i + 1]) for i in range(3)],
    "tensors_u8_0d": lambda fw: [fw.tensor(i, dtype=fw.uint8) for i in range(5)],
    "tensors_bool": lambda fw: [fw.tensor([True, False]), fw.tensor([False, False])],
    "ndarrays_f64": lambda fw: [np.arange(4.0) * i for i in range(3)],
    "ndarrays_u8": lambda fw: [np.full((2, 2), i, np.uint8) for i in range(3)],
    "ndarrays_0d": lambda fw: [np.array(1.5), np.array(2.5)],
    "np_float32": lambda fw: [np.float32(1.5), np.float32(2)],
    "np_int32": lambda fw: [np.int32(1), np.int32(7)],
    "np_bool": lambda fw: [np.bool_(True), np.bool_(False)],
    "np_str": lambda fw: [np.str_("a"), np.str_("b")],
    "floats": lambda fw: [0.5, 1.5, -2.0],
    "ints": lambda fw: [1, 2, 3],
    "bools": lambda fw: [True, False],
    "int_then_float": lambda fw: [1, 2.5],
    "float_then_int": lambda fw: [2.5, 1],
    "strings": lambda fw: ["a", "bc"],
    "bytes": lambda fw: [b"x", b"y"],
    "tuples": lambda fw: [(fw.ones(2) * i, i, "s%d" % i) for i in range(3)],
    "lists": lambda fw: [[i, float(i)] for i in range(3)],
    "dicts": lambda fw: [{"img": fw.zeros(1, 2, 2) + i, "label": i, "meta": {"id": str(i)}}
                         for i in range(2)],
    "ordered_dict": lambda fw: [collections.OrderedDict(b=i, a=float(i)) for i in range(2)],
    "frozen_mapping": lambda fw: [FrozenMapping("k", i) for i in range(2)],
    "namedtuples": lambda fw: [Point(np.zeros(2, np.float32) + i, i) for i in range(3)],
    "ranges": lambda fw: [range(3), range(1, 4)],
    "image_label": lambda fw: [(np.full((3, 4, 4), i, np.uint8), i) for i in range(4)],
}


@pytest.mark.parametrize("name", COLLATE_CASES)
def test_default_collate_matches_torch(name):
    make = COLLATE_CASES[name]
    assert_same_batch(default_collate(make(ember)), torch_collate(make(torch)))


COLLATE_ERRORS = {
    "stack_sizes": lambda fw: [fw.zeros(3, 224, 224), fw.zeros(3, 224, 300)],
    "object": lambda fw: [object(), object()],
    "none": lambda fw: [None, None],
    "complex": lambda fw: [1 + 2j, 3j],
    "np_str_array": lambda fw: [np.array(["a"]), np.array(["b"])],
    "np_object_array": lambda fw: [np.array([None]), np.array([None])],
    "ragged_lists": lambda fw: [[1, 2], [3]],
    "empty": lambda fw: [],
}


@pytest.mark.parametrize("name", COLLATE_ERRORS)
def test_default_collate_errors_match_torch(name):
    make = COLLATE_ERRORS[name]
    with pytest.raises(Exception) as theirs:
        torch_collate(make(torch))
    with pytest.raises(Exception) as ours:
        default_collate(make(ember))
    assert ours.type is theirs.type
    assert str(ours.value).replace("ember.", "torch.") == str(theirs.value)


def test_stack_error_text():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got "
                       r"\[3, 224, 224\] at entry 0 and \[3, 224, 300\] at entry 1"):
        default_collate([ember.zeros(3, 224, 224), ember.zeros(3, 224, 300)])


def test_collate_keeps_mutable_container_state():
    class Tagged(list):
        tag = None

    a, b = Tagged([1, 2]), Tagged([3, 4])
    a.tag = "kept"
    out = default_collate([a, b])
    assert type(out) is Tagged and out.tag == "kept"
    assert_same_batch(list(out), list(torch_collate([Tagged([1, 2]), Tagged([3, 4])])))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 100), st.floats(-1e3, 1e3), st.booleans()),
                min_size=1, max_size=6),
       st.sampled_from([np.float32, np.int64, np.uint8]))
def test_collate_random_samples(rows, np_dtype):
    def batch(fw):
        return [{"x": np.full((2,), i, np_dtype), "t": (i, f, b)} for i, f, b in rows]
    assert_same_batch(default_collate(batch(ember)), torch_collate(batch(torch)))


CONVERT_CASES = {
    "tensor": lambda fw: fw.arange(3),
    "ndarray": lambda fw: np.zeros((2, 2), np.float32),
    "np_scalar": lambda fw: np.float32(1),
    "str_array": lambda fw: np.array(["a", "b"]),
    "list_of_arrays": lambda fw: [np.zeros(2), np.ones(1, np.int32)],
    "tuple": lambda fw: (np.zeros(1), 1, "s"),
    "namedtuple": lambda fw: Point(np.zeros(1), 2),
    "dict": lambda fw: {"a": np.float64(1.0), "b": [np.arange(2)]},
    "string": lambda fw: "text",
    "int": lambda fw: 3,
    "none": lambda fw: None,
}


@pytest.mark.parametrize("name", CONVERT_CASES)
def test_default_convert_matches_torch(name):
    make = CONVERT_CASES[name]
    ours, theirs = default_convert(make(ember)), torch_convert(make(torch))
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray)
        np.testing.assert_array_equal(ours, theirs)
    else:
        assert_same_batch(ours, theirs)


def test_default_convert_shares_memory():
    a = np.zeros(3, np.float32)
    t = default_convert(a)
    a[0] = 5
    assert t[0].item() == 5
