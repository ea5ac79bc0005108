"""What editors do in the Wagtail admin, through its real forms: log in, edit an issue, press
its Delivery panel's buttons, publish it and agree to the send, import subscribers from CSV."""

import re

from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from wagtail.models import PageLogEntry
from wagtail.test.utils.form_data import querydict_from_html

from tests.newsletters.forms import form_data


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# The issue editor


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


# CSV import

IMPORT_URL = reverse("newsletters_admin:import")


def csv_file(*lines: str, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile("subscribers.csv", "\n".join(lines).encode(encoding), "text/csv")


def run_import(client, newsletter, upload):
    return client.post(IMPORT_URL, {"newsletter": newsletter.pk, "file": upload}, follow=True)


def report(response) -> str:
    (message,) = [m for m in messages_of(response) if m.startswith("Import finished")]
    return message
