"""The site's own URLs with one bench-only view in front: the ceiling of every figure."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.cache import never_cache

from outlet.urls import urlpatterns as site_urlpatterns

CONSTANT_BODY = b"<!doctype html><title>constant</title><p>A fixed, small response.</p>\n"


@never_cache
def constant(request):
    """The cheapest response the stack can give: same middleware, no database, no template.

    never_cache keeps it out of the page cache, so that every request runs the whole
    middleware stack and the view, as a trivial Django view does.
    """
    return HttpResponse(CONSTANT_BODY, content_type="text/html; charset=utf-8")


urlpatterns = [path("bench/constant/", constant, name="bench_constant"), *site_urlpatterns]
