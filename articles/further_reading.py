"""Further reading under an article: editor picks, then shared series and tags, then the latest."""

from django.db.models import Case, Count, IntegerField, Q, Value, When

FURTHER_READING_SIZE = 3


def further_reading(article, size: int = FURTHER_READING_SIZE) -> list:
    """Up to `size` live articles, never `article` itself, in a fixed number of queries."""
    from articles.models import ArticlePage

    candidates = ArticlePage.objects.live().public().exclude(pk=article.pk)
    # Read through the cluster, not the database, so that previews of unsaved edits work too.
    picks = [link.article_id for link in article.related_picks.all()]
    live_picks = set(candidates.filter(pk__in=picks).values_list("pk", flat=True))
    chosen = list(dict.fromkeys(pk for pk in picks if pk in live_picks))[:size]

    if len(chosen) < size:
        chosen += _sharing_series_or_tags(article, candidates.exclude(pk__in=chosen))[
            : size - len(chosen)
        ]
    if len(chosen) < size:
        latest = candidates.exclude(pk__in=chosen).order_by("-date", "-pk")
        chosen += list(latest.values_list("pk", flat=True)[: size - len(chosen)])

    articles = ArticlePage.objects.for_listing().in_bulk(chosen)
    return [articles[pk] for pk in chosen if pk in articles]


def _sharing_series_or_tags(article, candidates) -> list[int]:
    """Articles in the same series first, then those sharing the most tags, newest first."""
    tag_ids = [tag.pk for tag in article.tags.all() if tag.pk]
    related = Q(tagged_items__tag__in=tag_ids)
    same_series = Value(0)
    if article.series_id:
        related |= Q(series_id=article.series_id)
        same_series = Case(
            When(series_id=article.series_id, then=1),
            default=0,
            output_field=IntegerField(),
        )
    ranked = (
        candidates.filter(related)
        .annotate(
            same_series=same_series,
            shared_tags=Count(
                "tagged_items", filter=Q(tagged_items__tag__in=tag_ids), distinct=True
            ),
        )
        .order_by("-same_series", "-shared_tags", "-date", "-pk")
    )
    return list(ranked.values_list("pk", flat=True))
