"""One mailbox, one subscriber: every spelling of an address reaches the same subscriber, the
same confirmation cooldown and the same suppression hash; what cannot be one plain mailbox is
refused with a message that says why."""

import hashlib
import hmac
import importlib

import pytest
from bs4 import BeautifulSoup
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from newsletters import subscribing
from newsletters.addresses import canonical_email, display_form
from newsletters.models import (
    Delivery,
    Subscriber,
    SubscriberMerge,
    Subscription,
    Suppression,
    email_hash,
)
from newsletters.subscribing import subscriber_for
from newsletters.tokens import UNSUBSCRIBE, make
from tests.newsletters.editor import csv_file, report, run_import
from tests.newsletters.factories import IssuePageFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

# Domains readers of a US-China outlet have, each with its ASCII (IDNA) form.
DOMAINS = {
    "example.com": "example.com",
    "bücher.example": "xn--bcher-kva.example",
    "例子.广告": "xn--fsqu00a.xn--4rr70v",
    "почта.рф": "xn--80a1acny.xn--p1ai",
}
LOCAL_PARTS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-",
    min_size=1,
    max_size=20,
)


def flip_case(text: str, pattern: list[bool]) -> str:
    return "".join(
        char.swapcase() if pattern[i % len(pattern)] else char for i, char in enumerate(text)
    )


@st.composite
def spellings(draw):
    """Two spellings of one mailbox, and the canonical form both must reach."""
    local = draw(LOCAL_PARTS)
    unicode_domain, ascii_domain = draw(st.sampled_from(sorted(DOMAINS.items())))

    def spelling():
        domain = draw(st.sampled_from([unicode_domain, ascii_domain]))
        case = draw(st.lists(st.booleans(), min_size=1, max_size=5))
        space = draw(st.sampled_from(["", " ", "\t"]))
        return f"{space}{flip_case(local, case)}@{flip_case(domain, case)}{space}"

    return spelling(), spelling(), f"{local.lower()}@{ascii_domain}"


@given(spellings())
def test_every_spelling_of_a_mailbox_has_one_canonical_form(case):
    first, second, canonical = case

    assert canonical_email(first) == canonical_email(second) == canonical


@given(spellings())
@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_every_spelling_reaches_one_subscriber_one_cooldown_and_one_hash(newsletter, case):
    first, second, canonical = case
    with transaction.atomic():
        due = subscribing.request_subscription(first, [newsletter.pk], "/newsletters/")
        again = subscribing.request_subscription(second, [newsletter.pk], "/newsletters/")

        assert list(Subscriber.objects.values_list("email", flat=True)) == [canonical]
        assert due is not None and due.newsletter_ids == [newsletter.pk]
        assert again is None, "a second spelling dodged the confirmation cooldown"
        assert email_hash(first) == email_hash(second) == email_hash(canonical)
        transaction.set_rollback(True)


REFUSED = {
    "quoted local part": ('"ada"@example.com', "quotation marks"),
    "quoted local part with a space": ('"ada lovelace"@example.com', "quotation marks"),
    "escaped local part": ("ada\\@home@example.com", "backslashes"),
    "internationalised local part": ("ñandú@example.com", "before the @"),
    "Chinese local part": ("读者@例子.广告", "before the @"),
}


@pytest.mark.parametrize("address, why", REFUSED.values(), ids=REFUSED.keys())
def test_what_is_not_one_plain_mailbox_is_refused_with_a_clear_message(
    signup, mailbox, address, why
):
    response = signup(address)

    assert response.status_code == 400
    alert = BeautifulSoup(response.content, "html.parser").find(role="alert").get_text()
    assert why in alert
    assert not Subscriber.objects.exists()
    assert len(mailbox) == 0


def test_a_chinese_domain_is_accepted_stored_in_ascii_and_shown_in_its_script(signup, mailbox):
    signup("Reader@例子.广告")

    subscriber = Subscriber.objects.get()
    assert subscriber.email == "reader@xn--fsqu00a.xn--4rr70v"
    assert str(subscriber) == display_form(subscriber.email) == "reader@例子.广告"
    assert mailbox.only()["To"].addresses[0].addr_spec == "reader@xn--fsqu00a.xn--4rr70v"


def test_canonical_email_refuses_the_empty_and_the_overlong():
    for address in ("", "   ", "a" * 250 + "@example.com"):
        with pytest.raises(ValidationError):
            canonical_email(address)


# Everywhere an address enters


def test_an_import_folds_spellings_into_one_subscriber(editor_client, newsletter):
    rows = csv_file("email", "Ada@Example.COM", "ada@example.com", "ADA@EXAMPLE.com ")

    response = run_import(editor_client, newsletter, rows)

    assert report(response) == "Import finished: 1 added, 2 unchanged."
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["ada@example.com"]


