"""The newsroom's roles and review workflow come from a migration, not from hand set-up."""

import pytest
from django.contrib.auth.models import Group
from wagtail.models import GroupPagePermission, Page, Workflow, WorkflowPage

pytestmark = pytest.mark.django_db


def page_permissions(group_name: str, page=None) -> set[str]:
    page = page or Page.get_first_root_node()
    return set(
        GroupPagePermission.objects.filter(group__name=group_name, page=page).values_list(
            "permission__codename", flat=True
        )
    )


def model_permissions(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{perm.content_type.app_label}.{perm.codename}"
        for perm in group.permissions.select_related("content_type")
    }


def test_writers_and_editors_groups_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Writers", "Editors"}


def test_writers_can_add_and_change_pages_in_a_section_but_not_publish(section):
    permissions = page_permissions("Writers", section)

    assert permissions == {"add_page", "change_page"}


def test_writers_hold_no_page_permission_outside_the_sections(section):
    granted = GroupPagePermission.objects.filter(group__name="Writers")

    assert {permission.page.specific_class.__name__ for permission in granted} == {"SectionPage"}


def test_a_new_section_opens_to_writers(home, writer):
    from tests.articles.factories import SectionPageFactory

    briefings = SectionPageFactory(parent=home, title="Briefings", slug="briefings")

    assert page_permissions("Writers", briefings) == {"add_page", "change_page"}
    assert briefings.permissions_for_user(writer).can_add_subpage()
    assert not home.permissions_for_user(writer).can_edit()


def test_editors_can_publish_pages():
    assert {"add_page", "change_page", "publish_page"} <= page_permissions("Editors")


def test_both_roles_can_reach_the_admin():
    for group in ("Writers", "Editors"):
        assert "wagtailadmin.access_admin" in model_permissions(group)


def test_writers_see_authors_and_series_but_cannot_edit_them():
    permissions = model_permissions("Writers")

    assert {"articles.view_author", "articles.view_series"} <= permissions
    assert not {"articles.add_author", "articles.change_author", "articles.add_series"} & (
        permissions
    )


def test_editors_manage_authors_and_series():
    permissions = model_permissions("Editors")

    for model in ("author", "series"):
        for action in ("add", "change", "delete"):
            assert f"articles.{action}_{model}" in permissions


def test_the_editorial_review_workflow_covers_the_whole_tree():
    workflow = Workflow.objects.get(name="Editorial review")

    assert workflow.active
    assert WorkflowPage.objects.get(page=Page.get_first_root_node()).workflow == workflow
    tasks = [task.specific for task in workflow.tasks]
    assert [task.name for task in tasks] == ["Editor review"]
    assert [group.name for group in tasks[0].groups.all()] == ["Editors"]


def test_every_article_falls_under_the_editorial_review(story):
    assert story.get_workflow().name == "Editorial review"


def test_the_default_moderators_workflow_is_retired():
    assert not Workflow.objects.filter(name="Moderators approval", active=True).exists()


def test_user_permissions_follow_their_group(writer, editor, story):
    assert not story.permissions_for_user(writer).can_publish()
    assert story.permissions_for_user(writer).can_edit()
    assert story.permissions_for_user(editor).can_publish()
