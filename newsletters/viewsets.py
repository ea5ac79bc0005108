"""Subscribers and deliveries in the Wagtail admin: search, filters, CSV export."""

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.functional import cached_property
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic.models import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets.button import Button
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from newsletters.addresses import canonical_email
from newsletters.models import Delivery, NewsletterPage, Subscriber, Subscription
from newsletters.subscriber_admin import SubscriberAdminForm


class DeliveryPermissionPolicy(ModelPermissionPolicy):
    """The ledger is written by delivery alone: nobody, superusers included, edits it by hand
    ("Retry failed" on the issue is the one sanctioned change)."""

    def user_has_permission(self, user, action):
        return action not in ("add", "change", "delete") and super().user_has_permission(
            user, action
        )


class SubscriberPermissionPolicy(ModelPermissionPolicy):
    """A subscriber leaves through "Erase (GDPR)", which keeps the suppression hash and scrubs
    the audit log; a plain delete would do neither."""

    def user_has_permission(self, user, action):
        return action != "delete" and super().user_has_permission(user, action)


register_permission_policy(Delivery, DeliveryPermissionPolicy(Delivery))
register_permission_policy(Subscriber, SubscriberPermissionPolicy(Subscriber))


def newsletter_statuses(subscriber: Subscriber) -> str:
    """Each newsletter and where the subscriber stands with it, e.g. "The Weekly Steep:
    confirmed · Coffee vs. Tea: awaiting confirmation"."""
    subscriptions = sorted(subscriber.subscriptions.all(), key=lambda s: s.newsletter.title)
    return (
        " · ".join(f"{s.newsletter.title}: {s.get_status_display().lower()}" for s in subscriptions)
        or "No newsletter"
    )


class SubscriberIndexView(IndexView):
    def get_base_queryset(self):
        subscriptions = Subscription.objects.select_related("newsletter")
        return (
            super().get_base_queryset().prefetch_related(Prefetch("subscriptions", subscriptions))
        )

    @cached_property
    def search_query(self):
        """A whole address is looked up under its canonical spelling (any case, either form
        of an internationalised domain); anything else as typed."""
        query = super().search_query
        try:
            return canonical_email(query) if "@" in query else query
        except ValidationError:
            return query

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


class SubscriberFilterSet(WagtailFilterSet):
    """Newsletter and subscription status select one subscription together, so "unsubscribed
    from the weekly" means that, and a subscriber with two matching subscriptions shows once."""

    subscriptions__newsletter = django_filters.ModelChoiceFilter(
        label="Newsletter", queryset=NewsletterPage.objects.all(), method="by_subscription"
    )
    subscriptions__status = django_filters.ChoiceFilter(
        label="Subscription", choices=Subscription.Status.choices, method="by_subscription"
    )

    class Meta:
        model = Subscriber
        fields = ["status"]

    def by_subscription(self, queryset, name, value):
        return queryset  # both are applied at once, in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        wanted = {
            field: value
            for field in ("newsletter", "status")
            if (value := self.form.cleaned_data.get(f"subscriptions__{field}"))
        }
        if wanted:
            matching = Subscription.objects.filter(**wanted).values("subscriber_id")
            queryset = queryset.filter(pk__in=matching)
        return queryset


class SubscriberViewSet(ModelViewSet):
    model = Subscriber
    index_view_class = SubscriberIndexView
    inspect_view_class = SubscriberInspectView
    icon = "group"
    menu_label = "Subscribers"
    add_to_admin_menu = False
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        "email",
        "name",
        Column("newsletters", label="Newsletters", accessor=newsletter_statuses),
        "status",
        DateColumn("consent_at", label="Consent given", sort_key="consent_at"),
        DateColumn("created_at", label="Added", sort_key="created_at"),
    ]
    filterset_class = SubscriberFilterSet
    search_fields = ["email", "name"]
    list_export = ["email", "name", "status", "consent_at", "consent_source", "created_at"]
    export_filename = "subscribers"
    edit_handler = ObjectList(
        [FieldPanel("email"), FieldPanel("name"), FieldPanel("status")],
        base_form_class=SubscriberAdminForm,
    )
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
    copy_view_enabled = False
    inspect_view_enabled = True
    list_display = [
        "subscriber",
        "issue",
        "correction",
        "status",
        "attempts",
        "uncertain",
        "sent_at",
    ]
    list_filter = ["status", "uncertain", "issue"]
    search_fields = ["subscriber__email", "message_id"]
    list_export = [
        "issue",
        "correction",
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
