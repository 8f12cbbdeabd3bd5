"""Every layer against torch: the same layer built in both, torch's weights loaded into ember,
then outputs, buffers, input gradients and parameter gradients compared (two batch sizes per
case), plus state_dict keys and repr."""
import re

import numpy as np
import pytest
import torch

import ember
from nn_helpers import run_both, randn, e_tensor, t_tensor, assert_close


class C:
    """A layer case: make(nn) builds it; inputs(rng, n) gives its arguments for batch size n."""

    def __init__(self, id, make, inputs, train=True, grad=True, tol=1.0, call=None):
        self.id, self.make, self.inputs = id, make, inputs
        self.train, self.grad, self.tol, self.call = train, grad, tol, call

    def __repr__(self):
        return self.id


def x(*shape):
    """inputs(rng, n): one float32 input of shape (n, *shape)."""
    return lambda r, n: [randn(r, n, *shape)]


def positive(*shape):
    return lambda r, n: [np.abs(randn(r, n, *shape)) + 0.1]


LINEAR = [
    C("identity", lambda nn: nn.Identity(3, any=1), x(3)),
    C("linear", lambda nn: nn.Linear(4, 3), x(4)),
    C("linear_nobias_3d", lambda nn: nn.Linear(4, 3, bias=False), x(2, 4)),
    C("linear_unbatched", lambda nn: nn.Linear(4, 3), lambda r, n: [randn(r, 4)]),
    C("linear_f64", lambda nn: nn.Linear(4, 3, dtype=torch.float64 if nn is torch.nn
                                         else ember.float64),
      lambda r, n: [randn(r, n, 4, dtype=np.float64)]),
    C("bilinear", lambda nn: nn.Bilinear(3, 4, 2), lambda r, n: [randn(r, n, 3), randn(r, n, 4)]),
    C("bilinear_nobias", lambda nn: nn.Bilinear(3, 3, 2, bias=False),
      lambda r, n: [randn(r, n, 3), randn(r, n, 3)]),
]

CONV = [
    C("conv1d", lambda nn: nn.Conv1d(2, 4, 3), x(2, 9)),
    C("conv1d_opts", lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2,
                                          bias=False), x(4, 11)),
    C("conv1d_same", lambda nn: nn.Conv1d(2, 3, 4, padding="same", dilation=2), x(2, 9)),
    C("conv1d_valid", lambda nn: nn.Conv1d(2, 3, 3, padding="valid"), x(2, 7)),
    C("conv1d_unbatched", lambda nn: nn.Conv1d(2, 3, 3), lambda r, n: [randn(r, 2, 7)]),
    C("conv2d", lambda nn: nn.Conv2d(3, 4, 3), x(3, 7, 6)),
    C("conv2d_opts", lambda nn: nn.Conv2d(4, 4, (3, 2), stride=(2, 1), padding=(1, 2),
                                          dilation=(1, 2), groups=4), x(4, 8, 7)),
    C("conv2d_same", lambda nn: nn.Conv2d(2, 3, (3, 4), padding="same"), x(2, 6, 7)),
    C("conv2d_reflect", lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
      x(2, 5, 6)),
    C("conv2d_replicate", lambda nn: nn.Conv2d(2, 3, 3, padding=(2, 1),
                                               padding_mode="replicate"), x(2, 5, 6)),
    C("conv2d_circular", lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
      x(2, 5, 6)),
    C("conv2d_same_reflect", lambda nn: nn.Conv2d(2, 2, 4, padding="same",
                                                  padding_mode="reflect"), x(2, 6, 6)),
    C("conv2d_unbatched", lambda nn: nn.Conv2d(2, 3, 3, stride=2),
      lambda r, n: [randn(r, 2, 7, 7)]),
    C("conv3d", lambda nn: nn.Conv3d(2, 3, (2, 3, 2), stride=(1, 2, 1), padding=1), x(2, 4, 5, 4)),
    C("conv3d_circular", lambda nn: nn.Conv3d(1, 2, 3, padding=1, padding_mode="circular"),
      x(1, 3, 4, 4)),
    C("convT1d", lambda nn: nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1),
      x(3, 5)),
    C("convT1d_groups", lambda nn: nn.ConvTranspose1d(4, 6, 2, groups=2, dilation=2,
                                                      bias=False), x(4, 5)),
    C("convT2d", lambda nn: nn.ConvTranspose2d(3, 2, 3), x(3, 4, 5)),
    C("convT2d_opts", lambda nn: nn.ConvTranspose2d(2, 4, (3, 2), stride=(2, 3), padding=(1, 0),
                                                    output_padding=(1, 2), groups=2,
                                                    dilation=(1, 2)), x(2, 4, 3)),
    C("convT2d_output_size", lambda nn: nn.ConvTranspose2d(2, 2, 3, stride=2), x(2, 4, 4),
      call=lambda m, i: m(i, output_size=[i.shape[0], 2, 10, 10])),
    C("convT3d", lambda nn: nn.ConvTranspose3d(2, 2, 2, stride=2), x(2, 2, 3, 2)),
]

