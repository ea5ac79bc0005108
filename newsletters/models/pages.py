"""The newsletters readers subscribe to, and the issues editors compile and send."""

from functools import partial

from csp.constants import SELF, UNSAFE_INLINE
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponse
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    MultiFieldPanel,
    PageChooserPanel,
)
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page

from articles.content_checks import preview_marker
from articles.forms import PageForm
from articles.models.pages import (
    ChildRoutingMixin,
    FeedRoutesMixin,
    MetadataMixin,
    ReaderPageManager,
)
from articles.models.previews import FramedPreviewMixin
from newsletters import presend
from newsletters.forms import IssuePageForm
from newsletters.models.delivery import DeliveryProgress, progress_of
from newsletters.numbering import issue_number
from newsletters.panels import DeliveryPanel, IssueItemsPanel
from newsletters.rendering import issue_items, render_issue

INTRO_FEATURES = ["bold", "italic", "link", "ol", "ul"]
WELCOME_DEFAULT = (
    "<p>Thank you for confirming. You will find the next issue in your inbox when it goes "
    "out; until then, here are the latest.</p>"
    "<p>If you have a tip or a question, reply to this email: it reaches the editors.</p>"
)


class NewsletterIndexPage(FramedPreviewMixin, MetadataMixin, ChildRoutingMixin, Page):
    """/newsletters/: every newsletter with its subscribe form."""

    intro = models.TextField(blank=True)

    objects = ReaderPageManager()

    base_form_class = PageForm
    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["articles.HomePage"]
    subpage_types = ["newsletters.NewsletterPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["newsletters"] = NewsletterPage.objects.live().public().child_of(self)
        return context


class NewsletterPage(FramedPreviewMixin, MetadataMixin, FeedRoutesMixin, ChildRoutingMixin, Page):
    """A newsletter: who sends it, how often, and which articles its issues are compiled from."""

    class Cadence(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        FORTNIGHTLY = "fortnightly", "Every two weeks"
        MONTHLY = "monthly", "Monthly"
        OCCASIONAL = "occasional", "When there is news"

    description = models.TextField(help_text="What subscribers get; shown beside the form.")
    cadence = models.CharField(max_length=20, choices=Cadence.choices, default=Cadence.WEEKLY)
    sender_name = models.CharField(max_length=100)
    sender_email = models.EmailField(help_text="Must be on a domain you send from (SPF/DKIM).")
    reply_to = models.EmailField(blank=True, help_text="Where replies go, if not the sender.")

    objects = ReaderPageManager()
    promote_by_default = models.BooleanField(
        default=False,
        help_text="Promote this newsletter on every page, and on articles whose series has no "
        "newsletter of its own.",
    )
    promoted_on = ParentalManyToManyField(
        "articles.Series",
        blank=True,
        related_name="+",
        verbose_name="promoted on series",
        help_text="Articles of these series promote this newsletter instead of the default one.",
    )
    compile_sections = ParentalManyToManyField(
        "articles.SectionPage", blank=True, related_name="+", verbose_name="sections"
    )
    compile_series = ParentalManyToManyField(
        "articles.Series", blank=True, related_name="+", verbose_name="series"
    )
    compile_tags = ParentalManyToManyField(
        "taggit.Tag", blank=True, related_name="+", verbose_name="tags"
    )
    lookback_days = models.PositiveSmallIntegerField(
        "look back (days)",
        default=7,
        help_text="For the first issue, or when the previous one is older than this.",
    )
    max_items = models.PositiveSmallIntegerField("at most (articles)", default=12)
    welcome_message = RichTextField(
        "welcome letter",
        features=INTRO_FEATURES,
        default=WELCOME_DEFAULT,
        help_text="Sent once to each reader when they confirm, followed by links to the latest "
        "issues.",
    )

    base_form_class = PageForm
    content_panels = Page.content_panels + [
        FieldPanel("description"),
        FieldPanel("cadence"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("sender_name"), FieldPanel("sender_email")]),
                FieldPanel("reply_to"),
            ],
            heading="Sender",
        ),
        MultiFieldPanel(
            [FieldPanel("promote_by_default"), FieldPanel("promoted_on")],
            heading="Where it is promoted",
        ),
        MultiFieldPanel(
            [
                FieldPanel("compile_sections"),
                FieldPanel("compile_series"),
                FieldPanel("compile_tags"),
                FieldRowPanel([FieldPanel("lookback_days"), FieldPanel("max_items")]),
            ],
            heading="Compile rules",
            help_text="“Compile” fills a draft issue with live articles matching any of these, "
            "published since the previous issue. Leave all empty to include every article.",
        ),
        FieldPanel("welcome_message"),
    ]
    parent_page_types = ["newsletters.NewsletterIndexPage"]
    subpage_types = ["newsletters.IssuePage"]
    rss_feed_class = "newsletters.feeds.IssueRssFeed"
    atom_feed_class = "newsletters.feeds.IssueAtomFeed"
    feed_subject = " issues"

    class Meta:
        permissions = [
            ("manage_newsletters", "Can manage newsletters: issues, subscribers and deliveries")
        ]

    def clean(self):
        super().clean()
        if self.promote_by_default:
            others = NewsletterPage.objects.filter(promote_by_default=True).exclude(pk=self.pk)
            if others.exists():
                raise ValidationError(
                    {
                        "promote_by_default": f"“{others.first().title}” is promoted by default "
                        "already; untick it there first."
                    }
                )
        series = [item.pk for item in self.promoted_on.all()]
        taken = NewsletterPage.objects.filter(promoted_on__in=series).exclude(pk=self.pk)
        if series and (other := taken.first()):
            raise ValidationError(
                {
                    "promoted_on": f"“{other.title}” is promoted on one of these series already: "
                    "an article promotes one newsletter. Remove the series there first."
                }
            )

    def next_issue_number(self) -> int:
        """One more than the highest number among its issues, drafts included."""
        numbers = [
            issue_number(slug, title)
            for slug, title in IssuePage.objects.child_of(self).values_list("slug", "title")
        ]
        return max(filter(None, numbers), default=0) + 1

    def published_issues(self):
        """Its live, public issues, newest first: the archive."""
        return IssuePage.objects.live().public().child_of(self).order_by("-first_published_at")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["issues"] = self.published_issues()
        return context


