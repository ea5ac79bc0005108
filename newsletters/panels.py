"""Panels of the issue editor: its articles, and its delivery (the pre-send checks, the
ledger's counts and what editors can do)."""

from wagtail.admin.panels import InlinePanel, Panel
from wagtail.models import Page

from newsletters import presend
from newsletters.forms import IssueItemForm


class DeliveryPanel(Panel):
    class BoundPanel(Panel.BoundPanel):
        template_name = "newsletters/admin/delivery_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            issue = self.instance
            context["issue"] = issue
            context["progress"] = issue.delivery_progress() if issue.pk else None
            unsent = issue.pk and not (context["progress"] and context["progress"].state)
            context["report"] = presend.report_for(issue) if unsent else None
            return context


class IssueItemsPanel(InlinePanel):
    """The issue's articles, each headed by its article's title rather than "Article 3"."""

    def get_form_options(self):
        options = super().get_form_options()
        options["formsets"][self.relation_name]["form"] = IssueItemForm
        return options

    class BoundPanel(InlinePanel.BoundPanel):
        template_name = "newsletters/admin/issue_items_panel.html"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            if self.form is None:
                return
            chosen = {child: child.form["article"].value() for child in self.children}
            titles = dict(
                Page.objects.filter(pk__in=[pk for pk in chosen.values() if pk]).values_list(
                    "pk", "title"
                )
            )
            for child, pk in chosen.items():
                child.article_title = titles.get(int(pk)) if str(pk or "").isdigit() else None
            self.empty_child.article_title = None
