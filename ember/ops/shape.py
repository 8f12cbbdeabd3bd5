"""Shape ops: views (view, reshape, transpose, permute, expand, squeeze, narrow, ...) share
storage and the version counter with their input, as in torch; cat/stack/split/flip/roll copy
or slice as torch does."""
import numpy as np

from .._size import Size
from .._tensor import Tensor, wrap
from ._registry import op, check_inplace
from ._util import wrap_dim, dims_of, expand_error


def _sizes(size):
    """Accept view(2, 3), view((2, 3)), view([2, 3]) and view(Size)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):      # Size is a tuple
        size = size[0]
    return tuple(map(int, size))


def infer_size(shape, numel):
    """Resolve one -1 in shape; torch's error text when the sizes do not match."""
    shape = list(shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if known == numel and -1 not in shape:      # the common case: nothing to infer
        return tuple(shape)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(map(int, shape))}' is invalid for input of size "
                               f"{numel}")
        shape[shape.index(-1)] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


@op(method=False, saves=False, view=True, node="ViewBackward0")
def _view(input, shape):
    shape = infer_size(shape, input.size)
    try:
        out = input.view()
        out.shape = shape           # raises when no view exists (never copies)
        return out
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None


def _reshape_back(ctx, grad, input, shape):
    return grad.reshape(ctx._meta[0][0])


_view.backward(_reshape_back)
# reshape's view of a non-contiguous tensor: torch records it as _reshape_alias
_reshape_alias = op(_view.spec.forward, name="_reshape_alias", method=False, saves=False,
                    view=True, node="ReshapeAliasBackward0")
_reshape_alias.backward(_reshape_back)


def view(self, *shape):
    """A view with a new shape (torch's error when the strides do not allow one); view(dtype)
    reinterprets the bytes."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and \
            hasattr(shape[0], "itemsize") and hasattr(shape[0], "np"):
        return wrap(self._data.view(shape[0].np))
    return _view(self, _sizes(shape))


Tensor.view = view


@op(method=False, saves=False, node="UnsafeViewBackward0")
def _reshape_copy(input, shape):
    return np.reshape(input, infer_size(shape, input.size))


_reshape_copy.backward(_reshape_back)


def reshape(input, *shape):
    """A view when the strides allow, else a copy (as torch.reshape)."""
    shape = _sizes(shape)
    try:
        return (_view if input._data.flags.c_contiguous else _reshape_alias)(input, shape)
    except RuntimeError:
        infer_size(shape, input._data.size)
        return _reshape_copy(input, shape)


Tensor.reshape = reshape


def view_as(self, other):
    return view(self, other.shape)


def reshape_as(self, other):
    return reshape(self, other.shape)


Tensor.view_as, Tensor.reshape_as = view_as, reshape_as


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    n = input.dim()
    if n == 0:
        return reshape(input, 1)
    s, e = wrap_dim(start_dim, n), wrap_dim(end_dim, n)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input.shape
    return reshape(input, shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    d = wrap_dim(dim, input.dim())
    shape = input.shape
    sizes = infer_size(sizes, shape[d])
    return view(input, shape[:d] + tuple(sizes) + shape[d + 1:])


Tensor.flatten, Tensor.unflatten = flatten, unflatten


def ravel(input):
    return contiguous(input).view(-1)


Tensor.ravel = ravel


def _squeeze_node(args):
    """torch names the node after the overload: squeeze() 0, squeeze(dim) 1, squeeze(dims) 2."""
    dims = args[1]
    return "SqueezeBackward0" if dims is None else \
        "SqueezeBackward1" if isinstance(dims, int) else "SqueezeBackward2"


@op(saves=False, view=True, node=_squeeze_node, method=False)
def _squeeze(input, dims):
    """dims: None (every size-1 dim), one dim, or a tuple of dims; others are kept."""
    if dims is None or input.ndim == 0:
        return np.squeeze(input)
    axes = (dims,) if isinstance(dims, int) else dims
    return np.squeeze(input, axis=tuple(d for d in axes if input.shape[d] == 1))


@_squeeze.backward
def _(ctx, grad, input, dims):
    return grad.reshape(ctx._meta[0][0])


def squeeze(input, dim=None):
    """Remove size-1 dims (all, one, or a tuple of them)."""
    if dim is None:
        return _squeeze(input, None)
    if isinstance(dim, (int, np.integer)):
        return _squeeze(input, wrap_dim(int(dim), input.dim()))
    return _squeeze(input, dims_of(dim, input.dim()))


def _view_inplace(self, view):
    """Make self the given view of itself, as the in-place shape ops (t_, squeeze_,
    unsqueeze_, transpose_) do: new sizes, version bumped, the view's node in the graph."""
    check_inplace(self)
    self._data = view._data
    self._vc.value += 1
    if view.grad_fn is not None:
        self.grad_fn, self._output_nr = view.grad_fn, 0
    return self


