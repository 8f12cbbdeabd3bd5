"""The op registry: one declaration per op gives the function (ember.add), the method
(Tensor.add), the in-place method (Tensor.add_), the `out=` keyword and the graph node class
(AddBackward0).

    @op(promote=(0, 1), inplace=True)
    def add(input, other, alpha=1):             # forward: arrays in, array out
        return input + other if alpha == 1 else input + alpha * other

    @add.backward
    def _(ctx, grad, input, other, alpha=1):    # backward: ember Tensors in, one grad per argument
        return grad, grad * alpha if alpha != 1 else grad

The registry owns what every op shares: torch's type promotion (`promote`), wrapping arrays
into Tensors, recording the node with its inputs and their versions, views sharing the version
counter, in-place and out= semantics, reducing broadcast gradients to each input's shape and
dtype, and running backward through ember ops so that double backward works.
"""
import inspect

import numpy as np

from .. import _dtype
from .._tensor import Tensor, wrap
from ..autograd import grad_mode
from ..autograd.graph import (Node, accumulator_of, current_edge, modified_error, rebase_view,
                              refresh_view, _FREED)

_ndarray = np.ndarray
_enabled = grad_mode._enabled
REGISTRY = {}        # name -> OpSpec, for the test harness and the docs


class OpNode(Node):
    """A node created by an op of the registry; it is its own `ctx` unless the op made one."""

    __slots__ = ("_args", "_kwargs", "_tpos", "_meta", "_versions", "out")
    _spec = None
    ctx = None             # the Ctx of `ctx=True` ops; other nodes are their own ctx

    def apply(self, grads):
        spec = self._spec
        args = self._args
        if args is None:
            raise RuntimeError(_FREED)
        if self._versions:
            _check_versions(self)
        grad = grads[0] if self.n_outputs == 1 else tuple(
            g if g is not None else wrap(np.zeros(shape, dt)) for g, (shape, dt) in
            zip(grads, self._out_meta))
        ctx = self.ctx if self.ctx is not None else self
        if spec.save_output and _enabled[0]:        # create_graph: saved outputs differentiable
            linked = _link_outputs(self, ctx)
            try:
                result = spec.backward(ctx, grad, *args, **self._kwargs)
            finally:
                _unlink_outputs(linked)
        else:
            result = spec.backward(ctx, grad, *args, **self._kwargs)
        if type(result) is not tuple:
            result = (result,)
        out = []
        for (i, j), (shape, dt) in zip(self._tpos, self._meta):
            g = result[i] if j is None else result[i][j]
            if g is not None:
                if g._data.shape != shape:
                    g = sum_to(g, shape)
                if g._data.dtype != dt:
                    g = g.to(_dtype._BY_NP[dt])
            out.append(g)
        edges = self.__dict__.get("_edge_idx")
        if edges is not None:
            return [out[k] if k is not None else None for k in edges]
        return out

    def _release(self):
        spec = self._spec
        if spec.saves or spec.save_output:
            # also drop the saved output and the version records, which hold the outputs:
            # an output refers back to this node, and that cycle would keep every saved
            # activation alive until the garbage collector runs
            self._args = None
            self._kwargs = None
            if self.ctx is not None:
                self.ctx.__dict__.clear()
            self.out = None
            self._versions = ()

    @property
    def needs_input_grad(self):
        """One flag per positional argument: does it need a gradient?"""
        needs = [False] * len(self._args)
        edges = self.__dict__.get("_edge_idx") or range(len(self._tpos))
        for k, (node, _) in zip(edges, self.next_functions):
            if k is not None and node is not None:
                needs[self._tpos[k][0]] = True
        return needs

    @property
    def saved_tensors(self):
        return tuple(a for a in self._args if isinstance(a, Tensor))


class Ctx:
    """Scratch space an op's forward fills for its backward (`ctx=True` ops)."""


def _check_versions(node):
    for t, v in node._versions:
        if t._vc.value != v:
            holder = node.ctx if node.ctx is not None else node
            out = getattr(holder, "out", None)
            is_output = t is out or type(out) is tuple and any(t is o for o in out)
            raise modified_error(t, v, node if is_output else None)


