"""DataLoader against torch 2.13: batches, orders, len, errors, workers (seeding, info,
error propagation, death, shutdown, persistence), reproducibility."""
import gc
import multiprocessing
import os
import random
import signal
import time
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata
from _data_helpers import assert_same_batches, flat_values

pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")


@pytest.fixture(autouse=True)
def no_children_before():
    """Each test starts without child processes (torch's iterators kept alive by a reference
    cycle through a re-raised worker error release their workers when collected)."""
    gc.collect()
    assert multiprocessing.active_children() == []


def lib(fw):
    return edata if fw is ember else tdata


class Rich:
    """Map-style samples of every kind default_collate handles."""

    def __init__(self, fw, n):
        self.fw, self.n = fw, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        fw = self.fw
        return (fw.full((2, 3), float(i)), i, i / 2, np.full((2,), i, np.uint8),
                {"name": f"item{i}", "flag": i % 2 == 0})


class Images:
    """28x28 uint8 images turned into normalised float tensors per item, with int labels."""

    def __init__(self, fw, n):
        self.fw, self.images = fw, np.arange(n * 784, dtype=np.int64).reshape(n, 28, 28) % 251
        self.images = self.images.astype(np.uint8)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = self.fw.from_numpy(self.images[i]).float().div(255).sub(0.5).div(0.5)
        return x.unsqueeze(0), int(i % 10)


class _Stream:
    """Yields start..stop-1; with shard=True each worker yields its share (torch's recipe)."""

    def __init__(self, start, stop, shard=False, extra=0):
        self.start, self.stop, self.shard, self.extra = start, stop, shard, extra

    def __len__(self):
        return self.stop - self.start - self.extra

    def __iter__(self):
        info = self.lib.get_worker_info()
        if self.shard and info is not None:
            return iter(range(self.start + info.id, self.stop, info.num_workers))
        return iter(range(self.start, self.stop))


class EStream(_Stream, edata.IterableDataset):
    lib = edata


class TStream(_Stream, tdata.IterableDataset):
    lib = tdata


def stream(fw, *args, **kwargs):
    return (EStream if fw is ember else TStream)(*args, **kwargs)


def both_loaders(make_dataset, workers=(0, 0), **kwargs):
    """Batches of ember's and torch's DataLoader over the same dataset recipe."""
    ours = list(edata.DataLoader(make_dataset(ember), num_workers=workers[0], **kwargs))
    theirs = list(tdata.DataLoader(make_dataset(torch), num_workers=workers[1], **kwargs))
    return ours, theirs


# -- batches -----------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size, drop_last, num_workers",
                         [(1, False, 0), (4, False, 0), (4, True, 0), (3, False, 2), (5, True, 2)])
def test_map_batches_match_torch(batch_size, drop_last, num_workers):
    ours, theirs = both_loaders(lambda fw: Rich(fw, 13), (num_workers, 0),
                                batch_size=batch_size, drop_last=drop_last)
    assert_same_batches(ours, theirs)


@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.parametrize("kwargs", [{"sampler": [5, 3, 1, 0, 12], "batch_size": 2},
                                    {"batch_sampler": [[0, 1], [7, 3, 2], [12]]},
                                    {"batch_size": None, "sampler": [4, 2]},
                                    {"batch_size": None}])
def test_explicit_samplers_match_torch(kwargs, num_workers):
    ours, theirs = both_loaders(lambda fw: Rich(fw, 13), (num_workers, 0), **kwargs)
    assert_same_batches(ours, theirs)


def test_images_match_torch():
    ours, theirs = both_loaders(lambda fw: Images(fw, 50), (2, 0), batch_size=16)
    assert_same_batches(ours, theirs)


def test_tensor_dataset_large_batches_through_workers():
    x = np.random.default_rng(0).standard_normal((40, 3, 32, 32)).astype(np.float32)
    ours, theirs = both_loaders(
        lambda fw: lib(fw).TensorDataset(fw.from_numpy(x), fw.arange(40)), (2, 0), batch_size=16)
    assert_same_batches(ours, theirs)
    ours[0][0].add_(1)      # batches from workers are ordinary writable tensors
    assert ours[0][0]._data.flags.writeable


@pytest.mark.parametrize("num_workers", [0, 2])
def test_custom_collate_fn(num_workers):
    ours, theirs = both_loaders(lambda fw: range(10), (num_workers, 0), batch_size=3,
                                collate_fn=lambda batch: sum(batch))
    assert ours == theirs


def test_workers_give_same_data_in_same_order():
    def run(num_workers, prefetch_factor=None):
        loader = edata.DataLoader(Rich(ember, 23), batch_size=3, shuffle=True,
                                  num_workers=num_workers, prefetch_factor=prefetch_factor,
                                  generator=ember.Generator().manual_seed(11))
        return flat_values(list(loader))
    reference = run(0)
    for got in (run(2), run(4), run(2, prefetch_factor=1), run(3, prefetch_factor=5)):
        assert len(got) == len(reference)
        for a, b in zip(got, reference):
            np.testing.assert_array_equal(a, b)


