"""What publishing purges from the caches in front of the site: a CDN (Cloudflare, CloudFront)
or the nginx or Varnish cache on each web machine, as WAGTAILFRONTENDCACHE names them.

Publishing or unpublishing a page purges its own URLs (`get_cached_paths`: a section's feeds
and listing pages too), through Wagtail's frontend cache utilities. Its app is not installed:
its receivers would work out and queue a purge on every publication even with no cache
configured. A page is also shown elsewhere, and those copies would otherwise last as long as
the CDN keeps them:
- on every page above it (the home page lists the latest articles, a section its own, a
  newsletter its issues), with their feeds;
- on the site's feeds, sitemaps and corrections page;
- on pages outside the tree that apps name (`listed_elsewhere`): for an article, the pages and
  feeds of its authors, its series and its tags.
They go out in one batch per publish, as a task, so the editor does not wait for the CDN.

Unlike the server's own page cache (outlet.page_cache), emptied whole on any change, a CDN is
purged URL by URL, so changes outside publishing (an author's bio, a site setting) reach its
readers when its copies expire.
"""

from collections.abc import Callable, Iterable

from django.conf import settings
from wagtail.contrib.frontend_cache.utils import PurgeBatch
from wagtail.models import Page

SITE_WIDE_PATHS = ("feed/", "feed/atom/", "sitemap.xml", "news-sitemap.xml", "corrections/")

ListingPaths = Callable[[Page], Iterable[str]]
LISTED_ELSEWHERE: dict[type[Page], ListingPaths] = {}


def listed_elsewhere(model: type[Page], listing_paths: ListingPaths) -> None:
    """Purge `listing_paths(page)` (site-relative paths outside the page tree) too whenever a
    page of type `model` is published or unpublished. Apps call it from AppConfig.ready()."""
    LISTED_ELSEWHERE[model] = listing_paths


def purge_listings(sender, instance: Page, **kwargs) -> None:
    """Purge the listings that show `instance`, which has just been published or unpublished."""
    if not settings.WAGTAILFRONTENDCACHE:
        return
    url_parts = instance.get_url_parts()
    if url_parts is None:
        return  # not reachable on any site
    root_url = url_parts[1]
    batch = PurgeBatch()
    batch.add_page(instance)
    batch.add_pages(instance.get_ancestors().filter(depth__gt=1).specific())
    batch.add_urls(f"{root_url}/{path}" for path in SITE_WIDE_PATHS)
    if listing_paths := LISTED_ELSEWHERE.get(type(instance)):
        batch.add_urls(f"{root_url}{path}" for path in listing_paths(instance))
    batch.purge()
