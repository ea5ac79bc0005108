"""What the newsletter pages show of their issues: the archive's pages and each issue's name."""

from django import template
from django.core.paginator import Paginator

from newsletters.rendering import issue_label as label_of_issue

register = template.Library()

ARCHIVE_PAGE_SIZE = 12


@register.simple_tag(takes_context=True)
def archive_page(context, issues):
    """One page of a newsletter's past issues, chosen by ?page= as the section listings are."""
    request = context.get("request")
    number = request.GET.get("page") if request else None
    return Paginator(issues, ARCHIVE_PAGE_SIZE).get_page(number)


@register.filter
def issue_label(issue, newsletter) -> str:
    """What names an issue beside its date ("No. 3"), or "" when its title adds nothing."""
    return label_of_issue(issue, newsletter)
