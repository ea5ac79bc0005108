"""Reader pages that are not Wagtail pages: authors, series, tags and search."""

import re

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from taggit.models import Tag

from articles.models import ArticleNotice, ArticlePage, Author, PublicationSettings, Series
from articles.models.pages import LISTING_PAGE_SIZE
from articles.seo import Feed, PageMeta

SEARCH_PAGE_SIZE = 10


def _page_of(request, queryset, size=LISTING_PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _feeds(name: str, slug: str, title: str) -> list[Feed]:
    return [
        Feed(f"{title} (RSS)", reverse(f"articles:{name}_rss", args=[slug]), "rss"),
        Feed(f"{title} (Atom)", reverse(f"articles:{name}_atom", args=[slug]), "atom"),
    ]


def author(request, slug):
    author = get_object_or_404(Author.objects.select_related("photo"), slug=slug)
    articles = ArticlePage.objects.for_listing().filter(article_authors__author=author)
    meta = PageMeta.for_view(
        request,
        PublicationSettings.for_request(request),
        title=author.name,
        description=author.bio or f"Articles by {author.name}.",
        feeds=_feeds("author", slug, author.name),
        image=author.photo,
    )
    context = {"author": author, "articles": _page_of(request, articles), "meta": meta}
    return render(request, "articles/author_page.html", context)


def series(request, slug):
    series = get_object_or_404(Series, slug=slug)
    articles = ArticlePage.objects.for_listing().filter(series=series)
    meta = PageMeta.for_view(
        request,
        PublicationSettings.for_request(request),
        title=series.name,
        description=series.description or f"The {series.name} series.",
        feeds=_feeds("series", slug, series.name),
    )
    context = {"series": series, "articles": _page_of(request, articles), "meta": meta}
    return render(request, "articles/series_page.html", context)


def live_tag_or_404(slug: str) -> Tag:
    """A tag that at least one live article carries; drafts' tags stay unknown to readers."""
    tag = Tag.objects.filter(slug=slug).first()
    if tag is None or not ArticlePage.objects.live().public().filter(tags=tag).exists():
        raise Http404("No articles are tagged with that.")
    return tag


def tag(request, slug):
    tag = live_tag_or_404(slug)
    articles = ArticlePage.objects.for_listing().filter(tags=tag)
    meta = PageMeta.for_view(
        request,
        PublicationSettings.for_request(request),
        title=f"Tagged “{tag.name}”",
        description=f"Articles about {tag.name}.",
        feeds=_feeds("tag", slug, tag.name),
    )
    context = {"tag": tag, "articles": _page_of(request, articles), "meta": meta}
    return render(request, "articles/tag_page.html", context)


def published_notices():
    """Corrections and updates of live, public articles, newest first."""
    return (
        ArticleNotice.objects.filter(page__in=ArticlePage.objects.live().public())
        .select_related("page__series")
        .order_by("-date", "-pk")
    )


def corrections(request):
    """Every correction and update the outlet has published, newest first."""
    meta = PageMeta.for_view(
        request,
        PublicationSettings.for_request(request),
        title="Corrections and updates",
        description="Every correction and update to our articles, newest first.",
        feeds=[
            Feed("Corrections and updates (RSS)", reverse("articles:corrections_rss"), "rss"),
            Feed("Corrections and updates (Atom)", reverse("articles:corrections_atom"), "atom"),
        ],
    )
    context = {"notices": _page_of(request, published_notices(), SEARCH_PAGE_SIZE * 2)}
    return render(request, "articles/corrections.html", context | {"meta": meta})


def search(request):
    query = request.GET.get("q", "").strip()[:200]
    # Words only: the backends' query syntax fails (a 500) on quotes and NUL characters.
    words = " ".join(re.findall(r"\w+", query))
    results = None
    if words:
        matches = ArticlePage.objects.for_listing().order_by().search(words)
        results = _page_of(request, matches, SEARCH_PAGE_SIZE)
    meta = PageMeta.for_view(
        request,
        PublicationSettings.for_request(request),
        title=f"Search: {query}" if query else "Search",
        description="Search the outlet's articles.",
        noindex=True,
    )
    context = {"query": query, "results": results, "meta": meta}
    return render(request, "articles/search.html", context)
