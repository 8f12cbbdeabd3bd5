"""Grad mode switches: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each works as a context manager and as a decorator, as in torch; set_grad_enabled(False) also
takes effect when simply called.
"""
import functools

_enabled = [True]      # a list so that the op registry can read it without a function call
_inference = [False]


def is_grad_enabled():
    return _enabled[0]


class _GradMode:
    """Base of the switches: subclasses set the mode they enter."""

    mode = True

    def __enter__(self):
        self._prev = _enabled[0]
        _enabled[0] = self.mode

    def __exit__(self, *exc):
        _enabled[0] = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)
        return wrapper

    def _fresh(self):
        return _Switch(self.mode)


class _Switch(_GradMode):
    def __init__(self, mode):
        self.mode = mode


class no_grad(_GradMode):
    """Disable graph recording inside the block (torch.no_grad); `@no_grad` and `@no_grad()`."""

    mode = False

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self(fn) if callable(fn) else self

    def __init__(self, fn=None):
        pass


class enable_grad(_GradMode):
    """Re-enable graph recording inside a no_grad block (torch.enable_grad)."""

    mode = True


class set_grad_enabled(_GradMode):
    """set_grad_enabled(mode): the mode is applied at once, and restored on exit of a `with`."""

    def __init__(self, mode):
        self._prev = _enabled[0]
        self.mode = bool(mode)
        _enabled[0] = self.mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _enabled[0] = self._prev
        return False

    def __call__(self, fn):
        _enabled[0] = self._prev        # used as a decorator: the mode applies inside fn only
        return super().__call__(fn)


class inference_mode(_GradMode):
    """inference_mode(mode=True): like no_grad for ember (no separate inference tensors);
    `@inference_mode` and `@inference_mode()` decorate too."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.__init__()
            return self(mode)
        return self

    def __init__(self, mode=True):
        self.inference = bool(mode)

    def __enter__(self):
        self._prev, self._prev_inference = _enabled[0], _inference[0]
        _inference[0] = self.inference
        if self.inference:
            _enabled[0] = False

    def __exit__(self, *exc):
        _enabled[0], _inference[0] = self._prev, self._prev_inference
        return False

    def _fresh(self):
        return inference_mode(self.inference)


def is_inference_mode_enabled():
    return _inference[0]
