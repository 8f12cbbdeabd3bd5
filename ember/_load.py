"""The reading side of ember.load: the globals a checkpoint may name (torch's weights_only
allow-list plus add_safe_globals), the unpicklers, map_location, the rebuild functions named in
checkpoints (torch._utils._rebuild_tensor_v2, ...) and the readers of the zip and legacy formats.
"""
import _compat_pickle
import contextlib
import functools
import io
import mmap
import pickle
import struct
import sys
import warnings
import zipfile
from _codecs import encode as _codecs_encode
from collections import Counter, OrderedDict

import numpy as np

from . import _dtype, _legacy
from ._device import CPU, device
from ._size import Size
from ._tensor import Tensor, wrap
from ._zip import data_offset

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C      # the legacy format's first pickle
PROTOCOL_VERSION = 1001


def parameter_class():
    """ember.nn.Parameter, looked up when needed (written apart from the core)."""
    try:
        from .nn.parameter import Parameter
    except ImportError:
        return None
    return Parameter


# ---------------------------------------------------------------------------------------------
# safe globals (torch.serialization.add_safe_globals and friends)
# ---------------------------------------------------------------------------------------------
_user_safe_globals = set()


def add_safe_globals(safe_globals):
    """Allow these functions/classes (or (obj, "module.name") pairs) in weights_only loads."""
    _user_safe_globals.update(safe_globals)


def get_safe_globals():
    return list(_user_safe_globals)


def clear_safe_globals():
    _user_safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Context manager: add_safe_globals for the duration of the block."""
    added = set(safe_globals) - _user_safe_globals
    _user_safe_globals.update(added)
    try:
        yield
    finally:
        _user_safe_globals.difference_update(added)


def _user_globals():
    named = {}
    for entry in _user_safe_globals:
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full "
                                 f"path), but got tuple of length: {len(entry)}")
            if type(entry[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full path, "
                                f"but got: {type(entry[1])}")
            named[entry[1]] = entry[0]
        else:
            named[f"{entry.__module__}.{entry.__qualname__}"] = entry
    return named


# ---------------------------------------------------------------------------------------------
# load: the globals a checkpoint may name
# ---------------------------------------------------------------------------------------------
class _WeightsOnlyError(pickle.UnpicklingError):
    """A global or persistent id that weights_only=True refuses."""


class _Corrupt(Exception):
    """The file is not a well-formed checkpoint."""


class _StorageType:
    """What `torch.FloatStorage` and the other storage classes resolve to: an element dtype."""

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype


_UNSUPPORTED = object()
_BLOCKED_MODULES = ("sys", "os", "posix", "nt")
_TORCH_ONLY_NAMES = (
    [f"torch.{d}" for d in "qint8 qint32 quint8 quint4x2 quint2x4 bits16 bits1x8 bits2x4 bits4x2 "
     "bits8 complex32 float4_e2m1fn_x2 float8_e4m3fn float8_e4m3fnuz float8_e5m2 "
     "float8_e5m2fnuz float8_e8m0fnu uint16 uint32 uint64 per_tensor_affine "
     "per_tensor_symmetric per_channel_affine per_channel_symmetric "
     "per_channel_affine_float_qparams".split()]
    + [f"torch.{k}{n}" for k in ("uint", "int") for n in range(1, 8)]
    + [f"torch.Q{q}Storage" for q in ("Int32", "Int8", "UInt2x4", "UInt4x2", "UInt8")]
    + [f"torch.{s}{t}Tensor" for s in ("sparse.", "cuda.sparse.")
       for t in ("BFloat16", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short")]
    + [f"torch._utils._rebuild_{f}" for f in ("qtensor", "sparse_tensor", "nested_tensor",
                                              "meta_tensor_no_storage", "wrapper_subclass")])


@functools.lru_cache(maxsize=1)
def _torch_globals():
    """torch's weights_only allow-list (torch/_weights_only_unpickler.py) resolved to ember's
    objects; _UNSUPPORTED where ember has no counterpart (quantized, sparse, uint16...)."""
    allowed = {
        "collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
        "_codecs.encode": _codecs_encode, "builtins.bytearray": bytearray, "builtins.set": set,
        "builtins.complex": complex, "torch.Size": Size, "torch.Tensor": Tensor,
        "torch.device": device, "torch.serialization._get_layout": _get_layout,
        "torch.nn.parameter.Parameter": parameter_class() or _UNSUPPORTED,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.storage.TypedStorage": _StorageType(_dtype.uint8),
        "torch.storage.UntypedStorage": _StorageType(_dtype.uint8),
        "torch._utils._rebuild_device_tensor_from_numpy": _rebuild_device_tensor,
        "torch._utils._rebuild_device_tensor_from_cpu_tensor": _rebuild_device_tensor,
    }
    for f in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
              _rebuild_parameter_with_state):
        allowed["torch._utils." + f.__name__] = f
    for d in _dtype._ALL:
        allowed["torch." + d.name] = d
        storage = _dtype.scalar_name(d) + "Storage"
        allowed["torch." + storage] = allowed["torch.cuda." + storage] = _StorageType(d)
    for cls in _legacy._ALL:
        allowed["torch." + cls.__name__] = cls
        allowed["torch.cuda." + cls.__name__] = _legacy._CUDA[cls.__name__]
    allowed.update(dict.fromkeys(_TORCH_ONLY_NAMES, _UNSUPPORTED))
    return allowed


def _torch_global(full_name):
    obj = _torch_globals().get(full_name)
    if obj is _UNSUPPORTED:
        raise RuntimeError(f"ember.load: the checkpoint uses {full_name}, which ember does not "
                           "support")
    return obj


def _py3_name(module, name):
    """Python 2 names of protocol-2 pickles -> Python 3 ones (`__builtin__.set` -> `builtins`)."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _ember_module(module):
    """torch's module names -> ember's: torch.nn... -> ember.nn..., torchvision -> ember.vision."""
    for torch_name, ember_name in (("torchvision", "ember.vision"), ("torch", "ember")):
        if module == torch_name or module.startswith(torch_name + "."):
            return ember_name + module[len(torch_name):]
    return module