def _squeeze_(self, dim=None):
    return _view_inplace(self, squeeze(self, dim))


@op(saves=False, view=True, method=False, node="UnsqueezeBackward0")
def _unsqueeze(input, dim):
    return input.reshape(input.shape[:dim] + (1,) + input.shape[dim:])   # np.expand_dims


@_unsqueeze.backward
def _(ctx, grad, input, dim):
    return grad.squeeze(dim)


def unsqueeze(input, dim):
    """Insert a size-1 dim at dim (negative dims count from the new rank)."""
    return _unsqueeze(input, wrap_dim(dim, input.dim() + 1))


def _unsqueeze_(self, dim):
    return _view_inplace(self, unsqueeze(self, dim))


Tensor.squeeze, Tensor.unsqueeze = squeeze, unsqueeze
Tensor.squeeze_, Tensor.unsqueeze_ = _squeeze_, _unsqueeze_


@op(saves=False, view=True, method=False, node="TransposeBackward0")
def _transpose(input, dim0, dim1):
    return np.swapaxes(input, dim0, dim1) if input.ndim else input.view()


@_transpose.backward
def _(ctx, grad, input, dim0, dim1):
    return grad.transpose(dim0, dim1)


def transpose(input, dim0, dim1):
    """Swap two dims (a view)."""
    n = input.dim()
    return _transpose(input, wrap_dim(dim0, n), wrap_dim(dim1, n))


swapaxes = swapdims = transpose


def _transpose_(self, dim0, dim1):
    return _view_inplace(self, transpose(self, dim0, dim1))


@op(saves=False, view=True, method=False, node="TBackward0")
def _t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return input.T


@_t.backward
def _(ctx, grad, input):
    return grad.t()


def t(input):
    return _t(input)


def _t_(self):
    return _view_inplace(self, t(self))


Tensor.transpose, Tensor.swapaxes, Tensor.swapdims, Tensor.t = transpose, transpose, transpose, t
Tensor.transpose_, Tensor.t_ = _transpose_, _t_
Tensor.swapaxes_ = Tensor.swapdims_ = _transpose_
Tensor.T = property(lambda self: permute(self, tuple(range(self.dim() - 1, -1, -1))))
Tensor.mT = property(lambda self: transpose(self, -2, -1))
Tensor.H = Tensor.mH = property(lambda self: transpose(self, -2, -1).conj())


@op(saves=False, view=True, method=False, node="PermuteBackward0")
def _permute(input, dims):
    return np.transpose(input, dims)


@_permute.backward
def _(ctx, grad, input, dims):
    return grad.permute(tuple(np.argsort(dims)))


def permute(input, *dims):
    """Reorder dims (a view)."""
    dims = _sizes(dims)
    n = input.dim()
    if len(dims) != n:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {n} is not equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permute(input, dims)


def movedim(input, source, destination):
    n = input.dim()
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [wrap_dim(d, n) for d in src]
    dst = [wrap_dim(d, n) for d in dst]
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _permute(input, tuple(order))


moveaxis = movedim
Tensor.permute, Tensor.movedim, Tensor.moveaxis = permute, movedim, movedim


@op(saves=False, view=True, method=False, node="ExpandBackward0")
def _expand(input, shape):
    return np.broadcast_to(input, shape)


@_expand.backward
def _(ctx, grad, input, shape):
    from ._registry import sum_to
    return sum_to(grad, ctx._meta[0][0])


