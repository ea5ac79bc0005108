"""What an error while sending one message means, from an SMTP server or a provider's API.

Only a refusal of the address itself is the reader's: the delivery bounces and the address is
suppressed. A server that asks us to slow down (421/451, HTTP 429) is obeyed. Anything about
us (the relay refuses our sender, the provider our credentials or account, the server is
unreachable) stops the batch and blames no reader: its rows wait, uncounted, for the next
sweep, and the delivery panel says why.
"""

import enum
import smtplib
from dataclasses import dataclass

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused

PUSHBACK_CODES = {421, 451}  # "try again later": too fast, greylisted, over a quota
ACCOUNT_STATUSES = {401, 402, 403}  # bad credentials, unpaid or suspended account


class Verdict(enum.Enum):
    REFUSED = "refused"  # the address is refused: bounced, never retried, suppressed
    RETRY = "retry"  # a passing failure: retried with backoff, within the attempts
    PUSHED_BACK = "pushed back"  # the server asks us to slow down: retried, and slower


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reconnect: bool  # the connection is unusable (421, dropped): open a new one
    detail: str

    @property
    def permanent(self) -> bool:
        return self.verdict is Verdict.REFUSED


class NotTheReadersFault(Exception):
    """Nothing can be sent now, through no reader's fault: the rest of the batch waits and no
    attempt is counted."""


def classify(error: Exception) -> Outcome:
    """An exception from smtplib, the socket or django-anymail, as what to do next."""
    if isinstance(error, AnymailError):
        return classify_provider(error)
    refused_address = isinstance(error, smtplib.SMTPRecipientsRefused)
    reply: bytes | str  # bytes as the server sent them; str in some of smtplib's own errors
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, reply = error.smtp_code, error.smtp_error
    elif isinstance(error, smtplib.SMTPServerDisconnected | OSError):
        return Outcome(Verdict.RETRY, True, f"connection: {error}")
    else:
        return Outcome(Verdict.RETRY, True, f"{type(error).__name__}: {error}")
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    detail = f"{code} {text}"[:500]
    # Only a refused recipient is the address's fault. A 5xx to the message itself (DATA:
    # too large, content refused) says nothing about the reader: retry within the attempts,
    # then fail, and never suppress anyone for it.
    if refused_address and 500 <= code < 600:
        verdict = Verdict.REFUSED
    elif code in PUSHBACK_CODES:
        verdict = Verdict.PUSHED_BACK
    else:
        verdict = Verdict.RETRY
    return Outcome(verdict, reconnect=code == 421, detail=detail)


def classify_provider(error: AnymailError) -> Outcome:
    """A provider's answer (through django-anymail) as an Outcome, or NotTheReadersFault."""
    detail = " ".join(str(error).split())[:500]
    if isinstance(error, AnymailRecipientsRefused):
        return Outcome(Verdict.REFUSED, False, detail)
    status = getattr(error, "status_code", None)
    if status in ACCOUNT_STATUSES:
        raise NotTheReadersFault(
            f"the provider refused our credentials or account ({status}): check EMAIL_PROVIDER "
            "and its keys"
        )
    if status == 429:
        return Outcome(Verdict.PUSHED_BACK, False, detail)
    if isinstance(error, AnymailAPIError) and status is None:
        raise NotTheReadersFault(f"the provider is unreachable: {detail[:200]}")
    return Outcome(Verdict.RETRY, False, detail)
