"""ember.save / ember.load: PyTorch's checkpoint files (torch.serialization).

`save` writes the zip format of torch 2.13: a protocol-2 `data.pkl` whose tensors are
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)` calls and
whose storages are persistent ids `('storage', torch.<T>Storage, key, location, numel)`, plus one
64-byte aligned `data/<key>` record per storage, so torch.load(weights_only=True) reads it.
torch's names are written as GLOBAL opcodes by a Python-level pickler: torch is never imported.

`load` reads that format and the legacy one (pre-1.6, `_use_new_zipfile_serialization=False`).
By default (weights_only=True) only torch's allow-list of globals (tensors, storages, dtypes,
containers, primitive types) and those added with `add_safe_globals` may appear; with
weights_only=False any object loads and names under `torch.` / `torchvision.` resolve to
`ember.` / `ember.vision.`.
"""
import contextlib
import functools
import io
import os
import pathlib
import pickle
import struct
import sys
import uuid
import warnings
import zipfile
from collections import OrderedDict

import numpy as np

from . import _dtype
from ._device import device
from ._load import (MAGIC_NUMBER, PROTOCOL_VERSION, add_safe_globals, clear_safe_globals,  # noqa
                    get_safe_globals, safe_globals, default_restore_location, load_legacy,
                    load_zip, parameter_class as _parameter_class, _Corrupt, _Unpickler,
                    _WeightsOnlyError, _WeightsUnpickler, _weights_only_message)
from ._size import Size
from ._tensor import Tensor, wrap
from ._zip import ALIGNMENT, ZipWriter

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals", "default_restore_location", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = 2


# ---------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------
class _Global:
    """A global known by module and name only, pickled as a GLOBAL opcode."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):                # pickle wants reduce functions to be callable
        raise TypeError(f"{self.module}.{self.name} only names a global in a pickle")


@functools.lru_cache(maxsize=None)
def _global(module, name):
    return _Global(module, name)        # one object per name, so the pickle memo reuses it


class _Storage:
    """One storage being saved: the bytes of a root array, viewed by tensors of one dtype."""

    __slots__ = ("key", "root", "dtype", "location", "numel", "type_name")

    def pid(self, legacy):
        """The persistent id, a fresh tuple each time as torch writes it."""
        pid = ("storage", _global("torch", self.type_name), self.key, self.location, self.numel)
        return pid + (None,) if legacy else pid

    def buffer(self):
        return memoryview(self.root.reshape(-1).view(np.uint8))[:self.numel * self.dtype.itemsize]


class _Data:
    """The data of a Parameter: pickled as a plain tensor without requires_grad."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array


