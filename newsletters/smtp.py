"""One message over an open SMTP connection, let go only when the caller says so.

A server accepts a message when it reads the line "." that ends its data, and not before: a
client that dies, or hangs up, before sending that line has sent nothing. `send_held()` is
smtplib's `sendmail()` for one recipient, with a pause before the data, so that the work that
must be done before a message may be accepted (writing down that the previous one was) goes
on while the server is busy with the envelope (MAIL, RCPT, DATA); and a moment, while the
server reads the message, to get on with other work (making the next one).
"""

import contextlib
import re
import smtplib
from collections.abc import Callable

CRLF = b"\r\n"
# A line of the message that starts with "." is sent with one more (RFC 5321, 4.5.2), as
# smtplib's data() does.
LEADING_DOT = re.compile(rb"(?m)^\.")


def send_held(
    smtp: smtplib.SMTP,
    sender: str,
    recipient: str,
    message: bytes,
    before_data: Callable[[], None],
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Send `message` (bytes with CRLF line ends) from `sender` to `recipient`, its data
    only once `before_data()` has returned, and call `meanwhile()` (which must not raise)
    while the server reads it, before its answer is read.

    Replies and errors are those of `sendmail()`: SMTPSenderRefused at MAIL,
    SMTPRecipientsRefused at RCPT, SMTPDataError at DATA or after the data, the connection
    closed after a 421 and reset after any other refusal. If `before_data()` raises, the
    connection is closed inside DATA, before any of the message, so the server drops it, and
    the exception goes on.
    """
    smtp.ehlo_or_helo_if_needed()
    options = [f"size={len(message)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
    code, reply = smtp.mail(sender, options)
    if code != 250:
        _abandon(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = smtp.rcpt(recipient)
    if code not in (250, 251):
        _abandon(smtp, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        _abandon(smtp, code)
        raise smtplib.SMTPDataError(code, reply)
    data = message
    if data.startswith(b".") or b"\n." in data:
        data = LEADING_DOT.sub(b"..", data)
    if not data.endswith(CRLF):
        data += CRLF
    try:
        before_data()
    except BaseException:
        # Inside DATA, anything sent would be part of the message (even QUIT): hang up.
        smtp.close()
        raise
    smtp.send(data + b"." + CRLF)
    if meanwhile is not None:
        meanwhile()
    code, reply = smtp.getreply()
    if code != 250:
        _abandon(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def _abandon(smtp: smtplib.SMTP, code: int) -> None:
    """After a refusal: hang up if the server is closing (421), else reset the transaction."""
    if code == 421:
        smtp.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):  # the next command says so
        smtp.rset()
