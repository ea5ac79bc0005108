"""What an editor fixes before readers see a text: dead links, pictures without alt text, and
placeholders left in ("TK", "lorem", "XXX").

Articles are checked when they go to review or are published; newsletters build their pre-send
checks of an issue on the same functions.
"""

import re
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from urllib.error import URLError
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import Resolver404, resolve
from django.utils.html import strip_tags
from wagtail.models import Page, Site

ERROR = "error"
WARNING = "warning"
# Whole words only: "TK" in "TKO" or "xxx" in an address is not a placeholder.
PLACEHOLDER = re.compile(r"\b(?:TK(?:TK)*|X{3,}|[Ll]orem)\b")
# Wagtail's own check of alt text: a file name is not a description.
FILE_NAME_ALT = re.compile(r"\.(avif|gif|jpg|jpeg|png|svg|webp)$|_", re.IGNORECASE)
URL = re.compile(r"^https?://", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One thing to fix (an error) or to agree to (a warning), in the editor's words."""

    severity: str
    check: str  # "link", "alt", "placeholder", …: what kind of check found it
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.is_error]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    return [problem for problem in problems if not problem.is_error]


# Placeholders


def placeholders(where: str, text: str) -> list[Problem]:
    """A problem for each kind of placeholder left in `text` (plain text or HTML)."""
    found = dict.fromkeys(PLACEHOLDER.findall(unescape(strip_tags(text or ""))))
    return [
        Problem(ERROR, "placeholder", f"Placeholder “{word}” left in {where}.") for word in found
    ]


# Alt text


def alt_text_problem(where: str, alt: str, image=None) -> Problem | None:
    """An error when the text a reader gets instead of the picture describes nothing."""
    alt = (alt or "").strip()
    if alt and not FILE_NAME_ALT.search(alt):
        return None
    fix = f" Describe the image “{image.title}” in its Description field." if image else ""
    said = f" (only “{alt}”, a file name)" if alt else ""
    return Problem(ERROR, "alt", f"The picture in {where} has no alt text{said}.{fix}")


# Links


class LinkCollector(HTMLParser):
    """The links and the images of a piece of HTML, rich text in its stored form included."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page_ids: list[int] = []
        self.hrefs: list[str] = []
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("linktype") == "page":
            if str(attributes.get("id", "")).isdigit():
                self.page_ids.append(int(attributes["id"]))
        elif tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"])
        elif tag == "img":
            self.images.append(attributes)


def links_in(html: str) -> LinkCollector:
    collector = LinkCollector()
    collector.feed(html or "")
    collector.close()
    return collector


def dead_pages(page_ids: Iterable[int]) -> dict[int, Page]:
    """Of these pages, those a reader cannot open (not live, or private), by id; a deleted
    page is an unsaved stand-in that names itself so."""
    wanted = set(page_ids)
    if not wanted:
        return {}
    open_ = set(Page.objects.live().public().filter(pk__in=wanted).values_list("pk", flat=True))
    dead = Page.objects.filter(pk__in=wanted - open_).in_bulk()
    return {pk: dead.get(pk) or Page(title="a page that was deleted") for pk in wanted - open_}


def own_hosts() -> set[str]:
    hosts = set(Site.objects.values_list("hostname", flat=True))
    if base := getattr(settings, "WAGTAILADMIN_BASE_URL", ""):
        hosts.add(urlsplit(base).hostname or "")
    return {host.lower() for host in hosts if host}


def opens_on_site(url: str) -> bool:
    """Whether one of the site's own URLs opens for an anonymous reader: a Django view, or a
    live page without view restrictions (routed as Wagtail serves it)."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path or "/")
    except Resolver404:
        return False
    if match.url_name != "wagtail_serve":
        return True
    # A request for the URL, as a reader would make it, for Wagtail's routing to match a site.
    request = HttpRequest()
    request.path = parts.path or "/"
    request.META["HTTP_HOST"] = parts.netloc
    request.META["SERVER_PORT"] = str(parts.port or (443 if parts.scheme == "https" else 80))
    try:
        page = Page.find_for_request(request, parts.path or "/")
    except Http404:
        return False
    return page is not None and page.live and not page.get_view_restrictions().exists()


def external_link_fails(url: str) -> str | None:
    """Why an external link does not open (HEAD, short timeout), or None when it does."""
    if not URL.match(url):
        return "not a web address"
    # Only http(s) gets here: no file: or custom schemes.
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "Outlet"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=settings.CONTENT_CHECK_LINK_TIMEOUT):  # noqa: S310
            return None
    except URLError as error:  # HTTPError (4xx, 5xx) included
        return str(getattr(error, "code", "") or error.reason)
    except (TimeoutError, ValueError, OSError) as error:
        return str(error) or type(error).__name__


