"""ember.save / ember.load against torch 2.13: files written by one are read by the other
(zip and legacy formats), ember's files equal torch's byte for byte, weights_only refuses what
torch refuses with torch's message, broken files give a clear RuntimeError."""
import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from ember import _zip

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]


def _array(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape) * 50
    if dtype == "bool":
        return values > 0
    if dtype.startswith("complex"):
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


def _pair(array):
    """The same tensor in ember and in torch."""
    return ember.tensor(array.copy()), torch.tensor(array.copy())


def _same(e, t):
    """ember tensor e equals torch tensor t: type, dtype, shape, values, requires_grad."""
    assert type(e).__name__ == type(t).__name__
    assert str(e.dtype) == str(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    assert e.requires_grad == t.requires_grad
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


def _assert_tree(e, t):
    """Nested containers of tensors and Python values are equal."""
    if isinstance(t, torch.Tensor):
        _same(e, t)
    elif type(t).__module__.startswith("torch"):      # Size, dtype, device
        assert repr(e) == repr(t)
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t)
        for k in t:
            _assert_tree(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            _assert_tree(a, b)
    else:
        assert e == t and type(e) is type(t)


def _ember_to_torch(obj, **kwargs):
    buf = io.BytesIO()
    ember.save(obj, buf, **kwargs)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def _torch_to_ember(obj, **kwargs):
    buf = io.BytesIO()
    torch.save(obj, buf, **kwargs)
    buf.seek(0)
    return ember.load(buf)


def _checkpoint(lib):
    """A training checkpoint as scripts save it, built with `lib` (ember or torch)."""
    w = lib.tensor(_array("float32", (3, 4)))
    state = collections.OrderedDict([("fc.weight", w), ("fc.bias", lib.zeros(3)),
                                     ("bn.num_batches_tracked", lib.tensor(7))])
    optim = {"state": {0: {"step": lib.tensor(3.0), "exp_avg": lib.ones(3, 4)},
                       1: {"step": lib.tensor(3.0), "exp_avg": lib.zeros(3)}},
             "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8,
                               "weight_decay": 0, "amsgrad": False, "params": [0, 1]}]}
    return {"epoch": 12, "loss": 0.25, "best": None, "name": "resnet", "model": state,
            "optimizer": optim, "history": [1.5, 0.75, -2], "flags": (True, False),
            "big": 2 ** 40, "neg": -70000, "blob": b"\x00\xffab", "size": lib.Size([2, 3]),
            "dtype": lib.float16, "device": lib.device("cpu"), "set": {1, 2},
            "counts": collections.Counter("aab"), "z": 1 + 2j}


# -- round trips --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (5,), (2, 3, 4)])
def test_dtypes_both_ways(dtype, shape):
    e, t = _pair(_array(dtype, shape))
    _same(e, _ember_to_torch(e))
    _same(_torch_to_ember(t), t)


@pytest.mark.parametrize("legacy", [False, True])
def test_checkpoint_both_ways(legacy):
    kwargs = {"_use_new_zipfile_serialization": not legacy}
    _assert_tree(_checkpoint(ember), _ember_to_torch(_checkpoint(ember), **kwargs))
    _assert_tree(_torch_to_ember(_checkpoint(torch), **kwargs), _checkpoint(torch))


def _views(lib):
    x = lib.tensor(np.arange(24, dtype=np.float32))
    return [x, x[4:].view(4, 5), x.view(4, 6).t(), x[1::3], x.view(2, 3, 4)[:, 1], x[5:6]]


def test_views_share_one_storage_ember_to_torch():
    buf = io.BytesIO()
    ember.save(_views(ember), buf)
    assert sum(n.startswith("archive/data/") for n in zipfile.ZipFile(buf).namelist()) == 1
    buf.seek(0)
    loaded = torch.load(buf)
    for a, b in zip(loaded, _views(torch)):
        assert a.stride() == b.stride() and a.storage_offset() == b.storage_offset()
        torch.testing.assert_close(a, b)
    assert len({a.untyped_storage().data_ptr() for a in loaded}) == 1
    loaded[0][5] = -1.0
    assert loaded[1][0, 1] == -1.0 and loaded[5][0] == -1.0


