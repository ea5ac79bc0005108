"""Newsletters promote themselves on reader pages through articles' one seam
(articles.promotion): a signup form under each article and at the foot of every page, the
way to every newsletter in the header and footer, and the newsletters editors may choose in an
article's signup block.

An article promotes a newsletter that names the article's series among those it is promoted
on; any other article, and every other page, the newsletter promoted by default.
"""

from django.template.loader import render_to_string

from articles.promotion import Link
from newsletters.models import NewsletterIndexPage, NewsletterPage
from outlet.page_cache import remember


def live_newsletters():
    return NewsletterPage.objects.live().public()


def promoted_newsletter(article=None) -> NewsletterPage | None:
    """The newsletter of the article's series if one is promoted on it, else the default."""
    series_id = getattr(article, "series_id", None)
    if series_id:
        # Remembered as a 1-tuple: "no such newsletter" is worth remembering too.
        (newsletter,) = remember(
            f"newsletter:series:{series_id}",
            lambda: (live_newsletters().filter(promoted_on=series_id).first(),),
            structural=True,
        )
        if newsletter:
            return newsletter
    (newsletter,) = remember(
        "newsletter:default",
        lambda: (live_newsletters().filter(promote_by_default=True).first(),),
        structural=True,
    )
    return newsletter


class NewsletterPromoter:
    chooser_page_type = "newsletters.NewsletterPage"

    def promo(self, request, *, article=None, chosen=None, form_id: str) -> str:
        newsletter = chosen.specific if chosen is not None and chosen.live else None
        newsletter = newsletter or promoted_newsletter(article)
        if newsletter is None:
            return ""
        context = {
            "newsletter": newsletter,
            "source": request.path if request else "",
            "form_id": form_id,
        }
        return render_to_string("components/newsletter_promo.html", context, request=request)

    def links(self) -> list[Link]:
        def find():
            index = NewsletterIndexPage.objects.live().public().first()
            return [Link("Newsletters", index.url)] if index and index.url else []

        return remember("newsletters:links", find, structural=True)
