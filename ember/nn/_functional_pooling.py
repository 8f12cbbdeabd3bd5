"""Pooling functions of torch.nn.functional (re-exported by functional.py): max, average,
adaptive, LP pooling and max-unpooling over 1-3 spatial dims. 1-D pooling runs the 2-D op on
(N, C, 1, L), as torch does (so its grad_fn is SqueezeBackward1, as torch's)."""
import math

from ..ops import pooling as _pool
from ..ops._registry import write_out
from ..ops.conv import _ntuple

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
           "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d",
           "lp_pool1d", "lp_pool2d", "lp_pool3d"]


def _pool_tuple(v, n, what, name, allow_none=False):
    """torch's pooling argument rule: one int or a tuple of n (stride may be omitted)."""
    if type(v) is int:
        return (v,) * n
    if allow_none and (v is None or isinstance(v, (list, tuple)) and len(v) == 0):
        return None
    if isinstance(v, (list, tuple)) and len(v) not in (1, n):
        words = {1: "one", 2: "two", 3: "three"}
        raise RuntimeError(f"{name}: {what} must either be "
                           + ("omitted, " if allow_none else "")
                           + f"a single int, or a tuple of {words[n]} ints")
    return _ntuple(v, n)


# -- pooling ---------------------------------------------------------------------------------
def _check_pool_input(input, nd, name):
    if input.dim() not in (nd + 1, nd + 2) or input.numel() == 0:
        if nd == 1:
            raise RuntimeError(f"{name}: Expected 2D or 3D (batch mode) tensor with optional 0 "
                               f"dim batch size for input, but got:{list(input.shape)}")
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for "
                           "input")


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd):
    name = f"max_pool{nd}d"
    _check_pool_input(input, nd, name)
    k = _pool_tuple(kernel_size, nd, "kernel_size", name)
    s = _pool_tuple(stride, nd, "stride", name, allow_none=True) or k
    p = _pool_tuple(padding, nd, "padding", name)
    d = _pool_tuple(dilation, nd, "dilation", name)
    if nd == 1:         # torch pools 1-D signals as (1, L) planes
        out = _pool._max_pool(input.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p, (1,) + d,
                              ceil_mode, return_indices)
        return tuple(o.squeeze(-2) for o in out) if return_indices else out.squeeze(-2)
    return _pool._max_pool(input, k, s, p, d, ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


max_pool1d_with_indices = max_pool1d
max_pool2d_with_indices = max_pool2d
max_pool3d_with_indices = max_pool3d


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, nd):
    name = f"avg_pool{nd}d"
    if nd == 1:
        if input.dim() not in (2, 3):
            raise RuntimeError(f"avg_pool1d() Expected 2D or 3D input tensor, but got "
                               f"{list(input.shape)}")
        k = _pool_tuple(kernel_size, 1, "kernel_size", name)
        s = _pool_tuple(stride, 1, "stride", name, allow_none=True) or k
        p = _pool_tuple(padding, 1, "padding", name)
        return _pool._avg_pool(input.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p, ceil_mode,
                               count_include_pad, None).squeeze(-2)
    _check_pool_input(input, nd, name)
    k = _pool_tuple(kernel_size, nd, "kernel_size", name)
    s = _pool_tuple(stride, nd, "stride", name, allow_none=True) or k
    p = _pool_tuple(padding, nd, "padding", name)
    return _pool._avg_pool(input, k, s, p, ceil_mode, count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, out=None):
    if out is not None:
        return write_out(out, avg_pool2d(input, kernel_size, stride, padding, ceil_mode,
                                         count_include_pad, divisor_override), "avg_pool2d")
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3)


def _adaptive_size(input, output_size, nd, name):
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(input.shape)}")
    for i in range(1, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {i} being empty")
    sizes = output_size if isinstance(output_size, (list, tuple)) else (output_size,) * nd
    if len(sizes) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}")
    return tuple(input.shape[-nd + i] if o is None else int(o) for i, o in enumerate(sizes))


def adaptive_avg_pool1d(input, output_size):
    size = _adaptive_size(input, output_size, 1, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1,) + size).squeeze(-2)


def adaptive_avg_pool2d(input, output_size):
    size = _adaptive_size(input, output_size, 2, "adaptive_avg_pool2d")
    if size == (1, 1):                  # torch takes the mean
        return input.mean((-2, -1), keepdim=True)
    return _pool._adaptive_avg_pool(input, size)


def adaptive_avg_pool3d(input, output_size):
    size = _adaptive_size(input, output_size, 3, "adaptive_avg_pool3d")
    if size == (1, 1, 1):
        return input.mean((-3, -2, -1), keepdim=True)
    return _pool._adaptive_avg_pool(input, size)


def _adaptive_max(input, output_size, return_indices, nd):
    size = _adaptive_size(input, output_size, nd, f"adaptive_max_pool{nd}d")
    if nd == 1:
        out, idx = _pool._adaptive_max_pool(input.unsqueeze(-2), (1,) + size)
        out, idx = out.squeeze(-2), idx.squeeze(-2)
    else:
        out, idx = _pool._adaptive_max_pool(input, size)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, return_indices, 1)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, return_indices, 3)


adaptive_max_pool1d_with_indices = adaptive_max_pool1d
adaptive_max_pool2d_with_indices = adaptive_max_pool2d
adaptive_max_pool3d_with_indices = adaptive_max_pool3d


def _unpool_size(input, kernel_size, stride, padding, output_size, nd):
    k = _ntuple(kernel_size, nd)
    s = _ntuple(stride, nd) if stride is not None else k
    p = _ntuple(padding, nd)
    default = tuple((input.shape[-nd + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        return default
    size = tuple(output_size)
    if len(size) == nd + 2:
        size = size[2:]
    if len(size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(size)}'")
    for d in range(nd):
        lo, hi = default[d] - s[d], default[d] + s[d]
        if not lo < size[d] < hi:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be '
                             f'between {lo} and {hi})')
    return tuple(int(v) for v in size)


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd):
    size = _unpool_size(input, kernel_size, stride, padding, output_size, nd)
    if nd == 1:
        return _pool._max_unpool(input.unsqueeze(-2), indices.unsqueeze(-2),
                                 (1,) + size).squeeze(-2)
    return _pool._max_unpool(input, indices, size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd):
    k = _ntuple(kernel_size, nd)
    out = _avg_pool(input.pow(norm_type), k, stride, 0, ceil_mode, True, None, nd)
    return (out.sign() * out.abs().relu()).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)