@pytest.mark.parametrize("legacy", [False, True])
def test_views_share_one_storage_torch_to_ember(legacy):
    loaded = _torch_to_ember(_views(torch), _use_new_zipfile_serialization=not legacy)
    for a, b in zip(loaded, _views(torch)):
        assert a.stride() == b.stride() and a.storage_offset() == b.storage_offset()
        _same(a, b)
    assert all(np.shares_memory(a.numpy(), loaded[0].numpy()) for a in loaded)
    loaded[0][5] = -1.0
    assert loaded[1][0, 1].item() == -1.0 and loaded[5][0].item() == -1.0


@settings(max_examples=20, deadline=None)
@given(dtype=st.sampled_from(DTYPES), shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       start=st.integers(0, 2), step=st.integers(1, 2), transpose=st.booleans())
def test_random_views_both_ways(dtype, shape, start, step, transpose):
    def view(lib, x):
        v = x[start::step]
        return v.transpose(0, -1) if transpose else v
    e, t = _pair(_array(dtype, shape))
    _same(view(ember, e), _ember_to_torch([e, view(ember, e)])[1])
    loaded = _torch_to_ember([t, view(torch, t)])
    _same(loaded[1], view(torch, t))
    assert loaded[1].stride() == view(torch, t).stride()


def test_save_is_byte_identical_to_torch(tmp_path):
    """Same objects -> same file, except the content id torch derives in its own way."""
    def objects(lib):
        x = lib.tensor(_array("float32", (6,)))
        return collections.OrderedDict([
            ("x", x), ("view", x[2:].view(2, 2)), ("t", x.view(2, 3).t()), ("empty", lib.zeros(0)),
            ("flag", lib.ones(2, requires_grad=True)), ("i", lib.tensor([1, -2], dtype=lib.int8)),
            ("misc", _checkpoint(lib))])
    (tmp_path / "torch").mkdir()
    (tmp_path / "ember").mkdir()
    for name in ("model.pth", "x.y.pt"):
        torch.save(objects(torch), tmp_path / "torch" / name)
        ember.save(objects(ember), tmp_path / "ember" / name)
        ours = (tmp_path / "ember" / name).read_bytes()
        theirs = (tmp_path / "torch" / name).read_bytes()
        zo, zt = zipfile.ZipFile(io.BytesIO(ours)), zipfile.ZipFile(io.BytesIO(theirs))
        assert [(i.filename, i.header_offset, i.file_size) for i in zo.infolist()] == \
            [(i.filename, i.header_offset, i.file_size) for i in zt.infolist()]
        id_record = zt.infolist()[-1]
        assert id_record.filename.endswith(".data/serialization_id")
        assert ours[:id_record.header_offset] == theirs[:id_record.header_offset]
        assert zo.read(id_record.filename)[20:] == zt.read(id_record.filename)[20:]


def test_parameters_and_requires_grad_both_ways():
    from ember.nn.parameter import Parameter
    a = _array("float32", (2, 3))
    ours = [Parameter(ember.tensor(a)), Parameter(ember.tensor(a), requires_grad=False),
            ember.tensor(a).requires_grad_()]
    theirs = [torch.nn.Parameter(torch.tensor(a)),
              torch.nn.Parameter(torch.tensor(a), requires_grad=False),
              torch.tensor(a).requires_grad_()]
    _assert_tree(ours, _ember_to_torch(ours))
    _assert_tree(_torch_to_ember(theirs), theirs)
    _assert_tree(ember.load(io.BytesIO(_save_bytes(ours))), theirs)


def _save_bytes(obj, **kwargs):
    buf = io.BytesIO()
    ember.save(obj, buf, **kwargs)
    return buf.getvalue()


def test_same_tensor_twice_stays_one_object():
    x = torch.ones(2)
    loaded = _torch_to_ember({"a": x, "b": x})
    assert loaded["a"] is loaded["b"]
    e = ember.ones(2)
    loaded = _ember_to_torch({"a": e, "b": e})
    assert loaded["a"] is loaded["b"]


