"""Newsletters in the Wagtail admin: menus, issue actions, audit-log actions, and who sees what."""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from wagtail import hooks
from wagtail.admin.action_menu import PublishMenuItem, SubmitForModerationMenuItem
from wagtail.admin.userbar import ContentCheckerItem
from wagtail.admin.widgets.button import Button

from articles.content_checks import add_to_checks_panel
from articles.models import ArticlePage
from newsletters import (
    admin_views,
    correction_admin,
    corrections,
    presend,
    publishing,
    subscriber_admin,
)
from newsletters.dashboard import NewsletterDashboardPanel
from newsletters.models import IssuePage, NewsletterPage
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
        path("issues/<int:issue_id>/publish/", admin_views.publish_view, name="publish"),
        path("issues/<int:issue_id>/delivery/", admin_views.delivery_view, name="delivery"),
        path("issues/<int:issue_id>/retry/", admin_views.retry_failed_view, name="retry"),
        path("issues/<int:issue_id>/resume/", admin_views.resume_view, name="resume"),
        path(
            "articles/<int:page_id>/correction/",
            correction_admin.correction_view,
            name="correction",
        ),
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


@hooks.register("register_page_header_buttons")
def correction_header_button(page, user, view_name, next_url=None):
    """On a live article with a notice not yet mailed, to readers an issue sent it to."""
    article = page.specific_deferred
    if not isinstance(article, ArticlePage) or not article.live:
        return
    if not can_manage_newsletters(user):
        return
    notice = corrections.notice_to_mail(article)
    if notice is not None and (readers := corrections.recipient_count(article)):
        yield Button(
            f"Email this {notice.get_kind_display().lower()} to {readers} "
            f"reader{'s' if readers != 1 else ''} who received it",
            reverse("newsletters_admin:correction", args=[page.pk]),
            icon_name="mail",
            priority=80,
        )


EDITOR_SCRIPTS = ["js/admin/issue-items.js", "js/admin/issue-publish.js"]


@hooks.register("insert_editor_js")
def issue_editor_js():
    return format_html_join(
        "\n", '<script src="{}" defer></script>', ((static(path),) for path in EDITOR_SCRIPTS)
    )


@hooks.register("insert_global_admin_css")
def newsletters_admin_css():
    return format_html('<link rel="stylesheet" href="{}">', static("css/admin/newsletters.css"))


@hooks.register("construct_homepage_panels")
def add_deliveries_panel(request, panels):
    if can_manage_newsletters(request.user):
        panels.append(NewsletterDashboardPanel())


@hooks.register("before_publish_page")
def ask_before_sending(request, page):
    """An issue not yet sent is published only once it passes the pre-send checks and the
    editor agreed to whom it goes (and to any warnings)."""
    if not isinstance(page, IssuePage) or publishing.was_sent(page):
        return None
    return publishing.hold_before_sending(request, page)


@hooks.register("construct_page_action_menu")
def issue_actions(menu_items, request, context):
    """An issue's Publish says whether it sends; and an issue is published by an editor who
    sees whom it goes to, never by approving a workflow task, so it is not submitted to one."""
    page, parent = context.get("page"), context.get("parent_page")
    if not isinstance(page, IssuePage) and not (
        page is None and isinstance(parent, NewsletterPage)
    ):
        return
    for index, item in enumerate(menu_items):
        if type(item) is PublishMenuItem:
            menu_items[index] = publishing.IssuePublishMenuItem(order=item.order)
    menu_items[:] = [i for i in menu_items if not isinstance(i, SubmitForModerationMenuItem)]


@hooks.register("before_bulk_action")
def keep_unsent_issues_out_of_bulk_publishing(request, action_type, objects, action):
    """Bulk publishing would send issues without saying to whom: they go one at a time."""
    if action_type != "publish":
        return None
    within = Q(pk__in=[page.pk for page in objects])
    for page in objects:
        within |= Q(path__startswith=page.path, depth__gt=page.depth)
    unsent = IssuePage.objects.filter(within, send__isnull=True).order_by("path")
    if not unsent.exists():
        return None
    titles = ", ".join(f"“{issue.title}”" for issue in unsent[:5])
    messages.error(
        request,
        f"Nothing was published: {titles} would be emailed to subscribers. Publish an issue "
        "from its editor, which says to how many people it goes.",
    )
    return redirect(action.next_url)


@hooks.register("after_publish_page")
def say_what_publishing_sent(request, page):
    if isinstance(page, IssuePage):
        first = page.first_published_at is None or page.first_published_at == page.last_published_at
        publishing.announce(request, page, first_publication=first)


@hooks.register("register_log_actions")
def register_log_actions(actions):
    actions.register_action("newsletters.compile", "Compile issue", "Compiled the issue")
    actions.register_action("newsletters.send_test", "Send test", "Sent a test of the issue")
    actions.register_action("newsletters.send", "Send issue", "Started delivering the issue")
    actions.register_action("newsletters.retry", "Retry failed", "Retried failed deliveries")
    actions.register_action("newsletters.resume", "Resume sending", "Resumed the paused send")
    actions.register_action(
        "newsletters.correction_email",
        "Email correction",
        "Emailed the correction to the readers who received the article",
    )


@hooks.register("construct_wagtail_userbar")
def show_presend_checks_in_the_checks_panel(request, items, page):
    """Wagtail's Checks panel lists what the pre-send checks found, as the issue's preview
    marks it (see newsletters.presend)."""
    if isinstance(page, IssuePage):
        for item in items:
            if isinstance(item, ContentCheckerItem):
                add_to_checks_panel(item, presend.ISSUE_KINDS)
