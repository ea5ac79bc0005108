"""The newsroom's roles in Wagtail's own permission model.

Editors hold page permissions on the whole tree. Writers hold "add" and "change" on each
section and nowhere else, so that explorer, search, choosers, the admin API and reports show
them the sections and their articles, and nothing of the rest of the tree (newsletters and
issues among it). A section opens to Writers when it is created.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import post_save
from django.dispatch import receiver
from wagtail.models import GroupPagePermission, Page

from articles.models import SectionPage

WRITERS = "Writers"
WRITER_SECTION_PERMISSIONS = ("add_page", "change_page")


def open_to_writers(section: Page) -> None:
    """Let Writers draft and edit articles in `section`."""
    writers = Group.objects.filter(name=WRITERS).first()
    if writers is None:  # the roles migration has not run (a bare test database)
        return
    for permission in Permission.objects.filter(
        content_type__app_label="wagtailcore", codename__in=WRITER_SECTION_PERMISSIONS
    ):
        GroupPagePermission.objects.get_or_create(
            group=writers, page=section, permission=permission
        )


@receiver(post_save, sender=SectionPage)
def open_new_section_to_writers(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        open_to_writers(instance)