def test_different_dtype_views_of_one_storage_refused_like_torch():
    x = np.arange(4, dtype=np.float32)
    t = torch.tensor(x)
    with pytest.raises(RuntimeError) as theirs:
        torch.save([t, t.view(torch.int32)], io.BytesIO())
    e = ember.tensor(x)
    with pytest.raises(RuntimeError) as ours:
        ember.save([e, _int_view(e)], io.BytesIO())
    assert str(ours.value) == str(theirs.value)


def _int_view(t):
    from ember._tensor import wrap
    return wrap(t._data.view(np.int32))


def test_bfloat16_from_torch_widens_to_float32():
    t = torch.tensor([1.5, -2.25, 3.0e38], dtype=torch.bfloat16)
    for legacy in (False, True):
        with pytest.warns(UserWarning, match="bfloat16"):
            loaded = _torch_to_ember(t, _use_new_zipfile_serialization=not legacy)
        assert loaded.dtype is ember.float32
        np.testing.assert_array_equal(loaded.numpy(), t.float().numpy())


def test_conj_and_neg_bits_from_torch():
    t = torch.tensor([1 + 2j, 3 - 1j])
    for legacy in (False, True):
        conj = _torch_to_ember(t.conj(), _use_new_zipfile_serialization=not legacy)
        neg = _torch_to_ember(t.conj().imag, _use_new_zipfile_serialization=not legacy)
        np.testing.assert_array_equal(conj.numpy(), t.conj().resolve_conj().numpy())
        np.testing.assert_array_equal(neg.numpy(), t.conj().imag.resolve_neg().numpy())


# -- files, paths, atomic writes ----------------------------------------------------------------
def test_paths_path_likes_and_file_objects(tmp_path):
    x = ember.tensor(_array("float64", (3,)))
    ember.save(x, str(tmp_path / "a.pt"))
    ember.save(x, tmp_path / "b.pt")
    with open(tmp_path / "c.pt", "wb") as f:
        ember.save(x, f)
    for name in ("a.pt", "b.pt", "c.pt"):
        _same(ember.load(tmp_path / name), torch.load(tmp_path / name))
        with open(tmp_path / name, "rb") as f:
            _same(ember.load(f), torch.load(str(tmp_path / name)))
    assert zipfile.ZipFile(tmp_path / "a.pt").namelist()[0] == "a/data.pkl"
    assert zipfile.ZipFile(tmp_path / "c.pt").namelist()[0] == "archive/data.pkl"


@pytest.mark.parametrize("name", ["model.tar.gz", "noext", "dot.", "é.pt", "a b.pth"])
def test_archive_name_like_torch(tmp_path, name):
    for lib in (torch, ember):
        (tmp_path / lib.__name__).mkdir()
        lib.save(lib.ones(1), tmp_path / lib.__name__ / name)
    ours, theirs = (zipfile.ZipFile(tmp_path / lib / name).namelist() for lib in ("ember", "torch"))
    assert ours == theirs


def test_missing_parent_directory_like_torch(tmp_path):
    target = tmp_path / "no" / "x.pt"
    with pytest.raises(RuntimeError) as theirs:
        torch.save(torch.ones(1), target)
    with pytest.raises(RuntimeError) as ours:
        ember.save(ember.ones(1), target)
    assert str(ours.value) == str(theirs.value)


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot pickle this")


@pytest.mark.parametrize("legacy", [False, True])
def test_failed_save_keeps_the_previous_file(tmp_path, legacy):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="cannot pickle this"):
        ember.save({"w": ember.zeros(1000), "bad": _Unpicklable()}, path,
                   _use_new_zipfile_serialization=not legacy)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    _same(ember.load(path)["w"], torch.ones(3))


def test_zip64_records_read_by_torch_and_zipfile(monkeypatch):
    monkeypatch.setattr(_zip, "_ZIP64_LIMIT", 16)
    e, t = _pair(_array("float32", (40,)))
    data = _save_bytes({"x": e, "y": ember.ones(2)})
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    _same(torch.load(io.BytesIO(data))["x"], t)
    _same(ember.load(io.BytesIO(data))["x"], t)


