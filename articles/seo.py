"""What a page says about itself to search engines and social networks: the <head> metadata."""

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.safestring import mark_safe
from wagtail.models import Site

SHARE_IMAGE_SPEC = "fill-1200x630"
# As json_script does: nothing in the data can close the <script> element or open a comment.
SCRIPT_SAFE = str.maketrans({"<": "\\u003C", ">": "\\u003E", "&": "\\u0026"})


@dataclass(frozen=True)
class Feed:
    title: str
    url: str
    kind: str  # "rss" or "atom"

    @property
    def mime_type(self) -> str:
        return f"application/{self.kind}+xml"


@dataclass
class PageMeta:
    """Everything base.html puts in <head> about the page being shown."""

    title: str
    site_name: str
    root_url: str
    description: str
    canonical_url: str
    og_type: str = "website"
    image_url: str = ""
    image_alt: str = ""
    x_handle: str = ""
    published: datetime | None = None
    modified: datetime | None = None
    noindex: bool = False
    feeds: list[Feed] = field(default_factory=list)
    json_ld: list[dict] = field(default_factory=list)

    def absolute(self, path: str) -> str:
        """An absolute URL on the site's canonical host, whichever host the request used."""
        return self.root_url + path if path.startswith("/") else path

    @property
    def full_title(self) -> str:
        if self.title == self.site_name:
            return self.title
        return f"{self.title} | {self.site_name}"

    @property
    def json_ld_script(self) -> str:
        """The JSON-LD documents as a script body, escaped so they cannot close the tag."""
        text = json.dumps(self.json_ld, cls=DjangoJSONEncoder, ensure_ascii=False)
        return mark_safe(text.translate(SCRIPT_SAFE))  # noqa: S308 - escaped just above

    @classmethod
    def for_view(
        cls, request, identity, *, title, description, feeds=(), image=None, noindex=False
    ):
        """Metadata for a page built by a plain Django view; `identity` is the site's
        PublicationSettings."""
        site = Site.find_for_request(request)
        root_url = site.root_url if site else request.build_absolute_uri("/").rstrip("/")
        meta = cls(
            title=title,
            site_name=site_name(site),
            root_url=root_url,
            description=description or identity.tagline,
            canonical_url=root_url + request.path,
            x_handle=identity.x_handle,
            noindex=noindex,
            feeds=[*feeds, *site_feeds()],
        )
        meta.set_image(image or identity.default_share_image)
        return meta

    def set_image(self, image) -> None:
        if image is not None:
            rendition = image.get_rendition(SHARE_IMAGE_SPEC)
            self.image_url = self.absolute(rendition.url)
            self.image_alt = image.default_alt_text


def site_name(site) -> str:
    return (site.site_name if site else "") or settings.WAGTAIL_SITE_NAME


def site_feeds() -> list[Feed]:
    return [
        Feed("All articles (RSS)", reverse("articles:site_rss"), "rss"),
        Feed("All articles (Atom)", reverse("articles:site_atom"), "atom"),
    ]


def meta_for_page(page, request, identity) -> PageMeta:
    """Metadata for a Wagtail page, from its promote fields with sensible fallbacks;
    `identity` is the site's PublicationSettings."""
    site = Site.find_for_request(request) or page.get_site()  # the request caches its site
    meta = PageMeta(
        title=page.seo_title or getattr(page, "display_title", page.title),
        site_name=site_name(site),
        root_url=site.root_url,
        description=page.search_description or _description_of(page) or identity.tagline,
        canonical_url=page.get_full_url(request=request),
        x_handle=identity.x_handle,
        feeds=[*getattr(page, "feeds", lambda: [])(), *site_feeds()],
    )
    meta.set_image(getattr(page, "hero_image", None) or identity.default_share_image)
    return meta


def _description_of(page) -> str:
    for attribute in ("dek", "summary", "intro"):
        if text := getattr(page, attribute, ""):
            return text
    return ""


def breadcrumbs_json_ld(crumbs: list[tuple[str, str]]) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": name, "item": url}
            for position, (name, url) in enumerate(crumbs, start=1)
        ],
    }


def corrections_json_ld(article, url: str) -> dict:
    """schema.org's `correction` on the article: one CorrectionComment per correction notice."""
    corrections = [
        {
            "@type": "CorrectionComment",
            "text": notice.text,
            "datePublished": notice.date,
            "url": f"{url}#{notice.anchor}",
        }
        for notice in article.notices_shown
        if notice.kind == "correction"
    ]
    return {"correction": corrections} if corrections else {}


def news_article_json_ld(article, meta: PageMeta) -> dict:
    """schema.org NewsArticle, as Google's article rich results read it."""
    build = meta.absolute
    site_root = build("/")
    document = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.display_title[:110],
        "description": meta.description,
        "datePublished": article.date,
        "dateModified": article.date_modified,
        "mainEntityOfPage": meta.canonical_url,
        **corrections_json_ld(article, meta.canonical_url),
        "url": meta.canonical_url,
        "author": [
            {
                "@type": "Person",
                "name": author.name,
                "url": build(author.get_absolute_url()),
            }
            for author in article.authors
        ],
        "publisher": {
            "@type": "Organization",
            "name": meta.site_name,
            "url": site_root,
        },
        "keywords": [tag.name for tag in article.tag_list],
        "wordCount": article.word_count,
        "inLanguage": settings.LANGUAGE_CODE,
    }
    if meta.image_url:
        document["image"] = [meta.image_url]
    if article.series_id:
        document["isPartOf"] = {
            "@type": "CreativeWorkSeries",
            "name": article.series.name,
            "url": build(article.series.get_absolute_url()),
        }
    return document
