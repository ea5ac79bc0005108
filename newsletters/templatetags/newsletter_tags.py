"""The seam between articles and newsletters: the subscribe promo shown on reader pages."""

from django import template

from newsletters.models import NewsletterPage

register = template.Library()


def promoted_newsletter(article=None):
    """The series' own newsletter if it has one, else the one promoted by default."""
    series = getattr(article, "series", None)
    if series is not None and series.newsletter_id:
        newsletter = NewsletterPage.objects.live().public().filter(pk=series.newsletter_id).first()
        if newsletter:
            return newsletter
    return NewsletterPage.objects.live().public().filter(promote_by_default=True).first()


@register.inclusion_tag("components/newsletter_promo.html", takes_context=True)
def newsletter_promo(context, article=None, form_id="newsletter-promo"):
    request = context.get("request")
    return {
        "newsletter": promoted_newsletter(article),
        "source": request.path if request else "",
        "form_id": form_id,
    }
