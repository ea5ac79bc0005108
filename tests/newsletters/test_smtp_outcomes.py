"""What each SMTP answer means for a delivery: only a refused address ever suppresses anyone."""

import smtplib

from newsletters.outcomes import classify


def test_a_refused_recipient_is_a_permanent_bounce():
    outcome = classify(smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no such user")}))

    assert outcome.permanent
    assert "550 no such user" in outcome.detail


def test_a_refused_message_suppresses_no_one():
    for code in (552, 554):  # too large; content refused: the message's fault, not the reader's
        assert not classify(smtplib.SMTPDataError(code, b"refused")).permanent


def test_a_temporary_refusal_is_retried_on_the_same_connection():
    outcome = classify(smtplib.SMTPRecipientsRefused({"a@example.org": (451, b"try later")}))

    assert not outcome.permanent
    assert not outcome.reconnect


def test_421_and_a_dropped_connection_mean_a_fresh_connection():
    assert classify(smtplib.SMTPDataError(421, b"closing")).reconnect
    assert classify(smtplib.SMTPServerDisconnected("gone")).reconnect