# -- iterable datasets -------------------------------------------------------------------------
@pytest.mark.parametrize("num_workers, batch_size, shard, drop_last",
                         [(0, 3, False, False), (0, None, False, False), (0, 4, False, True),
                          (2, 3, True, False), (2, 3, False, True), (2, None, True, False),
                          (3, 2, True, False)])
def test_iterable_matches_torch(num_workers, batch_size, shard, drop_last):
    ours, theirs = both_loaders(lambda fw: stream(fw, 0, 11, shard), (num_workers, num_workers),
                                batch_size=batch_size, drop_last=drop_last)
    assert_same_batches(ours, theirs)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_iterable_len_and_overrun_warning_match_torch(num_workers):
    def run(fw):
        loader = lib(fw).DataLoader(stream(fw, 0, 5, extra=2), batch_size=1,
                                    num_workers=num_workers)
        n = len(loader)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            list(loader)
        msgs = [str(w.message) for w in caught if "Length of IterableDataset" in str(w.message)]
        return n, [m.split(" was reported")[1] for m in msgs]
    assert run(ember) == run(torch)


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 4}, {"batch_size": 4, "drop_last": True},
                                    {"batch_size": None}, {"shuffle": True, "batch_size": 3},
                                    {"batch_sampler": [[0], [1, 2]]}])
def test_len_matches_torch(kwargs):
    assert len(edata.DataLoader(range(10), **kwargs)) == len(tdata.DataLoader(range(10), **kwargs))
    loader = edata.DataLoader(range(10), **kwargs)
    assert len(iter(loader)) == len(loader)
    assert len(edata.DataLoader(stream(ember, 0, 10), batch_size=3)) == \
        len(tdata.DataLoader(stream(torch, 0, 10), batch_size=3))


# -- errors and warnings -----------------------------------------------------------------------
ERRORS = [
    lambda fw: {"dataset": range(4), "num_workers": -1},
    lambda fw: {"dataset": range(4), "timeout": -1},
    lambda fw: {"dataset": range(4), "prefetch_factor": 2},
    lambda fw: {"dataset": range(4), "num_workers": 1, "prefetch_factor": -1},
    lambda fw: {"dataset": range(4), "persistent_workers": True},
    lambda fw: {"dataset": range(4), "sampler": [0, 1], "shuffle": True},
    lambda fw: {"dataset": range(4), "batch_sampler": [[0]], "batch_size": 2},
    lambda fw: {"dataset": range(4), "batch_sampler": [[0]], "drop_last": True},
    lambda fw: {"dataset": range(4), "batch_size": None, "drop_last": True},
    lambda fw: {"dataset": stream(fw, 0, 3), "shuffle": True},
    lambda fw: {"dataset": stream(fw, 0, 3), "sampler": [0]},
    lambda fw: {"dataset": stream(fw, 0, 3), "batch_sampler": [[0]]},
    lambda fw: {"dataset": range(4), "multiprocessing_context": "fork"},
    lambda fw: {"dataset": range(4), "num_workers": 1, "multiprocessing_context": "nope"},
    lambda fw: {"dataset": range(4), "num_workers": 1, "multiprocessing_context": 3},
    lambda fw: {"dataset": range(4), "batch_size": 0},
]


@pytest.mark.parametrize("make", ERRORS)
def test_option_errors_match_torch(make):
    with pytest.raises(Exception) as theirs:
        tdata.DataLoader(**make(torch))
    with pytest.raises(Exception) as ours:
        edata.DataLoader(**make(ember))
    assert ours.type is theirs.type
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("attr", ["batch_size", "sampler", "dataset", "drop_last"])
def test_frozen_attributes(attr):
    with pytest.raises(ValueError) as theirs:
        setattr(tdata.DataLoader(range(3)), attr, None)
    with pytest.raises(ValueError) as ours:
        setattr(edata.DataLoader(range(3)), attr, None)
    assert str(ours.value) == str(theirs.value)
    loader = edata.DataLoader(range(3))
    loader.num_workers = 0      # not frozen, as in torch


@pytest.mark.parametrize("kwargs", [{"num_workers": 100}, {"pin_memory": True},
                                    {"pin_memory": True, "pin_memory_device": "cuda"}])
def test_warnings_match_torch(kwargs):
    def run(fw):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loader = lib(fw).DataLoader(range(3), **kwargs)
            if kwargs.get("pin_memory"):
                iter(loader)
        return [str(w.message) for w in caught]
    assert run(ember) == run(torch)


