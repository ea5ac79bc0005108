"""The pages readers browse: home, sections and articles."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.module_loading import import_string
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import (
    FieldPanel,
    InlinePanel,
    MultiFieldPanel,
    MultipleChooserPanel,
    PageChooserPanel,
)
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page, PageManager, Site
from wagtail.query import PageQuerySet
from wagtail.search import index

from articles.blocks import ArticleStoryBlock
from articles.content_checks import check_article, preview_marker
from articles.forms import ArticlePageForm, PageForm
from articles.further_reading import further_reading
from articles.models.previews import FramedPreviewMixin
from articles.models.settings import PublicationSettings
from articles.models.snippets import Series
from articles.reading_time import count_words, reading_minutes
from articles.seo import (
    Feed,
    breadcrumbs_json_ld,
    meta_for_page,
    news_article_json_ld,
)
from articles.share import qr_code_svg, share_links
from outlet.page_cache import private_sections, remember

LISTING_PAGE_SIZE = 12


class ReaderPageQuerySet(PageQuerySet):
    """Pages readers browse. `public()` reads where the private sections are from the page
    cache rather than asking the database on every queryset."""

    def private_q(self):
        private = Q()
        for start, depth in private_sections():
            private |= Q(path__startswith=start, depth__gte=depth)
        return private if private else Q(pk__in=[])


ReaderPageManager = PageManager.from_queryset(ReaderPageQuerySet)


class ArticlePageQuerySet(ReaderPageQuerySet):
    def for_listing(self):
        """Live, public articles with everything a card shows, in a fixed number of queries."""
        return (
            self.live()
            .public()
            .defer_streamfields()
            .select_related("series", "hero_image")
            .prefetch_related(
                Prefetch(
                    "article_authors",
                    queryset=ArticlePageAuthor.objects.select_related("author"),
                ),
                "hero_image__renditions",
            )
            .order_by("-date", "-pk")
        )


ArticlePageManager = PageManager.from_queryset(ArticlePageQuerySet)


class MetadataMixin:
    """Puts the page's <head> metadata (PageMeta) in its template context as `meta`."""

    def get_meta(self, request):
        site = Site.find_for_request(request) or self.get_site()
        return meta_for_page(self, request, PublicationSettings.remembered(site))

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Built when the template first reads it: never where the <head> is kept.
        context["meta"] = SimpleLazyObject(lambda: self.get_meta(request))
        return context

    def breadcrumbs(self, request) -> list[tuple[str, str]]:
        """(title, absolute URL) from the home page down to this page.

        Walks up through get_parent(), which routing has already filled in for served pages.
        """
        site = Site.find_for_request(request)
        trail: list[tuple[str, str]] = []
        page: Page | None = self  # a mixin of pages
        while page is not None and page.depth > 2:
            trail.append((page.title, page.get_full_url(request=request)))
            page = page.get_parent()
        home = site.root_page if site else page  # routing has loaded the site's root already
        if home is not None and home.depth == 2:
            trail.append((home.title, home.get_full_url(request=request)))
        return trail[::-1]


def hand_parent(child, parent) -> None:
    """Tell a routed child its parent, as Wagtail's own routing does (Page.route), so that
    treebeard's get_parent() costs no query: no public API does. If it stopped working,
    tests/articles/test_query_counts.py would count one query more."""
    child._cached_parent_obj = parent


class ChildRoutingMixin:
    """Routes to a child in one query instead of two (Wagtail's Page.route reads the child,
    then its specific page): the child's type is known beforehand. A parent with one allowed
    child type has it; any other remembers its children's types until the next publish. The
    child is always read from the database, so a slug unknown to what is remembered (a draft
    created since) falls back to Wagtail's routing."""

    def route(self, request, path_components):
        if path_components:
            model = self.child_model(path_components[0])
            if model is not None:
                child = model.objects.child_of(self).filter(slug=path_components[0]).first()
                if child is not None:
                    hand_parent(child, self)
                    return child.route(request, path_components[1:])
        return super().route(request, path_components)

    def child_model(self, slug):
        allowed = self.allowed_subpage_models()
        if len(allowed) == 1:
            return allowed[0]
        types = remember(
            f"child-types:{self.pk}",
            lambda: dict(self.get_children().values_list("slug", "content_type_id")),
        )
        content_type_id = types.get(slug)
        if content_type_id is None:
            return None
        return ContentType.objects.get_for_id(content_type_id).model_class()