class _WeightsUnpickler(pickle._Unpickler):
    """weights_only=True: only torch's allow-list and add_safe_globals, never sys/os; BUILD
    (which sets attributes) only on tensors, OrderedDicts and allowed types. Pure Python, as
    torch's, so that BUILD can be checked; data.pkl holds metadata only, so this is cheap."""

    dispatch = pickle._Unpickler.dispatch.copy()

    def _load_build(self):
        inst = self.stack[-2]
        allowed = {*_torch_globals().values(), *_user_globals().values()}
        if not isinstance(inst, (Tensor, OrderedDict)) and type(inst) not in allowed:
            raise _WeightsOnlyError("Can only build Tensor, Parameter, OrderedDict or types "
                                    f"allowlisted via `add_safe_globals`, but got {type(inst)}")
        pickle._Unpickler.load_build(self)

    dispatch[pickle.BUILD[0]] = _load_build

    def find_class(self, module, name):
        module, name = _py3_name(module, name)
        full = f"{module}.{name}"
        if module in _BLOCKED_MODULES:
            raise _WeightsOnlyError(f"Trying to load unsupported GLOBAL {full} whose module "
                                    f"{module} is blocked.")
        obj = _torch_global(full)
        if obj is None:
            user = _user_globals()
            obj = user.get(full, user.get(f"{_ember_module(module)}.{name}"))
        if obj is None:
            shown = full[len("builtins."):] if full.startswith("builtins.") else full
            raise _WeightsOnlyError(
                f"Unsupported global: GLOBAL {shown} was not an allowed global by default. "
                f"Please use `torch.serialization.add_safe_globals([{shown}])` or the "
                f"`torch.serialization.safe_globals([{shown}])` context manager to allowlist "
                "this global if you trust this class/function.")
        return obj


class _Unpickler(pickle.Unpickler):
    """weights_only=False: any global; torch's names resolve to ember's."""

    def find_class(self, module, name):
        py3_module, py3_name = _py3_name(module, name)
        obj = _torch_global(f"{py3_module}.{py3_name}")
        if obj is not None:
            return obj
        ember_module = _ember_module(py3_module)
        if ember_module != py3_module:
            return super().find_class(ember_module, py3_name)
        return super().find_class(module, name)


class _HeaderUnpickler(pickle.Unpickler):
    """The plain pickles of the legacy format (magic number, versions, storage keys)."""

    def find_class(self, module, name):
        raise _Corrupt(f"unexpected global {module}.{name}")


_UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will "
    "likely succeed, but it can result in arbitrary code execution. Do it only if you got the "
    "file from a trusted source.")
_DOCS_MESSAGE = (
    "\n\nCheck the documentation of torch.load to learn more about types accepted by default "
    "with weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")


