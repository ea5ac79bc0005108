"""The delivery panel in the issue editor: the ledger's counts and what editors can do."""

from wagtail.admin.panels import Panel


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
