"""Editors' newsletter work through the real admin: create, preview, test, publish, watch."""

import csv
import io
import re

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageLogEntry

from newsletters.models import Delivery, IssuePage, IssueSend, Subscriber, Subscription
from tests.newsletters.editor import (
    action_url,
    add_url,
    ask_to_publish,
    confirmation_form,
    edit_url,
    form_errors,
    issue_form,
    logged,
    messages_of,
    press,
    publish,
)
from tests.newsletters.factories import IssuePageFactory, SubscriptionFactory
from tests.newsletters.forms import form_data, newsletter_state
from tests.newsletters.mail import html_part, local, text_part

pytestmark = pytest.mark.django_db

Status = Subscription.Status


# Creating an issue


def test_editor_creates_a_draft_issue_under_a_newsletter(drafted, newsletter, live_article, editor):
    assert not drafted.live
    assert drafted.get_parent().pk == newsletter.pk
    assert drafted.owner == editor
    revision = drafted.get_latest_revision_as_object()
    assert revision.subject == "Tariffs, and why they stick"
    assert [(item.article_id, item.blurb) for item in revision.items.all()] == [
        (live_article.pk, "Why neither side can go first.")
    ]


def test_saving_a_draft_sends_nothing(drafted, audience, mailbox):
    assert len(mailbox) == 0
    assert not IssueSend.objects.exists()


@pytest.fixture
def numbered(newsletter, series_newsletter):
    """Issues 1 to 3 of the weekly, one addressed by its title, and No. 7 of the other letter."""
    for number in (1, 2):
        IssuePageFactory(parent=newsletter, title=f"No. {number}", slug=f"no-{number}")
    IssuePageFactory(
        parent=newsletter,
        title="The Weekly Steep, No. 3",
        slug="the-weekly-steep-no-3",
        live=False,
        first_published_at=None,
    )
    IssuePageFactory(parent=series_newsletter, title="Coffee vs. Tea, No. 7", slug="no-7")
    return newsletter


def field_value(html: str, name: str) -> str:
    field = BeautifulSoup(html, "html.parser").find(attrs={"name": name})
    return field.get("value", "") if field.name == "input" else field.get_text()


def test_a_new_issue_starts_as_the_next_number(editor_client, numbered):
    html = editor_client.get(add_url(numbered)).content.decode()

    assert field_value(html, "title") == "The Weekly Steep, No. 4"
    assert field_value(html, "slug") == "no-4"


def test_the_title_of_an_issue_does_not_rewrite_its_slug(editor_client, numbered):
    html = editor_client.get(add_url(numbered)).content.decode()

    title = BeautifulSoup(html, "html.parser").find("input", attrs={"name": "title"})
    assert "w-sync" not in title.get("data-controller", "")


def test_the_first_issue_is_no_1(editor_client, newsletter):
    html = editor_client.get(add_url(newsletter)).content.decode()

    assert field_value(html, "title") == "The Weekly Steep, No. 1"
    assert field_value(html, "slug") == "no-1"


def test_saving_the_new_issue_keeps_the_numbered_address(editor_client, numbered):
    form = issue_form(editor_client, add_url(numbered), subject="Ports", title="Ports week")

    response = editor_client.post(add_url(numbered), form)

    assert response.status_code == 302, form_errors(response)
    issue = IssuePage.objects.get(title="Ports week")
    assert issue.slug == "no-4"
    assert issue.url == "/newsletters/weekly-steep/no-4/"


def test_an_emptied_slug_comes_back_as_the_number(editor_client, numbered):
    form = issue_form(editor_client, add_url(numbered), subject="Ports", slug="")

    response = editor_client.post(add_url(numbered), form)

    assert response.status_code == 302, form_errors(response)
    assert IssuePage.objects.get(title="The Weekly Steep, No. 4").slug == "no-4"


def test_each_article_of_an_issue_is_headed_by_its_title(
    editor_client, newsletter, live_article, section
):
    from tests.articles.factories import ArticlePageFactory

    other = ArticlePageFactory(parent=section, title="Chips, year two")
    issue = IssuePageFactory(parent=newsletter, items=[other, live_article])

    soup = BeautifulSoup(editor_client.get(edit_url(issue)).content, "html.parser")

    rows = soup.find(id="id_items-FORMS").find_all(attrs={"data-issue-item-title": True})
    assert [row.get_text(strip=True) for row in rows] == ["Chips, year two", "Why tariffs stick"]
    new_row = soup.find(id="id_items-EMPTY_FORM_TEMPLATE").find(
        attrs={"data-issue-item-title": True}
    )
    # Text inside <template> is a TemplateString, which get_text() leaves out.
    assert new_row.contents[0] == "Article", "a new row has no article to name yet"


