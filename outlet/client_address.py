"""The address a request comes from, for per-reader limits, behind reverse proxies or not.

X-Forwarded-For is believed only when the request comes from a proxy named in
TRUSTED_PROXY_IPS (an address or a network): anyone else could write whatever they like in it,
and is limited as themselves. Behind TRUSTED_PROXY_COUNT proxies, each appending the address it
received the request from, the reader's address is that many entries from the right of the
header, whatever a client put in front (django-ipware reads the header).
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from ipware import get_client_ip


@lru_cache(maxsize=8)
def _trusted(networks: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(network, strict=False) for network in networks)


def is_trusted_proxy(address: str) -> bool:
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(peer in network for network in _trusted(tuple(settings.TRUSTED_PROXY_IPS)))


def client_address(request) -> str:
    peer = request.META.get("REMOTE_ADDR", "")
    if not is_trusted_proxy(peer):
        return peer
    forwarded, _ = get_client_ip(
        request,
        proxy_order="left-most",
        # The outermost proxy's entry: the one counted back past the others.
        proxy_count=max(settings.TRUSTED_PROXY_COUNT - 1, 0),
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    return forwarded or peer
