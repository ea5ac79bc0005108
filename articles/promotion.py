"""The one seam through which another app promotes itself on reader pages.

Articles knows nothing of what is promoted. An app that has something to offer readers (the
newsletters app does) registers one `Promoter` here from its AppConfig.ready(); reader pages
then show its promo under each article and at the foot of every page, list its links in the
header and footer, and let editors place its signup block in an article's body. With nothing
registered, they show none of it.
"""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Link:
    label: str
    url: str


class Promoter(Protocol):
    # The page type editors may choose in the body's signup block ("app_label.Model").
    chooser_page_type: str

    def promo(self, request, *, article=None, chosen=None, form_id: str) -> str:
        """HTML of a working signup form: for `chosen` if given, else what `article`
        promotes (or the site's default when there is no article)."""

    def links(self) -> list[Link]:
        """Links for the site's header and footer."""


_promoter: Promoter | None = None


def register(promoter: Promoter) -> None:
    global _promoter
    _promoter = promoter


def promoter() -> Promoter | None:
    return _promoter