def with_a_new_empty_row(form: dict) -> dict:
    """The form after "Add article", before an article is chosen: the row has its order only."""
    index = int(form["items-TOTAL_FORMS"])
    return {
        **form,
        "items-TOTAL_FORMS": str(index + 1),
        f"items-{index}-article": "",
        f"items-{index}-blurb": "",
        f"items-{index}-ORDER": str(index + 1),
        f"items-{index}-id": "",
        f"items-{index}-DELETE": "",
    }


def test_an_article_row_not_filled_in_yet_does_not_stop_autosave(editor_client, drafted):
    form = with_a_new_empty_row(issue_form(editor_client, edit_url(drafted), subject="Typing"))

    response = editor_client.post(edit_url(drafted), form, HTTP_ACCEPT="application/json")

    assert response.status_code == 200, response.content
    assert response.json()["success"] is True
    draft = IssuePage.objects.get(pk=drafted.pk).get_latest_revision_as_object()
    assert draft.subject == "Typing"
    assert [item.blurb for item in draft.items.all()] == ["Why neither side can go first."]


def test_an_empty_article_row_is_left_out_when_publishing(
    editor_client, drafted, audience, committed
):
    form = with_a_new_empty_row(issue_form(editor_client, edit_url(drafted)))

    with committed():
        editor_client.post(edit_url(drafted), {**form, "action-publish": "p", "confirm_send": "2"})

    assert IssuePage.objects.get(pk=drafted.pk).live
    assert IssuePage.objects.get(pk=drafted.pk).items.count() == 1


# Preview


def preview(client, issue, mode: str, **fields):
    """As Wagtail's preview panel does: POST the editor's form, then GET the mode."""
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[issue.pk])
    posted = client.post(url, issue_form(client, edit_url(issue), **fields))
    assert posted.json() == {"is_valid": True, "is_available": True}
    return client.get(url, {"mode": mode, "in_preview_panel": "true"})


