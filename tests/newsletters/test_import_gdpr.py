"""CSV import that never goes against anyone's wishes; a subscriber's GDPR export and erasure."""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import ModelLogEntry

from newsletters.models import Delivery, Subscriber, Subscription, Suppression
from tests.newsletters.editor import csv_file, messages_of, report, run_import
from tests.newsletters.factories import IssuePageFactory, SubscriberFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

Status = Subscription.Status
GOOD_FILE = (
    "Email,Name",
    "li.wei@example.com,Li Wei",
    "  Ana.Costa@Example.COM ,Ana Costa",
    "grace@example.com,",
    "not an address,Nobody",
    ",Empty",
    "victim@example.com\u2028bcc@example.com,Injected",
)


def test_import_subscribes_valid_rows_as_confirmed_and_reports_invalid_ones(
    editor_client, newsletter
):
    response = run_import(editor_client, newsletter, csv_file(*GOOD_FILE))

    assert response.redirect_chain[-1][0] == reverse("subscribers:index")
    assert report(response) == "Import finished: 3 added, 3 invalid."
    subscriptions = Subscription.objects.filter(newsletter=newsletter)
    assert sorted(subscriptions.values_list("subscriber__email", flat=True)) == [
        "ana.costa@example.com",
        "grace@example.com",
        "li.wei@example.com",
    ]
    assert set(subscriptions.values_list("status", flat=True)) == {Status.ACTIVE}
    ana = Subscriber.objects.get(email="ana.costa@example.com")
    assert (ana.name, ana.consent_source) == ("Ana Costa", "import")
    assert ana.consent_at is not None


def test_importing_the_same_file_twice_adds_nothing_the_second_time(editor_client, newsletter):
    run_import(editor_client, newsletter, csv_file(*GOOD_FILE))
    counts = (Subscriber.objects.count(), Subscription.objects.count())

    response = run_import(editor_client, newsletter, csv_file(*GOOD_FILE))

    assert report(response) == "Import finished: 3 invalid, 3 unchanged."
    assert (Subscriber.objects.count(), Subscription.objects.count()) == counts


def test_import_never_resubscribes_who_unsubscribed_bounced_or_complained(
    editor_client, newsletter, series_newsletter
):
    left = SubscriptionFactory(
        newsletter=newsletter, subscriber__email="left@example.com", status=Status.UNSUBSCRIBED
    )
    everything = SubscriptionFactory(
        newsletter=series_newsletter,
        subscriber__email="all@example.com",
        status=Status.UNSUBSCRIBED,
    )
    Suppression.add("all@example.com", Suppression.Reason.UNSUBSCRIBED)
    SubscriberFactory(email="bounced@example.com", status=Subscriber.Status.BOUNCED)
    Suppression.add("bounced@example.com", Suppression.Reason.BOUNCED)
    SubscriberFactory(email="spam@example.com", status=Subscriber.Status.COMPLAINED)
    file = csv_file(
        "email",
        "LEFT@example.com",
        "all@example.com",
        "bounced@example.com",
        "spam@example.com",
    )

    response = run_import(editor_client, newsletter, file)

    assert report(response) == "Import finished: 4 suppressed."
    left.refresh_from_db()
    assert left.status == Status.UNSUBSCRIBED
    assert not Subscription.objects.filter(
        newsletter=newsletter, subscriber=everything.subscriber
    ).exists()
    assert not Subscription.objects.filter(
        subscriber__email__in=["bounced@example.com", "spam@example.com"]
    ).exists()


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (csv_file("email", "caf\u00e9@example.com", encoding="latin-1"), "not UTF-8"),
        (csv_file("address,name", "li@example.com,Li"), "one of them “email”"),
    ],
    ids=["not UTF-8", "no email column"],
)
def test_an_unreadable_file_is_refused_with_a_reason(editor_client, newsletter, upload, error):
    response = run_import(editor_client, newsletter, upload)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Subscriber.objects.exists()


# GDPR export


