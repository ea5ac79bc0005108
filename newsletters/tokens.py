"""Signed, purpose-bound, revocable tokens for the links in emails.

A token names a subscriber, the version of their tokens (bumped to revoke all of them) and,
for unsubscribe links, a newsletter. The salt binds it to one purpose, so a confirmation token
cannot unsubscribe anyone. Signing uses SECRET_KEY and SECRET_KEY_FALLBACKS, so links survive
a key rotation.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.core import signing

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"

MAX_AGE = {
    CONFIRM: timedelta(days=7),
    # Old issues stay in inboxes: their links must keep working well past a year.
    UNSUBSCRIBE: timedelta(days=3 * 365),
    PREFERENCES: timedelta(days=3 * 365),
}


class Named(Protocol):
    """Whom a token names: a Subscriber, or the stand-in of a test send."""

    @property
    def pk(self) -> int: ...

    @property
    def token_version(self) -> int: ...


class BadToken(Exception):
    """The link is tampered, truncated, for another purpose, expired or revoked."""


@dataclass(frozen=True)
class TokenClaims:
    subscriber_id: int
    version: int
    newsletter_id: int | None


def _salt(purpose: str) -> str:
    return f"newsletters.{purpose}"


def make(purpose: str, subscriber: Named, newsletter_id: int | None = None) -> str:
    payload = [subscriber.pk, subscriber.token_version]
    if newsletter_id is not None:
        payload.append(newsletter_id)
    return signing.dumps(payload, salt=_salt(purpose), compress=False)


def read(purpose: str, token: str) -> TokenClaims:
    """The claims of a valid token for `purpose`; BadToken for anything else."""
    try:
        payload = signing.loads(token, salt=_salt(purpose), max_age=MAX_AGE[purpose])
    except signing.BadSignature as error:  # includes SignatureExpired
        raise BadToken(str(error)) from error
    if not isinstance(payload, list) or len(payload) not in (2, 3):
        raise BadToken("Malformed token")
    if not all(isinstance(part, int) for part in payload):
        raise BadToken("Malformed token")
    newsletter_id = payload[2] if len(payload) == 3 else None
    return TokenClaims(subscriber_id=payload[0], version=payload[1], newsletter_id=newsletter_id)