def csp_directives(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("mode", ["", "email-html", "email-text"])
def test_every_preview_mode_may_be_framed_by_the_admin_alone(editor_client, drafted, mode):
    response = preview(editor_client, drafted, mode)

    assert csp_directives(response)["frame-ancestors"] == ["'self'"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_only_the_html_email_preview_allows_inline_styles(editor_client, drafted):
    email = csp_directives(preview(editor_client, drafted, "email-html"))
    web = csp_directives(preview(editor_client, drafted, ""))

    assert email["style-src"] == ["'self'", "'unsafe-inline'"]
    assert email["script-src"] == ["'self'"]
    assert web["style-src"] == ["'self'"]


def test_web_preview_shows_the_unsaved_subject(editor_client, drafted):
    response = preview(editor_client, drafted, "", subject="A subject not saved yet")

    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("h1").get_text() == "A subject not saved yet"
    assert "Why tariffs stick" in soup.get_text()


def test_html_email_preview_is_the_inlined_email(editor_client, drafted):
    response = preview(editor_client, drafted, "email-html", subject="A subject not saved yet")

    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("td", class_="title").get_text() == "A subject not saved yet"
    assert "font-size: 28px" in soup.find("td", class_="title")["style"]
    assert "Why neither side can go first." in soup.get_text()


def test_text_email_preview_is_plain_text(editor_client, drafted):
    response = preview(editor_client, drafted, "email-text", subject="A subject not saved yet")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "A subject not saved yet" in text
    assert "Why neither side can go first." in text
    assert "<" not in text.replace("<http", "")


# Send test


def test_send_test_mails_the_editor_with_a_test_prefix_and_records_no_delivery(
    editor_client, drafted, audience, mailbox, editor
):
    response = press(editor_client, "send_test", drafted, follow=True)

    message = mailbox.only()
    assert message["To"] == editor.email
    assert message["Subject"] == "[TEST] Tariffs, and why they stick"
    assert "Why neither side can go first." in text_part(message)
    assert f"Saved your changes and sent a test of them to {editor.email}" in " ".join(
        messages_of(response)
    )
    assert not Delivery.objects.exists()
    assert not IssueSend.objects.exists()
    assert logged(drafted, "newsletters.send_test") == 1


def test_send_test_mails_what_the_editor_sees_and_saves_it_first(
    editor_client, drafted, live_article, mailbox
):
    response = press(
        editor_client,
        "send_test",
        drafted,
        follow=True,
        subject="Typed, not saved",
        **{"items-0-blurb": "A blurb typed just now."},
    )

    message = mailbox.only()
    assert message["Subject"] == "[TEST] Typed, not saved"
    assert "A blurb typed just now." in text_part(message)
    assert "A blurb typed just now." in html_part(message)
    draft = IssuePage.objects.get(pk=drafted.pk).get_latest_revision_as_object()
    assert (draft.subject, draft.items.get().blurb) == (
        "Typed, not saved",
        "A blurb typed just now.",
    )
    said = " ".join(messages_of(response))
    assert "Saved your changes and sent a test of them" in said
    assert response.redirect_chain[-1][0] == edit_url(drafted)


def test_a_test_of_a_form_with_errors_sends_nothing_and_keeps_what_was_typed(
    editor_client, drafted, mailbox
):
    before = IssuePage.objects.get(pk=drafted.pk).latest_revision_id

    response = press(editor_client, "send_test", drafted, title="", preheader="Kept as typed")

    assert response.status_code == 200
    assert len(mailbox) == 0
    assert IssuePage.objects.get(pk=drafted.pk).latest_revision_id == before
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("input", attrs={"name": "preheader"})["value"] == "Kept as typed"
    assert "No test was sent: correct the errors below first." in messages_of(response)


def test_compile_keeps_what_the_editor_typed_before_pressing_it(
    editor_client, drafted, live_article, section
):
    from tests.articles.factories import ArticlePageFactory

    ArticlePageFactory(parent=section, title="Published this morning", date=timezone.now())

    response = press(
        editor_client,
        "compile",
        drafted,
        follow=True,
        subject="Typed, not saved",
        **{"items-0-blurb": "A blurb typed just now."},
    )

    draft = IssuePage.objects.get(pk=drafted.pk).get_latest_revision_as_object()
    assert draft.subject == "Typed, not saved"
    items = list(draft.items.all())
    assert (items[0].article_id, items[0].blurb) == (live_article.pk, "A blurb typed just now.")
    assert [item.article.title for item in items[1:]] == ["Published this morning"]
    assert "Saved your changes and added 1 article" in " ".join(messages_of(response))


def test_send_test_is_the_exact_email_subscribers_get(
    editor_client, drafted, audience, mailbox, committed
):
    with committed():
        publish(editor_client, drafted)
    delivered = mailbox.sent_to(audience[0].email)[0]

    press(editor_client, "send_test", drafted)
    test = mailbox.parsed()

    assert test["Subject"] == f"[TEST] {delivered['Subject']}"
    for header in ("From", "Reply-To", "List-Id", "List-Unsubscribe-Post"):
        assert test[header] == delivered[header], header
    tokens = re.compile(r"/subscriptions/(unsubscribe|preferences)/[^/\s\"]+/")
    for part in (html_part, text_part):
        assert tokens.sub(r"/\1/", part(test)) == tokens.sub(r"/\1/", part(delivered))


def test_links_in_a_test_email_unsubscribe_nobody(
    client, editor_client, drafted, audience, mailbox
):
    press(editor_client, "send_test", drafted)
    header = str(mailbox.only()["List-Unsubscribe"]).strip().strip("<>")
    before = newsletter_state()

    response = client.post(local(header))

    assert response.status_code == 400
    assert newsletter_state() == before


def test_send_test_asks_for_an_address_when_the_editor_has_none(
    editor_client, drafted, editor, mailbox
):
    editor.email = ""
    editor.save()

    response = press(editor_client, "send_test", drafted, follow=True)

    assert "Add an email address to your account" in " ".join(messages_of(response))
    assert len(mailbox) == 0


# Publishing: refused with a dead link, sends once, never again


def test_publishing_an_issue_that_links_a_draft_article_is_refused(
    editor_client, newsletter, draft_article, live_article, audience, mailbox, committed
):
    issue = IssuePageFactory(parent=newsletter, live=False, first_published_at=None)

    form = issue_form(
        editor_client,
        edit_url(issue),
        articles=[live_article, draft_article],
        **{"action-publish": "publish"},
    )
    with committed():
        response = editor_client.post(edit_url(issue), form)

    assert response.status_code == 200
    assert "This issue links articles that are not published: “Unfinished draft”" in (
        response.content.decode()
    )
    issue.refresh_from_db()
    assert not issue.live
    assert not IssueSend.objects.filter(issue=issue).exists()
    assert len(mailbox) == 0


def test_the_same_issue_can_be_saved_as_a_draft(editor_client, newsletter, draft_article):
    issue = IssuePageFactory(parent=newsletter, live=False, first_published_at=None)
    form = issue_form(editor_client, edit_url(issue), articles=[draft_article])

    response = editor_client.post(edit_url(issue), form)

    assert response.status_code == 302, form_errors(response)
    revision = IssuePage.objects.get(pk=issue.pk).get_latest_revision_as_object()
    assert [item.article_id for item in revision.items.all()] == [draft_article.pk]


def test_publishing_sends_to_each_confirmed_reader_once(
    editor_client, drafted, audience, mailbox, committed, editor
):
    with committed():
        response = publish(editor_client, drafted)

    assert response.status_code == 200
    assert sorted(message["To"] for message in mailbox.all()) == sorted(r.email for r in audience)
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert IssueSend.objects.get(issue=drafted).state == IssueSend.State.SENT
    entry = PageLogEntry.objects.get(page_id=drafted.pk, action="newsletters.send")
    assert entry.user == editor
    assert entry.data["recipients"] == 2


def test_publishing_again_after_a_typo_fix_sends_nothing_more(
    editor_client, drafted, audience, mailbox, committed
):
    with committed():
        publish(editor_client, drafted)
    sent = len(mailbox)

    with committed():
        response = publish(editor_client, drafted, subject="Tariffs, and why they stick (fixed)")

    assert response.status_code == 200
    assert IssuePage.objects.get(pk=drafted.pk).subject == "Tariffs, and why they stick (fixed)"
    assert len(mailbox) == sent == 2
    assert Delivery.objects.count() == 2
    assert logged(drafted, "newsletters.send") == 1


def test_a_reader_who_confirms_after_publication_is_not_added(
    editor_client, drafted, audience, newsletter, mailbox, committed
):
    with committed():
        publish(editor_client, drafted)
    late = SubscriptionFactory(newsletter=newsletter).subscriber

    with committed():
        publish(editor_client, drafted, subject="Fixed")

    assert not Delivery.objects.filter(subscriber=late).exists()
    assert mailbox.sent_to(late.email) == []


# Publishing says first whom the issue goes to, and sends nothing unless the editor agrees


@pytest.fixture
def suppressed_reader(newsletter):
    """Confirmed, but bounced since: not one of the recipients an editor is told about."""
    from newsletters.models import Suppression

    reader = SubscriptionFactory(newsletter=newsletter).subscriber
    Suppression.add(reader.email, Suppression.Reason.BOUNCED)
    return reader


def test_publish_asks_first_with_the_number_of_recipients_and_sends_nothing(
    editor_client, drafted, audience, suppressed_reader, mailbox, committed
):
    with committed():
        asked = ask_to_publish(editor_client, drafted, subject="Tariffs, final")

    soup = BeautifulSoup(asked.content, "html.parser")
    assert "Send “Issue 12” to 2 confirmed subscribers of The Weekly Steep now?" in soup.get_text()
    assert confirmation_form(asked).find("button").get_text(strip=True) == ("Publish and send to 2")
    assert len(mailbox) == 0
    assert not IssueSend.objects.exists()
    issue = IssuePage.objects.get(pk=drafted.pk)
    assert not issue.live
    assert issue.get_latest_revision_as_object().subject == "Tariffs, final", "kept as a draft"


def test_cancelling_goes_back_to_the_issue_and_sends_nothing(
    editor_client, drafted, audience, mailbox, committed
):
    with committed():
        asked = ask_to_publish(editor_client, drafted)
        cancel = BeautifulSoup(asked.content, "html.parser").find("a", string=re.compile("Cancel"))
        back = editor_client.get(cancel["href"])

    assert cancel["href"] == edit_url(drafted)
    assert back.status_code == 200
    assert len(mailbox) == 0
    assert not Delivery.objects.exists()
    assert not IssuePage.objects.get(pk=drafted.pk).live


def test_agreeing_sends_to_the_number_shown(
    editor_client, drafted, audience, suppressed_reader, mailbox, committed
):
    with committed():
        asked = ask_to_publish(editor_client, drafted)
        form = confirmation_form(asked)
        response = editor_client.post(form["action"], form_data(form), follow=True)

    assert sorted(m["To"] for m in mailbox.all()) == sorted(r.email for r in audience)
    assert IssueSend.objects.get(issue=drafted).recipients == 2
    assert IssuePage.objects.get(pk=drafted.pk).live
    said = messages_of(response)
    assert "Page 'Issue 12' has been published." in said
    assert "Emailing it to 2 confirmed subscribers: follow it in the Delivery panel." in said


def test_if_the_audience_changed_meanwhile_it_asks_again(
    editor_client, drafted, audience, newsletter, mailbox, committed
):
    with committed():
        form = confirmation_form(ask_to_publish(editor_client, drafted))
        SubscriptionFactory(newsletter=newsletter)
        again = editor_client.post(form["action"], form_data(form))

    assert len(mailbox) == 0
    assert "to 3 confirmed subscribers" in BeautifulSoup(again.content, "html.parser").get_text()
    assert not IssuePage.objects.get(pk=drafted.pk).live


def test_an_issue_saved_again_meanwhile_is_not_published_from_the_old_question(
    editor_client, drafted, audience, mailbox, committed
):
    with committed():
        form = confirmation_form(ask_to_publish(editor_client, drafted))
        editor_client.post(edit_url(drafted), issue_form(editor_client, edit_url(drafted)))
        response = editor_client.post(form["action"], form_data(form), follow=True)

    assert len(mailbox) == 0
    assert not IssuePage.objects.get(pk=drafted.pk).live
    assert "The issue was saved again since: check it, then publish." in messages_of(response)


def test_the_editors_dialog_sends_its_agreement_with_the_form(
    editor_client, drafted, audience, mailbox, committed
):
    form = issue_form(editor_client, edit_url(drafted), **{"action-publish": "publish"})

    with committed():
        editor_client.post(edit_url(drafted), {**form, "confirm_send": "2"})

    assert len(mailbox) == 2
    assert IssuePage.objects.get(pk=drafted.pk).live


def test_scheduling_says_when_and_sends_at_that_time_only(
    editor_client, drafted, audience, mailbox, committed, time_machine
):
    from django.core.management import call_command

    time_machine.move_to("2026-12-01 08:00:00+00:00", tick=False)
    with committed():
        asked = ask_to_publish(editor_client, drafted, go_live_at="2026-12-02 09:00")
    text = BeautifulSoup(asked.content, "html.parser").get_text()
    assert (
        "Send “Issue 12” to 2 confirmed subscribers of The Weekly Steep "
        "at 2 December 2026 at 09:00?" in text
    )

    with committed():
        form = confirmation_form(asked)
        response = editor_client.post(form["action"], form_data(form), follow=True)
    assert len(mailbox) == 0
    assert not IssuePage.objects.get(pk=drafted.pk).live
    assert (
        "It will be emailed at 2 December 2026 at 09:00 to the confirmed subscribers of "
        "The Weekly Steep at that moment (2 today)." in messages_of(response)
    )

    time_machine.move_to("2026-12-02 09:00:30+00:00", tick=False)
    with committed():
        call_command("publish_scheduled")
    assert sorted(m["To"] for m in mailbox.all()) == sorted(r.email for r in audience)


def test_republishing_a_sent_issue_asks_nothing_and_says_only_the_web_copy_changed(
    editor_client, drafted, audience, mailbox, committed
):
    with committed():
        publish(editor_client, drafted)
        response = ask_to_publish(editor_client, drafted, subject="Fixed typo")

    assert confirmation_form(response) is None
    said = " ".join(messages_of(response))
    assert "Only the web copy was updated. It was emailed on " in said
    assert "nothing is sent again" in said
    assert IssuePage.objects.get(pk=drafted.pk).subject == "Fixed typo"
    assert len(mailbox) == 2


def publish_button(client, url: str):
    soup = BeautifulSoup(client.get(url).content, "html.parser")
    return soup.find("button", attrs={"name": "action-publish"}), soup


def test_an_unsent_issues_publish_button_says_it_sends_and_to_how_many(
    editor_client, drafted, newsletter, audience, suppressed_reader
):
    for url in (edit_url(drafted), add_url(newsletter)):
        button, soup = publish_button(editor_client, url)
        assert button.get_text(" ", strip=True) == "Publish and send"
        assert button["data-issue-send-recipients"] == "2"
        assert button["data-issue-send-audience"] == "2 confirmed subscribers of The Weekly Steep"
        assert soup.find(id="issue-send-dialog") is not None
        assert soup.find("button", attrs={"name": "action-submit"}) is None, "no workflow"


def test_a_sent_issues_publish_button_says_it_updates_the_web_copy(
    editor_client, drafted, audience, committed
):
    with committed():
        publish(editor_client, drafted)

    button, soup = publish_button(editor_client, edit_url(drafted))

    assert button.get_text(" ", strip=True) == "Publish the web copy"
    assert not button.has_attr("data-issue-send-dialog")
    assert soup.find(id="issue-send-dialog") is None


def bulk_publish(client, *pages, include_descendants=False):
    url = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "publish"])
    query = "&".join(f"id={page.pk}" for page in pages)
    data = {"include_descendants": "on"} if include_descendants else {}
    return client.post(f"{url}?{query}&next=/admin/pages/", data, follow=True)