POOL = [
    C("maxpool1d", lambda nn: nn.MaxPool1d(3, stride=2, padding=1), x(2, 9)),
    C("maxpool1d_dil", lambda nn: nn.MaxPool1d(2, dilation=2, ceil_mode=True), x(2, 8)),
    C("maxpool2d", lambda nn: nn.MaxPool2d(2), x(3, 6, 6)),
    C("maxpool2d_opts", lambda nn: nn.MaxPool2d((3, 2), stride=(2, 1), padding=1, dilation=(1, 2),
                                                ceil_mode=True), x(2, 7, 8)),
    C("maxpool2d_indices", lambda nn: nn.MaxPool2d(2, return_indices=True), x(2, 4, 6)),
    C("maxpool3d", lambda nn: nn.MaxPool3d(2, stride=1), x(2, 3, 3, 4)),
    C("avgpool1d", lambda nn: nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False),
      x(2, 9)),
    C("avgpool2d", lambda nn: nn.AvgPool2d(2), x(3, 6, 6)),
    C("avgpool2d_opts", lambda nn: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                count_include_pad=False), x(2, 7, 6)),
    C("avgpool2d_divisor", lambda nn: nn.AvgPool2d(2, divisor_override=3), x(1, 4, 4)),
    C("avgpool3d", lambda nn: nn.AvgPool3d(2), x(2, 4, 4, 2)),
    C("adaptiveavg1d", lambda nn: nn.AdaptiveAvgPool1d(3), x(2, 7)),
    C("adaptiveavg2d", lambda nn: nn.AdaptiveAvgPool2d((3, 2)), x(2, 7, 5)),
    C("adaptiveavg2d_none", lambda nn: nn.AdaptiveAvgPool2d((None, 1)), x(2, 4, 5)),
    C("adaptiveavg2d_1", lambda nn: nn.AdaptiveAvgPool2d(1), x(3, 5, 5)),
    C("adaptiveavg3d", lambda nn: nn.AdaptiveAvgPool3d((2, 1, 2)), x(1, 3, 4, 5)),
    C("adaptivemax1d", lambda nn: nn.AdaptiveMaxPool1d(4), x(2, 9)),
    C("adaptivemax2d", lambda nn: nn.AdaptiveMaxPool2d((2, 3)), x(2, 5, 7)),
    C("adaptivemax2d_indices", lambda nn: nn.AdaptiveMaxPool2d(2, return_indices=True),
      x(2, 4, 4)),
    C("lppool1d", lambda nn: nn.LPPool1d(2, 3, stride=2), positive(2, 7)),
    C("lppool2d", lambda nn: nn.LPPool2d(3, 2), positive(2, 4, 6)),
]

def unpool(dims, output_size=None):
    """A max pool with indices followed by its max unpool."""
    def make(nn):
        class Unpool(nn.Module):
            def __init__(self):
                super().__init__()
                self.pool = getattr(nn, f"MaxPool{dims}d")(2, return_indices=True)
                self.unpool = getattr(nn, f"MaxUnpool{dims}d")(2)

            def forward(self, x):
                out, idx = self.pool(x)
                size = None if output_size is None else x.shape[:2] + output_size
                return self.unpool(out, idx, output_size=size)
        return Unpool()
    return make


