"""What every page shows around its content: the sections in the site header, computed once.

It changes only when published content changes, exactly when the page cache is emptied, so it
is kept there: one lookup per request instead of a query.
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

    return remember(f"nav:{site.pk}", sections)
