"""The issue email as subscribers receive it, parsed back; and a link scanner that clicks it all."""

import email
import email.policy
import re
import string
from datetime import UTC

import pytest
from bs4 import BeautifulSoup
from django.test import Client, override_settings
from django.utils import dateformat, timezone
from hypothesis import given
from hypothesis import strategies as st

from articles.models import PublicationSettings
from newsletters import tokens
from newsletters.models import Delivery
from newsletters.rendering import (
    GMAIL_CLIP_BYTES,
    HEADER_POLICY,
    fold,
    issue_label,
    render_issue,
)
from tests.articles.factories import ArticlePageFactory, AuthorFactory, ImageFactory
from tests.newsletters.editor import press
from tests.newsletters.factories import IssuePageFactory, SubscriptionFactory
from tests.newsletters.forms import form_data, newsletter_state, subscribe_forms
from tests.newsletters.mail import html_links, html_part, local, text_links, text_part
from tests.newsletters.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db

SCRIPT_TITLE = '<script>alert("owned")</script> Tariffs & "trade"'
ONE_CLICK_HEADER = re.compile(r"^\s*<(https?://[^<>\s]+)>\s*$")


@pytest.fixture
def articles(section):
    hero = ImageFactory(title="Port of Ningbo", description="Cranes over the container terminal")
    return [
        ArticlePageFactory(
            parent=section,
            title="Why tariffs stick",
            hero_image=hero,
            authors=[AuthorFactory(name="Li Wei"), AuthorFactory(name="Ana Costa")],
        ),
        ArticlePageFactory(
            parent=section, title=SCRIPT_TITLE, authors=[AuthorFactory(name="O'Brien & Sons")]
        ),
        ArticlePageFactory(parent=section, title="Chips, year two", summary="Export controls."),
    ]


@pytest.fixture
def readers(newsletter):
    return [
        SubscriptionFactory(newsletter=newsletter, subscriber__name=name).subscriber
        for name in ('<b>Bobby</b> "Tables"', "Ada", "Grace")
    ]


def publish_issue(newsletter, items, committed, **fields):
    """Publish an issue as Wagtail does, running the delivery it starts."""
    issue = IssuePageFactory(parent=newsletter, live=False, first_published_at=None, **fields)
    for entry in items:
        article, blurb = entry if isinstance(entry, tuple) else (entry, "")
        issue.items.create(article=article, blurb=blurb)
    with committed():
        issue.save_revision().publish()
    issue.refresh_from_db()
    return issue


@pytest.fixture
def issue(newsletter, articles, readers, committed):
    first, second, third = articles
    return publish_issue(
        newsletter,
        [first, (second, "A blurb the editor wrote."), third],
        committed,
        subject="Tariffs, chips and the port of Ningbo",
        preheader="Three stories this week.",
        intro=(
            f'<p>Tariffs &amp; trade: start with <a linktype="page" id="{third.pk}">our chips '
            'explainer</a>, then read <a href="https://customs.example/report?year=2025&amp;'
            'part=2">the customs report</a>.</p>'
        ),
        closing_note="<p>See you next week.</p>",
    )


@pytest.fixture
def received(issue, mailbox, readers):
    """The email the first reader received."""
    (message,) = mailbox.sent_to(readers[0].email)
    return message


def test_publishing_mails_each_confirmed_reader_once(issue, mailbox, readers):
    assert sorted(message["To"] for message in mailbox.all()) == sorted(r.email for r in readers)


def test_headers_name_the_sender_the_list_and_the_way_out(received, issue):
    assert received["Subject"] == "Tariffs, chips and the port of Ningbo"
    assert received["From"] == "The Weekly Steep <steep@outlet.example>"
    assert received["Reply-To"] == "letters@outlet.example"
    assert received["List-Id"] == "The Weekly Steep <weekly-steep.outlet.example>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sent_at = received["Date"].datetime
    sent_at = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=UTC)
    assert abs(sent_at - timezone.now()).total_seconds() < 60


def test_there_is_exactly_one_list_unsubscribe_header_with_one_web_url(received):
    headers = received.get_all("List-Unsubscribe")
    assert len(headers) == 1
    assert len(received.get_all("List-Unsubscribe-Post")) == 1
    match = ONE_CLICK_HEADER.match(str(headers[0]))
    assert match, headers[0]
    assert "/subscriptions/unsubscribe/" in match.group(1)


