"""Newsletters in the Wagtail admin: menus, issue actions, audit-log actions, and who sees what."""

from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.widgets.button import Button

from newsletters import admin_views, subscriber_admin
from newsletters.models import IssuePage
from newsletters.panels import DeliveriesNeedingAttentionPanel
from newsletters.permissions import can_manage_newsletters
from newsletters.viewsets import NewsletterAdminGroup


@hooks.register("register_admin_viewset")
def register_viewsets():
    return NewsletterAdminGroup()


@hooks.register("register_admin_urls")
def register_admin_urls():
    urls = [
        path("issues/<int:issue_id>/compile/", admin_views.compile_view, name="compile"),
        path("issues/<int:issue_id>/send-test/", admin_views.send_test_view, name="send_test"),
        path("issues/<int:issue_id>/delivery/", admin_views.delivery_view, name="delivery"),
        path("issues/<int:issue_id>/retry/", admin_views.retry_failed_view, name="retry"),
        path("subscribers/import/", subscriber_admin.import_view, name="import"),
        path("subscribers/<int:pk>/export/", subscriber_admin.export_view, name="export"),
        path("subscribers/<int:pk>/erase/", subscriber_admin.erase_view, name="erase"),
    ]
    return [path("newsletters/", (urls, "newsletters_admin", "newsletters_admin"))]


@hooks.register("register_page_header_buttons")
def issue_header_buttons(page, user, view_name, next_url=None):
    if not isinstance(page.specific_deferred, IssuePage) or not can_manage_newsletters(user):
        return
    yield Button(
        "Delivery",
        reverse("newsletters_admin:delivery", args=[page.pk]),
        icon_name="mail",
        priority=80,
    )


@hooks.register("insert_editor_js")
def issue_editor_js():
    return format_html('<script src="{}" defer></script>', static("js/admin/issue-items.js"))


@hooks.register("construct_homepage_panels")
def add_deliveries_panel(request, panels):
    if can_manage_newsletters(request.user):
        panels.append(DeliveriesNeedingAttentionPanel())


@hooks.register("register_log_actions")
def register_log_actions(actions):
    actions.register_action("newsletters.compile", "Compile issue", "Compiled the issue")
    actions.register_action("newsletters.send_test", "Send test", "Sent a test of the issue")
    actions.register_action("newsletters.send", "Send issue", "Started delivering the issue")
    actions.register_action("newsletters.retry", "Retry failed", "Retried failed deliveries")
