"""Per-site identity used in metadata: social handles and the fallback share image."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import Site

from outlet.page_cache import remember


@register_setting(icon="site")
class PublicationSettings(BaseSiteSetting):
    tagline = models.CharField(
        max_length=200,
        blank=True,
        help_text="Describes the outlet in search results and shares.",
    )
    x_handle = models.CharField(
        "X handle",
        max_length=40,
        blank=True,
        help_text="Without the @, for twitter:site cards.",
    )
    default_share_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Shown when a shared page has no image of its own.",
    )

    panels = [
        FieldPanel("tagline"),
        FieldPanel("x_handle"),
        FieldPanel("default_share_image"),
    ]

    class Meta:
        verbose_name = "publication settings"

    @classmethod
    def remembered(cls, site: Site | None) -> "PublicationSettings":
        """The site's settings, kept with the site's structure (an empty set for no site).

        A site whose settings were never saved gets an unsaved empty set: a reader's request
        writes nothing (a row created here would empty every cache it was kept in)."""
        if site is None:
            return cls()

        def read() -> "PublicationSettings":
            saved = cls.objects.select_related("default_share_image").filter(site=site).first()
            return saved or cls(site=site)

        return remember(f"publication:{site.pk}", read, structural=True)

    @classmethod
    def for_request(cls, request) -> "PublicationSettings":
        return cls.remembered(Site.find_for_request(request))