def test_bulk_publishing_leaves_an_unsent_issue_alone(
    editor_client, drafted, newsletter, audience, mailbox, committed
):
    newsletter.unpublish()

    with committed():
        one = bulk_publish(editor_client, drafted)
        under = bulk_publish(editor_client, newsletter, include_descendants=True)

    assert len(mailbox) == 0
    assert not IssuePage.objects.get(pk=drafted.pk).live
    assert not newsletter.__class__.objects.get(pk=newsletter.pk).live
    for response in (one, under):
        said = " ".join(messages_of(response))
        assert "Nothing was published: “Issue 12” would be emailed to subscribers." in said


def test_bulk_publishing_other_pages_still_works(editor_client, draft_article):
    response = bulk_publish(editor_client, draft_article)

    assert response.status_code == 200
    assert draft_article.__class__.objects.get(pk=draft_article.pk).live


# Delivery view and retrying what failed


@pytest.fixture
def sent_with_failures(editor_client, drafted, audience, committed):
    with committed():
        publish(editor_client, drafted)
    Delivery.objects.filter(subscriber=audience[0]).update(
        status=Delivery.Status.FAILED, attempts=5, last_error="451 try again later"
    )
    return drafted


def test_delivery_view_shows_counts_and_failures(editor_client, sent_with_failures, audience):
    response = editor_client.get(action_url("delivery", sent_with_failures))

    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    counts = {dd["data-count"]: int(dd.get_text()) for dd in soup.select("dd[data-count]")}
    assert counts["recipients"] == 2
    assert counts["sent"] == 1
    assert counts["failed"] == 1
    assert audience[0].email in soup.get_text()
    assert "451 try again later" in soup.get_text()


