"""ember.hub: download checkpoints into torch's cache (torch.hub's download helpers).

Files go to `<hub_dir>/checkpoints`, where hub_dir is `$TORCH_HOME/hub` (TORCH_HOME defaults to
`$XDG_CACHE_HOME/torch`, i.e. `~/.cache/torch`), so ember and torch share one cache. Downloads
use urllib, show a tqdm progress bar when tqdm is installed, check the sha256 prefix named in
`name-<hash>.ext` when asked, and land in a temporary file renamed into place only when complete.
"""
import hashlib
import os
import re
import shutil
import sys
import uuid
import warnings
import zipfile
from urllib.parse import urlparse

from .serialization import load

__all__ = ["download_url_to_file", "get_dir", "load_state_dict_from_url", "set_dir"]

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")          # 'bfd8deac' in resnet18-bfd8deac.pth
ENV_TORCH_HOME = "TORCH_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
READ_DATA_CHUNK = 128 * 1024
_hub_dir = None


def _get_torch_home():
    return os.path.expanduser(os.getenv(ENV_TORCH_HOME, os.path.join(
        os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "torch")))


def get_dir():
    """The hub cache folder: set_dir's, else `$TORCH_HOME/hub`."""
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_torch_home(), "hub")


def set_dir(d):
    """Use `d` as the hub cache folder."""
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


class _NoProgress:
    """Stands in for tqdm when it is missing or progress=False."""

    def __init__(self, **kwargs):
        pass

    def update(self, n):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _progress_bar(total, enabled):
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024)
    return _NoProgress()


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download `url` to `dst` through `dst.<random>.partial`, renamed when complete; with
    hash_prefix, the file's sha256 must start with it (RuntimeError otherwise, nothing kept)."""
    dst = os.path.expanduser(dst)
    tmp = f"{dst}.{uuid.uuid4().hex}.partial"
    sha256 = hashlib.sha256() if hash_prefix is not None else None
    from urllib.request import Request, urlopen     # http + ssl: ~15 ms, only when downloading
    request = Request(url, headers={"User-Agent": "torch.hub"})
    try:
        with open(tmp, "xb") as out, urlopen(request) as u:
            length = u.info().get("Content-Length")
            with _progress_bar(int(length) if length else None, progress) as bar:
                while True:
                    chunk = u.read(READ_DATA_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    if sha256 is not None:
                        sha256.update(chunk)
                    bar.update(len(chunk))
        if sha256 is not None:
            digest = sha256.hexdigest()
            if digest[:len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        shutil.move(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _is_legacy_zip_format(filename):
    """A zip holding one file: how checkpoints were sometimes shipped before torch 1.6."""
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as f:
            members = f.infolist()
        return len(members) == 1 and not members[0].is_dir()
    return False


def _legacy_zip_load(filename, model_dir, map_location, weights_only):
    warnings.warn("Falling back to the old format < 1.6. This support will be deprecated in "
                  "favor of default zipfile format introduced in 1.6. Please redo torch.save() "
                  "to save it in the new zipfile format.", FutureWarning, stacklevel=3)
    with zipfile.ZipFile(filename) as f:
        member = f.infolist()[0]
        target = os.path.realpath(os.path.join(model_dir, member.filename))
        if not target.startswith(os.path.realpath(model_dir) + os.sep):
            raise ValueError(f"Unsafe path in zip archive: {member.filename}")
        f.extract(member, model_dir)
    return load(target, map_location=map_location, weights_only=weights_only)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True,
                             check_hash=False, file_name=None, weights_only=False):
    """torch.hub.load_state_dict_from_url: download once into `<hub_dir>/checkpoints` (or
    model_dir) under the URL's file name (or file_name), then ember.load it. check_hash checks
    the sha256 prefix in `name-<hash>.ext`. weights_only defaults to False, as in torch."""
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        match = HASH_REGEX.search(filename) if check_hash else None
        download_url_to_file(url, cached_file, match.group(1) if match else None,
                             progress=progress)
    if _is_legacy_zip_format(cached_file):
        return _legacy_zip_load(cached_file, model_dir, map_location, weights_only)
    return load(cached_file, map_location=map_location, weights_only=weights_only)