POOL += [
    C("maxunpool1d", unpool(1), x(2, 8)),
    C("maxunpool1d_size", unpool(1, (9,)), x(2, 9)),
    C("maxunpool2d", unpool(2), x(2, 4, 6)),
    C("maxunpool2d_size", unpool(2, (5, 7)), x(2, 5, 7)),
    C("maxunpool3d", unpool(3), x(1, 4, 2, 4)),
    C("adaptivemax3d", lambda nn: nn.AdaptiveMaxPool3d((1, 2, 2)), x(2, 3, 4, 4)),
    C("lppool3d", lambda nn: nn.LPPool3d(2, 2), positive(1, 2, 4, 2)),
]

ACT = [C(name, (lambda n, kw: lambda nn: getattr(nn, n)(**kw))(name, kw), x(4, 6))
       for name, kw in [
           ("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("PReLU", {}),
           ("ELU", {"alpha": 0.7}), ("SELU", {}), ("CELU", {"alpha": 1.3}), ("GELU", {}),
           ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("Mish", {}), ("Sigmoid", {}),
           ("Tanh", {}), ("Hardtanh", {"min_val": -0.5, "max_val": 0.8}), ("Hardsigmoid", {}),
           ("Hardswish", {}), ("Softplus", {"beta": 2.0, "threshold": 1.0}), ("Softsign", {}),
           ("Softmax", {"dim": 1}), ("Softmax", {"dim": -1}), ("Softmin", {"dim": 2}),
           ("LogSoftmax", {"dim": 1}), ("Threshold", {"threshold": 0.1, "value": -2.0}),
           ("GLU", {"dim": 1}), ("LogSigmoid", {}), ("Tanhshrink", {}),
           ("Softshrink", {"lambd": 0.3}), ("Hardshrink", {"lambd": 0.3}),
           ("Softmax2d", {}), ("RReLU", {})]]
ACT[-1].train = False                                   # RReLU draws slopes in training
ACT += [
    C("PReLU_channels", lambda nn: nn.PReLU(3, init=0.1), x(3, 4)),
    C("ReLU_inplace", lambda nn: nn.Sequential(nn.Linear(5, 5), nn.ReLU(inplace=True)), x(3, 5)),
    C("ELU_inplace", lambda nn: nn.Sequential(nn.Linear(5, 5), nn.ELU(inplace=True)), x(5)),
    C("LeakyReLU_inplace", lambda nn: nn.Sequential(nn.Linear(5, 5), nn.LeakyReLU(0.1, True)),
      x(5)),
]

NORM = [
    C("batchnorm1d", lambda nn: nn.BatchNorm1d(3), lambda r, n: [randn(r, n + 1, 3)]),
    C("batchnorm1d_3d", lambda nn: nn.BatchNorm1d(3, momentum=None), x(3, 4)),
    C("batchnorm1d_eval", lambda nn: nn.BatchNorm1d(3), x(3), train=False),
    C("batchnorm2d", lambda nn: nn.BatchNorm2d(4, eps=1e-3, momentum=0.3), x(4, 3, 5)),
    C("batchnorm2d_noaffine", lambda nn: nn.BatchNorm2d(2, affine=False), x(2, 3, 3)),
    C("batchnorm2d_nostats", lambda nn: nn.BatchNorm2d(2, track_running_stats=False), x(2, 3, 3)),
    C("batchnorm2d_nostats_eval", lambda nn: nn.BatchNorm2d(2, track_running_stats=False),
      x(2, 3, 3), train=False),
    C("batchnorm2d_nobias", lambda nn: nn.BatchNorm2d(2, bias=False), x(2, 3, 3)),
    C("batchnorm3d", lambda nn: nn.BatchNorm3d(2), x(2, 2, 3, 2)),
    C("instancenorm1d", lambda nn: nn.InstanceNorm1d(3), x(3, 6)),
    C("instancenorm1d_unbatched", lambda nn: nn.InstanceNorm1d(3, affine=True),
      lambda r, n: [randn(r, 3, 6)]),
    C("instancenorm2d_affine", lambda nn: nn.InstanceNorm2d(2, affine=True), x(2, 4, 3)),
    C("instancenorm2d_stats", lambda nn: nn.InstanceNorm2d(2, track_running_stats=True),
      x(2, 4, 3)),
    C("instancenorm2d_stats_eval", lambda nn: nn.InstanceNorm2d(2, track_running_stats=True),
      x(2, 4, 3), train=False),
    C("layernorm", lambda nn: nn.LayerNorm(5), x(3, 5)),
    C("layernorm_2d", lambda nn: nn.LayerNorm((3, 4), eps=1e-3), x(2, 3, 4)),
    C("layernorm_noaffine", lambda nn: nn.LayerNorm(4, elementwise_affine=False), x(4)),
    C("layernorm_nobias", lambda nn: nn.LayerNorm(4, bias=False), x(4)),
    C("groupnorm", lambda nn: nn.GroupNorm(2, 4), x(4, 3, 2)),
    C("groupnorm_noaffine", lambda nn: nn.GroupNorm(3, 6, eps=1e-3, affine=False), x(6, 5)),
    C("rmsnorm", lambda nn: nn.RMSNorm(4), x(3, 4)),
    C("rmsnorm_eps", lambda nn: nn.RMSNorm((2, 3), eps=1e-4), x(2, 3)),
    C("localresponsenorm", lambda nn: nn.LocalResponseNorm(3), x(5, 3, 3)),
    C("localresponsenorm_1d", lambda nn: nn.LocalResponseNorm(2, alpha=0.1, beta=0.5, k=2.0),
      x(4, 6)),
]


def idx(high, *shape):
    return lambda r, n: [r.integers(0, high, (n,) + shape)]


MISC = [
    C("embedding", lambda nn: nn.Embedding(10, 3), idx(10, 4)),
    C("embedding_padding", lambda nn: nn.Embedding(10, 3, padding_idx=2),
      lambda r, n: [np.array([[2, 1, 2, 5]] * n)]),
    C("embedding_negative_padding", lambda nn: nn.Embedding(6, 2, padding_idx=-1), idx(6, 5)),
    C("embedding_scale_grad", lambda nn: nn.Embedding(6, 2, scale_grad_by_freq=True),
      lambda r, n: [np.array([[0, 0, 1, 3]] * n)]),
    C("embeddingbag_mean", lambda nn: nn.EmbeddingBag(10, 3), idx(10, 4)),
    C("embeddingbag_sum_offsets", lambda nn: nn.EmbeddingBag(10, 3, mode="sum"),
      lambda r, n: [r.integers(0, 10, 7), np.array([0, 2, 2, 5])]),
    C("embeddingbag_max", lambda nn: nn.EmbeddingBag(10, 3, mode="max"), idx(10, 3)),
    C("flatten", lambda nn: nn.Flatten(), x(2, 3, 4)),
    C("flatten_dims", lambda nn: nn.Flatten(0, 2), x(2, 3, 4)),
    C("unflatten", lambda nn: nn.Unflatten(1, (2, 6)), x(12)),
    C("zeropad1d", lambda nn: nn.ZeroPad1d((1, 2)), x(2, 4)),
    C("zeropad2d", lambda nn: nn.ZeroPad2d(2), x(2, 3, 4)),
    C("zeropad2d_neg", lambda nn: nn.ZeroPad2d((1, -1, 0, 2)), x(1, 3, 4)),
    C("constantpad1d", lambda nn: nn.ConstantPad1d(2, 3.5), x(2, 4)),
    C("constantpad2d", lambda nn: nn.ConstantPad2d((1, 2, 3, 0), -1.0), x(2, 3, 3)),
    C("constantpad3d", lambda nn: nn.ConstantPad3d(1, 0.5), x(1, 2, 2, 2)),
    C("reflectionpad1d", lambda nn: nn.ReflectionPad1d((2, 1)), x(2, 5)),
    C("reflectionpad2d", lambda nn: nn.ReflectionPad2d((1, 2, 2, 0)), x(2, 4, 4)),
    C("replicationpad1d", lambda nn: nn.ReplicationPad1d(3), x(2, 4)),
    C("replicationpad2d", lambda nn: nn.ReplicationPad2d((0, 1, 2, 3)), x(1, 3, 3)),
    C("replicationpad3d", lambda nn: nn.ReplicationPad3d(1), x(1, 2, 2, 3)),
    C("circularpad1d", lambda nn: nn.CircularPad1d(2), x(2, 4)),
    C("circularpad2d", lambda nn: nn.CircularPad2d((1, 0, 2, 1)), x(1, 3, 4)),
    C("pixelshuffle", lambda nn: nn.PixelShuffle(2), x(8, 2, 3)),
    C("pixelunshuffle", lambda nn: nn.PixelUnshuffle(2), x(2, 4, 6)),
    C("upsample_nearest", lambda nn: nn.Upsample(scale_factor=2), x(2, 3, 4)),
    C("upsample_size", lambda nn: nn.Upsample(size=(5, 7)), x(2, 3, 4)),
    C("upsample_bilinear", lambda nn: nn.Upsample(scale_factor=(2, 1.5), mode="bilinear"),
      x(2, 3, 4)),
    C("upsample_bilinear_ac", lambda nn: nn.Upsample(size=5, mode="bilinear",
                                                     align_corners=True), x(1, 3, 4)),
    C("upsample_linear", lambda nn: nn.Upsample(scale_factor=3, mode="linear"), x(2, 4)),
    C("upsamplingnearest2d", lambda nn: nn.UpsamplingNearest2d(size=(4, 6)), x(2, 2, 3)),
    C("upsamplingbilinear2d", lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), x(2, 3, 3)),
    C("channelshuffle", lambda nn: nn.ChannelShuffle(2), x(6, 2, 2)),
    C("cosinesimilarity", lambda nn: nn.CosineSimilarity(), lambda r, n: [randn(r, n, 4),
                                                                          randn(r, n, 4)]),
    C("cosinesimilarity_dim", lambda nn: nn.CosineSimilarity(dim=-1, eps=1e-4),
      lambda r, n: [randn(r, n, 3, 4), randn(r, 1, 3, 4)]),
    C("pairwisedistance", lambda nn: nn.PairwiseDistance(), lambda r, n: [randn(r, n, 4),
                                                                          randn(r, n, 4)]),
    C("pairwisedistance_p1", lambda nn: nn.PairwiseDistance(p=1.0, keepdim=True),
      lambda r, n: [randn(r, n, 4), randn(r, n, 4)]),
    C("dropout_eval", lambda nn: nn.Dropout(0.3), x(4, 5), train=False),
    C("dropout_p0", lambda nn: nn.Dropout(0.0), x(4, 5)),
    C("dropout2d_eval", lambda nn: nn.Dropout2d(0.3), x(4, 5, 5), train=False),
    C("alphadropout_eval", lambda nn: nn.AlphaDropout(0.3), x(4, 5), train=False),
    C("featurealphadropout_eval", lambda nn: nn.FeatureAlphaDropout(0.3), x(4, 5), train=False),
    C("dropout3d_eval", lambda nn: nn.Dropout3d(0.3), x(2, 2, 2, 2), train=False),
    C("dropout1d_eval", lambda nn: nn.Dropout1d(0.3), x(4, 5), train=False),
    C("zeropad3d", lambda nn: nn.ZeroPad3d((1, 0, 0, 1, 2, 0)), x(1, 2, 2, 2)),
    C("reflectionpad3d", lambda nn: nn.ReflectionPad3d(1), x(1, 3, 3, 3)),
    C("circularpad3d", lambda nn: nn.CircularPad3d(1), x(1, 2, 3, 2)),
    C("sequential", lambda nn: nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(),
                                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3),
                                             nn.LogSoftmax(dim=1)), x(1, 6, 6)),
]


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("case", LINEAR + CONV + POOL + ACT + NORM + MISC, ids=repr)
def test_layer_matches_torch(case, n):
    rng = np.random.default_rng(n)
    run_both(case.make, case.inputs(rng, n), train=case.train, grad=case.grad,
             rtol=1e-5 * case.tol, atol=1e-5 * case.tol, call=case.call, steps=2)


