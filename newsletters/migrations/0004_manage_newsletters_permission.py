"""A permission of its own for managing newsletters, granted to Editors (it replaces the
borrowed "change subscriber")."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    app_config = apps.get_app_config("newsletters")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth.Group")
    Permission = apps.get_model("auth.Permission")
    manage = Permission.objects.get(
        content_type__app_label="newsletters", codename="manage_newsletters"
    )
    Group.objects.get(name="Editors").permissions.add(manage)


class Migration(migrations.Migration):
    dependencies = [("newsletters", "0003_one_mailbox_one_subscriber")]

    operations = [
        migrations.AlterModelOptions(
            name="newsletterpage",
            options={
                "permissions": [
                    (
                        "manage_newsletters",
                        "Can manage newsletters: issues, subscribers and deliveries",
                    )
                ]
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