def sum_to(g, shape):
    """Sum a broadcast gradient back to `shape` (the one place broadcasting is undone)."""
    gshape = g._data.shape
    lead = len(gshape) - len(shape)
    ones = tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if not ones:
        return g.sum(tuple(range(lead))) if lead else g
    g = g.sum(tuple(range(lead)) + ones, keepdim=True)
    return g.reshape(shape) if lead else g


edge = current_edge

# Tensor arguments torch never differentiates (their slot is left out of next_functions).
_NONDIFF_PARAMS = frozenset(("index", "indices", "mask", "condition"))
# Ops whose Python-number operand torch records as a wrapped tensor: a (None, 0) slot.
_WRAPS_SCALARS = frozenset(("add", "sub", "mul", "div"))


class OpSpec:
    __slots__ = ("name", "forward", "backward", "node_cls", "promote", "saves", "save_output",
                 "ctx", "view", "params", "defaults", "function", "differentiable", "float_out",
                 "nondiff", "wraps_scalars", "ufunc")

    def __init__(self, name, forward, promote, saves, save_output, ctx, view, node, float_out,
                 ufunc=None):
        self.name = name
        self.forward = forward
        self.backward = None
        self.promote = promote
        self.saves = saves
        self.save_output = save_output
        self.ctx = ctx
        self.view = view
        self.float_out = float_out
        self.ufunc = ufunc
        sig = inspect.signature(forward)
        params = [p for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if ctx:
            params = params[1:]
        self.params = tuple(p.name for p in params)
        self.defaults = tuple(p.default for p in params)
        self.nondiff = frozenset(i for i, p in enumerate(self.params) if p in _NONDIFF_PARAMS)
        self.wraps_scalars = name in _WRAPS_SCALARS
        if callable(node):
            self.node_cls = self._node_chooser(node)
        else:
            node_name = node or "".join(w.capitalize() for w in name.strip("_").split("_")) + \
                "Backward0"
            self.node_cls = self._node_class(node_name)

    def _node_class(self, node_name):
        return type(node_name, (OpNode,), {"__slots__": (), "_spec": self})

    def _node_chooser(self, choose):
        """node=choose(args) -> name: torch names some nodes by the overload called
        (PowBackward0 for a scalar exponent, PowBackward1 for a tensor one)."""
        classes = {}

        def node_cls(args):
            node_name = choose(args)
            cls = classes.get(node_name)
            if cls is None:
                cls = classes[node_name] = self._node_class(node_name)
            return cls
        return node_cls


def _normalize(spec, args, kwargs):
    """Move keyword arguments that name positional parameters into args (fills defaults)."""
    params = spec.params
    names = [k for k in kwargs if k in params]
    if not names:
        return args, kwargs
    kwargs = dict(kwargs)
    last = max(params.index(k) for k in names)
    args = list(args)
    for i in range(len(args), last + 1):
        if params[i] in kwargs:
            args.append(kwargs.pop(params[i]))
        elif spec.defaults[i] is inspect.Parameter.empty:
            raise TypeError(f"{spec.name}() missing required argument '{params[i]}'")
        else:
            args.append(spec.defaults[i])
    for k in names:
        if k in kwargs:
            raise TypeError(f"{spec.name}() got multiple values for argument '{k}'")
    return tuple(args), kwargs


def _promote(spec, args, tensors):
    """Cast the arrays of the promoted arguments to torch's result dtype."""
    dims, zeros, scalars = [], [], []
    for i in spec.promote:
        if i >= len(args):
            continue
        a = args[i]
        if isinstance(a, Tensor):
            (dims if a._data.ndim else zeros).append(a.dtype)
        elif type(a) in (list, tuple):
            for t in a:             # a list of tensors (cat, stack)
                if isinstance(t, Tensor):
                    (dims if t._data.ndim else zeros).append(t.dtype)
        elif a is not None and not isinstance(a, str):
            scalars.append(_dtype._scalar_category(a))
    result = _dtype.result_type_of(dims, zeros, scalars)
    if spec.float_out and not (result.is_floating_point or result.is_complex):
        result = _dtype.get_default_dtype()
    return result


def call(spec, args, kwargs):
    """Run an op: unwrap tensors, promote, forward, wrap, record the node if grad is needed."""
    if kwargs:
        if "out" in kwargs:
            kwargs = dict(kwargs)
            out = kwargs.pop("out")
            if out is not None:
                return write_out(out, call(spec, args, kwargs), spec.name)
        args, kwargs = _normalize(spec, args, kwargs)
    arrays = list(args)
    tensors = []
    tpos = []
    requires = False
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            tensors.append(a)
            tpos.append(_SLOTS[i])
            arrays[i] = a._data
            if a.requires_grad:
                requires = True
        elif type(a) in (list, tuple) and a and isinstance(a[0], Tensor):
            arrays[i] = [t._data for t in a]
            for j, t in enumerate(a):
                tensors.append(t)
                tpos.append((i, j))
                if t.requires_grad:
                    requires = True
    if spec.promote:
        dt = _promote(spec, args, tensors).np
        for i in spec.promote:
            if i < len(arrays):
                a = arrays[i]
                if type(a) is _ndarray and a.dtype != dt:
                    arrays[i] = a.astype(dt)
                elif type(a) is list:
                    arrays[i] = [x if x.dtype == dt else x.astype(dt) for x in a]
                elif type(a) is int and dt.kind in "iu":
                    arrays[i] = wrap_int(a, dt)
    ctx = Ctx() if spec.ctx else None
    try:
        result = spec.forward(ctx, *arrays, **kwargs) if ctx is not None else \
            spec.forward(*arrays, **kwargs)
    except ValueError:
        err = broadcast_error(arrays)
        if err is None:
            raise
        raise err from None
    return _outputs(spec, result, args, kwargs, tensors, tpos, ctx,
                    requires and _enabled[0] and spec.backward is not None)


def _outputs(spec, result, args, kwargs, tensors, tpos, ctx, requires):
    """The forward's array(s) as tensors: views share their input's version counter, and the
    node is recorded when a gradient is needed."""
    outs = tuple(wrap(r) for r in result) if type(result) is tuple else (wrap(result),)
    if spec.view:
        base = tensors[0]
        for o in outs:
            o._vc = base._vc
            o._base = base._base if base._base is not None else base
    if requires:
        _record(spec, outs, args, kwargs, tensors, tpos, ctx)
    return outs if type(result) is tuple else outs[0]


def wrap_int(value, np_dtype):
    """A Python int in an integer op: out-of-range values wrap around as in torch (NumPy
    refuses them)."""
    info = np.iinfo(np_dtype)
    if info.min <= value <= info.max:
        return value
    return np.array(value % 2 ** 64, np.uint64).astype(np_dtype)[()]


def broadcast_error(arrays):
    """torch's RuntimeError for shapes that do not broadcast (NumPy raises ValueError)."""
    shapes = [a.shape for a in arrays if isinstance(a, _ndarray)]
    a, b = (shapes + [(), ()])[:2]
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for i in range(n - 1, -1, -1):
        if a[i] != b[i] and a[i] != 1 and b[i] != 1:
            return RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b "
                                f"({b[i]}) at non-singleton dimension {i}")
    return None