def test_mmap_load(tmp_path):
    e, t = _pair(_array("float32", (4, 5)))
    torch.save({"x": t, "v": t[1:, ::2]}, tmp_path / "m.pt")
    loaded = ember.load(tmp_path / "m.pt", mmap=True)
    _same(loaded["x"], t)
    _same(loaded["v"], t[1:, ::2])
    assert isinstance(loaded["x"].numpy().base.base, memoryview)      # over the file's map
    _same(_ember_to_torch(loaded)["v"], t[1:, ::2])                      # saved as two storages
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
        ember.load(io.BytesIO((tmp_path / "m.pt").read_bytes()), mmap=True)
    path = str(tmp_path / "legacy.pt")
    torch.save(t, path, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError) as theirs:
        torch.load(path, mmap=True)
    with pytest.raises(RuntimeError) as ours:
        ember.load(path, mmap=True)
    assert str(ours.value) == str(theirs.value)


def test_plain_pickle_round_trip():
    from ember.nn.parameter import Parameter
    e = ember.tensor(_array("float32", (2, 3))).requires_grad_()
    p = Parameter(ember.ones(2))
    x, q = pickle.loads(pickle.dumps([e, p]))
    _same(x, torch.tensor(e.detach().numpy()).requires_grad_())
    assert type(q) is Parameter and q.requires_grad
    view = ember.tensor(_array("int64", (4, 4)))[1:, ::2]
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(view)).numpy(), view.numpy())


# -- map_location ------------------------------------------------------------------------------
def _cuda_tagged():
    """torch's file for {'w': tensor} with its storage tagged 'cuda:0' (as saved on a GPU)."""
    buf = io.BytesIO()
    torch.save({"w": torch.arange(3.0)}, buf)
    src, out = zipfile.ZipFile(buf), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("data.pkl"):
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            dst.writestr(name, data)
    return out.getvalue()


def test_cuda_tensors_without_gpu_raise_torchs_error():
    data = _cuda_tagged()
    with pytest.raises(RuntimeError) as theirs:
        torch.load(io.BytesIO(data))
    with pytest.raises(RuntimeError) as ours:
        ember.load(io.BytesIO(data))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("map_location", ["cpu", "device", {"cuda:0": "cpu"}, "callable",
                                          "callable_cpu"])
def test_map_location_forms(map_location):
    seen = []

    def fn(lib):
        if map_location == "device":
            return lib.device("cpu")
        if map_location == "callable":
            return lambda storage, loc: seen.append(loc) or storage
        if map_location == "callable_cpu":
            return lambda storage, loc: storage.cpu()
        return map_location
    data = _cuda_tagged()
    ours = ember.load(io.BytesIO(data), map_location=fn(ember))
    _same(ours["w"], torch.load(io.BytesIO(data), map_location=fn(torch))["w"])
    assert seen == (["cuda:0", "cuda:0"] if map_location == "callable" else [])


def test_map_location_callable_returning_none_keeps_cpu_tags():
    loaded = ember.load(io.BytesIO(_save_bytes(ember.ones(2))), map_location=lambda s, loc: None)
    _same(loaded, torch.ones(2))


# -- weights_only ------------------------------------------------------------------------------
class _Evil:
    marker = None

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class Point:
    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return type(other) is Point and other.x == self.x


@pytest.mark.parametrize("legacy", [False, True])
def test_malicious_pickle_refused_with_torchs_message(tmp_path, legacy):
    _Evil.marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"w": torch.ones(1), "x": _Evil()}, buf, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(io.BytesIO(buf.getvalue()))
    with pytest.raises(pickle.UnpicklingError) as ours:
        ember.load(io.BytesIO(buf.getvalue()))
    assert str(ours.value) == str(theirs.value)
    assert str(ours.value).startswith("Weights only load failed.")
    assert "posix.system" in str(ours.value)
    assert not _Evil.marker.exists()