class HomePage(FramedPreviewMixin, MetadataMixin, ChildRoutingMixin, Page):
    """The front page: featured picks, the latest articles and the series strip."""

    intro = models.TextField(blank=True, help_text="A line under the masthead.")

    objects = ReaderPageManager()

    base_form_class = PageForm
    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        MultipleChooserPanel(
            "featured_articles",
            chooser_field_name="article",
            heading="Featured articles",
        ),
    ]

    # Its children (sections, and what other apps add) name it as their parent.
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Evaluated by the template only when it renders what is kept (page_cache_tags).
        context["listing"] = self.listing
        return context

    def listing(self) -> dict:
        """The featured articles in the editor's order, the latest of the rest, the series."""
        picks = list(self.featured_articles.values_list("article_id", flat=True))
        featured = ArticlePage.objects.for_listing().in_bulk(picks)
        return {
            "featured": [featured[pk] for pk in picks if pk in featured],
            "latest": ArticlePage.objects.for_listing().exclude(pk__in=picks)[:10],
            "series_list": Series.objects.filter(
                pk__in=ArticlePage.objects.live().public().values("series")
            ),
        }


class HomePageFeaturedArticle(Orderable):
    page = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="featured_articles")
    article = models.ForeignKey("articles.ArticlePage", on_delete=models.CASCADE, related_name="+")

    panels = [PageChooserPanel("article", "articles.ArticlePage")]

    class Meta(Orderable.Meta):
        verbose_name = "featured article"


class FeedRoutesMixin(RoutablePageMixin):
    """RSS at feed/ and Atom at feed/atom/ under the page, advertised in its <head>.

    Subclasses name their two feed classes by dotted path: the feed modules import the page
    models, so the classes are imported when a feed is first served.
    """

    rss_feed_class = ""
    atom_feed_class = ""
    feed_subject = ""  # e.g. " issues": "The Weekly Steep issues (RSS)"

    def feeds(self) -> list[Feed]:
        name = f"{self.title}{self.feed_subject}"
        return [
            Feed(f"{name} (RSS)", f"{self.url}feed/", "rss"),
            Feed(f"{name} (Atom)", f"{self.url}feed/atom/", "atom"),
        ]

    def get_cached_paths(self):
        """The page and its feeds, for caches in front of the site to purge together."""
        return ["/", "feed/", "feed/atom/"]

    @path("feed/", name="rss")
    def rss_feed(self, request):
        return import_string(self.rss_feed_class)(self)(request)

    @path("feed/atom/", name="atom")
    def atom_feed(self, request):
        return import_string(self.atom_feed_class)(self)(request)


class ArticleRoutingMixin:
    """Serves a section's article in two queries: the page with its series and image, then its
    authors with their photos."""

    def route(self, request, path_components):
        if len(path_components) == 1:
            authors = ArticlePageAuthor.objects.select_related("author__photo")
            article = (
                ArticlePage.objects.child_of(self)
                .select_related("series", "hero_image")
                .prefetch_related(Prefetch("article_authors", queryset=authors))
                .filter(slug=path_components[0])
                .first()
            )
            if article is not None:
                hand_parent(article, self)
                return article.route(request, [])
        return super().route(request, path_components)


