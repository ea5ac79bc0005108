"""Security headers on public pages, and reader input that must never produce a server error."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.articles.factories import ArticlePageFactory
from tests.reader import card_titles, read

pytestmark = pytest.mark.django_db

PUBLIC_URLS = [
    "/",
    "/analysis/",
    "/analysis/why-tariffs-stick/",
    "/authors/li-wei/",
    "/series/coffee-vs-tea/",
    "/tags/trade/",
    "/search/?q=tariffs",
    "/no-such-page/",
]


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_pages_carry_a_strict_content_security_policy(client, story, url):
    directives = csp_directives(client.get(url))

    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None, "no script-src nor default-src"
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_pages_carry_nosniff_referrer_and_framing_headers(client, story, url):
    response = client.get(url)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_cached_pages_keep_their_security_headers(client, story):
    client.get(story.url)
    cached = client.get(story.url)

    assert "'unsafe-inline'" not in cached["Content-Security-Policy"]
    assert cached["X-Content-Type-Options"] == "nosniff"
    assert cached["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_search_results_are_not_indexed(client, story):
    for url in ("/search/?q=tariffs", "/search/?q=nothing-matches", "/search/"):
        robots = read(client, url).find("meta", attrs={"name": "robots"})
        assert robots is not None, f"{url} has no robots meta"
        assert robots["content"].startswith("noindex")


@pytest.mark.parametrize("page", ["abc", "999", "-1", "0", "1.5", "", "9" * 40])
def test_search_pagination_with_a_bad_page_number_shows_a_page(client, story, page):
    soup = read(client, f"/search/?q=tariffs&page={page}")

    assert card_titles(soup) == ["CvT: Why tariffs stick"]


@pytest.mark.parametrize("page", ["abc", "999", "-1", "9" * 40])
def test_listing_pagination_with_a_bad_page_number_shows_a_page(client, story, page):
    for url in ("/analysis/", "/authors/li-wei/", "/tags/trade/", "/series/coffee-vs-tea/"):
        assert card_titles(read(client, f"{url}?page={page}")) == ["CvT: Why tariffs stick"]


def test_search_page_999_of_many_shows_the_last_page(client, section):
    for n in range(12):
        ArticlePageFactory(parent=section, title=f"Tariff note {n}")

    soup = read(client, "/search/?q=tariff&page=999")

    assert "Page 2 of 2" in soup.get_text()
    assert len(card_titles(soup)) == 2


def test_search_query_is_echoed_escaped(client, story):
    response = client.get("/search/", {"q": '"><script>alert(1)</script>'})

    assert response.status_code == 200
    assert b"<script>alert(1)</script>" not in response.content


def test_a_very_long_search_query_is_cut_not_refused(client, story):
    soup = read(client, "/search/?q=" + "tariffs+" * 500)

    assert len(soup.find("input", id="search-q")["value"]) <= 200


# Fuzzing: whatever a reader types, the answer is a page, never a server error.

reader_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # URLs cannot carry lone surrogates
    max_size=300,
)
search_syntax = st.sampled_from(
    ['"', "'", "*", "-", "(", ")", ":", "^", "AND", "OR", "NOT", "NEAR", "\\", "%", "_", "&"]
)
queries = st.one_of(
    reader_text,
    st.lists(st.one_of(search_syntax, reader_text), max_size=8).map(" ".join),
    st.text(alphabet="\x00\x01\x07\x08\x0b\x0c\x1b\x7f\u200b\ufeff", max_size=20),
)
page_numbers = st.one_of(reader_text, st.integers().map(str))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=queries, page=page_numbers)
def test_search_never_fails_whatever_the_query_and_page(story, q, page):
    response = Client(raise_request_exception=False).get("/search/", {"q": q, "page": page})

    assert response.status_code == 200, f"q={q!r} page={page!r} → {response.status_code}"
