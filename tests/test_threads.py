"""ember.set_num_threads / get_num_threads, against torch's behaviour."""
import numpy as np
import pytest
import torch

import ember


@pytest.fixture
def restore_threads():
    before = ember.get_num_threads()
    yield
    ember.set_num_threads(before)


def test_set_get_roundtrip(restore_threads):
    ember.set_num_threads(1)
    torch_before = torch.get_num_threads()
    torch.set_num_threads(1)
    assert ember.get_num_threads() == torch.get_num_threads() == 1
    torch.set_num_threads(torch_before)


@pytest.mark.parametrize("n", [0, -1])
def test_non_positive_raises_like_torch(n, restore_threads):
    with pytest.raises(RuntimeError) as theirs:
        torch.set_num_threads(n)
    with pytest.raises(RuntimeError) as ours:
        ember.set_num_threads(n)
    assert str(ours.value) == str(theirs.value)


def test_one_thread_gives_the_same_conv(restore_threads):
    """A batch big enough to be split over two threads gives the same values on one."""
    x = np.random.default_rng(0).standard_normal((8, 16, 40, 40)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((16, 16, 3, 3)).astype(np.float32)
    ember.set_num_threads(2)
    two = ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), padding=1).numpy()
    ember.set_num_threads(1)
    one = ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), padding=1).numpy()
    want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(one, want, rtol=1e-4, atol=1e-4)
