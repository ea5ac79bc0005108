"""An editor in the admin: previews under the site's real policy, an issue's test send and its
publication, which asks first, through the real editor UI with autosave on."""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect
from wagtail.models import Site
from wagtail.rich_text import RichText

from articles.models import ArticlePage, ArticlePageAuthor, Author, HomePage, SectionPage
from newsletters.models import (
    Delivery,
    IssueItem,
    IssuePage,
    IssueSend,
    NewsletterIndexPage,
    NewsletterPage,
    Subscription,
    Suppression,
)
from tests.newsletters.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "correct horse battery"
# Runs in every document of the page, the preview iframes included.
REPORT_CSP_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (event) => {
  console.error(`CSP violation in ${location.pathname}: ${event.violatedDirective} ` +
                `blocked ${event.blockedURI || 'inline content'}`);
});
"""

BLOCKED = re.compile(r"CSP violation|Content Security Policy|X-Frame-Options|Refused to")


def publish(parent, page):
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def newsroom(live_server, django_db_serialized_rollback):
    """A live article, a newsletter with three confirmed readers (and two who are not), a draft
    issue carrying the article, and an editor. The site answers at the live server's address,
    so that the email's absolute links and images are the site's own."""
    address = urlsplit(live_server.url)
    Site.objects.filter(is_default_site=True).update(hostname=address.hostname, port=address.port)
    home = HomePage.objects.get()
    section = publish(home, SectionPage(title="Analysis", slug="analysis"))
    article = ArticlePage(
        title="Port fees, explained",
        slug="port-fees",
        summary="Who pays, and how much.",
        body=[("paragraph", RichText("<p>Ports charge more each year.</p>"))],
    )
    article.article_authors.add(ArticlePageAuthor(author=Author.objects.create(name="A", slug="a")))
    publish(section, article)
    index = publish(home, NewsletterIndexPage(title="Newsletters", slug="newsletters"))
    newsletter = publish(
        index,
        NewsletterPage(
            title="The Weekly Steep",
            slug="weekly-steep",
            description="The week in one email.",
            sender_name="The Weekly Steep",
            sender_email="steep@outlet.example",
        ),
    )
    readers = [SubscriptionFactory(newsletter=newsletter).subscriber for _ in range(3)]
    SubscriptionFactory(
        newsletter=newsletter, status=Subscription.Status.PENDING, confirmed_at=None
    )
    bounced = SubscriptionFactory(newsletter=newsletter).subscriber
    Suppression.add(bounced.email, Suppression.Reason.BOUNCED)
    issue = IssuePage(
        title="The Weekly Steep, No. 1",
        slug="no-1",
        subject="Ports and fees",
        preheader="What shippers pay, and why it keeps rising.",
        live=False,
    )
    issue.items.add(IssueItem(article=article))
    newsletter.add_child(instance=issue)
    issue.save_revision()
    editor = User.objects.create_user("eddie", "eddie@outlet.example", PASSWORD)
    editor.groups.add(Group.objects.get(name="Editors"))
    return {"article": article, "newsletter": newsletter, "issue": issue, "readers": readers}


@dataclass
class Session:
    """The editor's browser tab, and what it noticed that a person might not."""

    page: object
    origin: str
    blocked: list = field(default_factory=list)
    elsewhere: list = field(default_factory=list)

    def assert_clean(self):
        assert self.blocked == [], "the browser blocked something"
        assert self.elsewhere == [], "the admin asked another host for something"


@pytest.fixture
def editor(browser, live_server, newsroom):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    session = Session(page=page, origin=live_server.url)
    page.on("console", lambda m: BLOCKED.search(m.text) and session.blocked.append(m.text))
    context.on(
        "request",
        lambda r: (
            r.url.startswith(("http:", "https:"))
            and not r.url.startswith(live_server.url)
            and session.elsewhere.append(r.url)
        ),
    )
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("eddie")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    yield session
    context.close()


def open_preview(page):
    """Open the side panel's preview, which shows the form as it stands, saved or not."""
    page.get_by_role("button", name="Toggle preview").click()
    frame = page.frame_locator("#w-preview-iframe")
    expect(page.locator("#w-preview-iframe")).to_be_visible()
    return frame


def test_the_preview_panel_shows_an_article_with_no_policy_violation(editor, newsroom):
    page = editor.page
    page.goto(f"/admin/pages/{newsroom['article'].pk}/edit/")
    page.locator("#id_title").fill("Port fees, explained again")  # not saved

    frame = open_preview(page)

    expect(frame.locator("h1")).to_contain_text("Port fees, explained again")
    box = page.locator("#w-preview-iframe").bounding_box()
    assert box["width"] > 300 and box["height"] > 300
    editor.assert_clean()


def assert_styled_title(title) -> None:
    """The email's own inline and embedded styles apply: its title is well above body size
    (the default 16px), whichever of its sizes the preview's width selects."""
    expect(title).to_be_visible()
    size = title.evaluate("element => parseFloat(getComputedStyle(element).fontSize)")
    assert size >= 20, size


def choose_mode(page, label: str):
    page.locator("#id_preview_mode").select_option(label=label)