def test_retry_failed_sends_the_failed_ones_again(
    editor_client, sent_with_failures, audience, mailbox, committed
):
    mailbox.outbox.clear()

    with committed():
        response = editor_client.post(action_url("retry", sent_with_failures), follow=True)

    assert "Retrying 1 failed delivery." in messages_of(response)
    assert [message["To"] for message in mailbox.all()] == [audience[0].email]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert IssueSend.objects.get(issue=sent_with_failures).state == IssueSend.State.SENT
    assert logged(sent_with_failures, "newsletters.retry") == 1


@pytest.fixture
def paused(editor_client, drafted, audience, committed):
    """An issue whose run paused itself after its first reader, the second still waiting."""
    with committed():
        publish(editor_client, drafted)
    Delivery.objects.filter(subscriber=audience[1]).update(status=Delivery.Status.PENDING)
    IssueSend.objects.filter(issue=drafted).update(
        state=IssueSend.State.PAUSED, pause_reason="1 of 1 messages bounced (100.0%)."
    )
    return drafted


def test_the_delivery_page_says_why_a_run_paused_and_offers_to_resume_it(editor_client, paused):
    soup = BeautifulSoup(editor_client.get(action_url("delivery", paused)).content, "html.parser")

    reason = soup.select_one("[data-pause-reason]").get_text()
    assert "Sending is paused: 1 of 1 messages bounced (100.0%)." in reason
    resume = soup.find("form", action=action_url("resume", paused))
    assert "Resume sending to the 1 waiting" in resume.get_text()


