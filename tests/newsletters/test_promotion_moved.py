"""Which newsletter a series promotes moved from the series to the newsletter: a database from
before has the old column, and the migration copies what it says and drops it."""

import importlib

import pytest
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor

from articles.models import Series
from newsletters.models import NewsletterPage
from tests.articles.factories import SeriesFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MIGRATION = importlib.import_module("newsletters.migrations.0009_promotion_named_by_the_newsletter")
STATE = [
    ("articles", "0009_promotion_moves_to_the_newsletters"),
    ("newsletters", "0009_promotion_named_by_the_newsletter"),
]


def old_column() -> models.ForeignKey:
    column = models.ForeignKey(
        NewsletterPage, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    column.set_attributes_from_name("newsletter")
    column.model = Series
    return column


def run_migration() -> None:
    apps = MigrationExecutor(connection).loader.project_state(STATE).apps
    with connection.schema_editor() as schema_editor:
        MIGRATION.move_promotion(apps, schema_editor)


@pytest.fixture
def database_from_before():
    """The old schema: articles_series.newsletter_id, a foreign key to a newsletter."""
    with connection.schema_editor() as schema_editor:
        schema_editor.add_field(Series, old_column())
    yield
    if MIGRATION.old_column_exists(connection):
        with connection.schema_editor() as schema_editor:
            schema_editor.remove_field(Series, old_column())


def test_the_old_link_is_copied_to_the_newsletter_and_its_column_dropped(
    database_from_before, newsletter, series_newsletter
):
    coffee, trade, loose = SeriesFactory(), SeriesFactory(), SeriesFactory()
    with connection.cursor() as cursor:
        for series, promoted in ((coffee, series_newsletter), (trade, series_newsletter)):
            cursor.execute(
                "UPDATE articles_series SET newsletter_id = %s WHERE id = %s",
                [promoted.pk, series.pk],
            )

    run_migration()

    promoted = NewsletterPage.objects.get(pk=series_newsletter.pk).promoted_on.all()
    assert sorted(series.pk for series in promoted) == sorted([coffee.pk, trade.pk])
    assert not NewsletterPage.objects.get(pk=newsletter.pk).promoted_on.exists()
    assert not MIGRATION.old_column_exists(connection)
    assert Series.objects.filter(pk=loose.pk).exists()  # the table survives its rebuild


def test_a_database_created_since_is_left_alone(newsletter):
    assert not MIGRATION.old_column_exists(connection)

    run_migration()

    assert not MIGRATION.old_column_exists(connection)
