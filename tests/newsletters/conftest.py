"""Fixtures the newsletter tests share: newsletters, subscribers, clients per role, a mailbox."""

import email
import re
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageLogEntry
from wagtail.test.utils.form_data import querydict_from_html, rich_text

from newsletters.models import Delivery, IssuePage, Subscriber, Subscription, Suppression
from tests.articles.factories import ArticlePageFactory, UserFactory
from tests.newsletters.factories import (
    NewsletterIndexPageFactory,
    NewsletterPageFactory,
    SubscriptionFactory,
)

SUBSCRIBE_PATH = "/subscriptions/subscribe/"
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')]+")


@pytest.fixture
def newsletter_index(home):
    return NewsletterIndexPageFactory(parent=home)


@pytest.fixture
def newsletter(newsletter_index):
    """The outlet's default newsletter: promoted on articles whose series has none."""
    return NewsletterPageFactory(
        parent=newsletter_index,
        title="The Weekly Steep",
        slug="weekly-steep",
        description="The week's analysis in one email.",
        sender_name="The Weekly Steep",
        sender_email="steep@outlet.example",
        reply_to="letters@outlet.example",
        promote_by_default=True,
    )


@pytest.fixture
def series_newsletter(newsletter_index):
    return NewsletterPageFactory(
        parent=newsletter_index,
        title="Coffee vs. Tea",
        slug="coffee-vs-tea",
        description="Two economies, two drinks, one rivalry.",
        sender_name="Coffee vs. Tea",
        sender_email="cvt@outlet.example",
        cadence="fortnightly",
    )


@pytest.fixture
def subscriber(newsletter):
    """A reader who confirmed their subscription to `newsletter`."""
    return SubscriptionFactory(
        newsletter=newsletter, subscriber__email="ada@example.com", subscriber__name="Ada"
    ).subscriber


@pytest.fixture
def superuser(db):
    return UserFactory(username="sam-superuser", is_superuser=True)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor_client(editor):
    return logged_in(editor)


@pytest.fixture
def writer_client(writer):
    return logged_in(writer)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the code deferred to the commit (emails, delivery tasks).

    Tests run inside a transaction that never commits, so without this nothing is sent.
    """

    @contextmanager
    def run():
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield callbacks

    return run


class Mailbox:
    """The locmem outbox, each message parsed back with the `email` package."""

    def __init__(self, outbox):
        self.outbox = outbox

    def __len__(self):
        return len(self.outbox)

    def parsed(self, index: int = -1) -> EmailMessage:
        raw = self.outbox[index].message().as_bytes()
        return email.message_from_bytes(raw, policy=policy.default)

    def all(self) -> list[EmailMessage]:
        return [self.parsed(index) for index in range(len(self.outbox))]

    def only(self) -> EmailMessage:
        assert len(self.outbox) == 1, f"expected one email, found {len(self.outbox)}"
        return self.parsed(0)

    def sent_to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.all() if address in message["To"]]


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_links(html: str) -> list[str]:
    return [a["href"] for a in BeautifulSoup(html, "html.parser").find_all("a", href=True)]


def text_links(text: str) -> list[str]:
    return URL_IN_TEXT.findall(text)


def local(url: str) -> str:
    """The path (and query) of one of the site's own absolute URLs, for the test client."""
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.hostname == "localhost", url
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def mailbox(mailoutbox):
    return Mailbox(mailoutbox)


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


@pytest.fixture
def signup(client, newsletter, committed):
    """Submit the newsletter page's own subscribe form, as a browser at `ip` would."""
    response = client.get(newsletter.url)
    (form,) = subscribe_forms(response.content.decode())
    fields = form_data(form)

    def submit(address: str, ip: str = "198.51.100.7", forwarded_for: str = "", **overrides):
        headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
        with committed():
            return client.post(
                form["action"],
                {**fields, "email": address, **overrides},
                REMOTE_ADDR=ip,
                **headers,
            )

    return submit


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


# The issue editor in the admin


def add_url(newsletter) -> str:
    return reverse("wagtailadmin_pages:add", args=["newsletters", "issuepage", newsletter.pk])


def edit_url(page) -> str:
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


def action_url(name: str, issue) -> str:
    return reverse(f"newsletters_admin:{name}", args=[issue.pk])