def _weights_only_message(message):
    """torch.load's wording around a weights_only refusal."""
    if "was not an allowed global by default." in message:
        text = ("Weights only load failed. This file can still be loaded, to do so you have two "
                "options, \033[1mdo those steps only if you trust the source of the "
                f"checkpoint\033[0m. \n\t(1) {_UNSAFE_MESSAGE}\n\t(2) Alternatively, to load "
                "with `weights_only=True` please check the recommended steps in the following "
                "error message.\n\tWeightsUnpickler error: " + message)
    else:
        text = f"Weights only load failed. {_UNSAFE_MESSAGE}\n"
        if "is blocked" not in message:
            text += ("Please file an issue with the following so that we can make "
                     "`weights_only=True` compatible with your use case: WeightsUnpickler error: ")
        text += "\n\n" + message
    return text + _DOCS_MESSAGE


# ---------------------------------------------------------------------------------------------
# load: storages, map_location and the rebuild functions named in checkpoints
# ---------------------------------------------------------------------------------------------
class _LoadedStorage:
    """A storage read from a checkpoint: bytes (a NumPy uint8 array), the element dtype and the
    device its tensors go to. A map_location callable receives it with its location tag and
    returns it (or storage.cpu() / .cuda(i) / .to(dev)) or None."""

    __slots__ = ("_bytes", "dtype", "device", "copied")

    def __init__(self, data, dtype, dev=CPU):
        self._bytes, self.dtype, self.device = data, dtype, dev
        self.copied = False

    def nbytes(self):
        return self._bytes.nbytes

    def size(self):
        return self._bytes.nbytes // self.dtype.itemsize

    __len__ = size

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def to(self, dev):
        dev = device(dev) if not isinstance(dev, device) else dev
        if dev.type == "cuda":
            _validate_cuda(dev)
        return _LoadedStorage(self._bytes, self.dtype, dev)

    def cpu(self):
        return self.to(CPU)

    def cuda(self, dev=None):
        return self.to(device("cuda", dev) if dev is None or isinstance(dev, int) else dev)

    def __repr__(self):
        return f"<storage of {self.size()} {self.dtype} on {self.device}>"


def _validate_cuda(dev):
    try:
        from . import cuda
        count = cuda.device_count() if cuda.is_available() else 0
    except ImportError:
        count = 0
    if not count:
        raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                           "torch.cuda.is_available() is False. If you are running on a CPU-only "
                           "machine, please use torch.load with map_location=torch.device('cpu') "
                           "to map your storages to the CPU.")
    if (dev.index or 0) >= count:
        raise RuntimeError(f"Attempting to deserialize object on CUDA device {dev.index} but "
                           f"torch.cuda.device_count() is {count}. Please use torch.load with "
                           "map_location to map your storages to an existing device.")


def default_restore_location(storage, location):
    """torch.serialization.default_restore_location for the 'cpu' and 'cuda[:i]' tags."""
    if location == "cpu":
        return storage.cpu()
    if location == "cuda" or location.startswith("cuda:"):
        return storage.to(location)
    raise RuntimeError("don't know how to restore data location of torch.storage.UntypedStorage "
                       f"(tagged with {location})")


def _restore_location(map_location):
    """map_location (None, str, device, dict or callable) as f(storage, location) -> storage."""
    if map_location is None:
        return default_restore_location
    if isinstance(map_location, dict):
        return lambda s, loc: default_restore_location(s, map_location.get(loc, loc))
    if isinstance(map_location, (str, bytes, device)):
        target = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
        return lambda s, loc: default_restore_location(s, target)

    def restore(storage, location):
        result = map_location(storage, location)
        return default_restore_location(storage, location) if result is None else result
    return restore


def _ascii(s):
    return s.decode("ascii") if isinstance(s, bytes) else s