def _binary_function(spec):
    """The function of a binary op with a fast path for the common calls: two tensors of one
    dtype, or a tensor and a Python number of its category (no promotion needed)."""
    forward = spec.forward

    def function(*args, **kwargs):
        if kwargs or len(args) != 2:
            return call(spec, args, kwargs)
        a, b = args
        if type(a) is not Tensor:
            return call(spec, args, kwargs)
        x = a._data
        tb = type(b)
        if tb is Tensor:
            y = b._data
            if x.dtype != y.dtype or spec.float_out and x.dtype.kind not in "fc":
                return call(spec, args, kwargs)
            requires = a.requires_grad or b.requires_grad
        elif (tb is float or tb is int) and x.dtype.kind in "fc" or (
                tb is int and not spec.float_out and x.dtype.kind in "iu" and 0 <= b <= 127):
            # a number of the tensor's category keeps its dtype; other ints may be out of the
            # dtype's range: call() wraps them as torch does
            y = b
            requires = a.requires_grad
        else:
            return call(spec, args, kwargs)
        try:
            r = forward(x, y)
        except OverflowError:           # a Python int out of the dtype's range: wrap it
            return call(spec, args, kwargs)
        except ValueError:
            err = broadcast_error((x, y))
            if err is None:
                raise
            raise err from None
        out = wrap(r)
        if requires and _enabled[0] and spec.backward is not None:
            _record(spec, (out,), args, {}, (a, b) if tb is Tensor else (a,),
                    _TPOS2 if tb is Tensor else _TPOS1, None)
        return out
    return function


