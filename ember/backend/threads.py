"""Two threads for the NumPy kernels. NumPy releases the GIL in its loops and copies, so the
copies and elementwise passes over a batch (conv columns, col2im, layout changes, batch norm,
pooling, relu) run on two cores when two threads take one half of the batch each. GEMMs large
enough for BLAS to thread them stay on the calling thread. A hand-off costs ~20 us, so small
arrays stay on one thread."""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

REQUESTED = os.cpu_count() or 1    # ember.get_num_threads()
MAX_THREADS = 2                     # a batch is split in two halves at most
THREADS = min(MAX_THREADS, REQUESTED)
SPLIT_BYTES = 1 << 20       # work touching this much memory is split
_pool = []
_inside = threading.local()         # set while a thread runs its half: no nested split


def set_count(n):
    """ember.set_num_threads(n): torch's check; 1 turns the split off."""
    global THREADS, REQUESTED
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    REQUESTED, THREADS = n, min(n, MAX_THREADS)


def split(work, n, nbytes):
    """work(lo, hi) over the range 0..n: as two halves on two threads when THREADS allows,
    n >= 2 and about `nbytes` of memory are touched, else as one call. Returns the list of
    the calls' results."""
    if THREADS < 2 or n < 2 or nbytes < SPLIT_BYTES or getattr(_inside, "flag", False):
        return [work(0, n)]
    if not _pool:
        _pool.append(ThreadPoolExecutor(1, thread_name_prefix="ember"))
    half = _pool[0].submit(_half, work, n // 2, n)
    try:
        first = _half(work, 0, n // 2)
    finally:
        second = half.result()
    return [first, second]


def _half(work, lo, hi):
    _inside.flag = True
    try:
        return work(lo, hi)
    finally:
        _inside.flag = False


if hasattr(os, "register_at_fork"):       # a forked child (a DataLoader worker) has no thread
    os.register_at_fork(after_in_child=_pool.clear)