def test_an_import_refuses_quoted_local_parts(editor_client, newsletter):
    # The address "ada"@example.com, written as CSV writes a field with quotation marks in it.
    response = run_import(editor_client, newsletter, csv_file("email", '"""ada""@example.com"'))

    assert report(response) == "Import finished: 1 invalid."
    assert not Subscriber.objects.exists()


def test_the_admin_refuses_a_second_spelling_of_a_subscribers_address(editor_client):
    SubscriberFactory(email="reader@xn--bcher-kva.example")

    response = editor_client.post(
        reverse("subscribers:add"),
        {"email": "Reader@BÜCHER.example", "name": "", "status": "active"},
    )

    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["email"])
    assert Subscriber.objects.count() == 1


def test_the_admin_stores_what_an_editor_types_in_canonical_form(editor_client):
    response = editor_client.post(
        reverse("subscribers:add"), {"email": " Li@例子.广告 ", "name": "Li", "status": "active"}
    )

    assert response.status_code == 302
    assert Subscriber.objects.get().email == "li@xn--fsqu00a.xn--4rr70v"


def test_the_admin_finds_a_subscriber_by_any_spelling_of_their_address(editor_client):
    SubscriberFactory(email="li@xn--fsqu00a.xn--4rr70v", name="Li Wei")
    SubscriberFactory(email="someone@example.com", name="Someone Else")

    response = editor_client.get(reverse("subscribers:index"), {"q": "LI@例子.广告"})

    listed = " ".join(response.content.decode().split())
    assert "Li Wei" in listed
    assert "Someone Else" not in listed


# The migration that brought stored rows to the canonical form


MIGRATION = importlib.import_module("newsletters.migrations.0003_one_mailbox_one_subscriber")


def legacy_hash(address: str) -> str:
    """How suppression hashes were keyed before: the address stripped and lower-cased."""
    key = settings.SUPPRESSION_HASH_KEY.encode()
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()


def stored_as_before(**fields) -> Subscriber:
    """A row as the old code stored it: not canonical, and without its hash."""
    (subscriber,) = Subscriber.objects.bulk_create([Subscriber(**fields)])
    return subscriber


def test_the_migration_merges_spellings_and_keeps_the_strongest_state(
    newsletter, series_newsletter
):
    issue = IssuePageFactory(parent=newsletter)
    first = stored_as_before(email="li@例子.广告", name="Li", token_version=3)
    second = stored_as_before(email="li@xn--fsqu00a.xn--4rr70v", status="bounced")
    third = stored_as_before(email="ada@example.com", name="Ada")
    Subscription.objects.create(subscriber=first, newsletter=newsletter, status="active")
    Subscription.objects.create(subscriber=second, newsletter=newsletter, status="unsubscribed")
    Subscription.objects.create(subscriber=second, newsletter=series_newsletter, status="pending")
    Delivery.objects.create(issue=issue, subscriber=first, status="pending")
    Delivery.objects.create(issue=issue, subscriber=second, status="sent")
    Suppression.objects.create(email_hash=legacy_hash("li@例子.广告"), reason="unsubscribed")
    link = make(UNSUBSCRIBE, second, newsletter.pk)

    MIGRATION.canonicalise(apps, None)

    merged = Subscriber.objects.get(email="li@xn--fsqu00a.xn--4rr70v")
    assert merged.pk == first.pk
    assert (merged.name, merged.status, merged.token_version) == ("Li", "bounced", 3)
    assert merged.email_hash == email_hash("li@例子.广告")
    assert dict(merged.subscriptions.values_list("newsletter_id", "status")) == {
        newsletter.pk: "unsubscribed",
        series_newsletter.pk: "pending",
    }
    assert list(merged.deliveries.values_list("status", flat=True)) == ["sent"]
    assert Suppression.objects.get(email_hash=merged.email_hash).reason == "bounced"
    assert Subscriber.objects.get(pk=third.pk).email_hash == email_hash("ada@example.com")
    assert Subscriber.objects.count() == 2
    # A link mailed to the merged-away row still manages the mailbox.
    assert SubscriberMerge.objects.get().merged_id == second.pk
    assert subscriber_for(UNSUBSCRIBE, link)[0] == merged


def test_the_migration_changes_nothing_the_second_time(newsletter):
    stored_as_before(email="Li@例子.广告")
    MIGRATION.canonicalise(apps, None)
    before = list(Subscriber.objects.values_list("pk", "email", "email_hash", "status"))

    MIGRATION.canonicalise(apps, None)

    assert list(Subscriber.objects.values_list("pk", "email", "email_hash", "status")) == before