def _unary_function(spec):
    """The function of an op with a fast path for a call on tensors that need no promotion:
    one tensor, possibly followed by arguments that are not tensors (dims, sizes, numbers), or
    two tensors (mm)."""
    forward = spec.forward
    float_out = spec.float_out
    view = spec.view
    promote = spec.promote

    def function(*args, **kwargs):
        if kwargs or not args:
            return call(spec, args, kwargs)
        a = args[0]
        if not isinstance(a, Tensor):
            return call(spec, args, kwargs)
        x = a._data
        if float_out and x.dtype.kind not in "fc":
            return call(spec, args, kwargs)
        if len(args) == 1:
            result = forward(x)
            if type(result) is not tuple:
                out = wrap(result)
                if view:
                    out._vc = a._vc
                    out._base = a if a._base is None else a._base
                if a.requires_grad and _enabled[0] and spec.backward is not None:
                    _record(spec, (out,), args, {}, (a,), _TPOS1, None)
                return out
            tensors = (a,)
        elif promote:
            return call(spec, args, kwargs)
        elif len(args) == 2 and isinstance(args[1], Tensor):
            b = args[1]
            try:
                result = forward(x, b._data)
            except ValueError:          # call() raises torch's error for it
                return call(spec, args, kwargs)
            tensors = (a, b)
        else:
            for r in args[1:]:
                if isinstance(r, Tensor) or type(r) in (list, tuple) and r and \
                        isinstance(r[0], Tensor):
                    return call(spec, args, kwargs)
            result = forward(x, *args[1:])
            tensors = (a,)
        requires = _enabled[0] and spec.backward is not None and (
            a.requires_grad or len(tensors) == 2 and tensors[1].requires_grad)
        return _outputs(spec, result, args, {}, tensors, _SLOTS[:len(tensors)], None, requires)
    return function


_SLOTS = tuple((i, None) for i in range(32))      # tpos entries of plain tensor arguments
_TPOS1 = _SLOTS[:1]
_TPOS2 = _SLOTS[:2]


_NO_EDGE = (None, 0)


def _record(spec, outs, args, kwargs, tensors, tpos, ctx):
    """Make the graph node of an op's call: its edges to the inputs' nodes, what backward needs
    (arguments, input shapes and dtypes, saved versions) and the outputs' grad_fn."""
    cls = spec.node_cls
    node = cls() if type(cls) is type else cls(args)()
    edges = []
    meta = []
    for t in tensors:
        data = t._data
        meta.append((data.shape, data.dtype))
        if t._view_at is not None and t._view_at != t._vc.value:
            refresh_view(t)
        fn = t.grad_fn
        if fn is not None:
            edges.append((fn, t._output_nr))
        elif t.requires_grad:
            edges.append((accumulator_of(t), 0))
        else:
            edges.append(_NO_EDGE)
    if spec.nondiff or spec.wraps_scalars and len(tensors) == 1:
        node._edge_idx = _edge_indices(spec, args, tpos) if spec.nondiff else \
            _TENSOR_NUMBER if tpos[0][0] == 0 else _NUMBER_TENSOR
        edges = [edges[k] if k is not None else _NO_EDGE for k in node._edge_idx]
    node.next_functions = tuple(edges)
    if ctx is not None:
        node.ctx = ctx
    node._args = args
    node._kwargs = kwargs
    node._tpos = tpos
    node._meta = meta
    if spec.saves and not (spec.wraps_scalars and len(tensors) == 1 and tpos[0][0] == 0):
        node._versions = [(t, t._vc.value) for t in tensors]
    else:       # (tensor * number, tensor / number: torch saves only the number)
        node._versions = ()
    if len(outs) > 1:
        node.n_outputs = len(outs)
        node._out_meta = tuple((o._data.shape, o._data.dtype) for o in outs)
    for nr, o in enumerate(outs):
        if o._data.dtype.kind in "fc":
            o.requires_grad = True
            o.grad_fn = node
            if nr:
                o._output_nr = nr
            if spec.view:
                o._view_at = o._vc.value
    if spec.save_output:
        target = ctx if ctx is not None else node
        if len(outs) == 1:
            target.out = saved = saved_output(outs[0])
            if outs[0].grad_fn is node:
                node._versions = [*node._versions, (saved, saved._vc.value)]
        else:
            target.out = tuple(saved_output(o) for o in outs)
            node._versions = [*node._versions, *((a, a._vc.value) for a, o in
                                                 zip(target.out, outs) if o.grad_fn is node)]
    return node


