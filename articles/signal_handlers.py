"""Clear the cached pages whenever something readers can see has changed."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from taggit.models import Tag
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import (
    page_published,
    page_slug_changed,
    page_unpublished,
    post_page_move,
)

from articles.models import Author, PublicationSettings, Series
from outlet.page_cache import clear_page_cache

# A page shows other pages (listings, further reading, byline boxes), so any change can
# reach many cached pages: forget them all rather than guess which.


@receiver(page_published)
@receiver(page_unpublished)
@receiver(page_slug_changed)
@receiver(post_page_move)
def page_changed(sender, **kwargs):
    clear_page_cache()


@receiver(post_delete)
def page_or_snippet_deleted(sender, instance, **kwargs):
    if isinstance(instance, Page | Author | Series | Site | Tag):
        clear_page_cache()


@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
def privacy_changed(sender, **kwargs):
    """A page made private must leave listings, feeds and the cache at once."""
    clear_page_cache()


@receiver(post_save, sender=Author)
@receiver(post_save, sender=Series)
@receiver(post_save, sender=Site)
@receiver(post_save, sender=Tag)
@receiver(post_save, sender=PublicationSettings)
def snippet_saved(sender, **kwargs):
    clear_page_cache()
