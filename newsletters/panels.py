"""The delivery panel in the issue editor: the ledger's counts and what editors can do."""

from wagtail.admin.panels import InlinePanel, Panel
from wagtail.admin.ui.components import Component


class DeliveryPanel(Panel):
    class BoundPanel(Panel.BoundPanel):
        template_name = "newsletters/admin/delivery_panel.html"

        def get_context_data(self, parent_context=None):
            from newsletters.progress import progress_of  # the models import this module

            context = super().get_context_data(parent_context)
            issue = self.instance
            context["issue"] = issue
            context["progress"] = progress_of(issue) if issue.pk else None
            return context


class IssueItemsPanel(InlinePanel):
    """The issue's articles, each headed by its article's title rather than "Article 3"."""

    class BoundPanel(InlinePanel.BoundPanel):
        template_name = "newsletters/admin/issue_items_panel.html"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            if self.form is None:
                return
            from wagtail.models import Page

            chosen = {child: child.form["article"].value() for child in self.children}
            titles = dict(
                Page.objects.filter(pk__in=[pk for pk in chosen.values() if pk]).values_list(
                    "pk", "title"
                )
            )
            for child, pk in chosen.items():
                child.article_title = titles.get(int(pk)) if str(pk or "").isdigit() else None
            self.empty_child.article_title = None


class DeliveriesNeedingAttentionPanel(Component):
    """On the admin dashboard: sends that missed their schedule or have failed rows."""

    name = "newsletter_deliveries"
    template_name = "newsletters/admin/attention_panel.html"
    order = 90

    def get_context_data(self, parent_context=None):
        from django.db.models import Count, Q

        from newsletters.models import Delivery, IssueSend

        context = super().get_context_data(parent_context)
        failed = Count(
            "issue__deliveries", filter=Q(issue__deliveries__status=Delivery.Status.FAILED)
        )
        context["sends"] = (
            IssueSend.objects.annotate(failed=failed)
            .filter(Q(state=IssueSend.State.MISSED) | Q(failed__gt=0))
            .select_related("issue")
            .order_by("-started_at")[:10]
        )
        return context
