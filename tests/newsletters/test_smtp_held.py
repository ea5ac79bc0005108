"""newsletters.smtp.send_held() against a real SMTP server on 127.0.0.1: it holds a message's
data until the caller lets it go, and otherwise answers exactly as smtplib's sendmail() does."""

import smtplib

import pytest

from newsletters.smtp import send_held
from tests.newsletters.smtp_sink import SmtpSink

SENDER = "issues@outlet.test"
# A line that starts with "." must reach the server as it was written (RFC 5321 dot-stuffing).
MESSAGE = (
    b"From: Outlet <issues@outlet.test>\r\nTo: reader@example.com\r\n"
    b"Subject: Held\r\nMessage-ID: <held@outlet.test>\r\n\r\n"
    b"The first line.\r\n.A line that starts with a dot\r\n..and one with two\r\n.\r\nEnd\r\n"
)


@pytest.fixture
def server():
    with SmtpSink() as sink, smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
        yield sink, smtp


def test_nothing_is_accepted_until_the_caller_lets_the_message_go(server):
    sink, smtp = server
    seen = {}

    def before_data():
        # The server has the envelope and has said "go ahead" (354) to the data.
        seen["verbs"] = [event.verb for event in sink.events]
        seen["accepted"] = sink.received_count()

    def meanwhile():
        seen["meanwhile"] = seen.get("meanwhile", 0) + 1

    send_held(smtp, SENDER, "reader@example.com", MESSAGE, before_data, meanwhile)

    assert seen["verbs"] == ["EHLO", "MAIL", "RCPT"] and seen["accepted"] == 0
    assert seen["meanwhile"] == 1
    assert sink.counts() == {"reader@example.com": 1}
    body = MESSAGE.split(b"\r\n\r\n", 1)[1].decode()
    assert sink.messages[0].message.get_payload() == body  # its dots as they were written
    # The connection goes on: a second message over it.
    send_held(smtp, SENDER, "second@example.com", MESSAGE, lambda: None)
    assert sink.received_count() == 2 and len({m.connection for m in sink.messages}) == 1


def test_a_message_the_caller_holds_back_never_reaches_the_reader(server):
    sink, smtp = server
    meanwhile = []

    def before_data():
        raise RuntimeError("the previous message could not be recorded")

    with pytest.raises(RuntimeError, match="could not be recorded"):
        send_held(smtp, SENDER, "reader@example.com", MESSAGE, before_data, meanwhile.append)

    assert smtp.sock is None, "hung up, rather than send anything more inside DATA"
    assert meanwhile == []
    # The server dropped the unfinished message: the next one, on a new connection, is the
    # first it accepts.
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as again:
        send_held(again, SENDER, "next@example.com", MESSAGE, lambda: None)
    assert sink.counts() == {"next@example.com": 1}


def refusals(sink: SmtpSink, case: str) -> None:
    """Each way a server refuses a message, at each stage."""
    if case == "sender":
        sink.refuse_sender(553)
    elif case == "recipient":
        sink.refuse(["reader@example.com"], code=550)
    elif case in ("rcpt-421", "rcpt-451", "data-451", "data-554"):
        stage, code = case.split("-")
        sink.transient(1.0, codes=(int(code),), stage=stage.upper(), limit_per_address=None)


@pytest.mark.parametrize(
    "case", ["sender", "recipient", "rcpt-421", "rcpt-451", "data-451", "data-554"]
)
def test_a_refusal_raises_what_sendmail_raises_and_leaves_the_connection_as_it_does(case):
    """The same server, the same refusal: send_held() and sendmail() side by side."""
    outcomes = []
    for send in ("sendmail", "send_held"):
        with SmtpSink() as sink, smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
            refusals(sink, case)
            with pytest.raises(smtplib.SMTPException) as raised:
                if send == "sendmail":
                    smtp.sendmail(SENDER, ["reader@example.com"], MESSAGE)
                else:
                    send_held(smtp, SENDER, "reader@example.com", MESSAGE, lambda: None)
            error = raised.value
            codes = (
                {k: v[0] for k, v in error.recipients.items()}
                if isinstance(error, smtplib.SMTPRecipientsRefused)
                else getattr(error, "smtp_code", None)
            )
            outcomes.append((type(error), codes, smtp.sock is None, sink.received_count()))
    assert outcomes[0] == outcomes[1], outcomes
    assert outcomes[0][3] == 0
