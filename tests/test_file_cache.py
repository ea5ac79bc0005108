"""The file caches without Redis: Django's file-based cache, entries not compressed."""

# ruff: noqa: S301 (the tests read back the entries they wrote)

import pickle
import time

import pytest
from django.core.cache.backends.filebased import FileBasedCache
from django.http import HttpResponse

from outlet.file_cache import UncompressedFileCache

PAGE = "<p>A page kept for readers, 你好.</p>" * 200


@pytest.fixture
def cache(tmp_path):
    return UncompressedFileCache(tmp_path / "pages", {})


def entries(cache) -> list:
    return sorted(cache._list_cache_files())


def test_a_kept_page_is_read_back_whole_and_stored_as_it_is(cache):
    cache.set("page", HttpResponse(PAGE))

    kept = cache.get("page")

    assert kept.content.decode() == PAGE
    (entry,) = entries(cache)
    assert entry.endswith(".entry")
    with open(entry, "rb") as f:
        pickle.load(f)  # the expiry
        assert pickle.loads(f.read()).content == PAGE.encode()  # not compressed


def test_an_expired_entry_is_gone(cache):
    cache.set("page", PAGE, timeout=1)
    (entry,) = entries(cache)
    with open(entry, "r+b") as f:  # as if written two seconds ago
        f.write(pickle.dumps(time.time() - 1, pickle.HIGHEST_PROTOCOL))

    assert cache.get("page", "missing") == "missing"
    assert entries(cache) == []


def test_touch_keeps_the_value_and_moves_its_expiry(cache):
    cache.set("page", PAGE, timeout=5)
    assert cache.touch("page", timeout=None)

    assert cache.get("page") == PAGE
    with open(entries(cache)[0], "rb") as f:
        assert pickle.load(f) is None  # never expires
    assert not cache.touch("absent")


def test_entries_of_djangos_compressing_backend_are_never_read_and_cleared_too(cache, tmp_path):
    compressed = FileBasedCache(tmp_path / "pages", {})
    compressed.set("page", "left from before")

    assert cache.get("page", "missing") == "missing"
    cache.set("page", PAGE)
    cache.clear()

    assert list((tmp_path / "pages").iterdir()) == []