def test_resuming_sends_the_rest_once_and_is_logged(
    editor_client, paused, audience, mailbox, committed
):
    mailbox.outbox.clear()

    with committed():
        response = editor_client.post(action_url("resume", paused), follow=True)

    assert "Sending resumed." in messages_of(response)
    assert [message["To"] for message in mailbox.all()] == [audience[1].email]
    send = IssueSend.objects.get(issue=paused)
    assert (send.state, send.pause_reason) == (IssueSend.State.SENT, "")
    assert logged(paused, "newsletters.resume") == 1


def test_retrying_failures_of_a_paused_run_keeps_it_paused(editor_client, paused, audience):
    Delivery.objects.filter(subscriber=audience[0]).update(status=Delivery.Status.FAILED)

    editor_client.post(action_url("retry", paused))

    assert IssueSend.objects.get(issue=paused).state == IssueSend.State.PAUSED


def test_writers_cannot_resume_a_run(writer_client, paused):
    writer_client.post(action_url("resume", paused))

    assert IssueSend.objects.get(issue=paused).state == IssueSend.State.PAUSED


def test_the_issue_editor_links_to_its_delivery_for_editors(editor_client, drafted):
    response = editor_client.get(edit_url(drafted))

    assert action_url("delivery", drafted) in response.content.decode()


