from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def aria_current(item_url: str, path: str) -> str:
    """`page` for the section being viewed, `true` for the section of the article being read."""
    if path == item_url:
        return mark_safe(' aria-current="page"')
    if item_url != "/" and path.startswith(item_url):
        return mark_safe(' aria-current="true"')
    return ""
