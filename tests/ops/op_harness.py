"""The generic op harness: run one Sample through ember and torch in every form of an op
(function, method, in-place, out=) and assert the same values, dtypes, shapes, grad_fn names,
gradients, or the same exception type."""
import numpy as np
import torch

import ember
from op_strategies import ALL, Arr, DType, Sample

TOL = {"float16": (2e-3, 2e-3), "float32": (1e-5, 1e-5), "float64": (1e-10, 1e-12),
       "complex64": (1e-5, 1e-5), "complex128": (1e-10, 1e-12)}


# torch backward errors that are gaps of torch, not errors ember must copy
TORCH_BACKWARD_GAPS = ("is not implemented", "returned an invalid gradient")


class Err:
    """A bad call: `call(lib)` must raise `exc` in torch and in ember, with `match` (a
    substring) in both messages."""

    def __init__(self, call, exc, match=""):
        self.call, self.exc, self.match = call, exc, match


class Case:
    """One op of the table: `samples(dtypes)` gives a strategy of Samples; the op is
    `call(lib, *args, **kwargs)` (default: the function `name` of the library, dotted names
    reach submodules). method/inplace: the Tensor method names (None: the op's name and name_
    when torch has them, False: none). `out`: try the out= form. `grad`: compare gradients of
    the float inputs; `gradcheck`/`gradgrad`: finite-difference checks in float64 (gradcheck
    samples from `gc_samples` when given). `edges`: hand-picked Samples; `errors`: Errs.
    `tol`: a factor on the dtype tolerances. `grad_fn`: compare graph node names.
    `clone_self`: the first input is a clone of its leaf (for calls that write into it)."""

    def __init__(self, name, samples, dtypes=ALL, *, id=None, call=None, method=None,
                 inplace=None, out=True, grad=True, gradcheck=True, gradgrad=False, edges=(),
                 errors=(), tol=1.0, grad_fn=True, gc_samples=None, clone_self=False):
        self.name, self.samples, self.dtypes = name, samples, dtypes
        self.id = id or name
        self.call = call
        plain = call is None and "." not in name
        self.method = (name if plain and hasattr(torch.Tensor, name) else None) \
            if method is None else method or None
        self.inplace = (name + "_" if plain and hasattr(torch.Tensor, name + "_") else None) \
            if inplace is None else inplace or None
        self.out = out
        self.grad = grad
        self.gradcheck = grad and gradcheck
        self.gradgrad = grad and gradgrad
        self.edges, self.errors = list(edges), list(errors)
        self.tol, self.grad_fn = tol, grad_fn
        self.gc_samples = gc_samples or samples
        self.clone_self = clone_self

    def __repr__(self):
        return self.id

    def function(self, lib):
        if self.call is not None:
            return lambda *a, **k: self.call(lib, *a, **k)
        f = lib
        for part in self.name.split("."):
            f = getattr(f, part)
        return f


# -- building inputs --------------------------------------------------------------------------
def materialize(lib, sample, grad, clone_self=False):
    """(args, kwargs, leaves) of `sample` as `lib` tensors; float Arrs get leaves that
    require grad when `grad`; clone_self puts a clone between the first leaf and its view (an
    in-place op may not write into a leaf)."""
    leaves = []

    def conv(x, is_self=False):
        if isinstance(x, Arr):
            leaf = lib.tensor(x.leaf_array())
            needs = grad and x.differentiable
            if needs:
                leaf.requires_grad_(True)
                leaves.append(leaf)
            base = leaf.clone() if is_self and clone_self else leaf
            return x.view(base)
        if isinstance(x, DType):
            return getattr(lib, x.name)
        if isinstance(x, list):
            return [conv(y) for y in x]
        if isinstance(x, tuple):
            return tuple(conv(y) for y in x)
        return x
    args = tuple(conv(a, i == 0) for i, a in enumerate(sample.args))
    kwargs = {k: conv(v) for k, v in sample.kwargs.items()}
    return args, kwargs, leaves


def tensors_of(x):
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for y in x for t in tensors_of(y)]
    return []


def builtin_exc(exc_type):
    """The built-in exception class torch's (possibly private) exception type derives from."""
    return next(c for c in exc_type.__mro__ if c.__module__ == "builtins")


# -- comparing --------------------------------------------------------------------------------
def to_numpy(t):
    if isinstance(t, torch.Tensor):
        return t.detach().resolve_conj().resolve_neg().numpy()
    return np.asarray(t._data)


def assert_close_arrays(e, t, dtype_name, factor, what, loosest=None):
    if dtype_name in TOL:
        rtol, atol = max(TOL[dtype_name], TOL.get(loosest, (0, 0)))
        np.testing.assert_allclose(e, t, rtol * factor, atol * factor, equal_nan=True,
                                   err_msg=what)
    else:
        np.testing.assert_array_equal(e, t, err_msg=what)


