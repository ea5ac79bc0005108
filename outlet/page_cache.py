"""The page cache, and everything else kept for as long as published content stays the same.

One module owns it: the middleware that keeps anonymous readers' pages on the server,
`remember` for values computed from published content (navigation, the promoted newsletter),
and the receivers that empty it all whenever something readers can see changes. Beside them,
publishing also purges the caches in front of the site, through outlet.frontend_cache.

A page shows other pages (listings, further reading, byline boxes), so any change can reach
many cached pages: everything is forgotten rather than guessed at. Page publishing,
unpublishing, moves, slug changes, deletions and privacy changes are covered here for every
page type; apps name the other models readers see (`clear_on_change`, from their
AppConfig.ready). Receivers connect per sender: one with no sender would cost every model
Django's fast deletes, and deleting an issue would load its whole ledger.

What describes the site around its content rather than the content itself (`remember(…,
structural=True)`: the site of a host, the menu, the promoted newsletters, the publication's
settings, the private parts of the tree) lives in a second cache that every change empties too,
except the publication of the pages that come out every day, articles and issues, which cannot
change it (`leave_structure_alone`): the first reader after such a publication pays for the page,
not for the whole site's structure.

Django's cache middleware does the caching; these subclasses keep it to anonymous GETs outside
the admin, and tell browsers to keep a page only briefly, because the server copy is the one
that publishing clears.
"""

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.middleware.cache import FetchFromCacheMiddleware, UpdateCacheMiddleware
from django.utils.cache import patch_cache_control
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from outlet.frontend_cache import purge_listings

UNCACHED_PREFIXES = ("/admin/", "/django-admin/")


def empty(*aliases: str) -> None:
    """Empty the caches now, and again when the change being made is committed: a reader
    served in between would otherwise keep what the database showed before it."""

    def clear() -> None:
        for alias in aliases:
            caches[alias].clear()

    clear()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(clear)


def clear_page_cache(**kwargs) -> None:
    """Forget every cached page and remembered value: published content has changed."""
    empty(settings.CACHE_MIDDLEWARE_ALIAS, settings.SITE_STRUCTURE_CACHE_ALIAS)


def clear_after_page_change(sender, instance=None, **kwargs) -> None:
    """A page changed: forget every cached page, and the site's structure too unless the page
    is of a type that cannot change it (articles, issues: the pages published every day).
    A move also changes where a private page starts (private_sections)."""
    # The instance's own class: Wagtail's page signals send the specific page. A base Page
    # (its row saved or deleted) empties both, without a query for its type.
    page_type = type(instance) if instance is not None else sender
    if page_type not in _structure_unchanged_by or kwargs.get("signal") is post_page_move:
        empty(settings.CACHE_MIDDLEWARE_ALIAS, settings.SITE_STRUCTURE_CACHE_ALIAS)
    else:
        empty(settings.CACHE_MIDDLEWARE_ALIAS)


_structure_unchanged_by: set[type[Page]] = set()


def leave_structure_alone(*page_models: type[Page]) -> None:
    """Publishing, unpublishing, renaming or deleting a page of these types keeps what is
    remembered with `structural=True`: none of it depends on such pages (they are never
    sections, menus, newsletters or sites). A move still forgets it."""
    _structure_unchanged_by.update(page_models)


def remember(key: str, compute, *, structural: bool = False):
    """The cached value of `key`, computed on a miss; forgotten with the page cache.

    `structural` values describe the site around its content (where a host's site is, the
    sections in the menu, which newsletters are promoted, the publication's settings, the
    private parts of the tree): they are forgotten whenever anything else is, except when a
    page that cannot change them (`leave_structure_alone`) is published, so that the first
    reader after an article's publication does not recompute them.
    """
    alias = settings.SITE_STRUCTURE_CACHE_ALIAS if structural else settings.CACHE_MIDDLEWARE_ALIAS
    return caches[alias].get_or_set(f"remembered:{key}", compute, settings.CACHE_MIDDLEWARE_SECONDS)


def private_sections() -> list[tuple[str, int]]:
    """Where each private section of the tree starts (path, depth): read once per change of
    the site's structure instead of once per `public()` queryset. Restrictions and moves
    forget it."""
    return remember(
        "private-sections",
        lambda: list(PageViewRestriction.objects.values_list("page__path", "page__depth")),
        structural=True,
    )


def clear_on_change(*models) -> None:
    """Empty the cache whenever an instance of one of `models` is saved or deleted."""
    for model in models:
        uid = f"page_cache:{model._meta.label}"
        post_save.connect(clear_page_cache, sender=model, dispatch_uid=uid, weak=False)
        post_delete.connect(clear_page_cache, sender=model, dispatch_uid=uid, weak=False)


# Every page type: Wagtail's page signals, and the base Page row that every deletion removes.
for signal in (page_published, page_unpublished, page_slug_changed, post_page_move):
    signal.connect(clear_after_page_change, dispatch_uid="page_cache", weak=False)
for signal in (post_save, post_delete):
    signal.connect(clear_after_page_change, sender=Page, dispatch_uid="page_cache:page", weak=False)
clear_on_change(PageViewRestriction)
# Caches in front of the site (a CDN, nginx, Varnish) are purged URL by URL instead.
for signal in (page_published, page_unpublished):
    signal.connect(purge_listings, dispatch_uid="frontend_cache", weak=False)


def is_anonymous_read(request) -> bool:
    """A GET or HEAD from a reader with no session, outside the admin."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and not request.path.startswith(UNCACHED_PREFIXES)
    )


def limit_browser_lifetime(response):
    """Browsers may reuse a page for a minute; only the server keeps it longer."""
    if response.has_header("Expires"):
        del response["Expires"]
    response.headers.pop("Cache-Control", None)
    patch_cache_control(response, public=True, max_age=settings.PAGE_CACHE_BROWSER_SECONDS)
    return response


class UpdatePageCacheMiddleware(UpdateCacheMiddleware):
    def process_response(self, request, response):
        # Django marks what it stores with Expires; a view's own Expires (never_cache) is
        # left alone, so private pages stay private.
        had_expires = response.has_header("Expires")
        response = super().process_response(request, response)
        if is_anonymous_read(request) and not had_expires and response.has_header("Expires"):
            limit_browser_lifetime(response)
        return response


class FetchPageCacheMiddleware(FetchFromCacheMiddleware):
    def process_request(self, request):
        if not is_anonymous_read(request):
            return None  # neither looked up nor, on the way out, stored
        response = super().process_request(request)
        if response is not None:
            response = limit_browser_lifetime(response)
        return response


class KnownSiteMiddleware:
    """Finds the request's Wagtail site once per publish rather than with a query on every
    request that the page cache does not answer (it comes after the page cache's lookup).
    Site changes empty the cache (clear_on_change, from articles' AppConfig)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = f"site:{request.get_host()}:{request.get_port()}"
        (site,) = remember(key, lambda: (Site.find_for_request(request),), structural=True)
        # Wagtail keeps the site it found for a request here and reads it back first
        # (Site.find_for_request); no public API sets it. If that stopped working,
        # tests/articles/test_kept_fragments.py would count the query again.
        request._wagtail_site = site
        return self.get_response(request)
