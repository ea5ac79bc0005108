"""The newsletter forms a reader meets, read and filled in as a browser would, and the state
that a click must not change."""

from bs4 import BeautifulSoup
from django.urls import reverse

from newsletters.models import Delivery, Subscriber, Subscription, Suppression


def subscribe_forms(html: str) -> list:
    """The subscribe forms on a page, as BeautifulSoup elements."""
    soup = BeautifulSoup(html, "html.parser")
    return soup.find_all("form", action=reverse("newsletters:subscribe"))


def form_data(form) -> dict:
    """What a browser submits for `form` with nothing typed in: every named input's value."""
    data = {}
    for field in form.find_all(["input", "textarea", "select"]):
        if field.get("name") and field.get("type") not in ("submit", "button"):
            data[field["name"]] = field.get("value", "")
    return data


def newsletter_state() -> dict:
    """Everything a click must not change: who is subscribed, suppressed, or owed an email."""
    return {
        "subscribers": sorted(
            Subscriber.objects.values_list(
                "pk", "email", "status", "token_version", "consent_at", "confirmation_sent_at"
            )
        ),
        "subscriptions": sorted(
            Subscription.objects.values_list(
                "pk", "subscriber_id", "newsletter_id", "status", "confirmed_at", "unsubscribed_at"
            )
        ),
        "suppressions": sorted(Suppression.objects.values_list("email_hash", "reason")),
        "deliveries": sorted(Delivery.objects.values_list("pk", "status", "attempts", "sent_at")),
    }
