"""What another app promotes on reader pages, through the seam in articles.promotion."""

from django import template

from articles.promotion import Link, promoter

register = template.Library()


@register.simple_tag(takes_context=True)
def promotion(context, article=None, chosen=None, form_id: str = "promo") -> str:
    """A working signup form for what `article` promotes (or `chosen`, or the site's
    default); nothing when no app promotes itself."""
    current = promoter()
    if current is None:
        return ""
    return current.promo(context.get("request"), article=article, chosen=chosen, form_id=form_id)


@register.simple_tag
def promoted_links() -> list[Link]:
    """Links the promoting app adds to the header and footer."""
    current = promoter()
    return current.links() if current else []
