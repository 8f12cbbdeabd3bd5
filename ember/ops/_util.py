"""Small helpers shared by the op files: dim normalisation and torch's dtype error texts."""
import numpy as np

from .. import _dtype


def wrap_dim(dim, ndim):
    """A dim in [-ndim, ndim) as a non-negative int; IndexError with torch's text otherwise."""
    n = ndim if ndim else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def dims_of(dim, ndim):
    """Normalise dim=None | int | sequence to a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is tuple and len(dim) == 1 and type(dim[0]) is int:
        dim = dim[0]
    if type(dim) is int and 0 <= dim < ndim:        # the common case, already normalised
        return (dim,)
    if isinstance(dim, (int, np.integer)):
        return (wrap_dim(int(dim), ndim),) if ndim else ()
    dims = tuple(wrap_dim(int(d), ndim) for d in dim) if ndim else ()
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    return tuple(sorted(dims))


def type_name(np_dtype):
    """torch's ScalarType name of a NumPy dtype ('Float', 'Long')."""
    return _dtype.scalar_name(_dtype._BY_NP[np.dtype(np_dtype)])


def not_implemented(kernel, np_dtype):
    """torch's error for a kernel that has no loop for this dtype:
    NotImplementedError('"abs_cpu" not implemented for 'Bool'')."""
    return NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(np_dtype)}'")


def expand_error(target, shape, requested=None):
    """torch's error when a tensor of `shape` cannot be expanded to `target` (None if it can);
    the dims are checked from the last one, as torch does; `requested` are the sizes asked
    for (with -1), when they differ from target."""
    lead = len(target) - len(shape)
    for i in range(len(shape) - 1, -1, -1):
        t = target[lead + i] if lead + i >= 0 else 1
        if shape[i] != 1 and shape[i] != t:
            return RuntimeError(f"The expanded size of the tensor ({t}) must match the existing "
                                f"size ({shape[i]}) at non-singleton dimension {lead + i}.  "
                                f"Target sizes: {list(requested or target)}.  Tensor sizes: "
                                f"{list(shape)}")
    return None
