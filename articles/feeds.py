"""RSS 2.0 and Atom feeds for the site and for each section, author, series and tag."""

from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from wagtail.models import Site

from articles.models import ArticlePage, ArticlePageTag, Author, Series
from articles.views import live_tag_or_404, published_notices
from outlet.page_cache import remember

FEED_SIZE = 30


class RssWithAuthors(Rss201rev2Feed):
    """RSS with one dc:creator per author: RSS's own <author> wants a single email address."""

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:dc": "http://purl.org/dc/elements/1.1/",
        }

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for author in item["authors"]:
            handler.addQuickElement("dc:creator", author.name)


class AtomWithAuthors(Atom1Feed):
    """Atom with an <author> element for every author, each linking to their page."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for author in item["authors"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", author.name)
            handler.addQuickElement("uri", item["author_urls"][author.pk])
            handler.endElement("author")


class KeptUntilPublish:
    """A feed built once per publish and kept in the page cache, which every change to what
    it lists empties (outlet.page_cache): its readers are polled by machines, signed in or
    not."""

    def __call__(self, request, *args, **kwargs):
        def build():
            response = super(KeptUntilPublish, self).__call__(request, *args, **kwargs)
            return response.content, response["Content-Type"], response.get("Last-Modified")

        address = request.build_absolute_uri(request.path)  # feeds hold absolute links
        content, content_type, last_modified = remember(f"feed:{address}", build)
        response = HttpResponse(content, content_type=content_type)
        if last_modified:
            response["Last-Modified"] = last_modified
        return response


class ArticleFeed(KeptUntilPublish, Feed):
    """The latest live articles of the whole site; subclasses narrow the selection."""

    feed_type: type[SyndicationFeed] = RssWithAuthors

    @classmethod
    def as_view(cls):
        """A view that builds a feed per request: a feed keeps its request on itself, so one
        shared instance would mix up concurrent requests on a threaded server."""

        def view(request, *args, **kwargs):
            return cls()(request, *args, **kwargs)

        return view

    def __call__(self, request, *args, **kwargs):
        self.request = request
        self.site = Site.find_for_request(request)
        return super().__call__(request, *args, **kwargs)

    def title(self, obj=None):
        return self.site.site_name if self.site else "Outlet"

    def link(self, obj=None):
        return "/"

    def description(self, obj=None):
        return f"The latest analysis from {self.title(obj)}."

    def articles(self, obj):
        return ArticlePage.objects.for_listing()

    def items(self, obj=None):
        tags = Prefetch("tagged_items", queryset=ArticlePageTag.objects.select_related("tag"))
        return self.articles(obj).prefetch_related(tags)[:FEED_SIZE]

    def item_title(self, item):
        return item.display_title

    def item_description(self, item):
        return item.listing_summary

    def item_link(self, item):
        return item.get_url(request=self.request)

    def item_pubdate(self, item):
        return item.date

    def item_updateddate(self, item):
        return item.date_modified

    def item_categories(self, item):
        return [tagged.tag.name for tagged in item.tagged_items.all()]

    def item_extra_kwargs(self, item):
        build = self.request.build_absolute_uri
        return {
            "authors": item.authors,
            "author_urls": {author.pk: build(author.get_absolute_url()) for author in item.authors},
        }


class AtomMixin:
    feed_type: type[SyndicationFeed] = AtomWithAuthors

    def subtitle(self, obj=None):
        return self.description(obj)


class SiteRssFeed(ArticleFeed):
    pass


class SiteAtomFeed(AtomMixin, ArticleFeed):
    pass


class AuthorRssFeed(ArticleFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Author, slug=slug)

    def title(self, obj=None):
        return f"{obj.name} — {super().title()}"

    def link(self, obj=None):
        return obj.get_absolute_url()

    def description(self, obj=None):
        return f"Articles by {obj.name}."

    def articles(self, obj):
        return super().articles(obj).filter(article_authors__author=obj)


class SeriesRssFeed(ArticleFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Series, slug=slug)

    def title(self, obj=None):
        return f"{obj.name} — {super().title()}"

    def link(self, obj=None):
        return obj.get_absolute_url()

    def description(self, obj=None):
        return obj.description or f"The {obj.name} series."

    def articles(self, obj):
        return super().articles(obj).filter(series=obj)


class TagRssFeed(ArticleFeed):
    def get_object(self, request, slug):
        return live_tag_or_404(slug)

    def title(self, obj=None):
        return f"{obj.name} — {super().title()}"

    def link(self, obj=None):
        return reverse("articles:tag", args=[obj.slug])

    def description(self, obj=None):
        return f"Articles tagged {obj.name}."

    def articles(self, obj):
        return super().articles(obj).filter(tags=obj)


class SectionRssFeed(ArticleFeed):
    """Built by SectionPage's feed routes with the section page as the object."""

    def __init__(self, section):
        self.section = section

    def get_object(self, request, *args, **kwargs):
        return self.section

    def title(self, obj=None):
        return f"{obj.title} — {super().title()}"

    def link(self, obj=None):
        return obj.get_url(request=self.request)

    def description(self, obj=None):
        return obj.intro or f"The latest from {obj.title}."

    def articles(self, obj):
        return super().articles(obj).child_of(obj)


class AuthorAtomFeed(AtomMixin, AuthorRssFeed):
    pass


class SeriesAtomFeed(AtomMixin, SeriesRssFeed):
    pass


class TagAtomFeed(AtomMixin, TagRssFeed):
    pass


class SectionAtomFeed(AtomMixin, SectionRssFeed):
    pass


class CorrectionsRssFeed(ArticleFeed):
    """The site's corrections and updates, one item per notice, linking to it on its article."""

    feed_type: type[SyndicationFeed] = Rss201rev2Feed

    def title(self, obj=None):
        return f"Corrections and updates — {super().title()}"

    def link(self, obj=None):
        return reverse("articles:corrections")

    def description(self, obj=None):
        return "Every correction and update to our articles, newest first."

    def items(self, obj=None):
        return published_notices()[:FEED_SIZE]

    def item_title(self, notice):
        return f"{notice.get_kind_display()}: {notice.page.display_title}"

    def item_description(self, notice):
        return notice.text

    def item_link(self, notice):
        return f"{notice.page.get_url(request=self.request)}#{notice.anchor}"

    def item_guid(self, notice):
        return self.request.build_absolute_uri(self.item_link(notice))

    def item_pubdate(self, notice):
        return notice.date

    def item_updateddate(self, notice):
        return notice.date

    def item_categories(self, notice):
        return [notice.get_kind_display()]

    def item_extra_kwargs(self, notice):
        return {}


class CorrectionsAtomFeed(AtomMixin, CorrectionsRssFeed):
    feed_type = Atom1Feed