class _Loader:
    """Turns the persistent ids of one checkpoint into storages; `read(key, nbytes, dtype)`
    gives a storage's bytes."""

    def __init__(self, read, map_location, weights_only):
        self.storages = {}
        self._read, self._weights_only = read, weights_only
        self._restore = _restore_location(map_location)

    def persistent_load(self, pid):
        kind = _ascii(pid[0]) if type(pid) is tuple and pid else None
        if kind == "module" and not self._weights_only:
            return pid[1]                     # an nn.Module class in a legacy full-model pickle
        if kind != "storage":
            if not self._weights_only:
                raise RuntimeError(f"Unknown saved id type: {pid!r}")
            raise _WeightsOnlyError(f"Only persistent_load of storage is allowed, but got {pid!r}")
        storage_type, key, location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise _Corrupt(f"persistent id {pid!r} does not name a storage type")
        storage = self.storages.get(key)
        if storage is None:
            dtype = storage_type.dtype
            data = self._read(key, numel * dtype.itemsize, dtype)
            storage = self._restore(_LoadedStorage(data, dtype), _ascii(location))
            if not isinstance(storage, _LoadedStorage):
                raise TypeError(f"map_location returned {type(storage).__name__}, expected the "
                                "storage it was given (or one moved with .cpu()/.cuda()/.to())")
            self.storages[key] = storage
        view = pid[5] if len(pid) > 5 else None
        if view is None:
            return storage
        view_key, offset, size = view         # legacy storage views
        if view_key not in self.storages:
            item = storage.dtype.itemsize
            self.storages[view_key] = _LoadedStorage(
                storage._bytes[offset * item:(offset + size) * item], storage.dtype,
                storage.device)
        return self.storages[view_key]


def _tensor_from(storage, offset, size, stride, requires_grad, metadata=None, dtype=None):
    """A tensor viewing a storage's bytes: torch's `set_(storage, offset, size, stride)`.
    bfloat16 (widened to float32), conj/neg bits and non-CPU devices need a copy: the storage
    is marked `copied`, which makes the legacy reader rebuild once the bytes are read."""
    dtype = storage.dtype if dtype is None else dtype
    np_dtype = np.dtype(np.uint16) if dtype is _dtype.bfloat16 else dtype.np
    item = np_dtype.itemsize
    try:
        array = np.ndarray(tuple(size), np_dtype, buffer=storage._bytes, offset=offset * item,
                           strides=tuple(s * item for s in stride))
    except (TypeError, ValueError) as e:
        raise _Corrupt(f"a tensor of size {tuple(size)} does not fit its storage ({e})") from None
    view = array
    if dtype is _dtype.bfloat16:
        warnings.warn("ember.load: bfloat16 tensors are loaded as float32 (NumPy has no "
                      "bfloat16)")
        array = (array.astype(np.uint32) << 16).view(np.float32)
    metadata = metadata or {}
    if metadata.get("conj"):
        array = np.conj(array)
    if metadata.get("neg"):
        array = -array
    t = wrap(array)
    if storage.device.type != "cpu":
        t = t.to(storage.device)
    storage.copied |= array is not view or storage.device.type != "cpu"
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _tensor_from(storage, storage_offset, size, stride, False)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    return _tensor_from(storage, storage_offset, size, stride, requires_grad, metadata)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    return _tensor_from(storage, storage_offset, size, stride, requires_grad, metadata, dtype)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    parameter = parameter_class()
    if parameter is None:
        data.requires_grad = requires_grad
        return data
    return parameter(data, requires_grad)


def _set_state(obj, state):
    """Attributes pickled with a tensor: a dict, or (dict, slots dict)."""
    parts = state if isinstance(state, tuple) else (state,)
    for part in parts:
        for k, v in (part or {}).items():
            setattr(obj, k, v)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    param = _rebuild_parameter(data, requires_grad, backward_hooks)
    _set_state(param, state)
    return param


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor subclass or a tensor with Python attributes."""
    t = func(*args)
    if type(t) is not new_type and isinstance(new_type, type) and issubclass(new_type, Tensor):
        new = object.__new__(new_type)
        for slot in Tensor.__slots__[:-1]:
            setattr(new, slot, getattr(t, slot))
        t = new
    _set_state(t, state)
    return t


def _rebuild_device_tensor(data, dtype, dev, requires_grad):
    t = data if isinstance(data, Tensor) else wrap(np.array(data))
    t = t.to(dtype).to(dev)
    t.requires_grad = requires_grad
    return t


def _get_layout(name):
    return name                     # ember's layouts are their names ('torch.strided')


# ---------------------------------------------------------------------------------------------
# the two file formats
# ---------------------------------------------------------------------------------------------
def _read_into(stream, array):
    """Fill a uint8 array from the stream's current position."""
    view, got = memoryview(array), 0
    readinto = getattr(stream, "readinto", None)
    while got < array.nbytes:
        if readinto is not None:
            n = readinto(view[got:])
        else:
            chunk = stream.read(array.nbytes - got)
            n = len(chunk)
            view[got:got + n] = chunk
        if not n:
            raise _Corrupt(f"a storage ends after {got} of its {array.nbytes} bytes")
        got += n


