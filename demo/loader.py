"""Loads the demo content (content.json) into pages, snippets and images; safe to run again."""

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db.models import Model
from wagtail.blocks import StreamValue
from wagtail.models import Page, Revision, Site

from articles.models import (
    ArticlePage,
    ArticlePageAuthor,
    ArticlePageRelated,
    Author,
    HomePage,
    HomePageFeaturedArticle,
    SectionPage,
    Series,
)
from demo.images import illustration, palette_for, portrait, store_image

CONTENT_PATH = Path(__file__).with_name("content.json")
HOME_INTRO = "Analysis of business and politics between the United States and China."
# The article fields the loader sets, compared to decide whether to publish again.
ARTICLE_FIELDS = ("title", "dek", "date", "summary", "series_id")
HERO_FIELDS = ("hero_image_id", "hero_caption", "hero_credit")


def read_content(path: Path = CONTENT_PATH) -> dict:
    """The demo content as written in content.json."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CommandError(f"Cannot read demo content from {path}: {error}") from error


def _without_ids(value):
    """Block data with the generated block ids dropped, so two loads compare equal."""
    if isinstance(value, dict):
        return {key: _without_ids(item) for key, item in value.items() if key != "id"}
    if isinstance(value, list):
        return [_without_ids(item) for item in value]
    return value


def _plain(value):
    """A field value as comparable data: streams as block data without ids, models as pks."""
    if isinstance(value, StreamValue):
        return _without_ids([child.get_prep_value() for child in value])
    if isinstance(value, Model):
        return value.pk
    return value


def _snapshot(instance, names) -> dict:
    return {name: _plain(getattr(instance, name)) for name in names}


def assign_fields(instance, fields: dict) -> str:
    """Set `fields` on `instance` without saving; "updated" if that changed anything."""
    before = _snapshot(instance, fields)
    for name, value in fields.items():
        setattr(instance, name, value)
    return "unchanged" if _snapshot(instance, fields) == before else "updated"


def _article_state(page: ArticlePage) -> dict:
    """Everything the loader sets on an article, in a form that compares equal when unchanged."""
    return {
        "fields": _snapshot(page, (*ARTICLE_FIELDS, *HERO_FIELDS)),
        "tags": sorted(tag.name for tag in page.tags.all()),
        "authors": [link.author_id for link in page.article_authors.all()],
        "related": [link.article_id for link in page.related_picks.all()],
        "body": _plain(page.body),
    }


def publish(page: Page, when: datetime | None = None) -> None:
    """Publish the page as a new revision; backdate it to `when` so dates agree everywhere."""
    revision = page.save_revision()
    revision.publish()
    if when is None:
        return
    Page.objects.filter(pk=page.pk).update(
        first_published_at=when, last_published_at=when, latest_revision_created_at=when
    )
    Revision.objects.filter(pk=revision.pk).update(created_at=when)
    page.first_published_at = page.last_published_at = page.latest_revision_created_at = when


class DemoLoader:
    """Creates or updates the demo pages and snippets; `report` counts what it did."""

    def __init__(self, content: dict, today: datetime):
        self.content = content
        self.today = today
        self.report: Counter = Counter()
        # Filled by load(), by slug: what the newsletters' demo loader links issues to.
        self.series: dict[str, Series] = {}
        self.articles: dict[str, ArticlePage] = {}

    def load(self, site: Site) -> Counter:
        """Load every page and snippet under the site's home page; return the report."""
        home = site.root_page.specific
        if not isinstance(home, HomePage):
            raise CommandError("The default site's root page is not the Outlet home page.")
        sections = {
            entry["slug"]: self.load_section(home, entry) for entry in self.content["sections"]
        }
        authors = {
            entry["slug"]: self.load_author(index, entry)
            for index, entry in enumerate(self.content["authors"])
        }
        series = {entry["slug"]: self.load_series(entry) for entry in self.content["series"]}
        articles = self.load_articles(home, sections, authors, series)
        self.load_home(home, articles)
        self.series, self.articles = series, articles
        return self.report

    def _count(self, kind: str, outcome: str) -> None:
        self.report[(kind, outcome)] += 1

    def load_section(self, home: HomePage, entry: dict) -> SectionPage:
        """A published section under the home page, shown in the menu."""
        section = SectionPage.objects.child_of(home).filter(slug=entry["slug"]).first()
        fields = {"title": entry["title"], "intro": entry["intro"], "show_in_menus": True}
        if section is None:
            section = home.add_child(instance=SectionPage(slug=entry["slug"], live=False, **fields))
            outcome = "created"
        else:
            outcome = assign_fields(section, fields)
            if outcome == "unchanged" and section.live and not section.has_unpublished_changes:
                self._count("sections", outcome)
                return section
        publish(section)
        self._count("sections", "created" if outcome == "created" else "updated")
        return section

    def _upsert(self, kind: str, model, slug: str, fields: dict):
        """The snippet with this slug, created or brought up to date."""
        instance = model.objects.filter(slug=slug).first()
        outcome = assign_fields(instance, fields) if instance else "created"
        instance = instance or model(slug=slug, **fields)
        if outcome != "unchanged":
            instance.save()
        self._count(kind, outcome)
        return instance

    def load_author(self, index: int, entry: dict) -> Author:
        """An author snippet with a generated initials portrait."""
        name = entry["name"]
        photo = self._image(
            f"{name} (portrait)",
            f"Initials of {name}",
            lambda: portrait(name, palette_for(index + 7)),
            f"author-{entry['slug']}.png",
        )
        links = [{"type": "link", "value": link} for link in entry["links"]]
        fields = {key: entry[key] for key in ("name", "role", "bio")}
        fields.update(photo=photo, links=links)
        return self._upsert("authors", Author, entry["slug"], fields)

    def load_series(self, entry: dict) -> Series:
        """A series snippet."""
        fields = {key: entry[key] for key in ("name", "label", "description")}
        return self._upsert("series", Series, entry["slug"], fields)

    def _image(self, title: str, description: str, draw, filename: str):
        image, created = store_image(title, description, draw, filename)
        self._count("images", "created" if created else "unchanged")
        return image

    def load_articles(self, home: HomePage, sections: dict, authors: dict, series: dict) -> dict:
        """Every article, created first and linked to its related picks once all of them exist."""
        pages, before = {}, {}
        for index, entry in enumerate(self.content["articles"]):
            page = self._find_article(home, entry["slug"], sections[entry["section"]])
            before[entry["slug"]] = _article_state(page) if page else None
            page = page or ArticlePage(slug=entry["slug"], live=False)
            self._fill_article(page, index, entry, authors, series)
            if page.pk is None:
                sections[entry["section"]].add_child(instance=page)
            pages[entry["slug"]] = page
        for entry in self.content["articles"]:
            page = pages[entry["slug"]]
            page.related_picks = [
                ArticlePageRelated(article=pages[slug], sort_order=order)
                for order, slug in enumerate(entry["related"])
                if slug in pages
            ]
            self._publish_article(page, before[entry["slug"]])
        return pages

    def _find_article(self, home: HomePage, slug: str, section: SectionPage) -> ArticlePage | None:
        """The demo article with this slug anywhere on the site, moved to its section if needed."""
        page = ArticlePage.objects.descendant_of(home).filter(slug=slug).first()
        if page is not None and not page.is_child_of(section):
            page.move(section, pos="last-child")
            self._count("articles", "moved")
            page = ArticlePage.objects.get(pk=page.pk)
        return page

    def _publish_article(self, page: ArticlePage, before: dict | None) -> None:
        if before is None:
            outcome = "created"
        elif before != _article_state(page) or not page.live or page.has_unpublished_changes:
            outcome = "updated"
        else:
            self._count("articles", "unchanged")
            return
        publish(page, when=page.date)
        self._count("articles", outcome)

    def _fill_article(
        self, page: ArticlePage, index: int, entry: dict, authors: dict, series: dict
    ) -> None:
        """Set the article's fields, authors, tags and body from its content entry."""
        hero = entry["hero"]
        page.title = entry["title"]
        page.dek = entry["dek"]
        page.summary = entry["summary"]
        page.date = self.today - timedelta(days=entry["days_ago"])
        page.series = series[entry["series"]] if entry["series"] else None
        page.hero_image = self._image(
            entry["title"],
            hero["alt"],
            lambda: illustration(hero["motif"], entry["slug"], palette_for(index)),
            f"{entry['slug']}.png",
        )
        page.hero_caption = hero["caption"]
        page.hero_credit = hero["credit"]
        page.tags.set(entry["tags"])
        page.article_authors = [
            ArticlePageAuthor(author=authors[slug], sort_order=order)
            for order, slug in enumerate(entry["authors"])
        ]
        page.body = self._body(index, entry)

    def _body(self, index: int, entry: dict) -> list:
        """The story blocks for an article, checked against the block definitions."""
        blocks = []
        for number, block in enumerate(entry["body"], start=1):
            if block["type"] == "image":
                block = {**block, "image": self._figure(index, entry, number, block)}
            blocks.append(story_block(block))
        stream_block = ArticlePage.body.field.stream_block
        try:
            stream_block.clean(stream_block.to_python(blocks))
        except ValidationError as error:
            raise CommandError(
                f"Demo article {entry['slug']!r} has an invalid body: {error}"
            ) from error
        return blocks

    def _figure(self, index: int, entry: dict, number: int, block: dict) -> int:
        seed = f"{entry['slug']}-{number}"
        image = self._image(
            f"{entry['title']} (figure {number})",
            block["alt"],
            lambda: illustration(block["motif"], seed, palette_for(index)),
            f"{seed}.png",
        )
        return image.pk

    def load_home(self, home: HomePage, articles: dict) -> None:
        """The home page's intro line and featured picks."""
        featured = [
            articles[entry["slug"]].pk for entry in self.content["articles"] if entry["featured"]
        ]
        current = list(home.featured_articles.values_list("article_id", flat=True))
        if home.intro == HOME_INTRO and current == featured and home.live and home.live_revision_id:
            self._count("home page", "unchanged")
            return
        home.intro = HOME_INTRO
        home.featured_articles = [
            HomePageFeaturedArticle(article_id=pk, sort_order=order)
            for order, pk in enumerate(featured)
        ]
        publish(home)
        self._count("home page", "updated")


def story_block(block: dict) -> dict:
    """One content.json body block in the raw form ArticleStoryBlock stores."""
    kind = block["type"]
    if kind == "heading":
        value = {"text": block["text"], "level": "h2"}
    elif kind == "paragraph":
        value = block["html"]
    elif kind == "quote":
        value = {"text": block["text"], "attribution": block.get("attribution", "")}
    elif kind == "image":
        value = {key: block.get(key, "") for key in ("image", "caption", "credit")}
        value["alt_text"] = block.get("alt", "")
    elif kind == "key_takeaways":
        value = {"title": block.get("title") or "Key takeaways", "items": block["items"]}
    elif kind == "table":
        value = {
            "data": [block["header"], *block["rows"]],
            "first_row_is_table_header": True,
            "first_col_is_header": False,
            "table_caption": block.get("caption", ""),
        }
    elif kind == "sources":
        value = {"title": block.get("title") or "Sources", "items": block["items"]}
    else:
        raise CommandError(f"Unknown demo block type {kind!r}.")
    return {"type": kind, "value": value}