def expand(input, *sizes):
    """Broadcast to a larger shape without copying (-1 keeps a dim)."""
    sizes = _sizes(sizes)
    shape = input._data.shape
    n = len(sizes)
    if n < len(shape):
        raise RuntimeError(f"expand({input.type()}{{{list(shape)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({n}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(shape)})")
    lead = n - len(shape)
    target = sizes
    if -1 in sizes:
        if -1 in sizes[:lead]:
            raise RuntimeError("The expanded size of the tensor (-1) isn't allowed in a "
                               f"leading, non-existing dimension {sizes.index(-1)}")
        target = tuple(old if s == -1 and i >= lead else s
                       for i, (s, old) in enumerate(zip(sizes, (1,) * lead + shape)))
    err = expand_error(target, shape, sizes)
    if err is not None:
        raise err
    return _expand(input, target)


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, size):
    return expand(input, size)


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    return Size(np.broadcast_shapes(*shapes))


Tensor.expand, Tensor.expand_as, Tensor.broadcast_to = expand, expand_as, broadcast_to


@op(saves=False, node="RepeatBackward0", method=False)
def _repeat(input, repeats):
    if len(repeats) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of"
                           " dimensions of tensor")
    return np.tile(input, repeats)


@_repeat.backward
def _(ctx, grad, input, repeats):
    shape = ctx._meta[0][0]
    full = (1,) * (len(repeats) - len(shape)) + tuple(shape)
    inter = []
    for r, s in zip(repeats, full):
        inter += [r, s]
    g = grad.reshape(inter).sum(tuple(range(0, len(inter), 2)))
    return g.reshape(shape)


def repeat(input, *repeats):
    """Tile the tensor (torch.Tensor.repeat, numpy's tile)."""
    return _repeat(input, _sizes(repeats))


Tensor.repeat = repeat


def repeat_interleave(input, repeats, dim=None):
    from .indexing import index_select
    if dim is None:
        input, dim = input.reshape(-1), 0
    n = input.shape[dim]
    reps = repeats._data if isinstance(repeats, Tensor) else np.full(n, repeats)
    idx = np.repeat(np.arange(n), np.broadcast_to(reps, (n,)))
    return index_select(input, dim, wrap(idx))


Tensor.repeat_interleave = repeat_interleave


@op(saves=False, node="CloneBackward0")
def clone(input, memory_format=None):
    return input.copy()


@clone.backward
def _(ctx, grad, input, memory_format=None):
    return grad


def contiguous(input, memory_format=None):
    """self when already contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


Tensor.contiguous = contiguous


@op(promote=(0,), saves=False, node="CatBackward0")
def cat(tensors, dim=0):
    """Concatenate along dim (1-D empty tensors are skipped, as in torch)."""
    for i, a in enumerate(tensors):
        if a.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    arrays = [a for a in tensors if not (a.ndim == 1 and a.shape[0] == 0)] or list(tensors)
    if not arrays:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    ref = arrays[0]
    d = wrap_dim(dim, ref.ndim)
    for i, a in enumerate(arrays):
        if a.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and "
                               f"{a.ndim}")
        for k in range(ref.ndim):
            if k != d and a.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref.shape[k]} but got size {a.shape[k]} for "
                                   f"tensor number {i} in the list.")
    return np.concatenate(arrays, axis=d)


@cat.backward
def _(ctx, grad, tensors, dim=0):
    grads = []
    offset = 0
    ref = [t for t in tensors if not (t.dim() == 1 and t.shape[0] == 0)] or tensors
    d = wrap_dim(dim, ref[0].dim())
    for t in tensors:
        if t.dim() == 1 and t.shape[0] == 0 and ref[0].dim() != 1:
            grads.append(None)
            continue
        n = t.shape[d]
        grads.append(grad.narrow(d, offset, n))
        offset += n
    return grads, None


concat = concatenate = cat


@op(promote=(0,), saves=False, node="StackBackward0")
def stack(tensors, dim=0):
    """Stack equal-shaped tensors along a new dim (torch's error names the first mismatch)."""
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0].shape
    for i, a in enumerate(tensors):
        if a.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} "
                               f"at entry 0 and {list(a.shape)} at entry {i}")
    d = wrap_dim(dim, len(ref) + 1)
    return np.stack(tensors, axis=d)


@stack.backward
def _(ctx, grad, tensors, dim=0):
    d = wrap_dim(dim, tensors[0].dim() + 1)
    return list(grad.unbind(d)), None


def hstack(tensors, *, out=None):
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    return cat([atleast_2d(t) for t in tensors], 0, out=out)