def test_embedding_from_pretrained_and_max_norm():
    w = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32) * 3
    for freeze in (True, False):
        e = ember.nn.Embedding.from_pretrained(e_tensor(w), freeze=freeze, padding_idx=1)
        t = torch.nn.Embedding.from_pretrained(t_tensor(w), freeze=freeze, padding_idx=1)
        assert repr(e) == repr(t) and e.weight.requires_grad == t.weight.requires_grad
        assert_close(e(ember.tensor([[1, 4]])), t(torch.tensor([[1, 4]])))
    e = ember.nn.Embedding(5, 3, max_norm=1.0)
    t = torch.nn.Embedding(5, 3, max_norm=1.0)
    e.weight.data.copy_(e_tensor(w))
    t.weight.data.copy_(t_tensor(w))
    assert_close(e(ember.tensor([0, 2, 2])), t(torch.tensor([0, 2, 2])))
    assert_close(e.weight, t.weight)                    # renormalised in place, as torch
    eb = ember.nn.EmbeddingBag.from_pretrained(e_tensor(w), mode="sum")
    tb = torch.nn.EmbeddingBag.from_pretrained(t_tensor(w), mode="sum")
    assert repr(eb) == repr(tb)
    assert_close(eb(ember.tensor([[0, 1], [2, 3]])), tb(torch.tensor([[0, 1], [2, 3]])))


