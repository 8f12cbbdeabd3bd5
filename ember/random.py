"""Random number generation: Generator, manual_seed, seed, get/set_rng_state, fork_rng.

ember draws from NumPy's PCG64 (torch uses a Mersenne Twister): the same seed gives a
reproducible stream in ember, not torch's exact numbers.
"""
import contextlib

import numpy as np


class Generator:
    """torch.Generator: manual_seed, seed, initial_seed, get_state/set_state."""

    def __init__(self, device="cpu"):
        from ._device import as_device
        self.device = as_device(device)
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed += 1 << 64
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from .ops.creation import tensor
        import pickle
        return tensor(list(pickle.dumps(self._rng.bit_generator.state)), dtype=_uint8())

    def set_state(self, state):
        import pickle
        self._rng.bit_generator.state = pickle.loads(bytes(state.tolist()))
        return self


def _uint8():
    from . import _dtype
    return _dtype.uint8


default_generator = Generator()


def rng(generator=None):
    """The NumPy generator behind `generator` (the default one when None)."""
    return (generator or default_generator)._rng


def manual_seed(seed):
    """Seed the default generator (and return it, as torch does)."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, **kwargs):
    """Restore the default generator's state on exit."""
    if not enabled:
        yield
        return
    state = default_generator._rng.bit_generator.state
    try:
        yield
    finally:
        default_generator._rng.bit_generator.state = state
