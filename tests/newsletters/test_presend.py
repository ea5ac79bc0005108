"""Pre-send checks through the real admin: errors refuse publishing with a clear message,
warnings need "send anyway", and the Delivery panel shows both before anyone presses Publish."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from bs4 import BeautifulSoup
from wagtail.test.utils.form_data import rich_text

from newsletters.models import IssuePage, IssueSend
from tests.articles.factories import ArticlePageFactory, ImageFactory
from tests.articles.test_preview import preview_of_edit
from tests.newsletters.editor import (
    ask_to_publish,
    confirmation_form,
    edit_url,
    issue_form,
    messages_of,
)
from tests.newsletters.forms import form_data

pytestmark = pytest.mark.django_db


def refused(response) -> str:
    """The editor's error message after a refused publish (Wagtail's own messages aside)."""
    errors = [m for m in messages_of(response) if m.startswith("Not published")]
    assert len(errors) == 1, messages_of(response)
    return errors[0]


def panel_problems(client, issue) -> dict[str, list[str]]:
    """What the Delivery panel lists under "Pre-send checks": errors and warnings."""
    soup = BeautifulSoup(client.get(edit_url(issue)).content, "html.parser")
    report = soup.select_one("[data-presend-report]")
    assert report is not None, "no pre-send checks in the Delivery panel"
    return {
        kind: [li.get_text(" ", strip=True) for li in report.select(f".presend__list--{kind} li")]
        for kind in ("error", "warning")
    }


def press_publish(client, issue, articles):
    """Press Publish in the issue editor with these articles in the issue."""
    form = issue_form(client, edit_url(issue), articles=articles, **{"action-publish": "publish"})
    return client.post(edit_url(issue), form, follow=True)


def assert_nothing_sent(issue, mailbox):
    assert not IssuePage.objects.get(pk=issue.pk).live
    assert not IssueSend.objects.filter(issue_id=issue.pk).exists()
    assert len(mailbox) == 0


def test_a_clean_issue_has_no_problems_in_its_delivery_panel(editor_client, drafted):
    assert panel_problems(editor_client, drafted) == {"error": [], "warning": []}
    page = editor_client.get(edit_url(drafted)).content.decode()
    assert "No problems found" in page


# A dead internal link


def test_an_issue_linking_a_draft_page_is_refused_with_what_to_fix(
    editor_client, drafted, draft_article, audience, mailbox, committed
):
    intro = f'<p>Read <a linktype="page" id="{draft_article.pk}">the draft</a> first.</p>'

    with committed():
        response = ask_to_publish(editor_client, drafted, intro=rich_text(intro))

    message = refused(response)
    assert "The email links “Unfinished draft”, which readers cannot open." in message
    assert_nothing_sent(drafted, mailbox)
    # The draft was kept, and its panel says the same before anyone presses Publish again.
    saved = IssuePage.objects.get(pk=drafted.pk).get_latest_revision_as_object()
    assert f'id="{draft_article.pk}"' in saved.intro
    assert panel_problems(editor_client, drafted)["error"] == [
        "The email links “Unfinished draft”, which readers cannot open."
    ]


def test_an_absolute_link_to_a_page_readers_cannot_open_is_refused(
    editor_client, drafted, draft_article, audience, mailbox, committed
):
    url = f"http://localhost{draft_article.url}"
    intro = rich_text(f'<p>See <a href="{url}">this</a>.</p>')

    with committed():
        response = ask_to_publish(editor_client, drafted, intro=intro)

    assert f"The email links {url}, which does not open." in refused(response)
    assert_nothing_sent(drafted, mailbox)


def test_a_link_to_a_live_page_passes(editor_client, drafted, live_article, audience):
    intro = rich_text(f'<p>See <a linktype="page" id="{live_article.pk}">this</a>.</p>')

    response = ask_to_publish(editor_client, drafted, intro=intro)

    assert confirmation_form(response) is not None  # on to the count question, no refusal
    assert not [m for m in messages_of(response) if m.startswith("Not published")]


# An image without alt text


@pytest.fixture
def pictured_article(section):
    image = ImageFactory(title="IMG_2041.jpg", description="")
    return ArticlePageFactory(parent=section, title="Ports at night", hero_image=image)


def test_an_article_picture_without_alt_text_is_refused(
    editor_client, drafted, pictured_article, audience, mailbox, committed
):
    with committed():
        response = press_publish(editor_client, drafted, articles=[pictured_article])

    assert (
        "The picture in “Ports at night” has no alt text (only “IMG_2041.jpg”, a file name). "
        "Describe the image “IMG_2041.jpg” in its Description field."
    ) in refused(response)
    assert_nothing_sent(drafted, mailbox)


def test_describing_the_picture_lets_the_issue_go(
    editor_client, drafted, pictured_article, audience, mailbox, committed
):
    pictured_article.hero_image.description = "Cranes over the container port of Ningbo"
    pictured_article.hero_image.save()

    confirmation = confirmation_form(
        press_publish(editor_client, drafted, articles=[pictured_article])
    )
    with committed():
        editor_client.post(confirmation["action"], form_data(confirmation), follow=True)

    assert IssuePage.objects.get(pk=drafted.pk).live
    assert len(mailbox) == 2
    assert 'alt="Cranes over the container port of Ningbo"' in mailbox.outbox[0].alternatives[0][0]


# Placeholders


def test_a_tk_in_a_blurb_is_refused_and_named(
    editor_client, drafted, live_article, audience, mailbox, committed
):
    articles = [(live_article, "Why neither side can go first. TK: the Geneva numbers.")]

    with committed():
        response = press_publish(editor_client, drafted, articles=articles)

    assert "Placeholder “TK” left in the blurb of “Why tariffs stick”." in refused(response)
    assert_nothing_sent(drafted, mailbox)


@pytest.mark.parametrize(
    "field,value,found",
    [
        ("subject", "XXX headline here", "Placeholder “XXX” left in the subject."),
        ("preheader", "Lorem ipsum dolor", "Placeholder “Lorem” left in the preheader."),
    ],
)
def test_other_placeholders_are_refused(
    editor_client, drafted, audience, mailbox, field, value, found
):
    response = ask_to_publish(editor_client, drafted, **{field: value})

    assert found in refused(response)
    assert_nothing_sent(drafted, mailbox)


def test_a_word_that_only_contains_tk_is_not_a_placeholder(editor_client, drafted, audience):
    response = ask_to_publish(editor_client, drafted, preheader="A TKO for the tariff hawks.")

    assert confirmation_form(response) is not None
    assert not [m for m in messages_of(response) if m.startswith("Not published")]


def test_an_empty_blurb_where_the_article_has_no_summary_is_refused(
    editor_client, drafted, section, audience, mailbox
):
    bare = ArticlePageFactory(parent=section, title="No summary", summary="", dek="")

    response = press_publish(editor_client, drafted, articles=[bare])

    assert "“No summary” has no blurb, and the article has no summary or standfirst" in (
        refused(response)
    )
    assert_nothing_sent(drafted, mailbox)


def test_an_empty_blurb_is_fine_when_the_article_has_a_summary(
    editor_client, drafted, live_article, audience
):
    response = press_publish(editor_client, drafted, articles=[live_article])

    assert confirmation_form(response) is not None


def test_a_draft_with_errors_can_still_be_saved(editor_client, drafted):
    form = issue_form(editor_client, edit_url(drafted), subject="TK subject")

    response = editor_client.post(edit_url(drafted), form)

    assert response.status_code == 302
    assert IssuePage.objects.get(pk=drafted.pk).get_latest_revision_as_object().subject == (
        "TK subject"
    )
    assert panel_problems(editor_client, drafted)["error"] == [
        "Placeholder “TK” left in the subject."
    ]


# Warnings: an oversized body, a long subject, no preheader; "send anyway"


@pytest.fixture
def oversized(editor_client, drafted, live_article):
    """The drafted issue with a blurb long enough to take the email past Gmail's 102 KB."""
    blurb = "Tea and coffee prices moved together again this quarter. " * 2000
    form = issue_form(editor_client, edit_url(drafted), articles=[(live_article, blurb)])
    assert editor_client.post(edit_url(drafted), form).status_code == 302
    return drafted


