"""Compile an issue: fill it with the live articles its newsletter's rules select."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from articles.models import ArticlePage
from articles.models.pages import ArticlePageQuerySet
from newsletters.models import IssueItem, IssuePage


def previous_issue(issue: IssuePage) -> IssuePage | None:
    """The newsletter's most recent published issue other than this one."""
    siblings = IssuePage.objects.live().sibling_of(issue, inclusive=False)
    # Wagtail's querysets have no types: what they give back is named here.
    previous: IssuePage | None = (
        siblings.exclude(first_published_at=None).order_by("-first_published_at").first()
    )
    return previous


def candidates(issue: IssuePage) -> ArticlePageQuerySet:
    """Live articles matching the rules, published since the previous issue, not featured before."""
    newsletter = issue.get_parent().specific
    since = timezone.now() - timedelta(days=newsletter.lookback_days)
    if (previous := previous_issue(issue)) and previous.first_published_at > since:
        since = previous.first_published_at
    # Published since, not dated since: a draft started before the last issue still counts.
    articles = ArticlePage.objects.live().public().filter(first_published_at__gt=since)

    rules = Q()
    if sections := list(newsletter.compile_sections.all()):
        for section in sections:
            rules |= Q(path__startswith=section.path, depth__gt=section.depth)
    if series := list(newsletter.compile_series.values_list("pk", flat=True)):
        rules |= Q(series__in=series)
    if tags := list(newsletter.compile_tags.values_list("pk", flat=True)):
        rules |= Q(tagged_items__tag__in=tags)
    featured_before = IssueItem.objects.filter(
        issue__in=IssuePage.objects.live().sibling_of(issue, inclusive=False)
    ).values("article")
    chosen: ArticlePageQuerySet = (
        articles.filter(rules)
        .exclude(pk__in=featured_before)
        .distinct()
        .order_by("-date", "-pk")[: newsletter.max_items]
    )
    return chosen


def compile_issue(issue: IssuePage) -> list[ArticlePage]:
    """Append matching articles the issue does not have yet; returns the ones added.

    The editor's existing choices, order and blurbs are kept: compiling twice adds nothing twice.
    """
    items = list(issue.items.all())
    present = {item.article_id for item in items}
    added = [article for article in candidates(issue) if article.pk not in present]
    # After the editor's items, in this order: without a sort_order they would sort first.
    start = max((item.sort_order for item in items if item.sort_order is not None), default=-1)
    for offset, article in enumerate(added, start=start + 1):
        issue.items.add(IssueItem(article=article, sort_order=offset))
    return added
