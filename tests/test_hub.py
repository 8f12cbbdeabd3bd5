"""ember.hub against torch.hub: checkpoints served by a local HTTP server are downloaded into
the same cache, hash-checked, loaded once and then read from the cache."""
import hashlib
import http.server
import io
import os
import threading

import numpy as np
import pytest
import torch
import torch.hub

import ember


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving `server.files` and counting requests per path."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = files.get(self.path)
            hits[self.path] = hits.get(self.path, 0) + 1
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    files, hits = {}, {}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    httpd.files, httpd.hits = files, hits
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(ember.hub, "_hub_dir", None)
    return tmp_path / "home"


def _checkpoint():
    buf = io.BytesIO()
    torch.save({"fc.weight": torch.arange(6.0).view(2, 3), "fc.bias": torch.ones(2)}, buf)
    data = buf.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def _assert_same_state(ours, theirs):
    assert list(ours) == list(theirs)
    for k in theirs:
        np.testing.assert_array_equal(ours[k].numpy(), theirs[k].numpy())


def test_download_with_hash_check_then_cache_hit(server, torch_home, capsys):
    data, digest = _checkpoint()
    name = f"net-{digest[:8]}.pth"
    server.files["/models/" + name] = data
    url = server.url + "/models/" + name
    ours = ember.hub.load_state_dict_from_url(url, check_hash=True, progress=False)
    cached = torch_home / "hub" / "checkpoints" / name
    assert cached.read_bytes() == data
    assert f'Downloading: "{url}" to {cached}' in capsys.readouterr().out
    assert server.hits["/models/" + name] == 1
    again = ember.hub.load_state_dict_from_url(url, check_hash=True, progress=False)
    assert server.hits["/models/" + name] == 1            # read from the cache
    theirs = torch.hub.load_state_dict_from_url(url, check_hash=True, progress=False)
    assert server.hits["/models/" + name] == 1            # torch finds ember's cached file
    _assert_same_state(ours, theirs)
    _assert_same_state(again, theirs)
    assert os.listdir(cached.parent) == [name]


def test_bad_hash_raises_torchs_error_and_keeps_nothing(server, torch_home, tmp_path):
    data, digest = _checkpoint()
    name = "net-deadbeef.pth"
    server.files["/" + name] = data
    with pytest.raises(RuntimeError) as ours:
        ember.hub.load_state_dict_from_url(server.url + "/" + name, check_hash=True,
                                           progress=False)
    assert str(ours.value) == f'invalid hash value (expected "deadbeef", got "{digest}")'
    assert os.listdir(torch_home / "hub" / "checkpoints") == []
    with pytest.raises(RuntimeError) as theirs:
        torch.hub.download_url_to_file(server.url + "/" + name, str(tmp_path / "t.pth"),
                                       hash_prefix="deadbeef", progress=False)
    assert str(ours.value) == str(theirs.value)


def test_file_name_model_dir_and_progress_bar(server, torch_home, tmp_path, capsys):
    data, _ = _checkpoint()
    server.files["/x/weights"] = data
    state = ember.hub.load_state_dict_from_url(server.url + "/x/weights", file_name="mine.pt",
                                               model_dir=str(tmp_path / "models"))
    assert (tmp_path / "models" / "mine.pt").read_bytes() == data
    assert not (torch_home / "hub").exists()
    assert "100%" in capsys.readouterr().err               # tqdm's bar went to stderr
    _assert_same_state(state, torch.load(io.BytesIO(data)))


def test_download_url_to_file(server, tmp_path):
    data, digest = _checkpoint()
    server.files["/f"] = data
    dst = tmp_path / "f.bin"
    ember.hub.download_url_to_file(server.url + "/f", str(dst), hash_prefix=digest[:10],
                                   progress=False)
    assert dst.read_bytes() == data
    assert os.listdir(tmp_path) == ["f.bin"]


def test_get_dir_and_set_dir_like_torch(torch_home, tmp_path, monkeypatch):
    assert ember.hub.get_dir() == torch.hub.get_dir() == str(torch_home / "hub")
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ember.hub.get_dir() == torch.hub.get_dir() == str(tmp_path / "xdg" / "torch" / "hub")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert ember.hub.get_dir() == torch.hub.get_dir()
    ember.hub.set_dir(str(tmp_path / "custom"))
    assert ember.hub.get_dir() == str(tmp_path / "custom")