def saved_output(t):
    """What a node saves of its output: a tensor sharing the output's memory and version
    counter, without grad_fn (as torch saves outputs), so that the output and its node do not
    keep each other alive when the graph is dropped without a backward."""
    s = wrap(t._data)
    s._vc = t._vc
    return s


def _link_outputs(node, holder):
    """create_graph: the saved outputs stand for the outputs of `node` in the graph that the
    backward formulas record (the link is undone after they ran)."""
    outs = holder.out if type(holder.out) is tuple else (holder.out,)
    for nr, o in enumerate(outs):
        if o._data.dtype.kind in "fc":
            o.requires_grad, o.grad_fn, o._output_nr = True, node, nr
    return outs


def _unlink_outputs(outs):
    for o in outs:
        o.requires_grad, o.grad_fn, o._output_nr = False, None, 0


_TENSOR_NUMBER, _NUMBER_TENSOR = (0, None), (None, 0)


def _edge_indices(spec, args, tpos):
    """The inputs that get a slot in next_functions, in argument order, as torch lays them
    out: indices into the op's tensors, leaving out non-differentiable ones (index, mask), and
    None for a Python number that torch wraps into a tensor (x + 1)."""
    out = []
    k, n = 0, len(tpos)
    for i, a in enumerate(args):
        if k < n and tpos[k][0] == i:
            while k < n and tpos[k][0] == i:
                if i not in spec.nondiff:
                    out.append(k)
                k += 1
        elif spec.wraps_scalars and i < 2 and isinstance(a, (int, float, complex)):
            out.append(None)
    return tuple(out)


def op(fn=None, *, name=None, promote=None, saves=True, save_output=False, ctx=False,
       view=False, node=None, float_out=False, method=True, inplace=False, ufunc=None):
    """Declare an op. `promote` lists the argument positions that take part in torch's type
    promotion (their arrays arrive cast to the result dtype); `float_out` turns an integer
    result dtype into the default float dtype (true division, exp, ...); `saves=False` when
    backward needs no input values (only shapes); `save_output` gives backward `ctx.out`;
    `ctx=True` passes a Ctx to forward as first argument; `view` makes the output share the
    first input's storage version counter; `node` names the graph node class (a function of
    the positional args when torch's name depends on the overload); `ufunc` (a binary op's NumPy
    ufunc) lets the in-place method write straight into self when no graph is recorded."""
    def register(forward):
        opname = name or forward.__name__
        spec = OpSpec(opname, forward, promote, saves, save_output, ctx, view, node, float_out,
                      ufunc)
        REGISTRY[opname] = spec

        if promote == (0, 1) and not ctx and not view:
            function = _binary_function(spec)
        elif not ctx:
            function = _unary_function(spec)
        else:
            def function(*args, **kwargs):
                return call(spec, args, kwargs)

        function.__name__ = function.__qualname__ = opname
        function.__doc__ = forward.__doc__
        function.spec = spec

        def set_backward(bwd):
            spec.backward = bwd
            return bwd

        function.backward = set_backward
        spec.function = function
        if method:
            setattr(Tensor, opname, function)
        if inplace:
            setattr(Tensor, opname + "_", make_inplace(function, opname))
        return function
    return register(fn) if fn is not None else register