@op(saves=False, view=True, method=False, node="SliceBackward0")
def _narrow(input, dim, start, length):
    idx = [slice(None)] * input.ndim
    idx[dim] = slice(start, start + length)
    return input[tuple(idx)]


@_narrow.backward
def _(ctx, grad, input, dim, start, length):
    shape = ctx._meta[0][0]
    from .creation import zeros
    pad_before = list(shape)
    pad_before[dim] = start
    pad_after = list(shape)
    pad_after[dim] = shape[dim] - start - length
    parts = [zeros(pad_before, dtype=grad.dtype), grad, zeros(pad_after, dtype=grad.dtype)]
    return cat(parts, dim)


def narrow(input, dim, start, length):
    """input sliced to [start, start+length) along dim (a view)."""
    d = wrap_dim(dim, input.dim())
    size = input.shape[d]
    start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _narrow(input, d, start, int(length))


Tensor.narrow = narrow


@op(saves=False, view=True, method=False, name="split",
    node=lambda args: "SplitBackward0" if isinstance(args[1], int) else
    "SplitWithSizesBackward0")
def _split(input, split_size_or_sections, dim):
    """Views of consecutive pieces along dim: of split_size each (the last may be smaller) or
    of the listed sizes."""
    size = input.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}")
        sizes = [min(step, size - i) for i in range(0, size, step)] if size else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {dim}), but got split_sizes="
                               f"{sizes}")
    bounds = np.cumsum([0] + sizes)
    key = [slice(None)] * input.ndim
    pieces = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        key[dim] = slice(a, b)
        pieces.append(input[tuple(key)])
    return tuple(pieces)


def _pieces(grad):
    """The grads of a multi-output op's outputs (one output gives a lone tensor)."""
    return grad if type(grad) is tuple else (grad,)