class _Pickler(pickle._Pickler):
    """Pickles tensors, dtypes, Size and device under torch's names; storages become persistent
    ids and are collected in `self.storages`, in the order torch numbers them."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol, legacy=False):
        super().__init__(file, protocol)
        self.legacy = legacy
        self.storages = []
        self._by_root = {}

    def _save_name(self, obj):
        module = "torch" if type(obj) is _dtype.dtype else obj.module
        self.write(pickle.GLOBAL + f"{module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_Global] = dispatch[_dtype.dtype] = _save_name

    def persistent_id(self, obj):
        return obj.pid(self.legacy) if type(obj) is _Storage else None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            parameter = _parameter_class()
            if parameter is not None and isinstance(obj, parameter):
                return (_global("torch._utils", "_rebuild_parameter"),
                        (_Data(obj._data), obj.requires_grad, OrderedDict()))
            return self._reduce_array(obj._data, obj.requires_grad)
        kind = type(obj)
        if kind is _Data:
            return self._reduce_array(obj.array, False)
        if kind is Size:
            return _global("torch", "Size"), (tuple(obj),)
        if kind is device:              # a fresh type string, unshared in the memo as torch's
            kind_name = obj.type.encode().decode()
            return _global("torch", "device"), (kind_name,) if obj.index is None \
                else (kind_name, obj.index)
        return NotImplemented

    def _reduce_array(self, array, requires_grad):
        location = "cpu"
        if not isinstance(array, np.ndarray):            # a CuPy array
            location, array = f"cuda:{array.device.id}", array.get()
        storage, offset, stride = self._storage_of(array, location)
        if array.flags.c_contiguous:            # torch's strides where NumPy's are arbitrary
            stride = _contiguous_strides(array.shape)
        return (_global("torch._utils", "_rebuild_tensor_v2"),
                (storage, offset, tuple(array.shape), stride, requires_grad, OrderedDict()))

    def _storage_of(self, array, location):
        """(storage, offset, stride) of an array: views of one root array share its storage;
        a view the format cannot express (negative strides...) is saved as a copy."""
        root = array
        while isinstance(root.base, np.ndarray):
            root = root.base
        item = array.itemsize
        start = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        if not (root.flags.c_contiguous and start >= 0 and start % item == 0
                and all(s >= 0 and s % item == 0 for s in array.strides)):
            root = array = np.ascontiguousarray(array)
            start = 0
        storage = self._by_root.get(id(root))
        if storage is None:
            storage = self._by_root[id(root)] = _Storage()
            storage.key, storage.root, storage.dtype = str(len(self.storages)), root, array.dtype
            storage.location, storage.numel = location, root.nbytes // item
            storage.type_name = _dtype.scalar_name(_dtype.from_numpy_dtype(array.dtype)) + "Storage"
            self.storages.append(storage)
        elif storage.dtype != array.dtype:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same data "
                               "as different types")
        return storage, start // item, tuple(s // item for s in array.strides)


def _contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _archive_name(path):
    """torch names the archive folder after the file: 'model.pth' -> 'model'."""
    stem = os.path.basename(path).rsplit(".", 1)[0]
    return stem if stem and stem.isascii() else "archive"


def _hash_combine(seed, value):
    mask = (1 << 64) - 1
    return seed ^ ((value + 0x9E3779B9 + (seed << 6) + (seed >> 2)) & mask)


def _write_zip(obj, stream, archive_name, protocol, byteorder_record):
    data = io.BytesIO()
    pickler = _Pickler(data, protocol)
    pickler.dump(obj)
    writer = ZipWriter(stream, archive_name)
    records = [("data.pkl", data.getbuffer()), (".format_version", b"1"),
               (".storage_alignment", str(ALIGNMENT).encode())]
    if byteorder_record:
        records.append(("byteorder", sys.byteorder.encode()))
    records += [("data/" + s.key, s.buffer()) for s in pickler.storages]
    records.append(("version", b"3\n"))
    sizes = crcs = 0                    # the id: 20 digits from the sizes, 20 from the CRCs
    for name, payload in records:
        crc, size = writer.write_record(name, payload), memoryview(payload).nbytes
        if size:
            crcs, sizes = _hash_combine(crcs, crc), _hash_combine(sizes, size)
    writer.write_record(".data/serialization_id", f"{sizes:020d}{crcs:020d}".encode())
    writer.finish()


def _write_legacy(obj, stream, protocol):
    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info):
        pickle.dump(header, stream, protocol=protocol)
    pickler = _Pickler(stream, protocol, legacy=True)
    pickler.dump(obj)
    pickle.dump([s.key for s in pickler.storages], stream, protocol=protocol)
    for s in pickler.storages:
        stream.write(struct.pack("<q", s.numel))
        stream.write(s.buffer())


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """torch.save: the zip format (or the legacy one) to a path, path-like or binary file
    object. A path is written through a temporary file in the same folder renamed over the
    target at the end, so an interrupted save never leaves a truncated file."""
    if pickle_module is not pickle:
        raise NotImplementedError("ember.save writes with the standard pickle module only")

    def write(stream, archive_name):
        if _use_new_zipfile_serialization:
            _write_zip(obj, stream, archive_name, pickle_protocol, not _disable_byteorder_record)
        else:
            _write_legacy(obj, stream, pickle_protocol)

    if not isinstance(f, (str, os.PathLike)):
        write(f, "archive")
        return
    path = os.fspath(f)
    parent = pathlib.Path(path).parent
    if not parent.exists():
        raise RuntimeError(f"Parent directory {parent} does not exist.")
    tmp = os.path.join(parent, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as stream:
            write(stream, _archive_name(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _rebuild_from_array(array, requires_grad):
    t = wrap(array)
    t.requires_grad = requires_grad
    return t


def _reduce_tensor(t):
    """Tensor.__reduce_ex__ for plain pickle (copy, multiprocessing): the array and the flag."""
    return _rebuild_from_array, (t._data, t.requires_grad)


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------
_BROKEN = (_Corrupt, zipfile.BadZipFile, EOFError, pickle.UnpicklingError, struct.error,
           ValueError, OSError)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """torch.load: a checkpoint from a path, path-like or binary file object, in the zip format
    or the legacy one. weights_only (the default) refuses globals outside torch's allow-list
    and add_safe_globals with torch's UnpicklingError; map_location is a str, device, dict
    {saved: target} or callable(storage, location); mmap maps storages from the file.
    A truncated, corrupt or empty file raises RuntimeError naming the file."""
    weights_only = True if weights_only is None else bool(weights_only)
    if weights_only:
        if pickle_module is not None:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                               "specified")
        if pickle_load_args:
            warnings.warn("pickle_load_args only works if `weights_only=False`.")
        unpickler = _WeightsUnpickler
    elif pickle_module in (None, pickle):
        unpickler = _Unpickler
    else:
        raise NotImplementedError("ember.load unpickles with the standard pickle module only")
    pickle_load_args.setdefault("encoding", "utf-8")
    is_path = isinstance(f, (str, os.PathLike))
    if mmap and not is_path:
        raise ValueError("f must be a file path in order to use the mmap argument")
    name = os.fspath(f) if is_path else getattr(f, "name", f"<{type(f).__name__}>")
    with (open(f, "rb") if is_path else contextlib.nullcontext(f)) as stream:
        start = stream.tell()
        head = stream.read(4)
        stream.seek(start)
        if not head:
            raise RuntimeError(f"ember.load: {name!r} is not a valid checkpoint (the file is "
                               "empty)")
        zipped = head == b"PK\x03\x04"
        if mmap and not zipped:
            shown = f"{f}, " if isinstance(f, str) else ""
            raise RuntimeError("mmap can only be used with files saved with "
                               f"`torch.save({shown}_use_new_zipfile_serialization=True), please "
                               "torch.save your checkpoint with this option in order to use mmap.")
        args = (stream, unpickler, pickle_load_args, map_location, weights_only)
        try:
            if zipped:
                return load_zip(*args, os.fspath(f) if mmap else None)
            return load_legacy(*args)
        except _WeightsOnlyError as e:
            raise pickle.UnpicklingError(_weights_only_message(str(e))) from None
        except _BROKEN as e:
            kind = "truncated or corrupt zip archive" if zipped else \
                "not a zip archive, and not a legacy checkpoint"
            raise RuntimeError(f"ember.load: {name!r} is not a valid checkpoint ({kind}: "
                               f"{type(e).__name__}: {e})") from None
