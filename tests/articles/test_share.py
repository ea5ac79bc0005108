"""The share widget: every link decoded back to the exact canonical URL and title."""

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from articles.share import share_links
from tests.articles.factories import ArticlePageFactory, SeriesFactory
from tests.reader import read

TRICKY_TITLE = 'Tariffs & chips? #1 in Zhōngguó, the "hawks\'" view'
LABELLED_TITLE = f"CvT: {TRICKY_TITLE}"

# Where each network expects the URL and the title. LinkedIn and Facebook take only the URL and
# read the title from the page's og:title (checked separately below).
NETWORKS = {
    "X": ("https", "x.com", "/intent/post", "url", "text"),
    "LinkedIn": ("https", "www.linkedin.com", "/sharing/share-offsite/", "url", None),
    "Facebook": ("https", "www.facebook.com", "/sharer/sharer.php", "u", None),
    "Weibo": ("https", "service.weibo.com", "/share/share.php", "url", "title"),
    "Telegram": ("https", "t.me", "/share/url", "url", "text"),
    "Reddit": ("https", "www.reddit.com", "/submit", "url", "title"),
}


@pytest.fixture
def tricky(section):
    series = SeriesFactory(label="CvT")
    return ArticlePageFactory(parent=section, title=TRICKY_TITLE, series=series)


@pytest.fixture
def page(client, tricky):
    return read(client, tricky.url)


@pytest.fixture
def canonical(page):
    return page.find("link", rel="canonical")["href"]


def query_of(href: str) -> dict[str, str]:
    """The query of a share link, decoded; each parameter must appear exactly once."""
    params = parse_qs(urlsplit(href).query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in params.values()), params
    return {name: values[0] for name, values in params.items()}


def links_by_label(widget) -> dict[str, str]:
    """Each link by the network its (hidden) text names: "Share on X" → "X"."""
    names = {}
    for link in widget.find_all("a", href=True):
        text = link.get_text(strip=True)
        assert text == link["title"], "the tooltip says what the hidden text says"
        names[text.removeprefix("Share on ").replace("Share by email", "Email")] = link["href"]
    return names


@pytest.mark.django_db
def test_the_canonical_url_is_the_articles_absolute_url(canonical, tricky):
    assert canonical == tricky.get_full_url()
    assert canonical.startswith("http://localhost/analysis/")


@pytest.mark.django_db
@pytest.mark.parametrize("network", list(NETWORKS))
def test_share_link_carries_the_exact_url_and_title(page, canonical, network):
    scheme, host, path, url_param, title_param = NETWORKS[network]
    for widget in page.select("[data-share]"):
        href = links_by_label(widget)[network]
        parts = urlsplit(href)
        assert (parts.scheme, parts.netloc, parts.path) == (scheme, host, path)
        params = query_of(href)
        assert params[url_param] == canonical
        if title_param:
            assert params[title_param] == LABELLED_TITLE
        assert not parts.fragment, "the # in the title leaked into the link as a fragment"


@pytest.mark.django_db
def test_email_link_has_title_as_subject_and_url_as_body(page, canonical):
    for widget in page.select("[data-share]"):
        href = links_by_label(widget)["Email"]
        parts = urlsplit(href)
        assert parts.scheme == "mailto"
        assert query_of(href) == {"subject": LABELLED_TITLE, "body": canonical}
        assert "+" not in parts.query, "mail clients show + literally: spaces must be %20"


@pytest.mark.django_db
def test_whatsapp_link_carries_title_then_url_in_one_message(page, canonical):
    for widget in page.select("[data-share]"):
        href = links_by_label(widget)["WhatsApp"]
        assert urlsplit(href).netloc == "wa.me"
        assert query_of(href) == {"text": f"{LABELLED_TITLE} {canonical}"}


@pytest.mark.django_db
def test_networks_that_read_the_page_get_the_title_from_og_title(page):
    assert page.find("meta", property="og:title")["content"] == LABELLED_TITLE
    assert (
        page.find("meta", property="og:url")["content"]
        == page.find("link", rel="canonical")["href"]
    )


@pytest.mark.django_db
def test_every_network_is_offered_in_both_widgets(page):
    expected = {*NETWORKS, "Email", "WhatsApp"}
    widgets = page.select("[data-share]")
    assert len(widgets) == 2
    for widget in widgets:
        assert set(links_by_label(widget)) == expected


@pytest.mark.django_db
def test_share_links_open_in_a_new_tab_without_an_opener(page):
    for link in page.select("[data-share] a[href^='https://']"):
        assert link["target"] == "_blank"
        assert {"noopener", "noreferrer"} <= set(link["rel"])


@pytest.mark.django_db
def test_copy_and_native_share_read_url_and_title_from_data_attributes(page, canonical):
    for widget in page.select("[data-share]"):
        assert widget["data-share-url"] == canonical
        assert widget["data-share-title"] == LABELLED_TITLE
        # Progressive enhancement: without JavaScript the buttons stay hidden.
        assert widget.find("button", attrs={"data-share-copy": True}).has_attr("hidden")
        assert widget.find("button", attrs={"data-share-native": True}).has_attr("hidden")


@pytest.mark.django_db
def test_wechat_qr_code_is_an_inline_svg_titled_after_the_article(page):
    codes = page.select("[data-share] svg.share-qr__code")
    assert len(codes) == 2
    for svg in codes:
        assert svg.title.get_text() == f"QR code for {LABELLED_TITLE}"
        assert svg.find("path")["d"], "the QR code has no modules"
        assert svg.find_parent("details").summary.get_text(strip=True) == "Share on WeChat"


@pytest.mark.django_db
def test_article_page_loads_nothing_from_other_hosts(page):
    own_hosts = {"", "localhost", "testserver"}
    for tag, attribute in [
        ("script", "src"),
        ("link", "href"),
        ("img", "src"),
        ("iframe", "src"),
        ("source", "srcset"),
    ]:
        for element in page.find_all(tag, attrs={attribute: True}):
            for url in element[attribute].split(","):
                host = urlsplit(url.strip().split(" ")[0]).hostname or ""
                assert host in own_hosts, f"<{tag} {attribute}={element[attribute]!r}> is off-site"


@pytest.mark.django_db
def test_article_page_has_no_inline_executable_script(page):
    for script in page.find_all("script"):
        if script.get("type") == "application/ld+json":
            continue
        assert script.get("src"), "an inline <script> would need 'unsafe-inline' in the CSP"


# The encoding holds for any title and path, not just the one above.

titles = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=80,
)
paths = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12),
    min_size=1,
    max_size=3,
)


@given(title=titles, segments=paths)
def test_share_links_round_trip_any_title_and_url(title, segments):
    url = "https://outlet.example/" + "/".join(segments) + "/"
    for link in share_links(url, title):
        params = query_of(link.url)
        assert url in params.values() or params.get("text") == f"{title} {url}"
        if link.network in {"x", "telegram"}:
            assert params["text"] == title
        if link.network in {"weibo", "reddit"}:
            assert params["title"] == title
        if link.network == "email":
            assert params["subject"] == title


@pytest.mark.django_db
def test_every_share_icon_is_drawn_from_one_sprite_on_the_page(page):
    (sprite,) = page.select("svg.icon-sprite")
    symbols = {symbol["id"] for symbol in sprite.find_all("symbol")}
    icons = page.select("[data-share] svg.share__icon")

    assert len(icons) == 2 * 11, "8 networks, WeChat, copy and share, in each widget"
    for icon in icons:
        assert icon["aria-hidden"] == "true", "the link's hidden text names it, not the icon"
        assert icon.use["href"].removeprefix("#") in symbols
