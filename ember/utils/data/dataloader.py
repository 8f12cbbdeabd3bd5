"""DataLoader as in torch.utils.data: batching, shuffling, samplers, collation, and worker
processes.

With num_workers > 0 each worker has its own index queue and result pipe (see _worker.py).
Tasks go round-robin to the workers, at most prefetch_factor * num_workers in flight; results
are read in task order from the worker that owns the next task, so batches come in sampler
order with no reordering buffer. Waiting on a pipe also watches the worker's process, so a
worker that dies raises at once instead of hanging. Workers are stopped when the epoch ends
(unless persistent), when the iterator is garbage-collected, and at interpreter exit.
`in_order=False` is accepted; batches still come in order, which torch allows.
"""
import itertools
import math
import multiprocessing
import multiprocessing.connection
import os
import sys
import time
import warnings
import weakref
from collections import deque

from ... import cuda
from . import _worker
from ._collate import default_collate, default_convert
from ._worker import get_worker_info  # noqa: F401  (torch.utils.data.dataloader has it too)
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _draw_seed

_JOIN_TIMEOUT = 5.0     # seconds the workers get to return before they are terminated
_FROZEN = frozenset(("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                     "persistent_workers"))


class _DatasetKind:
    Map = 0
    Iterable = 1


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: None forever (the dataset decides what comes)."""

    def __iter__(self):
        return itertools.repeat(None)


class DataLoader:
    """torch.utils.data.DataLoader: same arguments, defaults, validation errors and len()."""

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers <= 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 "loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError("multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context "
                                "object or a string specifying the start method, but got "
                                f"multiprocessing_context={context}")
        self.__multiprocessing_context = context

    def __setattr__(self, attr, value):
        if self.__initialized and attr in _FROZEN:
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        """A new iterator, or with persistent workers the same one restarted."""
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __len__(self):
        """Number of batches; for an IterableDataset computed from len(dataset) (a later
        iteration that yields more warns, as torch)."""
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last \
                    else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self):
        """Warn, as torch, when there are more workers than CPUs this process may use."""
        if not self.num_workers:
            return
        cpuset_checked = hasattr(os, "sched_getaffinity")
        suggest = len(os.sched_getaffinity(0)) if cpuset_checked else os.cpu_count()
        if suggest is not None and self.num_workers <= suggest:
            return
        if suggest is None:
            detail = ("DataLoader is not able to compute a suggested max number of worker in "
                      "current system.")
        else:
            detail = (f"Our suggested max number of worker in current system is {suggest}"
                      f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}, "
                      "which is smaller than what this DataLoader is going to create.")
        warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in "
                      f"total. {detail} Please be aware that excessive worker creation might get "
                      "DataLoader running slow or even freeze, lower the worker number to avoid "
                      "potential slowness/freeze if necessary.", stacklevel=2)


class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be used "
                          f"as the device,ignore pin_memory_device='{loader.pin_memory_device}'.",
                          stacklevel=2)
        if loader.pin_memory and not cuda.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then "
                          "device pinned memory won't be used.", stacklevel=2)
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = _draw_seed(loader.generator)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _reset(self, loader):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def __iter__(self):
        return self

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        reported = self._IterableDataset_len_called
        if (self._dataset_kind == _DatasetKind.Iterable and reported is not None
                and self._num_yielded > reported):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be {reported}"
                   f"(when accessing len(dataloader)), but {self._num_yielded} samples have been "
                   "fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly "
                        "configuring the IterableDataset replica at each worker. Please see "
                        "https://pytorch.org/docs/stable/data.html#torch.utils.data."
                        "IterableDataset for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    next = __next__     # the legacy `images, labels = dataiter.next()` of older tutorials

    def __len__(self):
        return len(self._index_sampler)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._fetcher = _worker.make_fetcher(self._dataset_kind == _DatasetKind.Iterable,
                                             self._dataset, self._auto_collation,
                                             self._collate_fn, self._drop_last)

    def _next_data(self):
        return self._fetcher.fetch(next(self._sampler_iter))


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        if loader.prefetch_factor <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for "
                                 "MultiProcessingDataLoaderIter")
        context = loader.multiprocessing_context or _default_context()
        n = self._num_workers
        self._prefetch = loader.prefetch_factor * n
        self._workers, self._index_queues, self._conns = [], [], []
        done = context.RawValue("b", 0)     # lock-free: a killed worker cannot leave it held
        self._shutdown = weakref.finalize(self, _shutdown_workers, self._workers,
                                          self._index_queues, self._conns, done)
        iterable = self._dataset_kind == _DatasetKind.Iterable
        for worker_id in range(n):
            index_queue = context.Queue()
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(
                target=_worker.worker_loop, daemon=True,
                args=(iterable, self._dataset, index_queue, writer, done, self._auto_collation,
                      self._collate_fn, self._drop_last, self._base_seed, loader.worker_init_fn,
                      worker_id, n))
            process.start()
            writer.close()      # the worker holds the only write end: its death means EOF
            self._workers.append(process)
            self._index_queues.append(index_queue)
            self._conns.append(reader)
        self._start_epoch()

    def _start_epoch(self):
        self._tasks = deque()       # the worker of each task in flight, in task order
        self._active = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch):
            self._put_task()

    def _reset(self, loader):
        """Persistent workers, new epoch: drop the batches still in flight, restart the
        workers' IterableDataset iterators, prime the prefetch again."""
        super()._reset(loader)
        resume = _worker.Resume()
        for q in self._index_queues:
            q.put(resume)
        for worker_id in range(self._num_workers):
            while not isinstance(self._receive(worker_id), _worker.Resume):
                pass
        self._start_epoch()

    def _put_task(self):
        """Send the next index (batch) to the next worker whose dataset copy is not done."""
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for worker_id in itertools.islice(self._worker_cycle, self._num_workers):
            if self._active[worker_id]:
                # a 1-tuple: an IterableDataset's index is None, the workers' stop signal
                self._index_queues[worker_id].put((index,))
                self._tasks.append(worker_id)
                return

    def _next_data(self):
        while self._tasks:
            worker_id = self._tasks.popleft()
            if not self._active[worker_id]:
                continue
            data = self._receive(worker_id)
            self._active[worker_id] = not isinstance(data, _worker.IterationEnd)
            self._put_task()
            if not self._active[worker_id]:
                continue
            if isinstance(data, _worker.ExceptionWrapper):
                data.reraise()
            return data
        if not self._persistent_workers:
            self._shutdown()
        raise StopIteration

    def _receive(self, worker_id):
        """The next message of a worker; torch's RuntimeErrors when it times out or when the
        worker process is gone."""
        conn, process = self._conns[worker_id], self._workers[worker_id]
        ready = multiprocessing.connection.wait([conn, process.sentinel], self._timeout or None)
        if not ready:
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        if conn in ready or conn.poll():
            try:
                return _worker.recv(conn)
            except (EOFError, OSError):
                pass
        self._shutdown()
        raise RuntimeError(f"DataLoader worker (pid(s) {process.pid}) exited unexpectedly")


def _default_context():
    """fork on Linux (fast start; the dataset is not pickled), the platform's default else."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _shutdown_workers(workers, index_queues, conns, done):
    """Tell the workers to skip what is queued and return, give them a few seconds,
    terminate the rest, and release the queues and pipes."""
    done.value = 1
    for q in index_queues:
        q.put(None)
    deadline = time.monotonic() + _JOIN_TIMEOUT
    for process in workers:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.terminate()
            process.join()
    for q in index_queues:
        q.cancel_join_thread()
        q.close()
    for conn in conns:
        conn.close()
