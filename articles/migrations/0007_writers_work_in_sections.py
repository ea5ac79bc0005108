"""Writers' page permissions move from the root of the tree to each section, so that they
reach articles and nothing else (newsletters and their issues live elsewhere in the tree).
Editors keep theirs on the whole tree."""

from django.db import migrations

WRITER_SECTION_PERMISSIONS = ["add_page", "change_page"]


def writers_to_sections(apps, schema_editor):
    Group = apps.get_model("auth.Group")
    GroupPagePermission = apps.get_model("wagtailcore.GroupPagePermission")
    Permission = apps.get_model("auth.Permission")
    SectionPage = apps.get_model("articles.SectionPage")
    writers = Group.objects.filter(name="Writers").first()
    if writers is None:
        return
    GroupPagePermission.objects.filter(group=writers).delete()
    permissions = Permission.objects.filter(
        content_type__app_label="wagtailcore", codename__in=WRITER_SECTION_PERMISSIONS
    )
    for section in SectionPage.objects.all():
        for permission in permissions:
            GroupPagePermission.objects.create(
                group=writers, page_id=section.pk, permission=permission
            )


def writers_to_root(apps, schema_editor):
    Group = apps.get_model("auth.Group")
    GroupPagePermission = apps.get_model("wagtailcore.GroupPagePermission")
    Permission = apps.get_model("auth.Permission")
    Page = apps.get_model("wagtailcore.Page")
    writers = Group.objects.filter(name="Writers").first()
    if writers is None:
        return
    GroupPagePermission.objects.filter(group=writers).delete()
    root = Page.objects.get(depth=1)
    for permission in Permission.objects.filter(
        content_type__app_label="wagtailcore", codename__in=WRITER_SECTION_PERMISSIONS
    ):
        GroupPagePermission.objects.create(group=writers, page=root, permission=permission)


class Migration(migrations.Migration):
    dependencies = [("articles", "0006_newsletter_signup_block")]

    operations = [migrations.RunPython(writers_to_sections, writers_to_root)]
