"""Render an issue's email once, then personalise it per recipient by substitution.

An issue is rendered and its CSS inlined once; per recipient only the links that carry
their token (unsubscribe, preferences) and the Message-ID change, substituted into the
pre-rendered text rather than rendered again.
"""

import email.policy
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr, formatdate, make_msgid
from html import unescape
from typing import TYPE_CHECKING, Protocol

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from wagtail.rich_text import expand_db_html

from articles.models import ArticlePage
from newsletters import tokens

if TYPE_CHECKING:  # newsletters.models renders its pages with this module: no import back
    from newsletters.models import IssuePage, NewsletterPage

UNSUBSCRIBE_URL = "%%UNSUBSCRIBE_URL%%"
PREFERENCES_URL = "%%PREFERENCES_URL%%"
# What a preview shows in place of a reader's own links: real paths with an example token.
PREVIEW_EXAMPLE = "example-link-in-preview"
GMAIL_CLIP_BYTES = 102 * 1024
# What may stand between a newsletter's name and an issue's own name in its title.
TITLE_SEPARATORS = " ,:;\u00b7\u2013\u2014-"
CSS_INLINER = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
# Rich text links to pages come out site-relative, which means nothing in an inbox.
RELATIVE_URL = re.compile(r'(\s(?:href|src)=")/(?!/)')
LINK = re.compile(r'<a\b[^>]*?\bhref="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
PARAGRAPH_END = re.compile(r"</(?:p|li|h[1-6])>|<br\s*/?>")


def absolute_urls(html: str, root_url: str) -> str:
    return RELATIVE_URL.sub(lambda match: f"{match.group(1)}{root_url}/", html)


def rich_text_as_text(value: str, root_url: str) -> str:
    """Rich text as plain text for the text part: links kept as "label (URL)", no entities."""
    html = absolute_urls(expand_db_html(value), root_url)
    html = LINK.sub(lambda match: f"{match.group(2)} ({match.group(1)})", html)
    html = PARAGRAPH_END.sub("\n\n", html)
    return unescape(strip_tags(html)).strip()


class Recipient(tokens.Named, Protocol):
    """Whom an issue's email goes to: a Subscriber, or the stand-in of a test send."""

    @property
    def email(self) -> str: ...


def token_url(name: str, token: str) -> str:
    """reverse(name, args=[token]), without resolving the URL again for every reader: a token
    (base64 and ':', see newsletters.tokens) is one that reverse() leaves as it is."""
    before, after = _around_token(name, get_script_prefix())
    return before + token + after


@functools.cache
def _around_token(name: str, script_prefix: str) -> tuple[str, str]:
    before, after = reverse(name, args=[LINK_STAND_IN]).split(LINK_STAND_IN)
    return before, after


LINK_STAND_IN = "0stand0in0"  # in a link, where a token goes


@dataclass(frozen=True)
class RenderedIssue:
    """An issue's email, ready to personalise: everything but the recipient's links."""

    newsletter_id: int
    subject: str
    from_email: str
    reply_to: str
    list_id: str
    root_url: str
    message_domain: str
    html: str
    text: str

    @property
    def html_size(self) -> int:
        return len(self.html.encode())

    @property
    def clipped_by_gmail(self) -> bool:
        return self.html_size > GMAIL_CLIP_BYTES

    def personal_links(self, subscriber: Recipient) -> dict[str, str]:
        unsubscribe = tokens.make(tokens.UNSUBSCRIBE, subscriber, self.newsletter_id)
        preferences = tokens.make(tokens.PREFERENCES, subscriber)
        return {
            UNSUBSCRIBE_URL: self.root_url + token_url("newsletters:unsubscribe", unsubscribe),
            PREFERENCES_URL: self.root_url + token_url("newsletters:preferences", preferences),
        }

    def message_for(
        self,
        subscriber: Recipient,
        *,
        subject_prefix: str = "",
        connection: BaseEmailBackend | None = None,
    ) -> EmailMultiAlternatives:
        """The email for one subscriber, with their links and a Message-ID of its own."""
        return self.message(
            subscriber.email,
            self.personal_links(subscriber),
            make_msgid(domain=self.message_domain),
            subject_prefix=subject_prefix,
            connection=connection,
        )

    def message(
        self,
        to: str,
        links: dict[str, str],
        message_id: str,
        *,
        date: str | None = None,
        subject_prefix: str = "",
        connection: BaseEmailBackend | None = None,
    ) -> EmailMultiAlternatives:
        """The email to `to` with `links` in place of the placeholders."""
        html, text = with_links(self.html, self.text, links)
        headers = {
            "List-Id": self.list_id,
            "List-Unsubscribe": f"<{links[UNSUBSCRIBE_URL]}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": message_id,
        }
        if date is not None:
            headers["Date"] = date
        message = EmailMultiAlternatives(
            subject=subject_prefix + self.subject,
            body=text,
            from_email=self.from_email,
            to=[to],
            reply_to=[self.reply_to] if self.reply_to else None,
            headers=headers,
            connection=connection,
        )
        message.attach_alternative(html, "text/html")
        return message

    def wire(self) -> "WireMessage | None":
        """The email serialized once for every reader (see WireMessage); None when its
        encoding would not let each reader's parts be put in by replacement."""
        stand_ins = {UNSUBSCRIBE_URL: UNSUBSCRIBE_URL, PREFERENCES_URL: PREFERENCES_URL}
        message = self.message(WIRE_TO, stand_ins, WIRE_MESSAGE_ID, date=WIRE_DATE)
        head, _, body = message.message().as_bytes(linesep="\r\n").partition(CRLF * 2)
        # Bodies are 8bit unless a line is too long for SMTP, then quoted-printable, which
        # may break a link across lines; and a reader's link lengthens the line it is on.
        if b"quoted-printable" in body or b"base64" in body:
            return None
        if any(len(line) > SMTP_LINE_LIMIT - LINK_ALLOWANCE for line in body.split(CRLF)):
            return None
        lines = head.split(CRLF)
        personal = {
            index: line.decode().split(": ", 1)
            for index, line in enumerate(lines)
            if any(stand_in in line for stand_in in WIRE_STAND_INS)
        }
        found = b"".join(lines[index] for index in personal) + body
        if [found.count(stand_in) for stand_in in WIRE_STAND_INS[:3]] != [1, 1, 1]:
            return None
        return WireMessage(lines, personal, CRLF * 2 + body, self.message_domain)


CRLF = b"\r\n"
SMTP_LINE_LIMIT = 998
LINK_ALLOWANCE = 256
# Email headers folded as the message serializes them (Django's messages use this policy).
HEADER_POLICY = email.policy.compat32.clone(linesep="\r\n")
HEADER_MAX_LENGTH = HEADER_POLICY.max_line_length or 78
# Stand-ins in an issue serialized once, each replaced per reader: plain ASCII that headers
# carry as they are and 8bit bodies unchanged.
WIRE_TO = "reader@recipient.invalid"
WIRE_MESSAGE_ID = "<message-id@recipient.invalid>"
WIRE_DATE = "Thu, 01 Jan 1970 00:00:00 -0000"
WIRE_STAND_INS = [
    stand_in.encode()
    for stand_in in (WIRE_TO, WIRE_MESSAGE_ID, WIRE_DATE, UNSUBSCRIBE_URL, PREFERENCES_URL)
]


@dataclass(frozen=True)
class WireMessage:
    """An issue's email as the bytes that go over SMTP, serialized once.

    Per reader, the headers that carry their address, Message-ID, Date and unsubscribe link
    are folded again with those values, and the links in the body are replaced: exactly what
    serializing the whole message for each reader would give, for a fraction of the work.
    """

    head: list[bytes]
    personal: dict[int, list[str]]  # header line index -> [name, value with stand-ins]
    body: bytes
    message_domain: str

    def for_reader(self, to: str, links: dict[str, str]) -> tuple[str, bytes]:
        """(Message-ID, bytes) of the email to `to` with its links."""
        message_id = make_msgid(domain=self.message_domain)
        values = {
            WIRE_TO: to,
            WIRE_MESSAGE_ID: message_id,
            WIRE_DATE: formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
            **links,
        }
        head = list(self.head)
        for index, (name, value) in self.personal.items():
            for stand_in, real in values.items():
                value = value.replace(stand_in, real)
            head[index] = fold(name, value)
        body = self.body
        for placeholder in (UNSUBSCRIBE_URL, PREFERENCES_URL):
            body = body.replace(placeholder.encode(), links[placeholder].encode("ascii"))
        return message_id, CRLF.join(head) + body


def fold(name: str, value: str) -> bytes:
    """The header line (without its CRLF) as HEADER_POLICY folds it. A line that fits and is
    printable ASCII folds to itself: it is returned as it is, for a tenth of the work."""
    line = f"{name}: {value}"
    if len(line) <= HEADER_MAX_LENGTH and line.isascii() and line.isprintable():
        return line.encode("ascii")
    return HEADER_POLICY.fold(name, value).encode("ascii").removesuffix(CRLF)


def render_issue(issue: "IssuePage", *, preview: bool = False) -> RenderedIssue:
    """Render `issue` (a specific IssuePage, possibly an unsaved draft) for email.

    A preview has example links where each reader's own links will go, so that editors see
    links, not placeholders, in both the HTML and the plain-text preview.
    """
    newsletter = issue.get_parent().specific
    site = newsletter.get_site()
    root_url = site.root_url if site else settings.WAGTAILADMIN_BASE_URL
    context = {
        "issue": issue,
        "newsletter": newsletter,
        "issue_label": issue_label(issue, newsletter),
        "issue_date": issue_date(issue),
        "items": issue_items(issue),
        "root_url": root_url,
        "web_url": root_url + (issue.url if issue.live else newsletter.url or "/"),
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "preferences_url": PREFERENCES_URL,
        "preview": preview,
        "intro_text": rich_text_as_text(issue.intro, root_url),
        "closing_text": rich_text_as_text(issue.closing_note, root_url),
    }
    html: str = render_to_string("newsletters/email/issue.html", context)
    html = CSS_INLINER.inline(absolute_urls(html, root_url))
    text: str = render_to_string("newsletters/email/issue.txt", context)
    if preview:
        html, text = with_links(html, text, example_links(root_url))
    domain = newsletter.sender_email.rpartition("@")[2] or "localhost"
    return RenderedIssue(
        newsletter_id=newsletter.pk,
        subject=issue.subject or issue.title,
        from_email=formataddr((newsletter.sender_name, newsletter.sender_email)),
        reply_to=newsletter.reply_to,
        list_id=f"{newsletter.title} <{newsletter.slug}.{domain}>",
        root_url=root_url,
        message_domain=domain,
        html=html,
        text=text,
    )


def with_links(html: str, text: str, links: dict[str, str]) -> tuple[str, str]:
    """The pre-rendered HTML and text with each placeholder replaced by its URL."""
    for placeholder, url in links.items():
        html = html.replace(placeholder, url)
        text = text.replace(placeholder, url)
    return html, text


def example_links(root_url: str) -> dict[str, str]:
    """Each reader's links as a preview shows them: the real paths, with an example token."""
    example = [PREVIEW_EXAMPLE]
    return {
        UNSUBSCRIBE_URL: root_url + reverse("newsletters:unsubscribe", args=example),
        PREFERENCES_URL: root_url + reverse("newsletters:preferences", args=example),
    }


def issue_label(issue: "IssuePage", newsletter: "NewsletterPage") -> str:
    """An issue's own name beside its date: its title less the newsletter's ("No. 3").

    "" when the title says nothing the reader does not see already (the name, the subject).
    """
    title = (issue.title or "").strip()
    if title.casefold().startswith(newsletter.title.casefold()):
        title = title[len(newsletter.title) :].lstrip(TITLE_SEPARATORS)
    return "" if title in ("", issue.subject) else title


def issue_date(issue: "IssuePage") -> datetime:
    """When the issue goes out: first published, else scheduled, else now (a draft's preview)."""
    return issue.first_published_at or issue.go_live_at or timezone.now()


@dataclass(frozen=True)
class EmailItem:
    """An article as an issue shows it, by email and on the web."""

    title: str
    url: str
    summary: str
    byline: str
    image: object  # the article's own hero image (a Wagtail image), or None
    image_alt: str


def issue_items(issue: "IssuePage") -> list[EmailItem]:
    """The issue's articles as the email shows them: live ones only, in the editor's order.

    An article without a hero image of its own has no picture: the site's generic share card
    would only repeat the masthead.
    """
    chosen = [(item.article_id, item.blurb) for item in issue.items.all()]
    articles = ArticlePage.objects.for_listing().in_bulk([pk for pk, _ in chosen])
    items = []
    for pk, blurb in chosen:
        if (article := articles.get(pk)) is None:
            continue  # unpublished since the issue was compiled: never mail a dead link
        image = article.hero_image
        items.append(
            EmailItem(
                title=article.display_title,
                url=article.get_full_url(),
                summary=blurb or article.listing_summary,
                byline=names(author.name for author in article.authors),
                image=image,
                image_alt=image.default_alt_text if image else "",
            )
        )
    return items


def names(parts: Iterable[str]) -> str:
    """ "A", "A and B", "A, B and C": the authors as a byline reads them."""
    listed = list(parts)
    if len(listed) < 2:
        return "".join(listed)
    return ", ".join(listed[:-1]) + " and " + listed[-1]