class SectionPage(FramedPreviewMixin, MetadataMixin, FeedRoutesMixin, ArticleRoutingMixin, Page):
    """An article index such as Analysis or Briefings: its articles, newest first, paginated."""

    intro = models.TextField(blank=True)

    objects = ReaderPageManager()

    base_form_class = PageForm
    content_panels = Page.content_panels + [FieldPanel("intro")]

    parent_page_types = ["articles.HomePage"]
    subpage_types = ["articles.ArticlePage"]
    rss_feed_class = "articles.feeds.SectionRssFeed"
    atom_feed_class = "articles.feeds.SectionAtomFeed"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        articles = ArticlePage.objects.for_listing().child_of(self)
        context["articles"] = Paginator(articles, LISTING_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        return context

    def get_cached_paths(self):
        """Every page of the listing too: a new article moves one onto each following page."""
        count = ArticlePage.objects.live().public().child_of(self).count()
        pages = range(2, (count - 1) // LISTING_PAGE_SIZE + 2)
        return [*super().get_cached_paths(), *(f"?page={number}" for number in pages)]

    def get_meta(self, request):
        meta = super().get_meta(request)
        meta.json_ld = [breadcrumbs_json_ld(self.breadcrumbs(request))]
        return meta


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "articles.ArticlePage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class ArticlePage(FramedPreviewMixin, MetadataMixin, Page):
    """One piece of analysis: the outlet's unit of publishing."""

    dek = models.TextField(
        "Standfirst", blank=True, help_text="One or two sentences under the headline."
    )
    # Empty until the article first goes live, which dates it, unless an editor set a date.
    date = models.DateTimeField(
        "Publication date",
        null=True,
        blank=True,
        help_text="Shown in the byline and used to order listings and feeds. Leave it empty "
        "and the article is dated when it first goes live; set it only to backdate.",
    )
    updated = models.DateTimeField(
        "Last updated",
        null=True,
        blank=True,
        help_text="Set by the latest correction or update below; set it by hand only for a "
        "change worth dating that needs no notice.",
    )
    series = models.ForeignKey(
        "articles.Series",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    hero_caption = models.CharField(max_length=300, blank=True)
    hero_credit = models.CharField(max_length=120, blank=True)
    summary = models.TextField(
        blank=True,
        help_text="For listings, feeds and emails. Falls back to the standfirst.",
    )
    body = StreamField(ArticleStoryBlock())
    tags = ClusterTaggableManager(through=ArticlePageTag, blank=True)
    word_count = models.PositiveIntegerField(default=0, editable=False)

    objects = ArticlePageManager()

    base_form_class = ArticlePageForm
    content_panels = Page.content_panels + [
        FieldPanel("dek"),
        MultipleChooserPanel(
            "article_authors", chooser_field_name="author", heading="Authors", min_num=1
        ),
        FieldPanel("series"),
        FieldPanel("tags"),
        MultiFieldPanel(
            [
                FieldPanel("hero_image"),
                FieldPanel("hero_caption"),
                FieldPanel("hero_credit"),
            ],
            heading="Hero image",
        ),
        FieldPanel("body"),
        InlinePanel(
            "notices",
            heading="Corrections and updates",
            label="correction or update",
            help_text="Shown under the byline, newest first, and dated: the body stays as it is.",
        ),
    ]
    promote_panels = Page.promote_panels + [
        FieldPanel("summary"),
        MultipleChooserPanel(
            "related_picks",
            chooser_field_name="article",
            heading="Further reading picks",
        ),
    ]
    settings_panels = [
        MultiFieldPanel([FieldPanel("date"), FieldPanel("updated")], heading="Dates")
    ] + Page.settings_panels

    search_fields = Page.search_fields + [
        index.SearchField("dek"),
        index.SearchField("summary"),
        index.SearchField("body"),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.RelatedFields("series", [index.SearchField("name")]),
        index.FilterField("date"),
    ]

    parent_page_types = ["articles.SectionPage"]
    subpage_types: list[str] = []

    class Meta:
        ordering = ["-date"]

    def clean(self):
        super().clean()
        if self.updated and self.updated < self.publication_date():
            raise ValidationError({"updated": "An update cannot come before publication."})

    def publication_date(self):
        """The date set, or the one the article gets when it goes live (see save)."""
        return self.date or self.first_published_at or self.go_live_at or timezone.now()

    def save(self, *args, **kwargs):
        self.word_count = count_words(self.body.raw_data)
        latest_notice = max((notice.date for notice in self.notices.all()), default=None)
        if latest_notice and (self.updated is None or latest_notice > self.updated):
            self.updated = latest_notice
        now = timezone.now()
        # Scheduling saves a new page live for a moment before it makes it wait: not yet.
        goes_live_later = self.go_live_at is not None and self.go_live_at > now
        if self.live and self.date is None and not goes_live_later:
            # Publishing sets first_published_at just before it saves the page live.
            self.date = self.first_published_at or now
        return super().save(*args, **kwargs)

    def with_content_json(self, content):
        """A revision saved before the first publication has no date: it takes the live one."""
        page = super().with_content_json(content)
        if page.date is None:
            page.date = self.date
        return page

    def serve_preview(self, request, mode_name):
        if self.date is None:
            self.date = timezone.now()  # as it would be dated if it went live now
        return super().serve_preview(request, mode_name)

    @property
    def date_modified(self):
        """When the article last changed for readers: its latest notice or dated update, else
        its last publication."""
        return self.updated or self.last_published_at or self.date

    @cached_property
    def notices_shown(self) -> list:
        """Its corrections and updates, newest first.

        Saving an article with notices dates it `updated` (see save): an article never updated
        has none, and costs no query to say so.
        """
        if self.updated is None:
            return []
        return sorted(self.notices.all(), key=lambda notice: notice.date, reverse=True)

    def get_sitemap_urls(self, request=None):
        urls = super().get_sitemap_urls(request)
        for url in urls:
            url["lastmod"] = self.date_modified
        return urls

    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.word_count)

    @property
    def listing_summary(self) -> str:
        return self.summary or self.dek

    @property
    def display_title(self) -> str:
        """The title as readers see it, with the series label in front ("CvT: …")."""
        if self.series is not None and self.series.label:
            return f"{self.series.label}: {self.title}"
        return self.title

    @cached_property
    def authors(self):
        """The authors in order: prefetched by listings and by routing (see
        ArticleRoutingMixin), else looked up here."""
        return [link.author for link in self.article_authors.all()]

    def listing_paths(self) -> list[str]:
        """The pages and feeds of its authors, its series and its tags, which list it."""
        listings = [author.get_absolute_url() for author in self.authors]
        if self.series is not None:
            listings.append(self.series.get_absolute_url())
        listings += [reverse("articles:tag", args=[tag.slug]) for tag in self.tags.all()]
        return [path for url in listings for path in (url, f"{url}feed/", f"{url}feed/atom/")]

    @cached_property
    def tag_list(self) -> list:
        """The tags, read once for the page, its metadata and its further reading."""
        return list(self.tags.all())

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)

        def url() -> str:
            return self.get_full_url(request=request)  # the canonical URL

        # Evaluated by the template only when it renders what is kept (page_cache_tags).
        context["further_reading"] = self.further_reading
        context["tags"] = self.tag_list
        context["share_url"] = url
        context["share_links"] = lambda: share_links(url(), self.display_title)
        context["share_qr"] = lambda: qr_code_svg(url(), self.display_title)
        if getattr(request, "is_preview", False):  # for the editor's Checks panel
            context["content_problems"] = preview_marker(check_article(self))
        return context

    def further_reading(self) -> list:
        """Editor picks, then shared series and tags, then the latest (see further_reading)."""
        return further_reading(self, ArticlePage.objects.for_listing().exclude(pk=self.pk))

    def get_meta(self, request):
        meta = super().get_meta(request)
        meta.og_type = "article"
        meta.published = self.date
        meta.modified = self.date_modified
        meta.feeds = [*self.get_parent().specific.feeds(), *meta.feeds]
        meta.json_ld = [
            news_article_json_ld(self, meta),
            breadcrumbs_json_ld(self.breadcrumbs(request)),
        ]
        return meta


class ArticlePageAuthor(Orderable):
    page = ParentalKey(ArticlePage, on_delete=models.CASCADE, related_name="article_authors")
    author = models.ForeignKey(
        "articles.Author", on_delete=models.CASCADE, related_name="article_links"
    )

    panels = [FieldPanel("author")]

    class Meta(Orderable.Meta):
        unique_together = [("page", "author")]
        verbose_name = "author"


class ArticlePageRelated(Orderable):
    page = ParentalKey(ArticlePage, on_delete=models.CASCADE, related_name="related_picks")
    article = models.ForeignKey(ArticlePage, on_delete=models.CASCADE, related_name="+")

    panels = [PageChooserPanel("article", "articles.ArticlePage")]

    class Meta(Orderable.Meta):
        verbose_name = "further reading pick"
