"""The seam between articles and newsletters: the subscribe promo and the way to every newsletter,
shown on every reader page."""

from django import template

from newsletters.models import NewsletterIndexPage, NewsletterPage
from outlet.page_cache import remember

register = template.Library()


def promoted_newsletter(article=None):
    """The series' own newsletter if it has one, else the one promoted by default."""

    def live():
        return NewsletterPage.objects.live().public()  # public() queries at once: defer it

    series = getattr(article, "series", None)
    if series is not None and series.newsletter_id:
        # Cached as a 1-tuple: "no such newsletter" is worth remembering too.
        (newsletter,) = remember(
            f"newsletter:{series.newsletter_id}",
            lambda: (live().filter(pk=series.newsletter_id).first(),),
        )
        if newsletter:
            return newsletter
    (newsletter,) = remember(
        "newsletter:default", lambda: (live().filter(promote_by_default=True).first(),)
    )
    return newsletter


@register.inclusion_tag("components/newsletter_promo.html", takes_context=True)
def newsletter_promo(context, article=None, form_id="newsletter-promo"):
    request = context.get("request")
    return {
        "newsletter": promoted_newsletter(article),
        "source": request.path if request else "",
        "form_id": form_id,
    }


@register.simple_tag
def newsletters_url() -> str:
    """Where readers find every newsletter (the live index page), or "" if there is none."""

    def find():
        index = NewsletterIndexPage.objects.live().public().first()
        return (index.url or "") if index else ""

    return remember("newsletters:index-url", find)