def test_an_oversized_email_is_warned_about_in_the_panel(editor_client, oversized):
    problems = panel_problems(editor_client, oversized)

    assert problems["error"] == []
    (warning,) = problems["warning"]
    assert "Gmail clips messages over 102 KB" in warning


def test_an_oversized_email_asks_to_send_anyway_and_sends_nothing_without_it(
    editor_client, oversized, audience, mailbox, committed
):
    asked = ask_to_publish(editor_client, oversized)
    confirmation = confirmation_form(asked)
    assert confirmation is not None
    box = confirmation.find("input", attrs={"name": "send_anyway"})
    assert box["type"] == "checkbox" and box.has_attr("required")
    assert "Gmail clips messages over 102 KB" in confirmation.get_text()

    unticked = {k: v for k, v in form_data(confirmation).items() if k != "send_anyway"}
    with committed():
        response = editor_client.post(confirmation["action"], unticked, follow=True)

    assert "Tick “Send anyway” to send despite these warnings." in messages_of(response)
    assert confirmation_form(response) is not None
    assert_nothing_sent(oversized, mailbox)


def test_ticking_send_anyway_sends_the_oversized_email(
    editor_client, oversized, audience, mailbox, committed
):
    confirmation = confirmation_form(ask_to_publish(editor_client, oversized))

    with committed():
        editor_client.post(confirmation["action"], form_data(confirmation), follow=True)

    assert IssuePage.objects.get(pk=oversized.pk).live
    assert len(mailbox) == 2


