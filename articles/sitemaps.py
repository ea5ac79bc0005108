"""sitemap.xml: live public pages from Wagtail, plus author, series and tag pages."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse
from taggit.models import Tag
from wagtail.contrib.sitemaps import Sitemap as WagtailSitemap

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
