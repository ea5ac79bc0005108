"""Emails as a reader's mail program sees them: parsed back with the `email` package, their
parts and links, and the site's own links turned into paths for the test client."""

import email
import re
from email import policy
from email.message import EmailMessage
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')]+")


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
