"""ember.backend.heap: glibc's thresholds raised at import, unless EMBER_HEAP=0."""
import ctypes
import platform

import pytest

from ember.backend import heap

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_thresholds_raised_on_glibc():
    assert heap.keep_freed_memory() is True


def test_opt_out(monkeypatch):
    monkeypatch.setenv("EMBER_HEAP", "0")
    assert heap.keep_freed_memory() is False


def test_no_glibc_is_not_an_error(monkeypatch):
    def missing(name):
        raise OSError(f"{name}: cannot open shared object file")
    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert heap.keep_freed_memory() is False