def test_every_issue_preview_mode_shows_the_issue_with_no_policy_violation(editor, newsroom):
    page = editor.page
    page.goto(f"/admin/pages/{newsroom['issue'].pk}/edit/")
    frame = open_preview(page)
    expect(frame.locator("h1")).to_have_text("Ports and fees")

    choose_mode(page, "HTML email")
    title = frame.locator("td.title")
    expect(title).to_have_text("Ports and fees")
    assert_styled_title(title)
    expect(frame.locator("body")).to_contain_text("Port fees, explained")

    choose_mode(page, "Plain-text email")
    expect(frame.locator("body")).to_contain_text("Ports and fees")
    expect(frame.locator("body")).to_contain_text("Port fees, explained")
    editor.assert_clean()


def test_the_html_email_preview_in_a_new_tab_is_styled(editor, newsroom):
    page = editor.page
    page.goto(f"/admin/pages/{newsroom['issue'].pk}/edit/")
    frame = open_preview(page)
    expect(frame.locator("h1")).to_have_text("Ports and fees")
    choose_mode(page, "HTML email")
    expect(frame.locator("td.title")).to_be_visible()

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Preview in new tab").click()
    tab = opened.value
    tab.on("console", lambda m: BLOCKED.search(m.text) and editor.blocked.append(m.text))

    assert_styled_title(tab.locator("td.title"))
    editor.assert_clean()


def save_draft(page):
    """Save the page being edited as a draft, and wait until the admin says it has."""
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("has been updated")


def open_publish(page, button="Publish and send"):
    page.locator("footer [data-w-dropdown-target='toggle']").last.click()
    page.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog", name="Send this issue?")
    expect(dialog).to_be_visible()
    return dialog


def test_publishing_an_issue_says_to_how_many_and_cancelling_sends_nothing(
    editor, newsroom, mailoutbox
):
    page, issue = editor.page, newsroom["issue"]
    page.goto(f"/admin/pages/{issue.pk}/edit/")

    dialog = open_publish(page)
    expect(dialog).to_contain_text(
        "Send “The Weekly Steep, No. 1” to 3 confirmed subscribers of The Weekly Steep now?"
    )
    dialog.get_by_role("button", name="Cancel").click()

    expect(dialog).to_be_hidden()
    expect(page).to_have_url(re.compile(rf"/admin/pages/{issue.pk}/edit/$"))
    assert not IssuePage.objects.get(pk=issue.pk).live
    assert not IssueSend.objects.exists() and not Delivery.objects.exists()
    assert mailoutbox == []

    open_publish(page).get_by_role("button", name="Publish and send to 3").click()

    expect(page.locator(".messages")).to_contain_text(
        "Emailing it to 3 confirmed subscribers: follow it in the Delivery panel."
    )
    assert IssuePage.objects.get(pk=issue.pk).live
    readers = sorted(reader.email for reader in newsroom["readers"])
    assert sorted(Delivery.objects.values_list("subscriber__email", flat=True)) == readers
    assert sorted(message.to[0] for message in mailoutbox) == readers
    editor.assert_clean()


def test_a_test_send_carries_the_blurb_typed_just_before(editor, newsroom, mailoutbox):
    page, issue = editor.page, newsroom["issue"]
    page.goto(f"/admin/pages/{issue.pk}/edit/")

    page.locator("#id_items-0-blurb").fill("Typed a moment ago, not saved.")
    page.get_by_role("button", name="Send a test to me").click()

    expect(page.locator(".messages")).to_contain_text(
        "Saved your changes and sent a test of them to eddie@outlet.example."
    )
    (message,) = mailoutbox
    assert message.subject == "[TEST] Ports and fees"
    assert "Typed a moment ago, not saved." in message.body
    expect(page.locator("#id_items-0-blurb")).to_have_value("Typed a moment ago, not saved.")
    assert not Delivery.objects.exists()
    editor.assert_clean()


def test_a_new_issue_is_numbered_and_its_title_leaves_its_address_alone(editor, newsroom):
    page, newsletter = editor.page, newsroom["newsletter"]
    page.goto(f"/admin/pages/add/newsletters/issuepage/{newsletter.pk}/")

    expect(page.locator("#id_title")).to_have_value("The Weekly Steep, No. 2")
    page.locator("#id_title").fill("Ports week")
    page.locator("#id_subject").fill("What ports charge")
    page.get_by_role("tab", name="Promote").click()
    expect(page.locator("#id_slug")).to_have_value("no-2")
    page.get_by_role("button", name="Save draft").click()

    expect(page.locator(".messages")).to_contain_text(
        re.compile(r"Page 'Ports week' (created|has been updated)")
    )
    (created,) = IssuePage.objects.filter(title="Ports week")
    assert created.slug == "no-2"
    assert IssuePage.objects.count() == 2, "autosave and the click made one page between them"
    editor.assert_clean()


