"""`python -m ember.demo`: train a small convnet on the bundled handwritten digits.

The data (ember/data/digits.csv.gz, 1797 8x8 images of 13 writers, CC BY 4.0, UCI "Optical
Recognition of Handwritten Digits") ships with ember, so the demo runs offline in seconds. The
code is plain PyTorch: `import ember as torch` is the only change.
"""
import argparse
import gzip
import os
import time

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.utils.data import DataLoader, Dataset, random_split

DIGITS = os.path.join(os.path.dirname(__file__), "data", "digits.csv.gz")


class Digits(Dataset):
    """The bundled 8x8 digits as (1x8x8 float tensor in [0, 1], int64 label) pairs."""

    def __init__(self, path=DIGITS):
        with gzip.open(path, "rt") as f:
            rows = np.loadtxt(f, delimiter=",", dtype=np.float32)
        self.images = torch.from_numpy(rows[:, :64].reshape(-1, 1, 8, 8) / 16.0)
        self.labels = torch.from_numpy(rows[:, 64].astype(np.int64))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
            total += labels.numel()
    return correct / total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    data = Digits()
    train, test = random_split(data, [0.8, 0.2], generator=torch.Generator().manual_seed(0))
    train_loader = DataLoader(train, batch_size=32, shuffle=True)
    test_loader = DataLoader(test, batch_size=256)
    model = Net()
    print(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(args.epochs):
        model.train()
        start, running = time.perf_counter(), 0.0
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            running += loss.item() * labels.numel()
        print(f"epoch {epoch + 1}: loss {running / len(train):.4f}, "
              f"test accuracy {evaluate(model, test_loader):.1%} "
              f"({time.perf_counter() - start:.2f}s)")
    accuracy = evaluate(model, test_loader)
    print(f"final test accuracy: {accuracy:.1%}")
    return accuracy


if __name__ == "__main__":
    main()
