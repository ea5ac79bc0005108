"""A server-side cache of the pages anonymous readers see, cleared when published content changes.

Django's cache middleware does the work; these subclasses keep it to anonymous GETs outside
the admin, and tell browsers to keep a page only briefly, because the server copy is the
one that publishing clears (see articles.signal_handlers).
"""

from django.conf import settings
from django.core.cache import caches
from django.middleware.cache import FetchFromCacheMiddleware, UpdateCacheMiddleware
from django.utils.cache import patch_cache_control

UNCACHED_PREFIXES = ("/admin/", "/django-admin/")


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


def clear_page_cache() -> None:
    """Forget every cached page: called whenever published content changes."""
    caches[settings.CACHE_MIDDLEWARE_ALIAS].clear()


class UpdatePageCacheMiddleware(UpdateCacheMiddleware):
    def process_response(self, request, response):
        # Django marks what it stores with Expires; a view's own Expires (never_cache) is
        # left alone, so private pages stay private.
        might_store = self._should_update_cache(request, response)
        might_store = might_store and not response.has_header("Expires")
        response = super().process_response(request, response)
        if might_store and response.has_header("Expires"):
            limit_browser_lifetime(response)
        return response


class FetchPageCacheMiddleware(FetchFromCacheMiddleware):
    def process_request(self, request):
        if not is_anonymous_read(request):
            request._cache_update_cache = False
            return None
        response = super().process_request(request)
        if response is not None:
            response = limit_browser_lifetime(response)
        return response
