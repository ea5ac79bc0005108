"""Production settings, as gunicorn runs them, plus what a benchmark run needs on its own.

Selected with DJANGO_SETTINGS_MODULE=bench.settings by bench/article_page.py. Everything
comes from outlet.settings.production; only these change:

- ROOT_URLCONF adds /bench/constant/, the ceiling view (bench/urls.py);
- STATIC_ROOT moves into the run's temporary folder (BENCH_DIR): base.py has no
  environment variable for it.

The caches are put there by base.py's own CACHE_DIR, which article_page.py sets; the
check below only makes sure of it, because a benchmark must neither read nor clear the
page cache of the checkout it runs in.
"""

import os
from pathlib import Path

from django.core.cache.backends.filebased import FileBasedCache
from django.utils.module_loading import import_string

from outlet.settings.production import *  # noqa: F403
from outlet.settings.production import CACHES

ROOT_URLCONF = "bench.urls"

_bench_dir = Path(os.environ["BENCH_DIR"])
STATIC_ROOT = _bench_dir / "staticfiles"
for _alias, _cache in CACHES.items():
    _location = Path(_cache.get("LOCATION", ""))
    _file_based = issubclass(import_string(_cache["BACKEND"]), FileBasedCache)
    if _file_based and not _location.is_relative_to(_bench_dir):
        _cache["LOCATION"] = _bench_dir / "cache" / _alias