def test_enter_in_a_field_of_an_issue_saves_it_and_compiles_nothing(editor, newsroom):
    from wagtail.models import PageLogEntry

    page, issue = editor.page, newsroom["issue"]
    page.goto(f"/admin/pages/{issue.pk}/edit/")

    page.locator("#id_subject").fill("Ports, fees and Enter")
    page.locator("#id_subject").press("Enter")

    expect(page.locator(".messages")).to_contain_text(
        "Page 'The Weekly Steep, No. 1' has been updated."
    )
    expect(page.locator(".messages")).not_to_contain_text("articles")
    assert not PageLogEntry.objects.filter(page_id=issue.pk, action="newsletters.compile")
    saved = IssuePage.objects.get(pk=issue.pk).get_latest_revision_as_object()
    assert saved.subject == "Ports, fees and Enter"


def test_scheduling_an_issue_says_when_and_sends_nothing_yet(editor, newsroom, mailoutbox):
    page, issue = editor.page, newsroom["issue"]
    page.goto(f"/admin/pages/{issue.pk}/edit/")
    page.get_by_role("button", name="Toggle status").click()
    page.get_by_role("button", name="Set schedule").click()
    schedule = page.get_by_role("dialog", name="Set publishing schedule")
    schedule.get_by_label("Go live date/time").fill("2030-01-02 09:00")
    # The date picker opens a moment after the field takes focus, over the Save button: once
    # it has, close it as a person would, by clicking outside it (not by tabbing on, which
    # would open the expiry field's picker).
    picker = page.locator(".xdsoft_datetimepicker:visible")
    expect(picker).to_have_count(1)
    schedule.get_by_role("heading", name="Set publishing schedule").click()
    expect(picker).to_have_count(0)
    schedule.get_by_role("button", name="Save schedule").click()
    expect(schedule).to_be_hidden()

    dialog = open_publish(page, button="Schedule to publish")
    expect(dialog).to_contain_text(
        "Send “The Weekly Steep, No. 1” to 3 confirmed subscribers of The Weekly Steep "
        "at 2030-01-02 09:00?"
    )
    dialog.get_by_role("button", name="Schedule: send at 2030-01-02 09:00").click()

    expect(page.locator(".messages")).to_contain_text(
        "It will be emailed at 2 January 2030 at 09:00 to the confirmed subscribers of "
        "The Weekly Steep at that moment (3 today)."
    )
    assert not IssuePage.objects.get(pk=issue.pk).live
    assert not Delivery.objects.exists() and mailoutbox == []
    editor.assert_clean()


# Pre-send checks: a warning waits for "send anyway"; Wagtail's Checks panel lists problems


def test_a_warning_holds_the_send_until_the_editor_ticks_send_anyway(editor, newsroom, mailoutbox):
    page, issue = editor.page, newsroom["issue"]
    page.goto(f"/admin/pages/{issue.pk}/edit/")
    page.locator("#id_preheader").fill("")
    save_draft(page)
    panel = page.locator("[aria-labelledby=presend-heading-panel]")
    expect(panel).to_contain_text("The preheader is empty")

    dialog = open_publish(page)
    expect(dialog).to_contain_text("1 warning: publishing asks you to send anyway.")
    send = dialog.get_by_role("button", name="Publish and send to 3")
    expect(send).to_be_disabled()
    dialog.get_by_label("Send anyway, with this warning").check()
    expect(send).to_be_enabled()
    send.click()

    expect(page.locator(".messages")).to_contain_text(
        "Emailing it to 3 confirmed subscribers: follow it in the Delivery panel."
    )
    assert IssuePage.objects.get(pk=issue.pk).live
    assert len(mailoutbox) == 3
    editor.assert_clean()


def test_an_error_leaves_only_save_and_check_again_which_refuses(editor, newsroom, mailoutbox):
    page, issue = editor.page, newsroom["issue"]
    page.goto(f"/admin/pages/{issue.pk}/edit/")
    page.locator("#id_subject").fill("Ports and fees TK")
    save_draft(page)

    dialog = open_publish(page)
    expect(dialog).to_contain_text("Placeholder “TK” left in the subject.")
    expect(dialog.get_by_role("button", name=re.compile("Publish and send"))).to_have_count(0)
    dialog.get_by_role("button", name="Save and check again").click()

    expect(page.locator(".messages")).to_contain_text(
        "Not published, nothing was sent: the pre-send checks found 1 problem to fix first."
    )
    assert not IssuePage.objects.get(pk=issue.pk).live
    assert mailoutbox == [] and not IssueSend.objects.exists()
    editor.assert_clean()


def test_wagtails_checks_panel_lists_a_placeholder_in_an_article(editor, newsroom):
    page = editor.page
    page.goto(f"/admin/pages/{newsroom['article'].pk}/edit/")
    toggle = page.get_by_role("button", name="Toggle checks")
    toggle.click()
    expect(page.get_by_role("heading", name="Issues found")).to_be_visible()
    panel = page.locator("[data-checks-panel]")
    expect(panel).not_to_contain_text("Placeholder left in")
    toggle.click()

    page.locator("#id_title").fill("Port fees, explained TK")
    save_draft(page)
    page.get_by_role("button", name="Toggle checks").click()

    expect(panel).to_contain_text("Placeholder left in (TK, lorem, XXX)", timeout=20_000)
    expect(page.locator("[data-content-checker-count]").first).to_have_text("1")
    editor.assert_clean()