def test_multiprocessing_context_accepted():
    ctx = multiprocessing.get_context("fork")
    for context in ("fork", ctx):
        loader = edata.DataLoader(range(6), batch_size=2, num_workers=2,
                                  multiprocessing_context=context)
        assert loader.multiprocessing_context is ctx
        assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]


# -- worker errors and deaths ------------------------------------------------------------------
class Failing:
    def __init__(self, exc, at=5):
        self.exc, self.at = exc, at

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.at:
            raise self.exc
        return i


class TwoArgError(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


@pytest.mark.parametrize("exc", [ValueError("bad item 5"), KeyError("missing"),
                                 TwoArgError(1, 2), IndexError("out")])
def test_worker_exception_reraised_like_torch(exc):
    def run(fw):
        it = iter(lib(fw).DataLoader(Failing(exc), batch_size=2, num_workers=2))
        got = [next(it).tolist()]
        with pytest.raises(Exception) as info:
            next(it)
            next(it)
        got += [b.tolist() for b in it]     # the loader goes on after an error, as torch's
        head = str(info.value).split("\n")[:2]
        return info.type, head, "bad item 5" in str(info.value), got
    ours, theirs = run(ember), run(torch)
    assert ours == theirs
    assert ours[1][0].startswith("Caught ") and ours[1][0].endswith("in DataLoader worker "
                                                                    "process 0.")
    assert ours[1][1] == "Original Traceback (most recent call last):"


def test_worker_exception_names_the_worker():
    it = iter(edata.DataLoader(Failing(ValueError("x"), at=2), batch_size=2, num_workers=2))
    next(it)
    with pytest.raises(ValueError, match="^Caught ValueError in DataLoader worker process 1"):
        next(it)


def test_unpicklable_batch_is_an_error_not_a_hang():
    loader = edata.DataLoader(range(4), batch_size=2, num_workers=1,
                              collate_fn=lambda batch: (lambda: batch))
    with pytest.raises(Exception, match="in DataLoader worker process 0"):
        list(loader)


def test_worker_init_fn_error_reported():
    def init(worker_id):
        raise RuntimeError("init failed")
    with pytest.raises(RuntimeError, match="(?s)Caught RuntimeError.*init failed"):
        list(edata.DataLoader(range(4), num_workers=1, worker_init_fn=init))


class Killer:
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5 and edata.get_worker_info() is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


def test_killed_worker_raises_runtime_error():
    start = time.monotonic()
    with pytest.raises(RuntimeError,
                       match=r"^DataLoader worker \(pid\(s\) \d+\) exited unexpectedly$"):
        list(edata.DataLoader(Killer(), batch_size=2, num_workers=2))
    assert time.monotonic() - start < 10
    assert multiprocessing.active_children() == []


class Blocking:
    def __init__(self, event):
        self.event = event

    def __len__(self):
        return 4

    def __getitem__(self, i):
        self.event.wait()
        return i


def test_timeout():
    event = multiprocessing.get_context("fork").Event()
    it = iter(edata.DataLoader(Blocking(event), num_workers=1, timeout=0.2))
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0.2 seconds$"):
        next(it)
    event.set()     # let the worker finish its item (and leave the event) before it stops
    del it
    assert multiprocessing.active_children() == []


# -- shutdown ----------------------------------------------------------------------------------
def worker_loader(**kwargs):
    return edata.DataLoader(range(40), batch_size=2, num_workers=2, **kwargs)


def test_no_processes_after_exhaustion():
    assert len(list(worker_loader())) == 20
    assert multiprocessing.active_children() == []


def test_no_processes_after_break():
    for i, _ in enumerate(worker_loader()):
        if i == 1:
            break
    assert multiprocessing.active_children() == []


def test_no_processes_after_iterator_collected():
    it = iter(worker_loader())
    next(it)
    assert len(multiprocessing.active_children()) == 2
    del it
    assert multiprocessing.active_children() == []


def test_no_processes_after_keyboard_interrupt():
    with pytest.raises(KeyboardInterrupt):
        for _ in worker_loader():
            raise KeyboardInterrupt
    assert multiprocessing.active_children() == []


def test_no_processes_after_persistent_loader_deleted():
    loader = worker_loader(persistent_workers=True)
    list(loader)
    assert len(multiprocessing.active_children()) == 2
    del loader
    assert multiprocessing.active_children() == []


def test_prefetch_bound():
    it = iter(edata.DataLoader(range(40), batch_size=2, num_workers=2, prefetch_factor=3))
    next(it)
    assert len(it._tasks) == 6


# -- the iterator, worker info, seeding, persistence, reproducibility ---------------------------
@pytest.mark.parametrize("num_workers", [0, 2])
def test_legacy_next_method(num_workers):
    ds = edata.TensorDataset(ember.arange(12.).reshape(6, 2), ember.arange(6))
    dataiter = iter(edata.DataLoader(ds, batch_size=4, num_workers=num_workers))
    images, labels = dataiter.next()
    assert labels.tolist() == [0, 1, 2, 3]
    images, labels = next(dataiter)
    assert labels.tolist() == [4, 5]


INIT_CALLS = []


def record_init(worker_id):
    INIT_CALLS.append(worker_id)


class WorkerView:
    """Each item reports what its worker sees: info, init calls, pid and random draws."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = edata.get_worker_info()
        return {"id": info.id, "num_workers": info.num_workers, "seed": info.seed,
                "same_dataset": info.dataset is self, "init": repr(INIT_CALLS),
                "pid": os.getpid(), "py": random.random(), "np": float(np.random.rand()),
                "ember": ember.rand(1).item()}


def view(loader):
    return [{k: (v.tolist() if isinstance(v, ember.Tensor) else v) for k, v in b.items()}
            for b in loader]


def test_worker_info_and_init_fn():
    assert edata.get_worker_info() is None
    items = view(edata.DataLoader(WorkerView(), batch_size=2, num_workers=2,
                                  worker_init_fn=record_init))
    assert [b["id"] for b in items] == [[0, 0], [1, 1], [0, 0], [1, 1]]
    assert all(b["num_workers"] == [2, 2] and all(b["same_dataset"]) for b in items)
    assert items[0]["init"] == ["[0]", "[0]"] and items[1]["init"] == ["[1]", "[1]"]
    assert items[1]["seed"][0] == items[0]["seed"][0] + 1
    assert INIT_CALLS == []     # called in the workers only
    with pytest.raises(Exception):      # read-only, as torch's WorkerInfo
        edata._worker.WorkerInfo(0, 1, 0, None).id = 3


def test_worker_seeding_distinct_and_reproducible():
    def run(seed):
        return view(edata.DataLoader(WorkerView(), batch_size=2, num_workers=2,
                                     generator=ember.Generator().manual_seed(seed)))
    a, b, c = run(0), run(0), run(1)
    for key in ("seed", "py", "np", "ember"):
        assert [x[key] for x in a] == [x[key] for x in b]
        assert [x[key] for x in a] != [x[key] for x in c]
        assert a[0][key] != a[1][key]       # workers draw different numbers


def test_shuffle_reproducible_with_generator():
    def order(seed, num_workers=0):
        loader = edata.DataLoader(range(30), batch_size=4, shuffle=True, num_workers=num_workers,
                                  generator=ember.Generator().manual_seed(seed))
        return [b.tolist() for b in loader]
    assert order(3) == order(3) == order(3, num_workers=2)
    assert order(3) != order(4)
    assert sorted(sum(order(3), [])) == list(range(30))
    ember.manual_seed(0)
    first = [b.tolist() for b in edata.DataLoader(range(30), batch_size=4, shuffle=True)]
    ember.manual_seed(0)
    assert first == [b.tolist() for b in edata.DataLoader(range(30), batch_size=4, shuffle=True)]


def test_persistent_workers_reused_across_epochs():
    loader = edata.DataLoader(WorkerView(), batch_size=2, num_workers=2, persistent_workers=True)
    first = view(loader)
    it = iter(loader)
    next(it)                        # leave batches in flight: the next epoch drops them
    second = view(loader)
    assert {p for b in first for p in b["pid"]} == {p for b in second for p in b["pid"]}
    assert [b["id"] for b in first] == [b["id"] for b in second]
    assert len(second) == 4
    assert iter(loader) is iter(loader)


def test_persistent_workers_restart_iterable():
    loader = edata.DataLoader(stream(ember, 0, 9, shard=True), batch_size=2, num_workers=2,
                              persistent_workers=True)
    epochs = [sorted(sum((b.tolist() for b in loader), [])) for _ in range(3)]
    assert epochs == [list(range(9))] * 3


def test_single_process_timeout_like_torch():
    for data in (edata, tdata):
        with pytest.raises(AssertionError, match="^_SingleProcessDataLoaderIter requires timeout "
                                                 "== 0$"):
            iter(data.DataLoader(range(4), timeout=1))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # torch's __del__
def test_prefetch_factor_zero_like_torch():
    for data in (edata, tdata):
        loader = data.DataLoader(range(4), num_workers=1, prefetch_factor=0)
        with pytest.raises(AssertionError, match="^prefetch_factor must be greater than 0 for "
                                                 "MultiProcessingDataLoaderIter$"):
            iter(loader)


def test_local_exception_type_arrives_as_runtime_error():
    class LocalError(Exception):
        pass
    with pytest.raises(RuntimeError, match="^Caught LocalError in DataLoader worker process 0"):
        list(edata.DataLoader(Failing(LocalError("local"), at=0), num_workers=1))
