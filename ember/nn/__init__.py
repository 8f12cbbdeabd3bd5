"""ember.nn: layers, Parameter, init, functional and utils (torch.nn)."""
from .parameter import Parameter, Buffer  # noqa: F401
from .modules import *              # noqa: F401,F403
from .modules import __all__ as _modules_all
from . import functional, init, modules, utils  # noqa: F401

__all__ = ["Parameter", "Buffer", "functional", "init", "modules", "utils"] + _modules_all


def factory_kwargs(kwargs):
    """{'device': ..., 'dtype': ...} from a layer's keyword arguments (torch.nn.factory_kwargs)."""
    if kwargs is None:
        return {}
    simple = {"device", "dtype", "memory_format"}
    unknown = set(kwargs) - simple - {"factory_kwargs"}
    if unknown:
        raise TypeError(f"unexpected kwargs {unknown}")
    result = dict(kwargs.get("factory_kwargs", {}))
    for k in simple & set(kwargs):
        if k in result:
            raise TypeError(f"{k} specified twice, in **kwargs and in factory_kwargs")
        result[k] = kwargs[k]
    return result
