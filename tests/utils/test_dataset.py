"""Datasets and random_split against torch 2.13."""
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata
from hypothesis import given, settings, strategies as st

import ember
import ember.utils.data as edata
from _data_helpers import assert_same_batch


def lib(fw):
    return edata if fw is ember else tdata


class Squares(edata.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i * i


class TorchSquares(tdata.Dataset):
    __init__, __len__, __getitem__ = Squares.__init__, Squares.__len__, Squares.__getitem__


def squares(fw, n):
    return (Squares if fw is ember else TorchSquares)(n)


def test_reachable_from_bare_import():
    assert ember.utils.data.DataLoader is edata.DataLoader
    assert edata.distributed.DistributedSampler is edata.DistributedSampler


@pytest.mark.parametrize("index", [0, 3, -1, slice(1, 4), [0, 2]])
def test_tensor_dataset_items(index):
    def run(fw):
        ds = lib(fw).TensorDataset(fw.arange(10.).reshape(5, 2), fw.arange(5))
        return len(ds), ds[index]
    (n, ours), (m, theirs) = run(ember), run(torch)
    assert n == m
    assert_same_batch(ours, theirs)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_tensor_dataset_getitems_equals_items(requires_grad):
    def run(fw):
        x = fw.arange(12.).reshape(6, 2).requires_grad_(requires_grad)
        return lib(fw).TensorDataset(x, fw.arange(6))
    ours, theirs = run(ember), run(torch)
    batch = ours.__getitems__([3, 0, 5, 3])
    assert_same_batch(batch, [theirs[i] for i in [3, 0, 5, 3]])
    assert (batch[0][0].grad_fn is not None) == requires_grad
    with pytest.raises(IndexError) as t_err:
        theirs[6]
    with pytest.raises(IndexError) as e_err:
        ours.__getitems__([1, 6])
    assert str(e_err.value) == str(t_err.value)


def test_tensor_dataset_size_mismatch():
    with pytest.raises(AssertionError, match="^Size mismatch between tensors$"):
        edata.TensorDataset(ember.zeros(3, 2), ember.zeros(4))
    with pytest.raises(AssertionError, match="^Size mismatch between tensors$"):
        tdata.TensorDataset(torch.zeros(3, 2), torch.zeros(4))


def test_dataset_base_errors():
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement"):
        edata.Dataset()[0]

    class NoIter(edata.IterableDataset):
        pass

    with pytest.raises(TypeError, match="abstract"):
        NoIter()


@pytest.mark.parametrize("index", [0, 4, 5, 9, -1, -10])
def test_concat_dataset(index):
    def run(fw):
        ds = squares(fw, 5) + squares(fw, 3) + squares(fw, 2)
        return type(ds).__name__, len(ds), ds.cumulative_sizes, ds[index]
    assert run(ember) == run(torch)


@pytest.mark.parametrize("make, exc", [
    (lambda fw: lib(fw).ConcatDataset([squares(fw, 2)])[-3], ValueError),
    (lambda fw: lib(fw).ConcatDataset([]), AssertionError),
    (lambda fw: lib(fw).ConcatDataset([lib(fw).ChainDataset([])]), AssertionError),
    (lambda fw: list(lib(fw).ChainDataset([squares(fw, 2)])), AssertionError),
])
def test_concat_chain_errors(make, exc):
    with pytest.raises(exc) as theirs:
        make(torch)
    with pytest.raises(exc) as ours:
        make(ember)
    assert str(ours.value) == str(theirs.value)


class Count(edata.IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


class TorchCount(tdata.IterableDataset):
    __init__, __iter__, __len__ = Count.__init__, Count.__iter__, Count.__len__


def test_chain_dataset():
    def run(fw):
        make = Count if fw is ember else TorchCount
        ds = make(0, 3) + make(10, 12)
        return type(ds).__name__, list(ds), len(ds)
    assert run(ember) == run(torch)


@pytest.mark.parametrize("index", [0, 2, -1, [0, 1]])
def test_subset(index):
    def run(fw):
        base = lib(fw).TensorDataset(fw.arange(8))
        sub = lib(fw).Subset(base, [7, 2, 5])
        return len(sub), sub[index], sub.__getitems__([2, 0])
    (n, a, b), (m, c, d) = run(ember), run(torch)
    assert n == m
    assert_same_batch(a, c)
    assert_same_batch(b, d)


def test_subset_subclass_must_define_getitems():
    class Bad(edata.Subset):
        def __getitem__(self, i):
            return 0

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Bad(Squares(3), [0])


def test_stack_dataset():
    def run(fw):
        a, b = fw.arange(4), fw.arange(4.) * 2
        tup = lib(fw).StackDataset(a, b)
        named = lib(fw).StackDataset(x=a, y=squares(fw, 4))
        return len(tup), tup[1], named[2], tup.__getitems__([3, 0]), named.__getitems__([1])
    ours, theirs = run(ember), run(torch)
    assert_same_batch(list(ours), list(theirs))


@pytest.mark.parametrize("args, kwargs", [((), {}), ((range(2), range(3)), {}),
                                          ((range(2),), {"a": range(2)})])
def test_stack_dataset_errors(args, kwargs):
    with pytest.raises(ValueError) as theirs:
        tdata.StackDataset(*args, **kwargs)
    with pytest.raises(ValueError) as ours:
        edata.StackDataset(*args, **kwargs)
    assert str(ours.value) == str(theirs.value)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 60), st.lists(st.integers(1, 20), min_size=1, max_size=5))
def test_random_split_fraction_sizes(n, weights):
    fractions = [w / sum(weights) for w in weights]
    fractions[-1] = 1 - sum(fractions[:-1])
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        t = tdata.random_split(range(n), fractions)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        e = edata.random_split(range(n), fractions)
    assert [len(s) for s in e] == [len(s) for s in t]
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert sorted(i for s in e for i in s) == list(range(n))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=1, max_size=5))
def test_random_split_lengths(lengths):
    parts = edata.random_split(Squares(sum(lengths)), lengths,
                               generator=ember.Generator().manual_seed(3))
    assert [len(p) for p in parts] == lengths
    assert sorted(i for p in parts for i in p.indices) == list(range(sum(lengths)))
    again = edata.random_split(Squares(sum(lengths)), lengths,
                               generator=ember.Generator().manual_seed(3))
    assert [p.indices for p in parts] == [p.indices for p in again]


def test_random_split_uses_default_generator():
    ember.manual_seed(0)
    a = [p.indices for p in edata.random_split(range(20), [0.5, 0.5])]
    ember.manual_seed(0)
    b = [p.indices for p in edata.random_split(range(20), [0.5, 0.5])]
    assert a == b


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [1.2, -0.2], [11]])
def test_random_split_errors(lengths):
    with pytest.raises(ValueError) as theirs:
        tdata.random_split(range(10), lengths)
    with pytest.raises(ValueError) as ours:
        edata.random_split(range(10), lengths)
    assert str(ours.value) == str(theirs.value)


def test_tensor_dataset_items_are_views_of_numpy_data():
    data = np.arange(6, dtype=np.float32).reshape(3, 2)
    ds = edata.TensorDataset(ember.from_numpy(data))
    assert ds[1][0].tolist() == [2.0, 3.0]