def test_unknown_class_needs_add_safe_globals():
    data = _save_bytes({"p": Point(3), "w": ember.ones(1)})
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(io.BytesIO(data))
    with pytest.raises(pickle.UnpicklingError) as ours:
        ember.load(io.BytesIO(data))
    assert str(ours.value) == str(theirs.value)
    assert "add_safe_globals([" in str(ours.value)
    with ember.serialization.safe_globals([Point]):
        assert ember.load(io.BytesIO(data))["p"] == Point(3)
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(data))
    ember.add_safe_globals([Point])
    try:
        assert Point in ember.serialization.get_safe_globals()
        assert ember.load(io.BytesIO(data))["p"] == Point(3)
    finally:
        ember.serialization.clear_safe_globals()
    assert ember.load(io.BytesIO(data), weights_only=False)["p"] == Point(3)


def test_weights_only_false_resolves_torch_names_to_ember():
    buf = io.BytesIO()
    torch.save({"mode": torch.no_grad, "w": torch.ones(2)}, buf)
    loaded = ember.load(io.BytesIO(buf.getvalue()), weights_only=False)
    assert loaded["mode"] is ember.no_grad
    _same(loaded["w"], torch.ones(2))
    with pytest.raises(RuntimeError, match="explicit pickle_module"):
        ember.load(io.BytesIO(buf.getvalue()), pickle_module=pickle, weights_only=True)


# -- broken files ------------------------------------------------------------------------------
def _broken_files(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"w": torch.arange(1000.0)}, good)
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.arange(1000.0)}, legacy, _use_new_zipfile_serialization=False)
    files = {"empty.pt": b"", "truncated.pt": good.read_bytes()[:good.stat().st_size // 2],
             "truncated_legacy.pt": legacy.read_bytes()[:legacy.stat().st_size // 2],
             "truncated_header.pt": legacy.read_bytes()[:5]}
    rng = np.random.default_rng(0)
    for i in range(8):
        files[f"random{i}.pt"] = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
    return files


def test_broken_files_raise_a_clear_runtime_error(tmp_path):
    for name, data in _broken_files(tmp_path).items():
        (tmp_path / name).write_bytes(data)
        for weights_only in (True, False):
            with pytest.raises(RuntimeError) as err:
                ember.load(tmp_path / name, weights_only=weights_only)
            assert str(err.value).startswith(f"ember.load: {str(tmp_path / name)!r} is not a "
                                             "valid checkpoint ("), (name, err.value)
    with pytest.raises(RuntimeError, match=r"'<BytesIO>' is not a valid checkpoint \(the file"):
        ember.load(io.BytesIO(b""))


def test_corrupt_pickle_inside_zip(tmp_path):
    buf = io.BytesIO()
    torch.save({"w": torch.ones(3)}, buf)
    data = bytearray(buf.getvalue())
    data[70] ^= 0xFF                          # inside data.pkl: its CRC no longer matches
    with pytest.raises(RuntimeError, match="truncated or corrupt zip archive"):
        ember.load(io.BytesIO(bytes(data)))


def test_missing_file_like_torch(tmp_path):
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "missing.pt")


def test_legacy_written_by_ember_read_by_torch():
    e, t = _pair(_array("int16", (3, 2)))
    data = _save_bytes({"x": e, "v": e[1:]}, _use_new_zipfile_serialization=False)
    loaded = torch.load(io.BytesIO(data))
    _same(loaded["x"], t)
    _same(loaded["v"], t[1:])
    assert loaded["v"].untyped_storage().data_ptr() == loaded["x"].untyped_storage().data_ptr()


def test_weights_only_refuses_build_on_globals():
    """A pickle setting attributes of a global (the float32 dtype) through BUILD is refused."""
    payload = (b"\x80\x02ctorch\nfloat32\nN}(X\x0a\x00\x00\x00is_complex\x88u\x86b.")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/version", "3\n")
    for lib in (torch, ember):
        with pytest.raises(pickle.UnpicklingError, match="Can only build Tensor, Parameter"):
            lib.load(io.BytesIO(buf.getvalue()))
    assert ember.float32.is_complex is False and torch.float32.is_complex is False
