"""What every page shows around its content: the sections in the site header, computed once.

It changes only with the site's structure (outlet.page_cache), so it is kept with it: one
lookup per request instead of a query, and none recomputed when an article is published.
"""

from dataclasses import dataclass

from articles.models import SectionPage
from outlet.page_cache import remember


@dataclass(frozen=True)
class NavItem:
    pk: int
    title: str
    url: str


def navigation(site) -> list[NavItem]:
    """The sections shown in the site header, in menu order."""

    def sections():
        pages = SectionPage.objects.live().public().in_menu().child_of(site.root_page)
        return [NavItem(page.pk, page.title, page.get_url()) for page in pages]

    return remember(f"nav:{site.pk}", sections, structural=True)
