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


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    import ember
    import torch
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        results = {}
        for name, lib in (("ember", ember), ("torch", torch)):
            sd = _state_dict(lib)
            path = os.path.join(folder, f"{name}.pt")
            save = _best(lambda: lib.save(sd, path), args.repeat)
            load = _best(lambda: lib.load(path), args.repeat)
            mmap = _best(lambda: lib.load(path, mmap=True), args.repeat)
            results[name] = (save, load, mmap)
        size = os.path.getsize(os.path.join(folder, "ember.pt")) / 2 ** 20
    print(f"state_dict of {size:.0f} MiB, best of {args.repeat}")
    print(f"{'':10}{'ember':>10}{'torch':>10}{'ratio':>8}")
    for i, what in enumerate(("save", "load", "load mmap")):
        ours, theirs = results["ember"][i], results["torch"][i]
        print(f"{what:10}{ours * 1e3:8.1f}ms{theirs * 1e3:8.1f}ms{ours / theirs:8.2f}")


if __name__ == "__main__":
    main()