@pytest.mark.parametrize("name,p", [("Dropout", 0.3), ("Dropout1d", 0.5), ("Dropout2d", 0.4),
                                    ("Dropout3d", 0.6)])
def test_dropout_training_statistics(name, p):
    ember.manual_seed(0)
    m = getattr(ember.nn, name)(p)
    x = ember.ones(64, 32, 4, 4, 2) if name == "Dropout3d" else ember.ones(64, 32, 8) \
        if name == "Dropout1d" else ember.ones(64, 32, 8, 8)
    y = m(x).numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - p) < 0.03
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
    if name != "Dropout":
        # whole channels are dropped together
        per_channel = kept.reshape(64, 32, -1)
        assert np.all(per_channel.all(-1) | ~per_channel.any(-1))
    assert (getattr(ember.nn, name)(1.0)(x).numpy() == 0).all()


def test_alpha_dropout_keeps_statistics():
    ember.manual_seed(0)
    x = ember.randn(200, 200)
    y = ember.nn.AlphaDropout(0.2)(x)
    assert abs(y.mean().item()) < 0.05 and abs(y.std().item() - 1) < 0.05


def test_batchnorm_running_stats_over_steps():
    for momentum in (0.1, None):
        run_both(lambda nn: nn.BatchNorm2d(3, momentum=momentum), [randn(np.random.default_rng(1),
                                                                         4, 3, 2, 2)],
                 steps=4)
    e, t = run_both(lambda nn: nn.BatchNorm1d(2), [randn(np.random.default_rng(2), 5, 2)],
                    steps=3)
    assert e.num_batches_tracked.item() == 3 == t.num_batches_tracked.item()
    e.eval()
    t.eval()
    xs = randn(np.random.default_rng(3), 4, 2)
    assert_close(e(e_tensor(xs)), t(t_tensor(xs)))


