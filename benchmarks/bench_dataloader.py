"""DataLoader epoch time, ember vs torch, with 0 and 2 worker processes.

    python benchmarks/bench_dataloader.py [--repeat 3] [--size 60000] [--workers 0,2]

Workloads (batch 64, shuffled): a TensorDataset of size x 1x28x28 float32 images with int64
labels, and a map-style dataset of 28x28 uint8 images turned per item into normalised float
tensors (ToTensor + Normalize, written with tensor ops). Prints the median seconds per epoch of
`repeat` epochs for each library and the ratio ember/torch (lower is better); epochs of the
two libraries are interleaved so that both meet the same machine state.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))


class Digits:
    """uint8 28x28 images -> float tensors in [-1, 1] with a leading channel, int labels."""

    def __init__(self, lib, images, labels):
        self.lib, self.images, self.labels = lib, images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = self.lib.from_numpy(self.images[i]).float().div(255).sub(0.5).div(0.5)
        return x.unsqueeze(0), int(self.labels[i])


def _datasets(lib, size):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (size, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size)
    floats = rng.standard_normal((size, 1, 28, 28), dtype=np.float32)
    tensor_ds = lib.utils.data.TensorDataset(lib.from_numpy(floats), lib.from_numpy(labels))
    return {"TensorDataset": tensor_ds, "uint8 images": Digits(lib, images, labels)}


def _epoch(loader):
    start = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=60000)
    parser.add_argument("--workers", default="0,2")
    args = parser.parse_args()
    import ember
    import torch
    libs = {"ember": ember, "torch": torch}
    data = {name: _datasets(lib, args.size) for name, lib in libs.items()}
    print(f"{args.size} samples, batch 64, shuffled; median of {args.repeat} epochs")
    print(f"{'dataset':15}{'workers':>8}{'ember s':>10}{'torch s':>10}{'ratio':>8}")
    for kind in data["ember"]:
        for workers in (int(w) for w in args.workers.split(",")):
            loaders = {name: lib.utils.data.DataLoader(data[name][kind], batch_size=64,
                                                       shuffle=True, num_workers=workers)
                       for name, lib in libs.items()}
            times = {name: [] for name in libs}
            for _ in range(args.repeat):
                for name, loader in loaders.items():
                    times[name].append(_epoch(loader))
            ours, theirs = (statistics.median(times[name]) for name in libs)
            print(f"{kind:15}{workers:>8}{ours:10.3f}{theirs:10.3f}{ours / theirs:8.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
