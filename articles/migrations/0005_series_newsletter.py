"""Series once named the newsletter their articles promote, in a column of their own.

That link now lives on the newsletter's side (newsletters 0009 moves it and drops the
column), so that articles depends on nothing of newsletters. This migration keeps its place in
history but describes the old field as a plain integer in Django's state only: a database that
ran it before has the column, one created since never gets it.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("articles", "0004_name_inline_rows_for_editors")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="series",
                    name="newsletter",
                    field=models.BigIntegerField(blank=True, null=True, db_column="newsletter_id"),
                )
            ],
            database_operations=[],
        )
    ]