CTOR_ERRORS = [
    lambda nn: nn.Conv2d(3, 4, 3, groups=2),
    lambda nn: nn.Conv2d(4, 3, 3, groups=2),
    lambda nn: nn.Conv2d(4, 4, 3, groups=0),
    lambda nn: nn.Conv2d(2, 2, 3, padding="same", stride=2),
    lambda nn: nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"),
    lambda nn: nn.Dropout(1.5),
    lambda nn: nn.GroupNorm(3, 4),
    lambda nn: nn.Embedding(3, 2, padding_idx=3),
    lambda nn: nn.Embedding(3, 2, _weight=torch.zeros(2, 2) if nn is torch.nn else
                            ember.zeros(2, 2)),
    lambda nn: nn.Unflatten(1, 3),
    lambda nn: nn.Unflatten(1, (2, 1.5)),
    lambda nn: nn.MultiMarginLoss(p=3),
    lambda nn: nn.TripletMarginLoss(margin=0),
]


@pytest.mark.parametrize("make", CTOR_ERRORS)
def test_constructor_errors_match_torch(make):
    with pytest.raises(Exception) as te:
        make(torch.nn)
    with pytest.raises(Exception) as ee:
        make(ember.nn)
    assert ee.type is te.type and str(ee.value) == str(te.value)