def test_each_recipient_gets_a_message_id_of_their_own_on_the_sender_domain(
    issue, mailbox, readers
):
    ids = [message["Message-ID"] for message in mailbox.all()]

    assert len(set(ids)) == len(readers)
    assert all(re.fullmatch(r"<[^<>@\s]+@outlet\.example>", message_id) for message_id in ids)
    assert set(Delivery.objects.values_list("message_id", flat=True)) == set(ids)


def test_each_recipient_gets_their_own_unsubscribe_link(issue, mailbox):
    links = {str(message["List-Unsubscribe"]) for message in mailbox.all()}

    assert len(links) == len(mailbox)


def test_styles_are_inlined(received):
    soup = BeautifulSoup(html_part(received), "html.parser")

    title = soup.find("td", class_="title")
    assert "font-size: 28px" in title["style"]
    assert all(td.get("style") for td in soup.find_all("td", class_="item"))


def test_every_url_in_the_html_is_absolute(received):
    soup = BeautifulSoup(html_part(received), "html.parser")
    urls = [a["href"] for a in soup.find_all("a", href=True)]
    urls += [img["src"] for img in soup.find_all("img")]

    relative = [url for url in urls if not re.match(r"https?://", url)]
    assert urls and relative == []


def test_every_image_has_alt_text(received):
    images = BeautifulSoup(html_part(received), "html.parser").find_all("img")

    assert images
    assert all(img.get("alt", "").strip() for img in images)
    assert images[0]["alt"] == "Cranes over the container terminal"


def test_the_text_part_has_the_same_links_as_the_html(received):
    assert set(text_links(text_part(received))) == set(html_links(html_part(received)))


def test_article_and_subscriber_text_is_escaped_in_html_and_plain_in_text(received):
    html, text = html_part(received), text_part(received)
    soup = BeautifulSoup(html, "html.parser")

    assert soup.find_all("script") == []
    assert "<script" not in html
    titles = [" ".join(h2.get_text().split()) for h2 in soup.find_all("h2")]
    assert SCRIPT_TITLE in titles
    assert "O'Brien & Sons" in soup.get_text()
    assert "<b>" not in html and "Bobby" not in html
    assert SCRIPT_TITLE in text
    assert "O'Brien & Sons" in text
    assert "Tariffs & trade" in text
    assert "&amp;" not in text and "&lt;" not in text and "&#" not in text


def test_intro_links_are_absolute_in_html_and_spelled_out_in_text(received, articles):
    html, text = html_part(received), text_part(received)
    chips = articles[2].get_full_url()

    assert f'href="{chips}"' in html
    assert f"our chips explainer ({chips})" in " ".join(text.split())
    assert "the customs report (https://customs.example/report?year=2025&part=2)" in " ".join(
        text.split()
    )


def test_editor_blurbs_replace_summaries(received, articles):
    text = text_part(received)

    assert "A blurb the editor wrote." in text
    assert articles[1].summary not in text
    assert "Export controls." in text


def test_a_normal_issue_stays_under_gmails_clipping_limit(
    newsletter, section, readers, committed, mailbox
):
    items = [ArticlePageFactory(parent=section, hero_image=ImageFactory()) for _ in range(12)]
    publish_issue(newsletter, items, committed)

    message = mailbox.sent_to(readers[0].email)[0]
    assert len(html_part(message).encode()) < GMAIL_CLIP_BYTES


def test_send_test_warns_when_the_html_passes_gmails_clipping_limit(
    newsletter, section, editor_client, mailbox
):
    long_blurb = "Tariffs are a tax that both sides pretend the other one pays. " * 200
    issue = IssuePageFactory(
        parent=newsletter,
        live=False,
        items=[(ArticlePageFactory(parent=section), long_blurb) for _ in range(10)],
    )

    response = press(editor_client, "send_test", issue, follow=True)

    messages = [str(message) for message in response.context["messages"]]
    assert any("Gmail clips messages over 102 KB" in message for message in messages), messages
    assert len(html_part(mailbox.only()).encode()) > GMAIL_CLIP_BYTES


def test_send_test_does_not_warn_for_a_normal_issue(newsletter, section, editor_client):
    issue = IssuePageFactory(
        parent=newsletter, live=False, items=[ArticlePageFactory(parent=section)]
    )

    response = press(editor_client, "send_test", issue, follow=True)

    messages = [str(message) for message in response.context["messages"]]
    assert not any("Gmail" in message for message in messages)
    assert any("sent a test of them to" in message for message in messages)


# A mail scanner follows every link of every email: it must change nothing.


def every_link(message) -> list[str]:
    return sorted(set(html_links(html_part(message))) | set(text_links(text_part(message))))


