"""sitemap.xml: live public pages from Wagtail, plus author, series and tag pages; and
news-sitemap.xml, Google News' sitemap of the articles of the last two days."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag
from wagtail.contrib.sitemaps import Sitemap as WagtailSitemap
from wagtail.models import Site

from articles.models import ArticlePage, Author, Series


class AuthorSitemap(Sitemap):
    def items(self):
        return Author.objects.filter(
            pk__in=ArticlePage.objects.live().public().values("article_authors__author")
        )


class SeriesSitemap(Sitemap):
    def items(self):
        return Series.objects.filter(pk__in=ArticlePage.objects.live().public().values("series"))


class TagSitemap(Sitemap):
    def items(self):
        return Tag.objects.filter(
            pk__in=ArticlePage.objects.live().public().values("tagged_items__tag")
        ).order_by("name")

    def location(self, tag):
        return reverse("articles:tag", args=[tag.slug])


SITEMAPS = {
    "pages": WagtailSitemap,
    "authors": AuthorSitemap,
    "series": SeriesSitemap,
    "tags": TagSitemap,
}


def news_sitemap(request):
    """news-sitemap.xml: the articles of the last two days (at most 1,000), for Google News."""
    site = Site.find_for_request(request)
    articles = (
        ArticlePage.objects.live()
        .public()
        .filter(date__gte=timezone.now() - timedelta(days=2))
        .defer_streamfields()
        .select_related("series")
        .order_by("-date")[:1000]
    )
    context = {
        "articles": [(article.get_full_url(request), article) for article in articles],
        "publication": site.site_name if site and site.site_name else settings.WAGTAIL_SITE_NAME,
        "language": settings.LANGUAGE_CODE.split("-")[0],
    }
    return render(request, "articles/news_sitemap.xml", context, content_type="application/xml")