def assert_same(e, t, what="output", factor=1.0, grad_fn=True, loosest=None):
    """ember value `e` equals torch value `t`: type, dtype, shape, values, requires_grad and
    grad_fn name for tensors; recursively for tuples (namedtuple fields too). Float values
    agree within the tolerance of their dtype (or of the `loosest` dtype if looser)."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), \
            f"{what}: ember gave {type(e).__name__}, torch a Tensor"
        tname = str(t.dtype).replace("torch.", "")
        assert e.dtype.name == tname, f"{what}: dtype {e.dtype.name} != torch's {tname}"
        assert tuple(e.shape) == tuple(t.shape), \
            f"{what}: shape {tuple(e.shape)} != torch's {tuple(t.shape)}"
        assert_close_arrays(to_numpy(e), to_numpy(t), tname, factor, what, loosest)
        assert e.requires_grad == t.requires_grad, \
            f"{what}: requires_grad {e.requires_grad} != torch's {t.requires_grad}"
        if grad_fn and t.grad_fn is not None:
            en, tn = type(e.grad_fn).__name__, type(t.grad_fn).__name__
            assert en == tn, f"{what}: grad_fn {en} != torch's {tn}"
    elif isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)), f"{what}: ember gave {type(e).__name__}, torch a " \
                                             f"{type(t).__name__}"
        assert len(e) == len(t), f"{what}: {len(e)} results != torch's {len(t)}"
        fields = getattr(t, "_fields", None)
        if fields is not None:
            assert getattr(e, "_fields", None) == fields, f"{what}: fields of {e!r} != {fields}"
            assert type(e).__name__ == type(t).__name__, \
                f"{what}: {type(e).__name__} != torch.return_types.{type(t).__name__}"
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same(a, b, f"{what}[{i}]", factor, grad_fn, loosest)
    elif isinstance(t, torch.dtype):
        assert repr(e) == repr(t), f"{what}: {e!r} != {t!r}"
    elif isinstance(t, (bool, int, float)) or t is None:
        assert type(e) is type(t), f"{what}: ember gave {type(e).__name__} {e!r}, torch " \
                                   f"{type(t).__name__} {t!r}"
        if isinstance(t, float):
            np.testing.assert_allclose(e, t, 1e-6, 1e-6, equal_nan=True, err_msg=what)
        else:
            assert e == t, f"{what}: {e!r} != torch's {t!r}"
    else:
        raise AssertionError(f"{what}: no comparison for torch's {type(t).__name__}")


def assert_same_error(e_exc, t_exc, what):
    want = builtin_exc(type(t_exc))
    assert isinstance(e_exc, want), \
        f"{what}: torch raised {type(t_exc).__name__}({t_exc}) but ember " + \
        (f"raised {type(e_exc).__name__}({e_exc})" if e_exc is not None else "did not raise")


# -- running one sample -----------------------------------------------------------------------
def _call(case, form, lib, args, kwargs, out=None):
    f = case.function(lib)
    if form == "function":
        return f(*args, **kwargs)
    if form == "method":
        return getattr(args[0], case.method)(*args[1:], **kwargs)
    if form == "inplace":
        return getattr(args[0], case.inplace)(*args[1:], **kwargs)
    return f(*args, out=out, **kwargs)


def _attempt(fn):
    try:
        return fn(), None
    except Exception as exc:        # noqa: BLE001 - the exception is the result compared
        return None, exc


def _grads(lib, outs, leaves, grad_outputs):
    pairs = [(o, g) for o, g in zip(outs, grad_outputs) if g is not None]
    return lib.autograd.grad([o for o, _ in pairs], leaves, [g for _, g in pairs],
                             allow_unused=True)


def check_form(case, sample, form):
    """Run `form` of the op on `sample` in both libraries and compare everything."""
    grad = case.grad and form in ("function", "inplace")
    ref = None
    if form == "out":
        args, kwargs, _ = materialize(torch, sample, False)
        ref, exc = _attempt(lambda: case.function(torch)(*args, **kwargs))
        if exc is not None or not tensors_of(ref) or isinstance(ref, list):
            return
    results = {}
    for lib in (torch, ember):
        args, kwargs, leaves = materialize(lib, sample, grad,
                                           clone_self=form == "inplace" or case.clone_self)
        out = None
        if ref is not None:
            made = tuple(lib.empty(0, dtype=getattr(lib, str(o.dtype)[6:]))
                         for o in tensors_of(ref))
            out = made[0] if isinstance(ref, torch.Tensor) else made
        value, exc = _attempt(lambda: _call(case, form, lib, args, kwargs, out))
        results[lib] = (args, leaves, out, value, exc)
    e_args, e_leaves, e_out, e_val, e_exc = results[ember]
    t_args, t_leaves, t_out, t_val, t_exc = results[torch]
    what = f"{case.id} [{form}] {sample!r}"
    if t_exc is not None:
        if isinstance(t_exc, TypeError) and (form == "out" or e_exc is None):
            return                  # torch has no out= here, or ember parses arguments leniently
        assert_same_error(e_exc, t_exc, what)
        return
    if e_exc is not None:
        raise AssertionError(f"{what}: ember raised {type(e_exc).__name__}: {e_exc}") from e_exc
    assert_same(e_val, t_val, what, case.tol, case.grad_fn and form == "function")
    if form == "inplace":
        assert e_val is e_args[0], f"{what}: the in-place form did not return self"
    if form == "out":
        for eo, ev in zip(tensors_of(e_out), tensors_of(e_val)):
            assert ev is eo, f"{what}: out= did not return the out tensor"
    if grad and t_leaves:
        t_outs = [o for o in tensors_of(t_val) if o.requires_grad]
        if not t_outs:
            return
        rng = np.random.default_rng(0)
        gos = [values_like(rng, o) for o in tensors_of(t_val)]
        t_g, t_gexc = _attempt(lambda: _grads(torch, tensors_of(t_val), t_leaves,
                                              [None if g is None else torch.tensor(g)
                                               for g in gos]))
        e_g, e_gexc = _attempt(lambda: _grads(ember, tensors_of(e_val), e_leaves,
                                              [None if g is None else ember.tensor(g)
                                               for g in gos]))
        if t_gexc is not None:
            if e_gexc is None and any(m in str(t_gexc) for m in TORCH_BACKWARD_GAPS):
                return              # torch lacks a formula (or has a bug) where ember does not
            assert_same_error(e_gexc, t_gexc, what + " backward")
            return
        if e_gexc is not None:
            raise AssertionError(f"{what}: ember's backward raised {type(e_gexc).__name__}: "
                                 f"{e_gexc}") from e_gexc
        for i, (eg, tg, leaf) in enumerate(zip(e_g, t_g, t_leaves)):
            tg = torch.zeros_like(leaf) if tg is None or tg._is_zerotensor() else tg
            eg = ember.zeros(tuple(leaf.shape), dtype=getattr(ember, str(leaf.dtype)[6:])) \
                if eg is None else eg
            assert_same(eg, tg.detach(), f"{what}: grad of input {i}", 10 * case.tol, False,
                        loosest_float(sample))


def loosest_float(sample):
    """The float dtype of the sample's inputs with the widest tolerance: a gradient is only
    as precise as its least precise input."""
    names = [a.array.dtype.name for a in sample.arrs() if a.array.dtype.name in TOL]
    return max(names, key=lambda n: TOL[n][0], default=None)


def values_like(rng, t):
    """Random grad_output values for a torch output that requires grad (else None)."""
    if not t.requires_grad:
        return None
    return rng.standard_normal(tuple(t.shape)).astype(str(t.dtype)[6:])


def forms(case):
    out = ["function"]
    if case.method:
        out.append("method")
    if case.inplace:
        out.append("inplace")
    if case.out:
        out.append("out")
    return out


def check_sample(case, sample):
    for form in forms(case):
        if form in ("method", "inplace") and not (sample.args and isinstance(sample.args[0], Arr)):
            continue
        check_form(case, sample, form)


def check_error(case, err):
    what = f"{case.id}: {err.exc.__name__}({err.match!r})"
    for lib in (torch, ember):
        value, exc = _attempt(lambda: err.call(lib))
        name = lib.__name__
        assert exc is not None, f"{what}: {name} did not raise (gave {value!r})"
        assert isinstance(exc, err.exc), f"{what}: {name} raised {type(exc).__name__}: {exc}"
        assert err.match in str(exc), f"{what}: {name}'s message is {str(exc)!r}"


def check_gradcheck(case, sample, second_order=False):
    """ember.autograd.gradcheck (or gradgradcheck) of the function form at `sample`
    (float64 inputs)."""
    arrs = [a for a in sample.arrs() if a.differentiable]
    if not arrs:
        return
    assert all(a.array.dtype == np.float64 for a in arrs), f"{case.id}: gradcheck needs " \
        f"float64 inputs, got {sample!r}"
    args, kwargs, _ = materialize(torch, sample, False)
    ref, exc = _attempt(lambda: case.function(torch)(*args, **kwargs))
    if exc is not None or not all(torch.isfinite(t).all() for t in tensors_of(ref)):
        return                      # a bad input (the value test compares the error) or a pole
    leaves = [ember.tensor(a.leaf_array(), requires_grad=True) for a in arrs]
    f = case.function(ember)

    def fn(*xs):
        views = {id(a): a.view(x) for a, x in zip(arrs, xs)}

        def conv(x):
            if isinstance(x, Arr):
                return views[id(x)] if id(x) in views else x.view(ember.tensor(x.leaf_array()))
            if isinstance(x, DType):
                return getattr(ember, x.name)
            if isinstance(x, list):
                return [conv(y) for y in x]
            if isinstance(x, tuple):
                return tuple(conv(y) for y in x)
            return x
        args = tuple(conv(a) for a in sample.args)
        return f(*args, **{k: conv(v) for k, v in sample.kwargs.items()})
    check = ember.autograd.gradgradcheck if second_order else ember.autograd.gradcheck
    assert check(fn, tuple(leaves)), f"{case.id}: gradcheck failed at {sample!r}"


__all__ = ["Case", "Err", "Sample", "Arr", "check_sample", "check_error", "check_gradcheck"]