@pytest.fixture
def member(newsletter, series_newsletter):
    """A subscriber with something in every table: subscriptions and a delivery."""
    subscription = SubscriptionFactory(
        newsletter=newsletter, subscriber__email="ada@example.com", subscriber__name="Ada"
    )
    SubscriptionFactory(
        newsletter=series_newsletter, subscriber=subscription.subscriber, status=Status.UNSUBSCRIBED
    )
    issue = IssuePageFactory(parent=newsletter, subject="The week in ports")
    Delivery.objects.create(
        issue=issue,
        subscriber=subscription.subscriber,
        status=Delivery.Status.SENT,
        message_id="<1@outlet.example>",
        last_error="550 <ada@example.com> mailbox full",
    )
    return subscription.subscriber


def export(client, subscriber) -> dict:
    response = client.get(reverse("newsletters_admin:export", args=[subscriber.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    return json.loads(response.content)


def tables_referring_to_subscribers() -> dict[str, tuple[type, str]]:
    """Each model with a foreign key to Subscriber, by its plural name: (model, that key)."""
    return {
        rel.related_model._meta.verbose_name_plural: (rel.related_model, rel.field.name)
        for rel in Subscriber._meta.related_objects
    }


def test_the_export_has_the_subscriber_and_every_table_that_refers_to_them(editor_client, member):
    data = export(editor_client, member)

    assert data["subscriber"]["email"] == "ada@example.com"
    assert data["subscriber"]["name"] == "Ada"
    assert tables_referring_to_subscribers().keys() >= {"subscriptions", "deliveries"}
    for table, (model, key) in tables_referring_to_subscribers().items():
        assert table in data, f"the export leaves out {table}"
        rows = model.objects.filter(**{key: member}).count()
        assert len(data[table]) == rows, table
    assert {row["status"] for row in data["subscriptions"]} == {"active", "unsubscribed"}
    assert data["deliveries"][0]["issue"] == "The week in ports"


def test_the_export_has_only_that_subscribers_data(editor_client, member, newsletter):
    SubscriptionFactory(newsletter=newsletter, subscriber__email="someone.else@example.com")

    data = export(editor_client, member)

    assert "someone.else@example.com" not in json.dumps(data)


# GDPR erasure


def full_dump() -> str:
    out = io.StringIO()
    # django_rq's dashboard is a model without a table: nothing to dump, and dumpdata chokes.
    call_command("dumpdata", exclude=["django_rq"], stdout=out)
    return out.getvalue()


def test_erasing_leaves_no_trace_of_the_address_in_a_full_dump(editor_client, member):
    # An admin edit puts the subscriber in Wagtail's audit log, which names them.
    edit = reverse("subscribers:edit", args=[member.pk])
    response = editor_client.post(
        edit, {"email": member.email, "name": "Ada L.", "status": "active"}
    )
    assert response.status_code == 302
    assert "ada@example.com" in full_dump()  # the dump can see the address while it is held
    erase = reverse("newsletters_admin:erase", args=[member.pk])
    assert "ada@example.com" in editor_client.get(erase).content.decode()

    response = editor_client.post(erase, follow=True)

    assert "erased" in " ".join(messages_of(response))
    assert not Subscriber.objects.filter(pk=member.pk).exists()
    assert not Subscription.objects.filter(subscriber_id=member.pk).exists()
    assert not Delivery.objects.filter(subscriber_id=member.pk).exists()
    dump = full_dump()
    assert "ada@example.com" not in dump.lower()
    assert "Ada L." not in dump
    assert Suppression.objects.get().reason == Suppression.Reason.ERASED
    # The audit trail keeps what was done, and by whom, without naming the address.
    trail = ModelLogEntry.objects.filter(object_id=str(member.pk), content_type__model="subscriber")
    assert set(trail.values_list("action", flat=True)) == {"wagtail.edit", "wagtail.delete"}
    assert set(trail.values_list("label", flat=True)) == {f"Erased subscriber #{member.pk}"}


def test_an_erased_address_cannot_be_imported_again(editor_client, member, newsletter):
    editor_client.post(reverse("newsletters_admin:erase", args=[member.pk]))

    response = run_import(editor_client, newsletter, csv_file("email", "Ada@Example.com"))

    assert report(response) == "Import finished: 1 suppressed."
    assert not Subscriber.objects.exists()


def test_opening_the_erase_page_erases_nothing(editor_client, member):
    editor_client.get(reverse("newsletters_admin:erase", args=[member.pk]))

    assert Subscriber.objects.filter(pk=member.pk).exists()
    assert not Suppression.objects.exists()
