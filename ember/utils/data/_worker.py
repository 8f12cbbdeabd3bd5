"""What runs inside a DataLoader worker process, and how batches travel back.

A worker seeds Python's, NumPy's and ember's generators from (base_seed, worker id), publishes
get_worker_info(), then answers tasks `(indices,)` from its index queue with the batch
on its own result pipe, in task order. A batch is pickled with protocol 5:
the pickle is small and every array buffer (a Tensor pickles as its NumPy array) is written raw
to the pipe, then read straight into a fresh array in the main process — one copy each way.
"""
import dataclasses
import io
import os
import pickle
import queue
import random
import sys
import threading
import traceback

import numpy as np

from ... import random as _random

_PARENT_CHECK_INTERVAL = 5.0    # seconds between checks that the main process is still alive


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """What get_worker_info() returns inside a worker (read-only, as torch's)."""
    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


_worker_info = None


def get_worker_info():
    """The WorkerInfo of this DataLoader worker process; None in the main process."""
    return _worker_info


# -- fetching ---------------------------------------------------------------------------------
class _MapFetcher:
    """Batch of a map-style dataset: `__getitems__(indices)` when defined, else item by item."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if callable(getitems) else None

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.getitems is not None:
            return self.collate_fn(self.getitems(index))
        dataset = self.dataset
        return self.collate_fn([dataset[i] for i in index])


class _IterableFetcher:
    """Next len(index) items of the dataset's iterator; StopIteration when none is left (or
    the last batch is short and drop_last)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.iterator = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        items = []
        for _ in index:
            try:
                items.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not items or (self.drop_last and len(items) < len(index)):
            raise StopIteration
        return self.collate_fn(items)


def make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last):
    kind = _IterableFetcher if iterable else _MapFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)


# -- errors and control messages ---------------------------------------------------------------
class KeyErrorMessage(str):
    """A KeyError's message shown as written (KeyError would repr it)."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """The exception being handled, as its type and formatted traceback, to re-raise in the
    main process with torch's wrapper text."""

    def __init__(self, where):
        exc_type, exc, tb = sys.exc_info()
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where
        self.type_name = exc_type.__name__
        try:            # a type that cannot travel (defined in a function) arrives as RuntimeError
            pickle.dumps(exc_type)
        except Exception:
            exc_type = RuntimeError
        self.exc_type = exc_type

    def reraise(self):
        raise self._exception()     # built in a helper: no frame -> exception -> frame cycle

    def _exception(self):
        msg = f"Caught {self.type_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            return self.exc_type(message=msg)
        try:
            return self.exc_type(msg)
        except Exception:
            return RuntimeError(msg)


class IterationEnd:
    """A worker's IterableDataset copy is exhausted."""


class Resume:
    """Persistent workers: start a new epoch (sent to a worker, and echoed back)."""


# -- transport ----------------------------------------------------------------------------------
def dumps(message):
    """`message` as a small protocol-5 pickle and the raw views of its array buffers."""
    buffers = []
    f = io.BytesIO()
    pickle.Pickler(f, protocol=5, buffer_callback=buffers.append).dump(message)
    return f.getvalue(), [b.raw() for b in buffers]


def write(conn, head, views):
    """Send the pickle (with the buffer sizes), then each buffer straight from its memory."""
    conn.send((head, [v.nbytes for v in views]))
    fd = conn.fileno()
    for view in views:
        while view.nbytes:
            view = view[os.write(fd, view):]


def recv(conn):
    """Read a message written by write(), its arrays landing in fresh writable buffers."""
    head, sizes = conn.recv()
    buffers = [np.empty(n, np.uint8) for n in sizes]
    fd = conn.fileno()
    for buf in buffers:
        view = memoryview(buf)
        while view.nbytes:
            n = os.readv(fd, [view])
            if n == 0:
                raise EOFError
            view = view[n:]
    return pickle.loads(head, buffers=buffers)


class _Sender:
    """Writes results from a thread, so the worker computes the next batch while the main
    process has not read the last one yet."""

    def __init__(self, conn):
        self.conn, self.queue = conn, queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while (packed := self.queue.get()) is not None:
            try:
                write(self.conn, *packed)
            except OSError:         # the main process is gone
                return

    def put(self, message, where):
        """Queue `message`, or an ExceptionWrapper for the error when it cannot be pickled."""
        try:
            packed = dumps(message)
        except Exception:
            packed = dumps(ExceptionWrapper(where))
        self.queue.put(packed)

    def close(self):
        self.queue.put(None)
        self.thread.join()


# -- the worker ---------------------------------------------------------------------------------
def _seed_worker(seed, worker_id, base_seed):
    random.seed(seed)
    _random.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))


def worker_loop(iterable, dataset, index_queue, conn, done, auto_collation, collate_fn,
                drop_last, base_seed, init_fn, worker_id, num_workers):
    """Process target of worker `worker_id`. Tasks are `(index,)`, Resume or None (return);
    once `done.value` is set (shutdown) queued tasks are skipped and nothing more is sent."""
    global _worker_info
    try:
        seed = base_seed + worker_id
        _seed_worker(seed, worker_id, base_seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where)
        sender = _Sender(conn)
        parent = os.getppid()
        ended = False
        while True:
            try:
                task = index_queue.get(timeout=_PARENT_CHECK_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent:
                    return
                continue
            if task is None:
                break
            if isinstance(task, Resume):
                ended = False
                if iterable and init_error is None:
                    fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn,
                                           drop_last)
                sender.put(task, where)
                continue
            if done.value or ended:
                continue
            (index,) = task
            if init_error is not None:        # worker_init_fn failed: every task reports it
                data = init_error
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:      # StopIteration: an IterableDataset copy is done
                    if iterable and isinstance(e, StopIteration):
                        data, ended = IterationEnd(), True
                    else:
                        data = ExceptionWrapper(where)
            sender.put(data, where)
        if not done.value:
            sender.close()
    except KeyboardInterrupt:
        pass        # the main process raises it

