"""The site's own URLs with bench-only views in front: the ceiling of every figure, and two
views through which bench/nginx.py checks what nginx passes on and what it keeps."""

from django.http import HttpResponse, JsonResponse
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


@never_cache
def client(request):
    """What the site makes of the request behind a proxy: the reader's address, the scheme,
    the host, and the X-Forwarded-* headers as they arrived."""
    from outlet.client_address import client_address

    return JsonResponse(
        {
            "client_address": client_address(request),
            "remote_addr": request.META.get("REMOTE_ADDR"),
            "is_secure": request.is_secure(),
            "host": request.get_host(),
            "x_forwarded_for": request.META.get("HTTP_X_FORWARDED_FOR"),
            "x_forwarded_proto": request.META.get("HTTP_X_FORWARDED_PROTO"),
            "x_forwarded_host": request.META.get("HTTP_X_FORWARDED_HOST"),
        }
    )


def sets_cookie(request):
    """A response marked public that also sets a cookie: a shared cache must not keep it."""
    response = HttpResponse(b"with a cookie\n", content_type="text/plain")
    response["Cache-Control"] = "public, max-age=60"
    response.set_cookie("bench", "1")
    return response


urlpatterns = [
    path("bench/constant/", constant, name="bench_constant"),
    path("bench/client/", client, name="bench_client"),
    path("bench/sets-cookie/", sets_cookie, name="bench_sets_cookie"),
    *site_urlpatterns,
]
