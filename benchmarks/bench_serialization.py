"""Save/load time of a 100 MB state_dict (25 float32 tensors of 1M elements), ember vs torch.

    python benchmarks/bench_serialization.py [--repeat 5] [--dir DIR]

Prints the best of `repeat` runs for each library and the ratio ember/torch (lower is better).
Files go to a temporary folder (DIR if given); the page cache is warm for both libraries.
"""
import argparse
import collections
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))


def _state_dict(lib, n=25, size=1_000_000):
    rng = np.random.default_rng(0)
    return collections.OrderedDict(
        (f"layer{i}.weight", lib.from_numpy(rng.standard_normal(size, dtype=np.float32)))
        for i in range(n))


def _best_interleaved(fns, repeat):
    """Best time of each fn, runs interleaved so both libraries meet the same allocator and
    page-cache state."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    import ember
    import torch
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        libs = {"ember": ember, "torch": torch}
        state = {name: _state_dict(lib) for name, lib in libs.items()}
        path = {name: os.path.join(folder, f"{name}.pt") for name in libs}
        results = {}
        for what, call in (("save", lambda n: libs[n].save(state[n], path[n])),
                           ("load", lambda n: libs[n].load(path[n])),
                           ("load mmap", lambda n: libs[n].load(path[n], mmap=True))):
            results[what] = _best_interleaved([lambda n=n: call(n) for n in libs], args.repeat)
        size = os.path.getsize(path["ember"]) / 2 ** 20
    print(f"state_dict of {size:.0f} MiB, best of {args.repeat}")
    print(f"{'':10}{'ember':>10}{'torch':>10}{'ratio':>8}")
    for what, (ours, theirs) in results.items():
        print(f"{what:10}{ours * 1e3:8.1f}ms{theirs * 1e3:8.1f}ms{ours / theirs:8.2f}")


if __name__ == "__main__":
    main()
