"""Django's file-based cache, its entries kept as they are rather than compressed.

The file caches (without Redis: pages, the site's structure, the parts of pages kept per
revision) are read on nearly every request and written once per publish. Django's backend
deflates each entry and inflates it on every read: for a 45 KB article, 78 µs of each cached
hit, more than half of what that hit cost beyond a constant view (bench/README.md). Kept
as they are, entries take about four times the disk (a page, 46 KB instead of 12).
"""

import glob
import os
import pickle

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.files import locks


class UncompressedFileCache(FileBasedCache):
    """FileBasedCache whose entries are pickled, not compressed.

    They end in ".entry", not Django's ".djcache", so that an entry Django's backend
    compressed (a cache folder from before) is never read as one of these; clear() removes
    such entries too. Like Django's, they are unpickled: what the site's own processes
    wrote, in a folder only its user can open (0700).
    """

    cache_suffix = ".entry"

    def get(self, key, default=None, version=None):
        try:
            with open(self._key_to_file(key, version), "rb") as f:
                if not self._is_expired(f):
                    return pickle.loads(f.read())  # noqa: S301 (see the class)
        except FileNotFoundError:
            pass
        return default

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            with open(self._key_to_file(key, version), "r+b") as f:
                try:
                    locks.lock(f, locks.LOCK_EX)
                    if self._is_expired(f):
                        return False
                    value = pickle.loads(f.read())  # noqa: S301 (see the class)
                    f.seek(0)
                    self._write_content(f, timeout, value)
                    f.truncate()
                    return True
                finally:
                    locks.unlock(f)
        except FileNotFoundError:
            return False

    def _write_content(self, file, timeout, value):
        file.write(pickle.dumps(self.get_backend_timeout(timeout), self.pickle_protocol))
        file.write(pickle.dumps(value, self.pickle_protocol))

    def clear(self):
        super().clear()
        for name in glob.glob(f"*{FileBasedCache.cache_suffix}", root_dir=self._dir):
            self._delete(os.path.join(self._dir, name))
