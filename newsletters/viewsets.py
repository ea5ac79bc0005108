"""Subscribers and deliveries in the Wagtail admin: search, filters, CSV export."""

from django.urls import reverse
from django.utils.functional import cached_property
from wagtail.admin.views.generic.models import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets.button import Button

from newsletters.models import Delivery, Subscriber


class SubscriberIndexView(IndexView):
    @cached_property
    def header_more_buttons(self):
        buttons = super().header_more_buttons
        if self.request.user.has_perm("newsletters.add_subscriber"):
            url = reverse("newsletters_admin:import")
            buttons.append(Button("Import from CSV", url=url, icon_name="upload", priority=50))
        return buttons


class SubscriberInspectView(InspectView):
    """Adds the subscriber's GDPR rights: a copy of their data, and erasure."""

    @cached_property
    def header_more_buttons(self):
        buttons = super().header_more_buttons
        user, pk = self.request.user, self.object.pk
        if user.has_perm("newsletters.view_subscriber"):
            url = reverse("newsletters_admin:export", args=[pk])
            buttons.append(Button("Export data (GDPR)", url=url, icon_name="download", priority=30))
        if user.has_perm("newsletters.delete_subscriber"):
            url = reverse("newsletters_admin:erase", args=[pk])
            buttons.append(Button("Erase (GDPR)", url=url, icon_name="bin", priority=40))
        return buttons


class SubscriberViewSet(ModelViewSet):
    model = Subscriber
    index_view_class = SubscriberIndexView
    inspect_view_class = SubscriberInspectView
    icon = "group"
    menu_label = "Subscribers"
    add_to_admin_menu = False
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = ["email", "name", "status", "consent_at", "created_at"]
    list_filter = ["status", "subscriptions__newsletter", "subscriptions__status"]
    search_fields = ["email", "name"]
    list_export = ["email", "name", "status", "consent_at", "consent_source", "created_at"]
    export_filename = "subscribers"
    form_fields = ["email", "name", "status"]
    inspect_view_fields = [
        "email",
        "name",
        "status",
        "created_at",
        "consent_at",
        "consent_source",
        "confirmation_sent_at",
    ]


class DeliveryViewSet(ModelViewSet):
    model = Delivery
    icon = "mail"
    menu_label = "Deliveries"
    add_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    list_display = ["subscriber", "issue", "status", "attempts", "uncertain", "sent_at"]
    list_filter = ["status", "uncertain", "issue"]
    search_fields = ["subscriber__email", "message_id"]
    list_export = [
        "issue",
        "subscriber",
        "status",
        "attempts",
        "uncertain",
        "sent_at",
        "message_id",
        "last_error",
    ]
    export_filename = "deliveries"
    form_fields = ["status"]


class NewsletterAdminGroup(ModelViewSetGroup):
    menu_label = "Newsletters"
    menu_icon = "mail"
    menu_order = 250
    items = (SubscriberViewSet("subscribers"), DeliveryViewSet("deliveries"))
