"""What every page shows around its content (navigation, site identity), computed once.

It changes only when published content or settings change, exactly when the page cache is
emptied, so it lives in the page cache: one lookup per request instead of several queries.
"""

from dataclasses import dataclass

from articles.models.settings import PublicationSettings
from outlet.page_cache import remember


@dataclass(frozen=True)
class NavItem:
    pk: int
    title: str
    url: str


def navigation(site) -> list[NavItem]:
    """The sections shown in the site header, in menu order."""

    from articles.models.pages import SectionPage  # the page models import this module's users

    def sections():
        pages = SectionPage.objects.live().public().in_menu().child_of(site.root_page)
        return [NavItem(page.pk, page.title, page.get_url()) for page in pages]

    return remember(f"nav:{site.pk}", sections)


def publication_settings(site) -> PublicationSettings:
    if site is None:
        return PublicationSettings()
    return remember(
        f"publication:{site.pk}",
        lambda: PublicationSettings.objects.select_related("default_share_image").get_or_create(
            site=site
        )[0],
    )
