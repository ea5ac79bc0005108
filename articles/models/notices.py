"""Corrections and updates: dated notices editors add to an article without rewriting it."""

from django.db import models
from django.utils import timezone
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.models import Orderable


class ArticleNotice(Orderable):
    """A correction or an update, shown under the article's byline with its date."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction"
        UPDATE = "update", "Update"

    page = ParentalKey("articles.ArticlePage", on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CORRECTION)
    date = models.DateTimeField(default=timezone.now)
    text = models.TextField(
        help_text="What was wrong and what is right now, or what changed; a sentence or two."
    )

    panels = [FieldRowPanel([FieldPanel("kind"), FieldPanel("date")]), FieldPanel("text")]

    class Meta(Orderable.Meta):
        verbose_name = "correction or update"
        verbose_name_plural = "corrections and updates"

    def __str__(self):
        return f"{self.get_kind_display()} of {self.date:%Y-%m-%d}"

    @property
    def anchor(self) -> str:
        """The notice's id on the article page, for links from feeds and emails."""
        return f"notice-{self.pk}"
