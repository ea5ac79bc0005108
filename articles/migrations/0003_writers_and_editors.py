"""The newsroom's two roles and the review workflow that routes writers' work to editors.

Writers draft and edit articles and submit them for review; they cannot publish.
Editors review, publish, and manage authors, series and site settings.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

WRITER_PAGE_PERMISSIONS = ["add_page", "change_page"]
EDITOR_PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"]
WRITER_MEDIA_PERMISSIONS = ["add", "change", "choose"]
EDITOR_MEDIA_PERMISSIONS = ["add", "change", "choose", "delete"]
WRITER_MODEL_PERMISSIONS = [("articles", "view_author"), ("articles", "view_series")]
EDITOR_MODEL_PERMISSIONS = [
    ("articles", f"{action}_{model}")
    for model in ("author", "series")
    for action in ("add", "change", "delete", "view")
] + [("articles", "change_publicationsettings"), ("taggit", "change_tag"), ("taggit", "view_tag")]


def _permission(apps, app_label, codename):
    Permission = apps.get_model("auth.Permission")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _grant(apps, group, *, page_codenames, media_actions, model_permissions):
    GroupPagePermission = apps.get_model("wagtailcore.GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore.GroupCollectionPermission")
    Page = apps.get_model("wagtailcore.Page")
    Collection = apps.get_model("wagtailcore.Collection")

    group.permissions.add(_permission(apps, "wagtailadmin", "access_admin"))
    for app_label, codename in model_permissions:
        group.permissions.add(_permission(apps, app_label, codename))

    GroupPagePermission.objects.filter(group=group).delete()
    root = Page.objects.get(depth=1)
    for codename in page_codenames:
        GroupPagePermission.objects.create(
            group=group, page=root, permission=_permission(apps, "wagtailcore", codename)
        )

    GroupCollectionPermission.objects.filter(group=group).delete()
    collection = Collection.objects.get(depth=1)
    for app_label, model in (("wagtailimages", "image"), ("wagtaildocs", "document")):
        for action in media_actions:
            GroupCollectionPermission.objects.create(
                group=group,
                collection=collection,
                permission=_permission(apps, app_label, f"{action}_{model}"),
            )


def create_roles(apps, schema_editor):
    # Permissions for this app's models are normally created after migrate; create them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth.Group")
    writers, _ = Group.objects.get_or_create(name="Writers")
    editors, _ = Group.objects.get_or_create(name="Editors")
    _grant(
        apps,
        writers,
        page_codenames=WRITER_PAGE_PERMISSIONS,
        media_actions=WRITER_MEDIA_PERMISSIONS,
        model_permissions=WRITER_MODEL_PERMISSIONS,
    )
    _grant(
        apps,
        editors,
        page_codenames=EDITOR_PAGE_PERMISSIONS,
        media_actions=EDITOR_MEDIA_PERMISSIONS,
        model_permissions=EDITOR_MODEL_PERMISSIONS,
    )
    _replace_default_workflow(apps, editors)


def _replace_default_workflow(apps, editors):
    """One workflow on the whole tree: an editor approves, and approving publishes."""
    Group = apps.get_model("auth.Group")
    Page = apps.get_model("wagtailcore.Page")
    ContentType = apps.get_model("contenttypes.ContentType")
    Workflow = apps.get_model("wagtailcore.Workflow")
    WorkflowPage = apps.get_model("wagtailcore.WorkflowPage")
    WorkflowTask = apps.get_model("wagtailcore.WorkflowTask")
    GroupApprovalTask = apps.get_model("wagtailcore.GroupApprovalTask")

    root = Page.objects.get(depth=1)
    WorkflowPage.objects.filter(page=root).delete()
    Workflow.objects.filter(name="Moderators approval").update(active=False)
    Group.objects.filter(name="Moderators").delete()

    task_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="groupapprovaltask"
    )
    task, _ = GroupApprovalTask.objects.get_or_create(
        name="Editor review", defaults={"content_type": task_type}
    )
    task.groups.set([editors])
    workflow, _ = Workflow.objects.get_or_create(name="Editorial review")
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    WorkflowPage.objects.create(page=root, workflow=workflow)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_create_homepage"),
        ("wagtailadmin", "0005_editingsession_is_editing"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
