"""The benchmark workloads. Each is `setup(fw) -> step` where `fw` is the framework module
(ember or torch) and `step()` runs one measured iteration; all are taken from what the
tutorials train."""
import numpy as np


def _nn(fw):
    return fw.nn, fw.nn.functional


def add_small(fw):
    a, b = fw.randn(10), fw.randn(10)
    return lambda: a + b


def matmul_64(fw):
    x, w = fw.randn(64, 64), fw.randn(64, 64)
    return lambda: x @ w


def three_op_backward(fw):
    p = fw.randn(10, requires_grad=True)

    def step():
        (p * 2).exp().sum().backward()
    return step


def two_layer_autograd(fw):
    """The tutorial's two-layer net with autograd and a manual update (N=64, 1000-100-10)."""
    x, y = fw.randn(64, 1000), fw.randn(64, 10)
    w1 = fw.randn(1000, 100, requires_grad=True)
    w2 = fw.randn(100, 10, requires_grad=True)

    def step():
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with fw.no_grad():
            w1.sub_(1e-6 * w1.grad)
            w2.sub_(1e-6 * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
    return step


def two_layer_nn_adam(fw):
    nn, _ = _nn(fw)
    x, y = fw.randn(64, 1000), fw.randn(64, 10)
    model = nn.Sequential(nn.Linear(1000, 100), nn.ReLU(), nn.Linear(100, 10))
    loss_fn = nn.MSELoss(reduction="sum")
    opt = fw.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _classifier_step(fw, model, x, y, opt, loss_fn):
    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def lenet(batch):
    def setup(fw):
        from .models import lenet as build
        nn, F = _nn(fw)
        model = build(nn, F)
        x, y = fw.randn(batch, 3, 32, 32), fw.randint(0, 10, (batch,))
        opt = fw.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
        return _classifier_step(fw, model, x, y, opt, nn.CrossEntropyLoss())
    setup.__name__ = f"lenet_b{batch}"
    return setup


def mlp_b64(fw):
    from .models import mlp as build
    nn, F = _nn(fw)
    model = build(nn, F)
    x, y = fw.randn(64, 1, 28, 28), fw.randint(0, 10, (64,))
    opt = fw.optim.Adam(model.parameters(), lr=0.003)
    return _classifier_step(fw, model, x, y, opt, nn.NLLLoss())


def resnet18(batch, size, frozen=False):
    def setup(fw):
        from .models import resnet18 as build
        nn, _ = _nn(fw)
        model = build(nn)
        if frozen:
            for p in model.parameters():
                p.requires_grad = False
            model.fc = nn.Linear(512, 2)
            params = model.fc.parameters()
        else:
            params = model.parameters()
        x, y = fw.randn(batch, 3, size, size), fw.randint(0, 2 if frozen else 1000, (batch,))
        opt = fw.optim.SGD(params, lr=0.001, momentum=0.9)
        return _classifier_step(fw, model, x, y, opt, nn.CrossEntropyLoss())
    setup.__name__ = f"resnet18{'_frozen' if frozen else ''}_b{batch}_{size}"
    return setup


def dataloader(workers):
    """28x28 uint8 images converted per item to normalised float tensors, batch 64."""
    def setup(fw):
        data = fw.utils.data

        class Images(data.Dataset):
            def __init__(self):
                rng = np.random.default_rng(0)
                self.images = rng.integers(0, 256, (4096, 28, 28), dtype=np.uint8)
                self.labels = rng.integers(0, 10, 4096)

            def __len__(self):
                return len(self.images)

            def __getitem__(self, i):
                x = fw.from_numpy(self.images[i]).float().div(255).sub(0.5).div(0.5)
                return x.unsqueeze(0), int(self.labels[i])

        loader = data.DataLoader(Images(), batch_size=64, shuffle=True, num_workers=workers,
                                 persistent_workers=workers > 0)

        def step():               # one epoch (64 batches)
            for _ in loader:
                pass
        return step
    setup.__name__ = f"dataloader_{workers}w_epoch"
    return setup


WORKLOADS = [add_small, matmul_64, three_op_backward, two_layer_autograd, two_layer_nn_adam,
             lenet(4), lenet(64), mlp_b64, resnet18(16, 64), resnet18(4, 224),
             resnet18(4, 224, frozen=True), dataloader(0), dataloader(2)]