def test_a_link_scanner_following_every_link_in_an_issue_changes_nothing(received):
    links = every_link(received)
    assert any("/unsubscribe/" in link for link in links)
    assert any("/preferences/" in link for link in links)
    before = newsletter_state()
    scanner = Client()

    for link in links:
        if not link.startswith("http://localhost/"):
            continue  # another site's page: nothing of ours to change
        for method in (scanner.get, scanner.head):
            response = method(local(link))
            assert response.status_code == 200, f"{method.__name__.upper()} {link}"

    assert newsletter_state() == before


def test_a_link_scanner_following_the_confirmation_email_confirms_nothing(
    client, newsletter, mailbox, committed
):
    (form,) = subscribe_forms(client.get(newsletter.url).content.decode())
    with committed():
        client.post(form["action"], {**form_data(form), "email": "new@example.com"})
    before = newsletter_state()
    scanner = Client()

    for link in every_link(mailbox.only()):
        assert scanner.get(local(link)).status_code == 200
        assert scanner.head(local(link)).status_code == 200

    assert newsletter_state() == before


# What the issue says it is, and how it lays out its articles


def sent_on(issue) -> str:
    return dateformat.format(timezone.localtime(issue.first_published_at), "j F Y")


def test_the_header_names_the_newsletter_the_issue_and_its_date(received, issue):
    soup = BeautifulSoup(html_part(received), "html.parser")
    header = " ".join(soup.find("td", class_="masthead").get_text(" ").split())
    text_lines = text_part(received).splitlines()

    assert issue.title.startswith("Issue ")
    assert header == f"The Weekly Steep {issue.title} {sent_on(issue)}"
    assert text_lines[:2] == ["THE WEEKLY STEEP", f"{issue.title} · {sent_on(issue)}"]


@pytest.mark.parametrize(
    ("title", "label"),
    [
        ("The Weekly Steep, No. 4", "No. 4"),
        ("The Weekly Steep — No. 5", "No. 5"),
        ("Issue 12", "Issue 12"),
        ("The Weekly Steep", ""),
        ("Ports and tariffs", ""),  # the subject already says it
    ],
)
def test_an_issue_is_named_by_its_title_less_the_newsletters_name(newsletter, title, label):
    issue = IssuePageFactory.build(title=title, subject="Ports and tariffs")

    assert issue_label(issue, newsletter) == label


def test_a_draft_preview_is_dated_today(newsletter, section):
    draft = IssuePageFactory(
        parent=newsletter, title="The Weekly Steep, No. 9", live=False, first_published_at=None
    )

    rendered = render_issue(draft, preview=True)

    today = dateformat.format(timezone.localdate(), "j F Y")
    assert f"No. 9 · {today} · preview" in rendered.text


def test_an_article_without_its_own_image_gets_no_picture(
    site, newsletter, section, readers, committed, mailbox
):
    share_card = ImageFactory(title="Outlet share card", description="The Outlet logo")
    PublicationSettings.objects.update_or_create(
        site=site, defaults={"default_share_image": share_card}
    )
    pictured = ArticlePageFactory(parent=section, hero_image=ImageFactory(description="Cranes"))
    plain = [ArticlePageFactory(parent=section, title=f"Plain {n}") for n in range(2)]
    publish_issue(newsletter, [plain[0], pictured, plain[1]], committed)

    soup = BeautifulSoup(html_part(mailbox.sent_to(readers[0].email)[0]), "html.parser")
    images = soup.find_all("img")
    assert [img["alt"] for img in images] == ["Cranes"]
    items = soup.find_all("td", class_="item")
    assert [bool(item.find("img")) for item in items] == [False, True, False]


def test_the_lead_article_is_large_and_the_rest_compact(received, articles):
    soup = BeautifulSoup(html_part(received), "html.parser")
    items = soup.find_all("td", class_="item")

    assert len(items) == 3
    assert "lead" in items[0]["class"]
    assert all("compact" in item["class"] for item in items[1:])
    assert "font-size: 25px" in items[0].find("h2")["style"]
    assert "font-size: 18px" in items[1].find("h2")["style"]
    assert items[0].find("img")["width"] == "544"
    assert soup.find("td", class_="section-label").get_text() == "Also in this issue"