def issue_form(client, url: str, articles=None, **fields) -> dict:
    """The issue editor's form at `url` as a browser submits it, with `fields` filled in.

    `articles` replaces the issue's items with these (article or (article, blurb)), in order.
    """
    response = client.get(url)
    assert response.status_code == 200, f"GET {url} → {response.status_code}"
    data = querydict_from_html(response.content.decode(), form_id="page-edit-form")
    form = {key: value for key, value in data.lists() if "__prefix__" not in key}
    form = {key: value if len(value) > 1 else value[0] for key, value in form.items()}
    if articles is not None:
        form = {key: value for key, value in form.items() if not key.startswith("items-")}
        form.update({"items-INITIAL_FORMS": "0", "items-MIN_NUM_FORMS": "0"})
        form.update({"items-MAX_NUM_FORMS": "1000", "items-TOTAL_FORMS": str(len(articles))})
        for index, entry in enumerate(articles):
            article, blurb = entry if isinstance(entry, tuple) else (entry, "")
            form.update(
                {
                    f"items-{index}-article": str(article.pk),
                    f"items-{index}-blurb": blurb,
                    f"items-{index}-ORDER": str(index + 1),
                    f"items-{index}-id": "",
                    f"items-{index}-DELETE": "",
                }
            )
    form.update(fields)
    return form


def press(client, action: str, issue, *, follow: bool = False, **fields):
    """Press one of the Delivery panel's buttons (compile, send_test): like the browser, post
    the whole issue form, with `fields` changed, to the button's own URL."""
    form = issue_form(client, edit_url(issue), **fields)
    return client.post(action_url(action, issue), form, follow=follow)


def form_errors(response) -> str:
    if response.status_code != 200 or not response.context or "form" not in response.context:
        return ""
    form = response.context["form"]
    return f"{form.errors} {[f.errors for f in form.formsets.values()]}"


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def logged(issue, action: str) -> int:
    return PageLogEntry.objects.filter(page_id=issue.pk, action=action).count()


@pytest.fixture
def live_article(section):
    return ArticlePageFactory(parent=section, title="Why tariffs stick", date=timezone.now())


@pytest.fixture
def draft_article(section):
    return ArticlePageFactory(parent=section, title="Unfinished draft", live=False)


@pytest.fixture
def audience(newsletter, series_newsletter):
    """Two confirmed readers of `newsletter`, and three who must not get its issues."""
    confirmed = [SubscriptionFactory(newsletter=newsletter).subscriber for _ in range(2)]
    SubscriptionFactory(
        newsletter=newsletter, status=Subscription.Status.PENDING, confirmed_at=None
    )
    SubscriptionFactory(newsletter=newsletter, status=Subscription.Status.UNSUBSCRIBED)
    SubscriptionFactory(newsletter=series_newsletter)
    return confirmed


@pytest.fixture
def drafted(editor_client, newsletter, live_article):
    """An issue an editor created under the newsletter and saved as a draft."""
    form = issue_form(
        editor_client,
        add_url(newsletter),
        articles=[(live_article, "Why neither side can go first.")],
        title="Issue 12",
        slug="issue-12",
        subject="Tariffs, and why they stick",
        preheader="One story this week.",
        intro=rich_text("<p>Good morning.</p>"),
    )
    response = editor_client.post(add_url(newsletter), form)
    assert response.status_code == 302, form_errors(response)
    return IssuePage.objects.get(slug="issue-12")


def publish(client, issue, **fields):
    """Press Publish in the issue editor, then agree to the send on the page that asks."""
    asked = ask_to_publish(client, issue, **fields)
    confirmation = confirmation_form(asked)
    if confirmation is None:  # already sent: nothing to agree to
        return asked
    return client.post(confirmation["action"], form_data(confirmation), follow=True)


def ask_to_publish(client, issue, **fields):
    """Press Publish in the issue editor (without the editor's JavaScript dialog)."""
    form = issue_form(client, edit_url(issue), **{"action-publish": "publish", **fields})
    return client.post(edit_url(issue), form, follow=True)


def confirmation_form(response):
    """The form of the page that asks before an issue is sent, if that is what came back."""
    soup = BeautifulSoup(response.content, "html.parser")
    return soup.find("form", action=re.compile(r"/admin/newsletters/issues/\d+/publish/$"))


# CSV import in the admin

IMPORT_URL = reverse("newsletters_admin:import")


def csv_file(*lines: str, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile("subscribers.csv", "\n".join(lines).encode(encoding), "text/csv")


def run_import(client, newsletter, upload):
    return client.post(IMPORT_URL, {"newsletter": newsletter.pk, "file": upload}, follow=True)


def report(response) -> str:
    (message,) = [m for m in messages_of(response) if m.startswith("Import finished")]
    return message