def make_inplace(function, name):
    """The in-place method of an op: compute out of place from a snapshot of self (so that the
    graph keeps self's old value), then write into self's storage."""
    spec = function.spec
    ufunc = spec.ufunc

    def method(self, *args, **kwargs):
        if ufunc is not None and len(args) == 1 and not kwargs and \
                _ufunc_inplace(ufunc, self, args[0]):
            return self
        src = self
        if self.requires_grad and _enabled[0]:
            check_inplace(self)
            src = snapshot(self, copy=spec.saves)
        return assign_(self, function(src, *args, **kwargs))
    method.__name__ = name + "_"
    return method


def _ufunc_inplace(ufunc, self, other):
    """self <op>= other computed by the ufunc into self's memory (no temporary), when that is
    all the in-place op does: float self, other a tensor of its dtype or a Python number, no
    graph to record. False (nothing written) leaves the other cases to the general path."""
    x = self._data
    if x.dtype.kind not in "fc":
        return False
    if type(other) is Tensor:
        if other._data.dtype != x.dtype or _enabled[0] and other.requires_grad:
            return False
        other = other._data
    elif type(other) is not float and type(other) is not int:
        return False
    if _enabled[0] and self.requires_grad:
        return False
    try:
        ufunc(x, other, out=x)      # NumPy buffers overlapping operands, as an out-of-place op
    except (ValueError, OverflowError):    # torch's errors come from the general path
        return False
    self._vc.value += 1
    return True


def snapshot(t, copy=True):
    """A copy of t's current value that stands in for t in the graph (without `copy`, a new
    tensor on t's array: the node must not hold t itself, which takes the node's output place,
    a cycle that would keep t's memory until the garbage collector runs)."""
    if t._view_at is not None and t._view_at != t._vc.value:
        refresh_view(t)
    s = wrap(t._data.copy() if copy else t._data)
    s.requires_grad, s.grad_fn, s._output_nr = t.requires_grad, t.grad_fn, t._output_nr
    return s


def check_inplace(self):
    """torch's errors for writing in place into a leaf that requires grad, or into a view of
    one, while grad mode is on."""
    if self.requires_grad and _enabled[0]:
        if self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        base = self._base
        if base is not None and base.grad_fn is None and base.requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")


def assign_(self, result):
    """Write `result` (a Tensor computed from self) into self, as an in-place op does: same
    storage, version bumped, and self takes the result's place in the graph."""
    check_inplace(self)
    rdt = result._data.dtype
    sdt = self._data.dtype
    if rdt != sdt and not _dtype.can_cast(_dtype._BY_NP[rdt], _dtype._BY_NP[sdt]):
        raise RuntimeError(f"result type {_dtype.scalar_name(_dtype._BY_NP[rdt])} can't be cast "
                           f"to the desired output type {_dtype.scalar_name(_dtype._BY_NP[sdt])}")
    if result._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                           f"shape {list(result.shape)}")
    self._data[...] = result._data
    self._vc.value += 1
    if result.grad_fn is not None:
        self.grad_fn = result.grad_fn
        self.requires_grad = True
        self._output_nr = result._output_nr
        if result._base is None:
            # the result object is only a vehicle: point its saved-output slot at self
            node = result.grad_fn
            holder = node.ctx if getattr(node, "ctx", None) is not None else node
            saved = getattr(holder, "out", None)
            if saved is not None and type(saved) is not tuple and saved._data is result._data:
                holder.out = saved_output(self)
                node._versions = tuple((holder.out, self._vc.value) if t is saved else (t, v)
                                       for t, v in node._versions)
        if self._base is not None:
            rebase_view(self, result.grad_fn)
    return self


def write_out(out, result, name):
    """The `out=` keyword: resize `out` if needed and copy the result into it (a tuple of
    results goes into a tuple of out tensors)."""
    if type(result) is tuple:
        return tuple(write_out(o, r, name) for o, r in zip(out, result))
    if _enabled[0] and (out.requires_grad or result.requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    rdt = _dtype._BY_NP[result._data.dtype]
    if not _dtype.can_cast(rdt, out.dtype):
        raise RuntimeError(f"result type {_dtype.scalar_name(rdt)} can't be cast to the desired "
                           f"output type {_dtype.scalar_name(out.dtype)}")
    if out._data.shape != result._data.shape:
        out._data = np.empty(result._data.shape, out._data.dtype)
    out._data[...] = result._data
    out._vc.value += 1
    return out