def test_the_plain_text_preview_shows_example_links_not_placeholders(newsletter, section, rf):
    issue = IssuePageFactory(
        parent=newsletter, live=False, items=[ArticlePageFactory(parent=section)]
    )

    for mode in ("email-text", "email-html"):
        body = issue.serve_preview(rf.get("/"), mode).content.decode()
        assert "%%" not in body, mode
        assert "http://localhost/subscriptions/unsubscribe/example-link-in-preview/" in body
        assert "http://localhost/subscriptions/preferences/example-link-in-preview/" in body


def test_the_confirmation_email_wears_the_issue_frame(signup, mailbox):
    signup("reader@example.com")

    soup = BeautifulSoup(html_part(mailbox.only()), "html.parser")
    assert soup.find("table", class_="container")["style"].count("max-width: 600px") == 1
    assert soup.find("td", class_="masthead").get_text(strip=True) == "The Weekly Steep"
    assert soup.find("td", class_="title").get_text() == "Confirm your subscription"
    button = soup.find("a", class_="button")
    assert button.get_text() == "Confirm my subscription"
    assert "background: #a8261b" in button["style"]
    assert "prefers-color-scheme: dark" in soup.find("style").get_text()


def wire_and_expected(rendered, reader):
    """What the issue serialized once gives `reader`, and what serializing their email whole
    would have given, with the same Message-ID, Date and MIME boundary."""
    links = rendered.personal_links(reader)
    message_id, data = rendered.wire().for_reader(reader.email, links)
    received = email.message_from_bytes(data)
    whole = rendered.message(reader.email, links, message_id, date=received["Date"]).message()
    whole.set_boundary(received.get_boundary())
    return data, whole.as_bytes(linesep="\r\n")


def test_the_issue_serialized_once_is_byte_for_byte_each_readers_own_email(
    newsletter, section, readers, committed
):
    subject = "Chips: Beijing\u2019s next move"
    article = ArticlePageFactory(
        parent=section, title="The chip fund — year two, ¥344bn", summary="Über-ambitious."
    )
    issue = publish_issue(newsletter, [article], committed, subject=subject)
    rendered = render_issue(issue)

    assert rendered.wire() is not None
    for reader in readers:
        data, expected = wire_and_expected(rendered, reader)
        assert data == expected
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert parsed["To"] == reader.email
        assert parsed["Subject"] == subject
        own = rendered.personal_links(reader).values()
        assert set(own) <= set(html_links(html_part(parsed)) + text_links(text_part(parsed)))
        assert "%%" not in html_part(parsed) + text_part(parsed) + str(parsed["List-Unsubscribe"])


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback, which this process's email goes to."""
    with SmtpSink() as sink, override_settings(**sink.django_settings):
        yield sink


@pytest.mark.parametrize("intro", ["<p>Short.</p>", "<p>" + "A long paragraph. " * 80 + "</p>"])
def test_over_smtp_each_reader_gets_their_own_links_however_the_issue_is_encoded(
    intro, newsletter, section, readers, committed, smtp_server
):
    """Lines over SMTP's 998 bytes are sent quoted-printable, which may break a placeholder
    across lines: such an issue is not serialized once, and each reader's email is whole."""
    article = ArticlePageFactory(parent=section, title="Chips")
    issue = publish_issue(newsletter, [article], committed, intro=intro)
    rendered = render_issue(issue)

    assert (rendered.wire() is None) == ("long" in intro)
    for reader in readers:
        (received,) = [m.message for m in smtp_server.messages if m.rcpt == reader.email]
        header = ONE_CLICK_HEADER.match(str(received["List-Unsubscribe"])).group(1)
        html, text = html_part(received), text_part(received)
        assert "%%" not in html + text
        assert ("A long paragraph" in html) == ("long" in intro)
        for links in (html_links(html), text_links(text)):
            assert header in links
            preferences = [url for url in links if "/subscriptions/preferences/" in url]
            assert len(preferences) == 1
            for purpose, url in ((tokens.UNSUBSCRIBE, header), (tokens.PREFERENCES, *preferences)):
                token = url.rstrip("/").rpartition("/")[2]
                assert tokens.read(purpose, token).subscriber_id == reader.pk


@given(
    name=st.sampled_from(["To", "Message-ID", "Date", "List-Unsubscribe"]),
    value=st.text(
        alphabet=string.digits + string.ascii_letters + string.punctuation + " \t\u00e9\u4e2d",
        max_size=100,
    ),
)
def test_a_header_folds_per_reader_as_the_email_package_folds_it(name, value):
    """fold() takes a short cut for lines that fit: the same bytes as the long way."""
    expected = HEADER_POLICY.fold(name, value).encode("ascii").removesuffix(b"\r\n")
    assert fold(name, value) == expected
