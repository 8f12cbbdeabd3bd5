"""torch.utils.hooks: the handle every register_*hook method returns."""


class RemovableHandle:
    """torch.utils.hooks.RemovableHandle: `.remove()` unregisters the hook it was returned for
    (also usable as a context manager)."""

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = hooks_dict
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dicts = () if extra_dict is None else (
            tuple(extra_dict) if isinstance(extra_dict, (list, tuple)) else (extra_dict,))

    def remove(self):
        for d in (self.hooks_dict_ref, *self.extra_dicts):
            if isinstance(d, dict):
                d.pop(self.id, None)
            else:
                d.discard(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
