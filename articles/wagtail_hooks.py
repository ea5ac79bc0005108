from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from articles.models import Author, Series


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