def _header(stream, pickle_load_args):
    return _HeaderUnpickler(stream, encoding=pickle_load_args["encoding"]).load()


def _unpickle(stream, unpickler_class, loader, pickle_load_args):
    unpickler = unpickler_class(stream, **pickle_load_args)
    unpickler.persistent_load = loader.persistent_load
    return unpickler.load()


def load_zip(stream, unpickler_class, pickle_load_args, map_location, weights_only, mmap_path):
    """torch's zip format: `<archive>/data.pkl` and one `<archive>/data/<key>` per storage."""
    with zipfile.ZipFile(stream) as archive:
        names = archive.namelist()
        prefix = names[0].split("/", 1)[0] + "/" if names else ""
        if prefix + "data.pkl" not in names:
            if prefix + "constants.pkl" in names:
                raise RuntimeError("ember.load cannot read TorchScript archives (torch.jit.save)")
            raise _Corrupt("no data.pkl record")
        swap = prefix + "byteorder" in names and \
            archive.read(prefix + "byteorder").decode() != sys.byteorder
        mapped = _map(mmap_path) if mmap_path else None

        def read(key, nbytes, dtype):
            try:
                info = archive.getinfo(f"{prefix}data/{key}")
            except KeyError:
                raise _Corrupt(f"no record for storage {key!r}") from None
            if info.compress_type != zipfile.ZIP_STORED:
                data = np.frombuffer(bytearray(archive.read(info)), np.uint8)
            elif mapped is not None:
                data = np.frombuffer(mapped, np.uint8, info.file_size, data_offset(stream, info))
            else:
                start = data_offset(stream, info)
                data = np.empty(info.file_size, np.uint8)
                stream.seek(start)
                _read_into(stream, data)
            if data.nbytes < nbytes:
                raise _Corrupt(f"storage {key!r} has {data.nbytes} bytes, {nbytes} expected")
            if swap and dtype.itemsize > 1:
                _byteswap(data[:nbytes], dtype)
            return data

        loader = _Loader(read, map_location, weights_only)
        pickled = io.BytesIO(archive.read(prefix + "data.pkl"))
        return _unpickle(pickled, unpickler_class, loader, pickle_load_args)


def _map(path):
    """The file mapped copy-on-write (torch's MAP_PRIVATE): each storage is its own array over
    the map, so tensors of different storages never look like views of one another."""
    with open(path, "rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)


def _byteswap(data, dtype):
    data.view(np.uint16 if dtype is _dtype.bfloat16 else dtype.np).byteswap(inplace=True)


def load_legacy(stream, unpickler_class, pickle_load_args, map_location, weights_only):
    """The pre-1.6 format: pickles of the magic number, protocol version, system info, the
    object, the storage keys; then each storage as an int64 element count and its bytes."""
    if _header(stream, pickle_load_args) != MAGIC_NUMBER:
        raise _Corrupt("invalid magic number")
    version = _header(stream, pickle_load_args)
    if version != PROTOCOL_VERSION:
        raise _Corrupt(f"invalid protocol version {version!r}")
    sys_info = _header(stream, pickle_load_args)
    swap = isinstance(sys_info, dict) and \
        sys_info.get("little_endian", True) != (sys.byteorder == "little")
    pending = {}

    def allocate(key, nbytes, dtype):         # filled once the keys that follow are read
        pending[key] = (np.empty(nbytes, np.uint8), dtype)
        return pending[key][0]

    loader = _Loader(allocate, map_location, weights_only)
    start = stream.tell()
    result = _unpickle(stream, unpickler_class, loader, pickle_load_args)
    for key in _header(stream, pickle_load_args):
        if key not in pending:
            raise _Corrupt(f"unknown storage key {key!r}")
        data, dtype = pending[key]
        size = stream.read(8)
        if len(size) != 8 or struct.unpack("<q", size)[0] * dtype.itemsize != data.nbytes:
            raise _Corrupt(f"bad size record for storage {key!r}")
        _read_into(stream, data)
        if swap and dtype.itemsize > 1:
            _byteswap(data, dtype)
    if any(s.copied for s in loader.storages.values()):
        stream.seek(start)                    # rebuild the copies now that the bytes are read
        result = _unpickle(stream, unpickler_class, loader, pickle_load_args)
    return result