class IssuePage(FramedPreviewMixin, MetadataMixin, Page):
    """One issue of a newsletter. Its published page is the issue's web copy."""

    subject = models.CharField(max_length=150, help_text="The email's subject line.")
    preheader = models.CharField(
        max_length=150,
        blank=True,
        help_text="The preview line inboxes show after the subject.",
    )
    intro = RichTextField(features=INTRO_FEATURES, blank=True)
    closing_note = RichTextField(features=INTRO_FEATURES, blank=True)

    objects = ReaderPageManager()

    base_form_class = IssuePageForm
    # Issues are addressed by number (no-5), whatever their title: a plain field, so that
    # the title does not rewrite the slug as Wagtail's title panel does until publication.
    content_panels = [FieldPanel("title", classname="title")] + [
        FieldPanel("subject"),
        FieldPanel("preheader"),
        FieldPanel("intro"),
        IssueItemsPanel("items", heading="Articles", label="article"),
        FieldPanel("closing_note"),
        DeliveryPanel(heading="Delivery"),
    ]
    parent_page_types = ["newsletters.NewsletterPage"]
    subpage_types: list[str] = []
    preview_modes = [
        ("", "Web page"),
        ("email-html", "HTML email"),
        ("email-text", "Plain-text email"),
    ]

    class Meta:
        verbose_name = "issue"

    @property
    def newsletter(self) -> NewsletterPage:
        return self.get_parent().specific

    def delivery_progress(self) -> DeliveryProgress:
        return progress_of(self)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["newsletter"] = self.newsletter
        # Evaluated by the template only when it renders what is kept (page_cache_tags).
        context["items"] = partial(issue_items, self)
        if getattr(request, "is_preview", False):  # for the editor's Checks panel
            context["content_problems"] = preview_marker(presend.check_issue(self).problems)
        return context

    def preview_policy(self, mode_name: str) -> dict[str, list[str]]:
        policy = super().preview_policy(mode_name)
        if mode_name == "email-html":
            # Email clients ignore stylesheets, so the email carries its CSS in style
            # attributes and a <style> block, as inboxes show it; it runs no script.
            policy["style-src"] = [SELF, UNSAFE_INLINE]
        return policy

    def serve_preview(self, request, mode_name):
        if mode_name not in ("email-html", "email-text"):
            return super().serve_preview(request, mode_name)
        return self.framed_for_admin(self.serve_email_preview)(request, mode_name)

    def serve_email_preview(self, request, mode_name):
        rendered = render_issue(self, preview=True)
        if mode_name == "email-text":
            return HttpResponse(rendered.text, content_type="text/plain; charset=utf-8")
        return HttpResponse(rendered.html)


class IssueItem(Orderable):
    """An article in an issue, with an optional blurb that replaces its summary."""

    issue = ParentalKey(IssuePage, on_delete=models.CASCADE, related_name="items")
    article = models.ForeignKey(
        "articles.ArticlePage", on_delete=models.CASCADE, related_name="issue_items"
    )
    blurb = models.TextField(blank=True, help_text="Leave empty to use the article's summary.")

    panels = [PageChooserPanel("article", "articles.ArticlePage"), FieldPanel("blurb")]

    class Meta(Orderable.Meta):
        verbose_name = "article"
