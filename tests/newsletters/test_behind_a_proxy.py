"""The signup rate limit behind a reverse proxy: readers are told apart by the address the
proxy saw, and nobody escapes the limit by writing X-Forwarded-For themselves."""

import pytest
from django.test import RequestFactory

from outlet.client_address import client_address

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # nginx on the private network, in front of gunicorn


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXY_IPS = ["10.0.0.0/24"]
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SIGNUP_RATE_LIMIT = 3


def test_twenty_readers_behind_the_proxy_each_get_through(signup, behind_proxy, mailbox):
    answers = [
        signup(f"reader{n}@example.com", ip=PROXY, forwarded_for=f"203.0.113.{n + 1}")
        for n in range(20)
    ]

    assert [response.status_code for response in answers] == [302] * 20
    assert len(mailbox) == 20


def test_a_reader_behind_the_proxy_is_limited_as_themselves(signup, behind_proxy):
    def from_one_reader(n: int):
        # Whatever they put in the header themselves, the proxy appends what it saw.
        forged = f"198.51.100.{n}, 203.0.113.9"
        return signup(f"r{n}@example.com", ip=PROXY, forwarded_for=forged)

    answers = [from_one_reader(n).status_code for n in range(5)]

    assert answers == [302, 302, 302, 429, 429]


def test_a_direct_client_forging_the_header_is_limited_as_itself(signup, behind_proxy):
    answers = [
        signup(f"f{n}@example.com", ip="192.0.2.50", forwarded_for=f"203.0.113.{n + 1}").status_code
        for n in range(5)
    ]

    assert answers == [302, 302, 302, 429, 429]


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_IPS = []
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.2", forwarded_for="203.0.113.7")

    assert client_address(request) == "10.0.0.2"


def test_behind_two_proxies_the_reader_is_two_entries_from_the_right(settings):
    settings.TRUSTED_PROXY_IPS = ["10.0.0.0/24"]
    settings.TRUSTED_PROXY_COUNT = 2  # a CDN, then nginx
    request = RequestFactory().post(
        "/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.7, 192.0.2.10",  # forged, reader, CDN
    )

    assert client_address(request) == "203.0.113.7"
