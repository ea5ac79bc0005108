"""Further reading under an article: editor picks, then shared series and tags, then the latest."""

from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from modelcluster.queryset import FakeQuerySet

FURTHER_READING_SIZE = 3


def further_reading(article, candidates, size: int = FURTHER_READING_SIZE) -> list:
    """Up to `size` of `candidates` (live articles other than `article`), in a fixed number of
    queries."""
    # One ranked query whatever the mix, so that the page's query count does not depend on it.
    return list(_ranked(article, _pick_rank(article), candidates)[:size])


def _pick_rank(article):
    """Each candidate's position among the editor's picks; after all of them if not picked."""
    picks = article.related_picks.all()
    if isinstance(picks, FakeQuerySet):  # a preview of unsaved edits: the picks are in memory
        order = list(dict.fromkeys(link.article_id for link in picks))
        return Case(
            *[When(pk=pk, then=Value(rank)) for rank, pk in enumerate(order)],
            default=Value(len(order)),
            output_field=IntegerField(),
        )
    # Rows saved without a sort order (made outside the editor) keep the order they were added.
    position = (
        picks.filter(article=OuterRef("pk"))
        .annotate(position=Coalesce("sort_order", "pk", output_field=IntegerField()))
        .order_by("position")
        .values("position")
    )
    return Coalesce(Subquery(position[:1]), Value(2**31 - 1), output_field=IntegerField())


def _ranked(article, pick_rank, candidates):
    """Picks in their order, then the same series, then the most shared tags, newest first."""
    same_series = Value(0)
    if article.series_id:
        same_series = Case(
            When(series_id=article.series_id, then=1),
            default=0,
            output_field=IntegerField(),
        )
    tag_ids = [tag.pk for tag in article.tag_list if tag.pk]
    shared_tags = Value(0)
    if tag_ids:
        shared_tags = Count("tagged_items", filter=Q(tagged_items__tag__in=tag_ids), distinct=True)
    return candidates.annotate(
        pick_rank=pick_rank, same_series=same_series, shared_tags=shared_tags
    ).order_by("pick_rank", "-same_series", "-shared_tags", "-date", "-pk")