def test_editors_group_comes_from_the_migrations():
    editors = Group.objects.get(name="Editors")
    codenames = set(editors.permissions.values_list("codename", flat=True))

    assert {"change_subscriber", "view_delivery", "add_subscriber"} <= codenames


# Subscribers and deliveries as viewsets: search, filters, CSV export


@pytest.fixture
def directory(newsletter, series_newsletter):
    """Five subscribers, their subscriptions spread over both newsletters."""
    ada = SubscriptionFactory(
        newsletter=newsletter, subscriber__email="ada@example.com", subscriber__name="Ada Lovelace"
    ).subscriber
    SubscriptionFactory(newsletter=series_newsletter, subscriber=ada)
    grace = SubscriptionFactory(
        newsletter=series_newsletter,
        subscriber__email="grace@example.com",
        subscriber__name="Grace Hopper",
    ).subscriber
    SubscriptionFactory(newsletter=newsletter, subscriber=grace, status=Status.UNSUBSCRIBED)
    SubscriptionFactory(
        newsletter=newsletter,
        subscriber__email="bounced@example.com",
        subscriber__status="bounced",
    )
    linus = SubscriptionFactory(
        newsletter=series_newsletter, subscriber__email="linus@example.com"
    ).subscriber
    SubscriptionFactory(newsletter=newsletter, subscriber=linus, status=Status.UNSUBSCRIBED)
    SubscriptionFactory(
        newsletter=newsletter, subscriber__email="ben@example.com", status=Status.ACTIVE
    ).subscriber.subscriptions.create(newsletter=series_newsletter, status=Status.UNSUBSCRIBED)
    return {"ada": ada, "grace": grace}


