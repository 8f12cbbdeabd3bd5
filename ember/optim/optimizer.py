"""Optimizer: the base class of ember.optim (torch.optim.Optimizer).

Parameter groups, per-parameter state (a defaultdict keyed by the parameter tensor), step and
state-dict hooks, zero_grad, and state_dict()/load_state_dict() with torch's exact layout, so
that state dicts move between ember and torch once their tensors are converted.

Subclasses update parameters on the raw arrays (`p._data`) in place, outside autograd, and bump
the parameter's version counter as torch's in-place update does; every `step` a subclass
defines is wrapped once (at class creation) so that the step hooks run around it.
"""
import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from .. import _dtype
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import enable_grad
from ..utils.hooks import RemovableHandle

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Marks a default that every parameter group must set (torch.optim.optimizer.required)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks = OrderedDict()
_global_post_hooks = OrderedDict()


def _register(hooks, hook, prepend=False):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook):
    """hook(optimizer, args, kwargs) -> None or (args, kwargs), before every optimizer's step."""
    return _register(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """hook(optimizer, args, kwargs) -> None, after every optimizer's step."""
    return _register(_global_post_hooks, hook)


def _with_step_hooks(step):
    """Wrap an Optimizer subclass's step so that the global and per-instance hooks run."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        pre = self._optimizer_step_pre_hooks
        if pre or _global_pre_hooks:
            for hook in chain(_global_pre_hooks.values(), pre.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"{step} must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
        out = step(self, *args, **kwargs)
        post = self._optimizer_step_post_hooks
        if post or _global_post_hooks:
            for hook in chain(post.values(), _global_post_hooks.values()):
                hook(self, args, kwargs)
        return out
    wrapper.hooked = True
    return wrapper


def _typename(obj):
    """torch.typename: 'torch.FloatTensor' for tensors, the qualified type name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if hasattr(obj, "__qualname__") else type(obj)
    module = getattr(cls, "__module__", "") or ""
    return cls.__qualname__ if module in ("", "builtins") else f"{module}.{cls.__qualname__}"


class Optimizer:
    """torch.optim.Optimizer(params, defaults): `params` is an iterable of tensors, of
    (name, tensor) pairs or of dicts (parameter groups); `defaults` fills every group's options."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._init_hooks()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def _init_hooks(self):
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    # (key, default) pairs that groups pickled by older versions may lack; filled on unpickling
    _group_defaults = ()

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._init_hooks()
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, value in self._group_defaults:
                group.setdefault(key, value)

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- parameter groups --------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Append a group; its missing options come from `defaults` (torch's checks and errors)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        param_group["params"] = params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or
                                                                      p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients and steps -----------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Drop every parameter's .grad (default), or zero it in place and cut it from any graph."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad = False
                    g._data.fill(0)
                    g._vc.value += 1

    def step(self, closure=None):
        """One optimization step; `closure` re-evaluates the model (under enable_grad) and
        returns the loss, which step returns. The optimizers here implement `_update_group`;
        a subclass may override step instead."""
        if type(self)._update_group is Optimizer._update_group:
            raise NotImplementedError
        loss = _closure_loss(closure)
        for group in self.param_groups:
            self._update_group(group)
        return loss

    def _update_group(self, group):
        """Update the parameters of one group in place (on their arrays)."""

    def _with_grads(self, group):
        """(param, state) for each parameter of `group` that has a gradient; an empty state is
        first filled by the subclass's `_init_state(p, state, group)` (torch's _init_group)."""
        out = []
        states = self.state
        for p in group["params"]:
            if p.grad is not None:
                state = states[p]
                if not state:
                    self._init_state(p, state, group)
                out.append((p, state))
        return out

    def _init_state(self, p, state, group):
        pass

    # -- hooks -------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), before step()."""
        return _register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None, after step()."""
        return _register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state dicts -------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}: parameters
        are replaced by their position over all groups; state tensors are not copied."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            # as torch: a parameter repeated in one group takes its last position
            index.update({id(p): i for i, p in enumerate(group["params"], start)
                          if id(p) not in index})
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a state_dict() (this optimizer's, or torch's with its tensors converted): state
        tensors are cast to their parameter's floating dtype, except 'step'."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        policy = {}
        for g in state_dict["param_groups"]:
            for i in g["params"]:
                policy.setdefault(i, bool(g.get("fused") or g.get("capturable")))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, policy.get(k, False))
            else:
                state[k] = v
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def _cast(param, value, step_to_float32, key=None):
    """A loaded state value for `param`: tensors moved to its device and, when floating, to its
    dtype; 'step' keeps its dtype (float32 when fused/capturable); containers recursed."""
    if isinstance(value, Tensor):
        if key == "step":
            return value.to(dtype=_dtype.float32, device=param.device) if step_to_float32 \
                else value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)
    if isinstance(value, dict):
        return {k: _cast(param, v, step_to_float32, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v, step_to_float32) for v in value)
    return value


Optimizer.step = _with_step_hooks(Optimizer.step)


# -- helpers of the update rules -------------------------------------------------------------
def _to_scalar(x):
    """A hyper-parameter as a Python number: torch accepts 1-element tensors for lr and betas;
    a NumPy float64 would also turn float32 updates into float64 ones."""
    return x.item() if isinstance(x, (Tensor, np.generic)) else x


def _check(ok, what, value):
    if not ok:
        raise ValueError(f"Invalid {what}: {value}")


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    _check(0.0 <= lr, "learning rate", lr)


def _check_betas(betas):
    _check(0.0 <= betas[0] < 1.0, "beta parameter at index 0", betas[0])
    _check(0.0 <= betas[1] < 1.0, "beta parameter at index 1", betas[1])


def _scalar_np_dtype():
    """dtype of 'step' and other scalar state: float64 under a float64 default, else float32."""
    return np.float64 if _dtype.get_default_dtype() is _dtype.float64 else np.float32


def _scalar_state(value):
    """A 0-dim state tensor ('step', 'mu_product') as torch.tensor(value) makes it."""
    return wrap(np.array(value, dtype=_scalar_np_dtype()))


def _zeros_state(p):
    return wrap(np.zeros_like(p._data))


def _next_step(state):
    """Increment state['step'] (a 0-dim tensor; a number from an old checkpoint is converted)
    and return it as a Python float."""
    step = state["step"]
    if not isinstance(step, Tensor):
        step = state["step"] = _scalar_state(float(step))
    a = step._data
    a += 1
    return float(a)


def _real(a):
    """Complex arrays are updated as real arrays of twice the length (torch's view_as_real)."""
    return a.view(a.real.dtype) if a.dtype.kind == "c" else a


def _grad(x, g, weight_decay, maximize):
    """The gradient the rules use: negated to maximize, plus L2 weight decay (never written to
    in place: it may be the parameter's own .grad)."""
    if maximize:
        g = -g
    if weight_decay:
        g = g + weight_decay * x
    return g


def _adam_moments(p, state, lr, beta1, beta2, weight_decay, decoupled, maximize):
    """The Adam family's common start of a step, in place: decoupled (AdamW) or L2 weight
    decay, then the moving averages m, v of the gradient and of its square. Returns the
    parameter's array x, the gradient used g, and m, v."""
    x = _real(p._data)
    if weight_decay and decoupled:
        x *= 1 - lr * weight_decay
    g = _grad(x, _real(p.grad._data), 0 if decoupled else weight_decay, maximize)
    m = _real(state["exp_avg"]._data)
    v = _real(state["exp_avg_sq"]._data)
    m += (1 - beta1) * (g - m)
    v *= beta2
    v += (1 - beta2) * g * g
    return x, g, m, v


def _closure_loss(closure):
    """The closure's loss, evaluated with grad enabled (None without a closure)."""
    if closure is None:
        return None
    with enable_grad():
        return closure()