@_split.backward
def _(ctx, grad, input, split_size_or_sections, dim):
    return cat(_pieces(grad), dim)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of split_size (the last may be smaller) or of the listed sizes (views)."""
    return _split(tensor, split_size_or_sections, wrap_dim(dim, tensor.dim()))


def chunk(input, chunks, dim=0):
    """Split into `chunks` pieces of ceil(size/chunks) (fewer pieces when they run out)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    size = input.shape[wrap_dim(dim, input.dim())]
    if size == 0:
        return split(input, [0] * chunks, dim)
    return split(input, -(-size // chunks), dim)


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input.dim())
    size = input.shape[d]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        q, r = divmod(size, n)
        sizes = [q + 1] * r + [q] * (n - r)
    else:
        bounds = [0] + [min(int(i), size) for i in indices_or_sections] + [size]
        sizes = [max(0, b - a) for a, b in zip(bounds, bounds[1:])]
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(narrow(input, d, int(a), n) for a, n in zip(starts, sizes))


@op(saves=False, view=True, method=False, node="SelectBackward0")
def _select(input, dim, index):
    idx = [slice(None)] * input.ndim
    idx[dim] = index
    return input[tuple(idx)]


@_select.backward
def _(ctx, grad, input, dim, index):
    from .indexing import select_backward
    return select_backward(grad, ctx._meta[0][0], dim, index)


def select(input, dim, index):
    """input indexed at `index` along dim (a view with one dim less)."""
    d = wrap_dim(dim, input.dim())
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {size}")
    return _select(input, d, index % size)


@op(saves=False, view=True, method=False, name="unbind", node="UnbindBackward0")
def _unbind(input, dim):
    return tuple(np.moveaxis(input, dim, 0))


@_unbind.backward
def _(ctx, grad, input, dim):
    return stack(_pieces(grad), dim)


def unbind(input, dim=0):
    """All slices along dim, as a tuple of views."""
    return _unbind(input, wrap_dim(dim, input.dim()))


Tensor.split, Tensor.chunk, Tensor.tensor_split = split, chunk, tensor_split
Tensor.select, Tensor.unbind = select, unbind


@op(saves=False, node="FlipBackward0")
def flip(input, dims):
    return np.flip(input, dims_of(dims, input.ndim)).copy()


@flip.backward
def _(ctx, grad, input, dims):
    return grad.flip(dims)


def fliplr(input):
    return flip(input, (1,))


def flipud(input):
    return flip(input, (0,))


@op(saves=False, node="RollBackward0")
def roll(input, shifts, dims=None):
    return np.roll(input, shifts, dims)


@roll.backward
def _(ctx, grad, input, shifts, dims=None):
    neg = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
    return grad.roll(neg, dims)


def _tri(npfn, name):
    @op(name=name, saves=False, inplace=True)
    def f(input, diagonal=0):
        return npfn(input, diagonal)

    @f.backward
    def _(ctx, grad, input, diagonal=0):
        return getattr(grad, name)(diagonal)
    return f


tril = _tri(np.tril, "tril")
triu = _tri(np.triu, "triu")


@op(saves=False, view=True, node="DiagonalBackward0")
def diagonal(input, offset=0, dim1=0, dim2=1):
    """A writable view of the diagonal (np.diagonal's is read-only), as torch's."""
    moved = np.moveaxis(input, (wrap_dim(dim1, input.ndim), wrap_dim(dim2, input.ndim)), (-2, -1))
    moved = moved[..., :, offset:] if offset >= 0 else moved[..., -offset:, :]
    n = min(moved.shape[-2:])
    return np.einsum("...ii->...i", moved[..., :n, :n])


@diagonal.backward
def _(ctx, grad, input, offset=0, dim1=0, dim2=1):
    from .creation import zeros
    shape = ctx._meta[0][0]
    z = zeros(shape, dtype=grad.dtype)
    return z.diagonal_scatter(grad, offset, dim1, dim2)


@op(promote=(0, 1), saves=False)
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of input with the chosen diagonal replaced by src."""
    out = input.copy()
    moved = np.moveaxis(out, (wrap_dim(dim1, out.ndim), wrap_dim(dim2, out.ndim)), (-2, -1))
    rows = np.arange(np.diagonal(moved, offset, -2, -1).shape[-1])
    moved[..., rows + max(-offset, 0), rows + max(offset, 0)] = src
    return out


@diagonal_scatter.backward
def _(ctx, grad, input, src, offset=0, dim1=0, dim2=1):
    from .creation import zeros_like
    return (grad.diagonal_scatter(zeros_like(src), offset, dim1, dim2),
            grad.diagonal(offset, dim1, dim2))


@op(saves=False, node=lambda args: "DiagEmbedBackward0" if args[0].dim() == 1 else
    "DiagonalBackward0_copy")
def diag(input, diagonal=0):
    """1-D -> a matrix with input on the given diagonal; 2-D -> a copy of that diagonal."""
    if input.ndim not in (1, 2):
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got "
                           f"{input.ndim}D")
    return np.diag(input, diagonal)


@diag.backward
def _(ctx, grad, input, diagonal=0):
    if len(ctx._meta[0][0]) == 1:
        return grad.diagonal(diagonal)
    from .creation import zeros
    return zeros(ctx._meta[0][0], dtype=grad.dtype).diagonal_scatter(grad, diagonal)


@op(saves=False, view=True, node="UnfoldBackward0", name="unfold")
def _unfold_view(input, dimension, size, step):
    d = wrap_dim(dimension, input.ndim)
    n = (input.shape[d] - size) // step + 1
    if n < 0 or input.shape[d] < size:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {input.shape[d]} but size"
                           f" is {size}")
    win = np.lib.stride_tricks.sliding_window_view(input, size, axis=d)
    sl = [slice(None)] * win.ndim
    sl[d] = slice(None, None, step)
    return win[tuple(sl)]


@_unfold_view.backward
def _(ctx, grad, input, dimension, size, step):
    from .creation import zeros
    shape = ctx._meta[0][0]
    d = wrap_dim(dimension, len(shape))
    out = zeros(shape, dtype=grad.dtype)
    for k in range(grad.shape[d]):
        piece = grad.select(d, k).movedim(-1, d)
        out = out + _pad_along(piece, shape, d, k * step)
    return out


def _pad_along(piece, shape, d, start):
    from .creation import zeros
    before = list(shape)
    before[d] = start
    after = list(shape)
    after[d] = shape[d] - start - piece.shape[d]
    return cat([zeros(before, dtype=piece.dtype), piece, zeros(after, dtype=piece.dtype)], d)


def atleast_1d(t):
    return t.reshape(1) if t.dim() == 0 else t


def atleast_2d(t):
    return t.reshape(1, 1) if t.dim() == 0 else t.unsqueeze(0) if t.dim() == 1 else t