def export_rows(client, url: str, **params) -> list[dict]:
    response = client.get(url, {**params, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        "subscribers.csv" in response["Content-Disposition"]
        or "deliveries.csv" in (response["Content-Disposition"])
    )
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def exported_emails(client, **params) -> list[str]:
    return sorted(row["Email"] for row in export_rows(client, SUBSCRIBERS, **params))


SUBSCRIBERS = reverse("subscribers:index")


def test_subscribers_export_as_csv_with_their_consent_record(editor_client, directory):
    rows = export_rows(editor_client, SUBSCRIBERS)

    assert sorted(row["Email"] for row in rows) == [
        "ada@example.com",
        "ben@example.com",
        "bounced@example.com",
        "grace@example.com",
        "linus@example.com",
    ]
    ada = next(row for row in rows if row["Email"] == "ada@example.com")
    assert ada["Name"] == "Ada Lovelace"
    assert ada["Consent source"] == "/newsletters/"
    assert ada["Consent at"]


def test_subscriber_search_finds_by_address_and_name(editor_client, directory):
    assert exported_emails(editor_client, q="grace@") == ["grace@example.com"]
    assert exported_emails(editor_client, q="Lovelace") == ["ada@example.com"]

    listing = editor_client.get(SUBSCRIBERS, {"q": "Lovelace"}).content.decode()
    assert "ada@example.com" in listing
    assert "grace@example.com" not in listing


def test_subscriber_filters_narrow_the_list(editor_client, directory, newsletter):
    assert exported_emails(editor_client, status="bounced") == ["bounced@example.com"]
    assert exported_emails(editor_client, subscriptions__newsletter=newsletter.pk) == [
        "ada@example.com",
        "ben@example.com",
        "bounced@example.com",
        "grace@example.com",
        "linus@example.com",
    ]


def test_a_subscriber_with_two_matching_subscriptions_is_listed_once(editor_client, directory):
    assert exported_emails(editor_client, subscriptions__status="active") == [
        "ada@example.com",
        "ben@example.com",
        "bounced@example.com",
        "grace@example.com",
        "linus@example.com",
    ]
    listing = editor_client.get(SUBSCRIBERS, {"subscriptions__status": "active"})
    rows = BeautifulSoup(listing.content, "html.parser").select("tbody tr")
    assert [row.get_text() for row in rows if "ada@example.com" in row.get_text()] != []
    assert len([row for row in rows if "ada@example.com" in row.get_text()]) == 1


def listed_rows(client, **params) -> dict[str, dict[str, str]]:
    """The subscriber list as an editor reads it: per address, each column's text."""
    soup = BeautifulSoup(client.get(SUBSCRIBERS, params).content, "html.parser")
    headings = [th.get_text(" ", strip=True) for th in soup.select("thead th")]
    rows = {}
    for tr in soup.select("tbody tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        row = dict(zip(headings, cells, strict=False))
        rows[row["Email"].split()[0]] = row  # the address, before its Edit and Inspect links
    return rows


def test_the_subscriber_list_says_where_each_reader_stands_with_each_newsletter(
    editor_client, directory, newsletter, series_newsletter
):
    SubscriptionFactory(
        newsletter=series_newsletter,
        subscriber__email="new@example.com",
        status=Status.PENDING,
        confirmed_at=None,
    )
    SubscriptionFactory(
        newsletter=newsletter, subscriber=Subscriber.objects.get(email="new@example.com")
    )

    rows = listed_rows(editor_client)

    assert rows["new@example.com"]["Newsletters"] == (
        "Coffee vs. Tea: awaiting confirmation · The Weekly Steep: confirmed"
    )
    assert rows["grace@example.com"]["Newsletters"] == (
        "Coffee vs. Tea: confirmed · The Weekly Steep: unsubscribed"
    )
    assert rows["bounced@example.com"]["Address"] == "Bounced"


def test_a_reader_awaiting_confirmation_does_not_read_as_active(editor_client, newsletter):
    SubscriptionFactory(
        newsletter=newsletter,
        subscriber__email="pending@example.com",
        status=Status.PENDING,
        confirmed_at=None,
    )

    (row,) = listed_rows(editor_client).values()

    assert row["Newsletters"] == "The Weekly Steep: awaiting confirmation"
    assert row["Address"] == "Deliverable"
    assert "Active" not in " ".join(row.values())


def test_the_subscriber_list_costs_the_same_queries_for_one_reader_or_twenty(
    editor_client, newsletter, series_newsletter, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    SubscriptionFactory(newsletter=newsletter)
    with CaptureQueriesContext(connection) as one:
        editor_client.get(SUBSCRIBERS)
    for _ in range(19):
        reader = SubscriptionFactory(newsletter=newsletter).subscriber
        SubscriptionFactory(newsletter=series_newsletter, subscriber=reader)

    with django_assert_max_num_queries(len(one)):
        editor_client.get(SUBSCRIBERS)


def test_newsletter_and_status_filters_apply_to_the_same_subscription(
    editor_client, directory, newsletter
):
    # "Who left the weekly?" Grace and Linus. Ben left the other one and still reads the weekly.
    assert exported_emails(
        editor_client, subscriptions__newsletter=newsletter.pk, subscriptions__status="unsubscribed"
    ) == ["grace@example.com", "linus@example.com"]


def test_deliveries_list_filters_by_issue_and_exports(editor_client, newsletter, directory):
    sent = IssuePageFactory(parent=newsletter, subject="Sent issue")
    other = IssuePageFactory(parent=newsletter, subject="Other issue")
    Delivery.objects.create(issue=sent, subscriber=directory["ada"], status="sent")
    Delivery.objects.create(issue=sent, subscriber=directory["grace"], status="failed")
    Delivery.objects.create(issue=other, subscriber=directory["ada"], status="pending")

    rows = export_rows(editor_client, reverse("deliveries:index"), issue=sent.pk)

    assert sorted((row["Subscriber"], row["Status"]) for row in rows) == [
        ("ada@example.com", "sent"),
        ("grace@example.com", "failed"),
    ]
    failed = export_rows(editor_client, reverse("deliveries:index"), status="failed")
    assert [row["Subscriber"] for row in failed] == ["grace@example.com"]


def test_nobody_adds_a_delivery_by_hand(client, superuser):
    client.force_login(superuser)

    response = client.get(reverse("deliveries:index"))

    assert reverse("deliveries:add") not in response.content.decode()
    assert client.post(reverse("deliveries:add"), {"status": "sent"}).status_code == 302
    assert not Delivery.objects.exists()
