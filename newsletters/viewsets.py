"""Subscribers and deliveries in the Wagtail admin: search, filters, CSV export."""

from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from newsletters.models import Delivery, Subscriber


class SubscriberViewSet(ModelViewSet):
    model = Subscriber
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