def link_problems(where: str, page_ids: Iterable[int], hrefs: Iterable[str]) -> list[Problem]:
    """Dead links among page links (by id) and URLs: internal ones are errors; external ones
    are tried only when the site asks for it, and a failure is a warning (the web is flaky)."""
    dead = dead_pages(page_ids).values()
    problems = [
        Problem(
            ERROR, "link", f"{where.capitalize()} links “{page.title}”, which readers cannot open."
        )
        for page in dead
    ]
    named = {page.get_full_url() for page in dead if page.pk}  # said already, by title
    hosts = own_hosts()
    for url in dict.fromkeys(hrefs):
        if not URL.match(url) or url in named:
            continue  # mailto:, tel:, anchors: nothing to fetch
        if (urlsplit(url).hostname or "").lower() in hosts:
            if not opens_on_site(url):
                problems.append(
                    Problem(
                        ERROR, "link", f"{where.capitalize()} links {url}, which does not open."
                    )
                )
        elif settings.CONTENT_CHECK_EXTERNAL_LINKS and (why := external_link_fails(url)):
            problems.append(
                Problem(WARNING, "link", f"{where.capitalize()} links {url}, which failed ({why}).")
            )
    return problems


def rich_text_problems(where: str, html: str) -> list[Problem]:
    """Links and placeholders of one rich text (stored form) or plain text."""
    found = links_in(html)
    return link_problems(where, found.page_ids, found.hrefs) + placeholders(where, html)


# Articles


def strings_in(value) -> Iterator[str]:
    """Every string inside a block's raw value (struct fields, list items, table cells)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def body_texts(body) -> Iterator[tuple[str, str]]:
    """(where, text) for each piece of text in a body: its blocks in the editor's terms."""
    for index, block in enumerate(body.raw_data, start=1):
        where = f"the body ({block['type'].replace('_', ' ')} block {index})"
        for text in strings_in(block.get("value")):
            yield where, text


def body_images(body) -> Iterator[tuple[str, object, str]]:
    for index, block in enumerate(body, start=1):
        if block.block_type == "image" and block.value.get("image"):
            image = block.value["image"]
            alt = block.value.get("alt_text") or image.default_alt_text
            yield f"the body (image block {index})", image, alt


def check_article(article) -> list[Problem]:
    """The link, alt-text and placeholder checks of an article as the editor last left it."""
    problems: list[Problem | None] = []
    for where, text in [
        ("the title", article.title),
        ("the standfirst", article.dek),
        ("the summary", article.summary),
        ("the hero caption", article.hero_caption),
        ("the hero credit", article.hero_credit),
    ]:
        problems += placeholders(where, text)
    if article.hero_image:
        hero = article.hero_image
        problems.append(alt_text_problem("the hero image", hero.default_alt_text, hero))
    for where, image, alt in body_images(article.body):
        problems.append(alt_text_problem(where, alt, image))
    page_ids, hrefs = [], []
    for where, text in body_texts(article.body):
        if URL.match(text.strip()):
            hrefs.append(text.strip())
            continue
        found = links_in(text)
        page_ids += found.page_ids
        hrefs += found.hrefs
        problems += placeholders(where, text)
    problems += link_problems("the body", page_ids, hrefs)
    return [problem for problem in problems if problem is not None]


# In Wagtail's Checks panel, which runs axe on the preview: the preview marks its headline with
# the kinds of problem found (see preview_marker), and one rule per kind reports it there.

PREVIEW_ATTRIBUTE = "data-content-problems"
MARKED_CHECK = "content-problem-marked"
ARTICLE_KINDS = {
    "link": ("Link that readers cannot open", "Publish the page it links, or remove the link"),
    "alt": ("Picture without alt text", "Describe the image, or give the block alt text"),
    "placeholder": ("Placeholder left in (TK, lorem, XXX)", "Write the missing words"),
}


def preview_marker(problems: Iterable[Problem]) -> str:
    """The kinds of problem found, as the preview's headline carries them."""
    return " ".join(sorted({problem.check for problem in problems}))


def add_to_checks_panel(item, kinds: dict[str, tuple[str, str]]) -> None:
    """Give Wagtail's content checker (a userbar item) one rule per kind of problem."""
    ids = [f"content-{kind}" for kind in kinds]
    item.axe_custom_rules = [*item.axe_custom_rules] + [
        {
            "id": rule,
            "impact": "serious",
            "selector": f'[{PREVIEW_ATTRIBUTE}~="{kind}"]',
            "tags": ["best-practice"],
            "none": [MARKED_CHECK],
            "enabled": True,
        }
        for rule, kind in zip(ids, kinds, strict=True)
    ]
    if not any(check["id"] == MARKED_CHECK for check in item.axe_custom_checks):
        item.axe_custom_checks = [*item.axe_custom_checks] + [
            {
                "id": MARKED_CHECK,
                "evaluate": "attr-non-space-content-evaluate",  # one of axe's own
                "options": {"attribute": PREVIEW_ATTRIBUTE},
            }
        ]
    item.axe_messages = {
        **item.axe_messages,
        **{
            rule: {"error_name": name, "help_text": help_text}
            for rule, (name, help_text) in zip(ids, kinds.values(), strict=True)
        },
    }
    if item.axe_run_only:
        item.axe_run_only = [*item.axe_run_only, *ids]
