"""The articles' admin: author and series snippets, page permissions held wherever the admin
lists or names pages (see articles.roles), and the page editor kept safe from autosave races."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.templatetags.static import static
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.userbar import ContentCheckerItem
from wagtail.permissions import page_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from articles import content_checks
from articles.models import ArticlePage, Author, Series


class AuthorViewSet(SnippetViewSet):
    model = Author
    icon = "user"
    menu_label = "Authors"
    menu_order = 200
    add_to_admin_menu = True
    list_display = ["name", "role", "slug"]


class SeriesViewSet(SnippetViewSet):
    model = Series
    icon = "list-ul"
    menu_label = "Series"
    menu_order = 210
    add_to_admin_menu = True
    list_display = ["name", "label", "slug"]


register_snippet(AuthorViewSet)
register_snippet(SeriesViewSet)


@hooks.register("construct_page_chooser_queryset")
def choose_among_explorable_pages(pages, request):
    """Page choosers offer a user only the part of the tree their page permissions open to them
    (for Writers: the home page, the sections and their articles), and browse no further."""
    explorable = page_permission_policy.explorable_instances(request.user)
    parent_id = request.resolver_match.kwargs.get("parent_page_id")
    if parent_id and not explorable.filter(pk=parent_id).exists() and int(parent_id) != 1:
        raise Http404  # the tree's root (id 1) holds every site and names nothing
    return pages.filter(pk__in=explorable.values("pk"))


@hooks.register("before_move_page")
def show_a_move_only_to_who_may_make_it(request, page, destination):
    """Wagtail's move confirmation names both pages before any permission check."""
    if not page.permissions_for_user(request.user).can_move_to(destination):
        raise PermissionDenied


@hooks.register("construct_reports_menu")
def page_types_report_for_publishers(request, menu_items):
    """The page types report names the last edited page of every type: for those who may
    publish anywhere (Editors) only; see outlet.urls."""
    if not page_permission_policy.user_has_permission(request.user, "publish"):
        menu_items[:] = [item for item in menu_items if item.name != "page-types-usage"]


@hooks.register("insert_editor_js")
def autosave_guard():
    """A save pressed while autosave is creating the page goes to that page, not a second one."""
    return format_html('<script src="{}" defer></script>', static("js/admin/autosave-guard.js"))


@hooks.register("construct_wagtail_userbar")
def show_content_checks_in_the_checks_panel(request, items, page):
    """Wagtail's Checks panel lists the article's dead links, pictures without alt text and
    placeholders, as its preview marks them (see articles.content_checks)."""
    if isinstance(page, ArticlePage):
        for item in items:
            if isinstance(item, ContentCheckerItem):
                content_checks.add_to_checks_panel(item, content_checks.ARTICLE_KINDS)
