"""repr/str of tensors, character-for-character as torch 2.x prints them.

The layout rules followed here were read off torch's output: one formatter per tensor decides
how every shown element is written (integer-valued floats as ``1.``, fixed ``precision``
digits, or scientific notation) and pads all of them to one width; rows wrap at ``linewidth``;
tensors with more than ``threshold`` elements show only ``edgeitems`` per end of each dimension.
"""
import math

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "tensor_repr", "format_scalar"]

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}
_OPTS = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions: a profile resets the four numeric options, explicit values then
    override them; sci_mode is always set (None means decide per tensor)."""
    if profile is not None:
        _OPTS.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _OPTS[name] = value
    _OPTS["sci_mode"] = sci_mode


def get_printoptions():
    """torch._tensor_str.get_printoptions: a copy of the current options as a dict."""
    return dict(_OPTS)


class _Formatter:
    """Writes the elements of one (real) array the way torch's formatter does.

    Floats are in int mode when every nonzero finite value is integral (``3.``); scientific
    notation is chosen when max/min of the nonzero finite magnitudes exceeds 1000, the max
    exceeds 1e8 or the min is under 1e-4 (``sci_mode`` overrides). The common width is taken
    from the nonzero finite values only, so zeros, nan and inf are padded (or not) to it.
    """

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in values.ravel().tolist()])
            return
        values = values.astype(np.float64).ravel()
        shown = values[np.isfinite(values) & (values != 0)]
        if shown.size == 0:
            return
        lo, hi = float(np.abs(shown).min()), float(np.abs(shown).max())
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        sci = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        self.sci_mode = sci if _OPTS["sci_mode"] is None else _OPTS["sci_mode"]
        self.width = max(len(self._text(v)) for v in shown.tolist())

    def _text(self, value):
        if not self.floating:
            return str(value)
        if self.sci_mode:
            return f"{value:.{_OPTS['precision']}e}"
        if self.int_mode:
            return f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        return f"{value:.{_OPTS['precision']}f}"

    def format(self, value):
        return self._text(value).rjust(self.width)


def _format_element(value, real_fmt, imag_fmt):
    """One element; complex ones join the real and the (unpadded) imaginary part: `1.+2.j`."""
    if imag_fmt is None:
        return real_fmt.format(value)
    imag = (imag_fmt.format(value.imag) + "j").lstrip()
    sign = "" if imag[0] in "+-" else "+"
    return real_fmt.format(value.real) + sign + imag


def _shown(a, summarize):
    """The elements that will be printed: all, or `edgeitems` from each end of every long
    dimension when summarizing (the formatter's width only looks at these)."""
    edge = _OPTS["edgeitems"]
    if not summarize:
        return a
    for axis, n in enumerate(a.shape):
        if n > 2 * edge:
            keep = np.r_[0:edge, n - edge:n]
            a = np.take(a, keep, axis=axis)
    return a


def _vector_str(a, indent, summarize, real_fmt, imag_fmt):
    """A 1-D row, wrapped so that each line holds as many elements as fit in linewidth."""
    edge = _OPTS["edgeitems"]
    item_len = real_fmt.width + 2
    if imag_fmt is not None:
        item_len += imag_fmt.width + 1
    per_line = max(1, math.floor((_OPTS["linewidth"] - indent) / item_len))

    def fmt(values):
        return [_format_element(v, real_fmt, imag_fmt) for v in values.tolist()]

    if summarize and not edge:
        items = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        items = fmt(a[:edge]) + [" ..."] + fmt(a[-edge:])
    else:
        items = fmt(a)
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a, indent, summarize, real_fmt, imag_fmt):
    """Brackets nested per dimension; sub-blocks of a k-dim array are separated by k-1 newlines."""
    if a.ndim == 0:
        return _format_element(a.item(), real_fmt, imag_fmt)
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, real_fmt, imag_fmt)
    edge, n = _OPTS["edgeitems"], a.shape[0]

    def sub(rows):
        return [_nested_str(a[i], indent + 1, summarize, real_fmt, imag_fmt) for i in rows]

    if summarize and n > 2 * edge:
        parts = sub(range(edge)) + ["..."] + sub(range(n - edge, n))
    else:
        parts = sub(range(n))
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _tensor_str(a, indent):
    """The bracketed contents of a non-empty array."""
    summarize = a.size > _OPTS["threshold"]
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    shown = _shown(a, summarize)
    if a.dtype.kind == "c":
        real_fmt, imag_fmt = _Formatter(shown.real), _Formatter(shown.imag)
    else:
        real_fmt, imag_fmt = _Formatter(shown), None
    return _nested_str(a, indent, summarize, real_fmt, imag_fmt)


def _add_suffixes(text, suffixes, indent):
    """Append `, key=value` suffixes, moving one to a new line when it would pass linewidth
    (torch measures the last line one character longer than it is)."""
    last_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_len + len(suffix) + 2 > _OPTS["linewidth"]:
            text += ",\n" + " " * indent + suffix
            last_len = indent + len(suffix)
        else:
            text += ", " + suffix
            last_len += len(suffix) + 2
    return text + ")"


def _host(data):
    """The tensor's data as a NumPy array (CUDA tensors hold CuPy arrays: copied to the host)."""
    return np.asarray(data) if isinstance(data, (np.ndarray, np.generic)) else data.get()


def tensor_repr(t, tensor_contents=None):
    """torch's Tensor.__repr__: `tensor(<contents>, device=..., size=..., dtype=...,
    grad_fn=<...>|requires_grad=True)`. The dtype is omitted for the default float dtype, its
    complex counterpart, int64 and bool (empty tensors: only for the default float dtype)."""
    from ._dtype import get_default_dtype
    default = get_default_dtype().name
    default_complex = "complex128" if default == "float64" else "complex64"
    prefix = "tensor("
    indent = len(prefix)
    a = _host(t._data)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if t.dtype.name != default:
            suffixes.append(f"dtype={t.dtype!r}")
    else:
        if not _OPTS["edgeitems"]:
            suffixes.append(f"size={tuple(a.shape)}")
        if t.dtype.name not in (default, default_complex, "int64", "bool"):
            suffixes.append(f"dtype={t.dtype!r}")
    if tensor_contents is not None:
        body = tensor_contents
    else:
        body = _tensor_str(a, indent) if a.size else "[]"
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


def format_scalar(t, spec):
    """torch's Tensor.__format__: a 0-dim tensor formats as its Python scalar
    (`f'{t:.2f}'`, and `f'{t}'` gives `2.5`, not the repr); other tensors use
    object.__format__ (str(t) for an empty spec, TypeError otherwise)."""
    if t._data.ndim == 0:
        return format(_host(t._data).item(), spec)
    return object.__format__(t, spec)