def test_send_anyway_agrees_to_the_warnings_shown_not_to_new_ones(
    editor_client, oversized, audience, mailbox, committed
):
    """The dialog's agreement was to the warnings of the saved draft; a new one asks again."""
    asked = ask_to_publish(editor_client, oversized)
    agreed = form_data(confirmation_form(asked))["send_anyway"]

    with committed():
        response = ask_to_publish(
            editor_client,
            oversized,
            preheader="",  # a second warning the editor has not seen
            confirm_send="2",
            send_anyway=agreed,
        )

    confirmation = confirmation_form(response)
    assert confirmation is not None
    assert "The preheader is empty" in confirmation.get_text()
    assert_nothing_sent(oversized, mailbox)


def test_the_dialogs_agreement_with_send_anyway_publishes_in_one_go(
    editor_client, drafted, audience, mailbox, committed
):
    long_subject = "Tariffs, and why they stick: the long view from Geneva and Beijing today"
    asked = ask_to_publish(editor_client, drafted, subject=long_subject)
    agreed = form_data(confirmation_form(asked))["send_anyway"]

    with committed():
        ask_to_publish(
            editor_client, drafted, subject=long_subject, confirm_send="2", send_anyway=agreed
        )

    assert IssuePage.objects.get(pk=drafted.pk).live
    assert len(mailbox) == 2


def test_the_publish_dialog_lists_the_warnings_with_a_send_anyway_box(editor_client, oversized):
    soup = BeautifulSoup(editor_client.get(edit_url(oversized)).content, "html.parser")
    # The dialog waits in a <template> until shown: read it as the page it becomes.
    dialog = BeautifulSoup(str(soup.find(id="issue-send-dialog")), "html.parser")

    assert "Gmail clips messages over 102 KB" in dialog.get_text()
    box = dialog.find("input", attrs={"data-issue-send-anyway": "send_anyway"})
    assert box is not None and box["type"] == "checkbox"


@pytest.mark.parametrize(
    "fields,warning",
    [
        ({"preheader": ""}, "The preheader is empty"),
        ({"preheader": "A preview line. " * 8}, "The preheader is 127 characters long"),
        ({"subject": "S" * 61}, "The subject is 61 characters long"),
    ],
)
def test_subject_and_preheader_lengths_are_warnings(editor_client, drafted, fields, warning):
    form = issue_form(editor_client, edit_url(drafted), **fields)
    assert editor_client.post(edit_url(drafted), form).status_code == 302

    (found,) = panel_problems(editor_client, drafted)["warning"]
    assert found.startswith(warning)


def test_markup_in_the_plain_text_part_is_a_warning(editor_client, drafted, live_article):
    articles = [(live_article, "Why <b>neither</b> side can go first.")]
    form = issue_form(editor_client, edit_url(drafted), articles=articles)
    assert editor_client.post(edit_url(drafted), form).status_code == 302

    (found,) = panel_problems(editor_client, drafted)["warning"]
    assert found == "The plain-text part shows markup to readers: <b>, </b>."


# External links: tried only when asked, against a server on this machine


class Handler(BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(200 if self.path == "/fine" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def link_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_external_links_are_not_tried_unless_asked(editor_client, drafted, link_server):
    intro = rich_text(f'<p>See <a href="{link_server}/gone">this</a>.</p>')
    form = issue_form(editor_client, edit_url(drafted), intro=intro)
    assert editor_client.post(edit_url(drafted), form).status_code == 302

    assert panel_problems(editor_client, drafted) == {"error": [], "warning": []}


def test_a_broken_external_link_is_a_warning_when_links_are_tried(
    editor_client, drafted, link_server, settings
):
    settings.CONTENT_CHECK_EXTERNAL_LINKS = True
    intro = (
        f'<p><a href="{link_server}/gone">Gone</a> and <a href="{link_server}/fine">fine</a>.</p>'
    )
    form = issue_form(editor_client, edit_url(drafted), intro=rich_text(intro))
    assert editor_client.post(edit_url(drafted), form).status_code == 302

    assert panel_problems(editor_client, drafted) == {
        "error": [],
        "warning": [f"The email links {link_server}/gone, which failed (404)."],
    }


# Wagtail's Checks panel: a rule per kind of problem, and the preview marks what was found


def test_the_checks_panel_gets_a_rule_for_each_kind_of_problem(editor_client, drafted):
    soup = BeautifulSoup(editor_client.get(edit_url(drafted)).content, "html.parser")
    config = json.loads(soup.find(id="checker-axe-configuration").string)

    rules = {rule["id"]: rule for rule in config["spec"]["rules"]}
    assert rules["content-placeholder"]["selector"] == '[data-content-problems~="placeholder"]'
    assert {"content-link", "content-alt", "content-size", "content-preheader"} <= set(rules)
    assert "content-placeholder" in config["options"]["runOnly"]
    assert config["messages"]["content-size"]["error_name"] == "Email clipped by Gmail"


def test_the_issue_preview_marks_its_headline_with_the_problems_found(editor_client, drafted):
    marked = preview_of_edit(editor_client, drafted, subject="TK the subject", preheader="")
    clean = preview_of_edit(editor_client, drafted, subject="Tariffs, and why they stick")

    assert marked.h1["data-content-problems"] == "placeholder preheader"
    assert not clean.h1.has_attr("data-content-problems")
