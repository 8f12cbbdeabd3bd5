"""class Tensor: a backend array (`_data`, NumPy or CuPy) with torch's semantics and autograd.

Most methods (add, sum, view, ...) are attached by the op registry (ember/ops); this file holds
the tensor's own state and the methods that are not ops: properties, conversions, autograd
entry points, Python protocols.
"""
import numpy as np

from . import _dtype
from ._device import CPU, device_of, as_device, array_module
from ._size import Size
from .autograd import grad_mode
from .autograd.engine import run_backward

_ndarray = np.ndarray
_BY_NP = _dtype._BY_NP


class VersionCounter:
    """Shared by all views of one storage; bumped by every in-place op."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def wrap(array):
    """A new Tensor around a backend array (0-dim NumPy scalars become 0-dim arrays)."""
    if type(array) is not _ndarray:
        array = _as_array(array)
    t = _new(Tensor)
    t._data = array
    t.requires_grad = False
    t.grad_fn = None
    t._vc = VersionCounter()
    return t


_new = object.__new__


def _as_array(x):
    if isinstance(x, np.generic):
        return np.asarray(x)
    if hasattr(x, "__cuda_array_interface__"):
        return x
    return np.asarray(x)


class Tensor:
    """torch.Tensor. `Tensor(data)` / `Tensor(*sizes)` follow the legacy constructor (default
    dtype); prefer ember.tensor()."""

    # The hot attributes are slots; the rarely set ones are class-level defaults that an
    # instance overrides in its (lazily created) __dict__, which keeps tensor creation cheap.
    __slots__ = ("_data", "requires_grad", "grad_fn", "_vc", "__dict__", "__weakref__")
    grad = None            # accumulated gradient (a Tensor) of a leaf
    _base = None           # the tensor whose storage a view shares
    _output_nr = 0         # which output of grad_fn this tensor is
    _accum = None          # weak reference to the AccumulateGrad node of a leaf
    _retains = None        # retain_grad() was called
    _view_at = None        # a view's version when its grad_fn was made (stale once it differs)
    __array_priority__ = 1000      # so that ndarray op Tensor defers to Tensor's reflected op

    def __new__(cls, *args, **kwargs):
        from .ops.creation import _legacy_new
        return _legacy_new(cls, args, kwargs)

    # -- state ---------------------------------------------------------------------------
    @property
    def dtype(self):
        return _BY_NP[self._data.dtype]

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._wrap_dim(dim)]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    @property
    def device(self):
        return CPU if type(self._data) is _ndarray else device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    is_cpu = property(lambda self: type(self._data) is _ndarray)
    is_sparse = False
    is_quantized = False
    is_meta = False
    layout = "torch.strided"

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def _version(self):
        return self._vc.value

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_complex(self):
        return self._data.dtype.kind == "c"

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def stride(self, dim=None):
        item = self._data.itemsize
        strides = tuple(s // item for s in self._data.strides)
        return strides if dim is None else strides[self._wrap_dim(dim)]

    def storage_offset(self):
        base = self._data
        while isinstance(base.base, _ndarray):
            base = base.base
        if base is self._data:
            return 0
        return (self._data.__array_interface__["data"][0]
                - base.__array_interface__["data"][0]) // self._data.itemsize

    def resize_(self, *sizes, memory_format=None):
        """torch.Tensor.resize_: the storage, read from this tensor's offset, with new sizes;
        shrinking keeps the storage (so growing back restores the old values), growing past
        it allocates (new elements uninitialised)."""
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
            else sizes
        if tuple(shape) == self._data.shape:
            return self
        n = Size(shape).numel()
        flat = self._storage_tail()
        if flat.size >= n:
            data = flat[:n]
        else:
            data = array_module(self.device).empty(n, self._data.dtype)
            data[:flat.size] = flat
        self._data = data.reshape(shape)
        self._vc.value += 1
        return self

    def resize_as_(self, other, memory_format=None):
        return self.resize_(other.shape)

    def _storage_tail(self):
        """The storage from this tensor's first element on, flat (self's elements in C order
        when the storage is not one contiguous NumPy block)."""
        base = self._data
        while isinstance(base.base, _ndarray):
            base = base.base
        if type(base) is _ndarray and base.flags.c_contiguous:
            return base.reshape(-1)[self.storage_offset():]
        return self._data.reshape(-1)

    def data_ptr(self):
        return self._data.__array_interface__["data"][0] if type(self._data) is _ndarray \
            else self._data.data.ptr

    def _wrap_dim(self, dim):
        n = self._data.ndim
        lo, hi = (-n, n - 1) if n else (-1, 0)
        if not lo <= dim <= hi:
            raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], "
                             f"but got {dim})")
        return dim % n if n else 0

    # -- autograd ------------------------------------------------------------------------
    @property
    def data(self):
        t = wrap(self._data)
        return t

    @data.setter
    def data(self, value):
        self._data = value._data

    def detach(self):
        """A tensor sharing storage and version counter, cut from the graph (not a view for
        autograd: its _base is None, as in torch)."""
        t = wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are "
                               "using DistributedDataParallel (DDP) for training, and "
                               "gradient_as_bucket_view is set as True, gradients are views of "
                               "DDP buckets, and hence detach_() cannot be called on these "
                               "gradients. To fix this error, please refer to the "
                               "Optimizer.zero_grad() function in torch/optim/optimizer.py as "
                               "the solution.")
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into each leaf's .grad (torch.Tensor.backward)."""
        if inputs is not None and isinstance(inputs, Tensor):
            inputs = [inputs]
        run_backward([self], [gradient], retain_graph, create_graph, inputs)

    def register_hook(self, hook):
        """hook(grad) -> None or a replacement grad, run when this tensor's grad is computed."""
        from .autograd.graph import accumulator_of
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            node, nr = self.grad_fn, self._output_nr
        else:
            # a leaf's AccumulateGrad lives as long as some graph uses it: keep it with the
            # tensor so that the hook survives until the next backward
            node, nr = accumulator_of(self), 0
            self._accum_keep = node

        def pre_hook(grads):
            if grads[nr] is None:
                return None
            new = hook(grads[nr])
            if new is None:
                return None
            grads = list(grads)
            grads[nr] = new
            return grads
        return node._add_pre_hook(pre_hook)

    def retain_grad(self):
        """Keep .grad of a non-leaf tensor after backward."""
        import weakref
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        node = self.grad_fn
        if node._retain is None:
            node._retain = {}
        node._retain[self._output_nr] = weakref.ref(self)
        self._retains = True

    @property
    def retains_grad(self):
        return bool(self._retains) and self.grad_fn is not None

    # -- conversion ----------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                               "Scalar")
        return self._data.reshape(()).item() if type(self._data) is _ndarray \
            else self._data.reshape(()).get().item()

    def tolist(self):
        return self._host().tolist()

    def _host(self):
        return self._data if type(self._data) is _ndarray else self._data.get()

    def numpy(self, force=False):
        """The NumPy array sharing this tensor's memory (torch refuses when grad is tracked)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if type(self._data) is not _ndarray:
            if not force:
                raise TypeError("can't convert cuda:0 device type tensor to numpy. Use "
                                "Tensor.cpu() to copy the tensor to host memory first.")
            return self._data.get()
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self._host()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            if self._data.size == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __complex__(self):
        return complex(self._scalar())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self, *, tensor_contents=None):
        from ._printing import tensor_repr
        return tensor_repr(self, tensor_contents=tensor_contents)

    def __format__(self, spec):
        if type(self) is Tensor:
            from ._printing import format_scalar
            return format_scalar(self, spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        from .serialization import _reduce_tensor
        return _reduce_tensor(self)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        new = wrap(self._data.copy())
        if type(self) is not Tensor:
            new = self._rewrap(new)
        new.requires_grad = self.requires_grad
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    def _rewrap(self, t):
        """Hook for subclasses (Parameter) to rebuild their own type around a tensor."""
        return t

    # -- dtype / device moves ------------------------------------------------------------
    def type(self, dtype=None, non_blocking=False, **kwargs):
        """No argument: the legacy type string ('torch.FloatTensor'); else convert."""
        if dtype is None:
            prefix = "torch." if self.is_cpu else "torch.cuda."
            return prefix + _dtype.scalar_name(self.dtype) + "Tensor"
        if isinstance(dtype, str):
            from ._legacy import type_from_string
            dtype = type_from_string(dtype)
        if isinstance(dtype, type) and hasattr(dtype, "dtype"):
            dtype = dtype.dtype
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def to(self, *args, **kwargs):
        """to(dtype) / to(device) / to(device, dtype) / to(other); copy=, non_blocking= accepted."""
        dtype = kwargs.get("dtype")
        dev = kwargs.get("device")
        copy = kwargs.get("copy", False)
        for a in args:
            if isinstance(a, _dtype.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype, dev = a.dtype, a.device
            elif isinstance(a, (str, int)) or hasattr(a, "type") and hasattr(a, "index"):
                dev = a
        from .ops.creation import to_copy
        return to_copy(self, dtype, None if dev is None else as_device(dev), copy)

    def cpu(self, memory_format=None):
        return self.to(CPU)

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        return self.to(as_device("cuda" if device is None else
                                 device if not isinstance(device, int) else f"cuda:{device}"))

    def float(self, memory_format=None):
        return self.to(_dtype.float32)

    def double(self, memory_format=None):
        return self.to(_dtype.float64)

    def half(self, memory_format=None):
        return self.to(_dtype.float16)

    def bfloat16(self, memory_format=None):
        return self.to(_dtype.bfloat16)

    def long(self, memory_format=None):
        return self.to(_dtype.int64)

    def int(self, memory_format=None):
        return self.to(_dtype.int32)

    def short(self, memory_format=None):
        return self.to(_dtype.int16)

    def char(self, memory_format=None):
        return self.to(_dtype.int8)

    def byte(self, memory_format=None):
        return self.to(_dtype.uint8)

    def bool(self, memory_format=None):
        return self.to(_dtype.bool)

    def cfloat(self):
        return self.to(_dtype.complex64)

    def cdouble(self):
        return self.to(_dtype.complex128)

    def pin_memory(self, device=None):
        return self

    def is_pinned(self, device=None):
        return False

    def share_memory_(self):
        return self

    def is_shared(self):
        return False

    def get_device(self):
        return -1 if self.is_cpu else self.device.index