@pytest.mark.parametrize("kw,text", [({"padding": "full"}, "Invalid padding string 'full', "
                                                          "should be one of {"),
                                     ({"padding_mode": "mirror"}, "padding_mode must be one of {")])
def test_conv_argument_errors(kw, text):
    # the messages show a set, whose order varies between runs (in torch too)
    for nn in (torch.nn, ember.nn):
        with pytest.raises(ValueError, match=re.escape(text)):
            nn.Conv2d(2, 2, 3, **kw)


FORWARD_ERRORS = [
    (lambda nn: nn.BatchNorm2d(3), (2, 3, 4)),
    (lambda nn: nn.BatchNorm1d(3), (2, 3, 4, 5)),
    (lambda nn: nn.InstanceNorm2d(3, affine=True), (2, 4, 4, 4)),
    (lambda nn: nn.Softmax2d(), (2, 3)),
    (lambda nn: nn.CircularPad2d(1), (2,)),
]


@pytest.mark.parametrize("make,shape", FORWARD_ERRORS)
def test_forward_errors_match_torch(make, shape):
    data = np.zeros(shape, np.float32)
    with pytest.raises(Exception) as te:
        make(torch.nn)(t_tensor(data))
    with pytest.raises(Exception) as ee:
        make(ember.nn)(e_tensor(data))
    assert ee.type is te.type and str(ee.value) == str(te.value)


def test_conv_transpose_output_size_error():
    def call(lib):
        return lib.nn.ConvTranspose2d(1, 1, 3, stride=2)(lib.zeros(1, 1, 4, 4),
                                                         output_size=[20, 20])
    with pytest.raises(ValueError) as te:
        call(torch)
    with pytest.raises(ValueError) as ee:
        call(ember)
    assert str(ee.value) == str(te.value)


def _mha_inputs(r, n, batch_first=False, kdim=8, vdim=8):
    shape = (lambda L, E: (n, L, E)) if batch_first else (lambda L, E: (L, n, E))
    return [randn(r, *shape(3, 8)), randn(r, *shape(4, kdim)), randn(r, *shape(4, vdim))]


MHA = [
    ("self", lambda nn: nn.MultiheadAttention(8, 2), {}),
    ("batch_first", lambda nn: nn.MultiheadAttention(8, 4, batch_first=True),
     {"batch_first": True}),
    ("kdim_vdim", lambda nn: nn.MultiheadAttention(8, 2, kdim=5, vdim=3), {"kdim": 5, "vdim": 3}),
    ("bias_kv_zero_attn", lambda nn: nn.MultiheadAttention(8, 2, add_bias_kv=True,
                                                           add_zero_attn=True), {}),
    ("no_bias", lambda nn: nn.MultiheadAttention(8, 1, bias=False), {}),
]


def _masked_attention(m, q, k, v):
    lib = torch if isinstance(m, torch.nn.Module) else ember
    padding = lib.tensor([[False, False, True, False], [False, True, False, False]])
    causal = lib.tensor(np.triu(np.ones((3, 4), bool), 1))
    return m(q, k, v, key_padding_mask=padding, attn_mask=causal, average_attn_weights=False)


@pytest.mark.parametrize("name,make,opts", MHA, ids=[m[0] for m in MHA])
def test_multihead_attention(name, make, opts):
    r = np.random.default_rng(0)
    run_both(make, _mha_inputs(r, 2, **opts))
    run_both(make, _mha_inputs(r, 2, **opts), call=_masked_attention)
    run_both(make, _mha_inputs(r, 2, **opts), call=lambda m, q, k, v: m(q, k, v,
                                                                        need_weights=False))
