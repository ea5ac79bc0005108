"""One mailbox, one spelling: the canonical form every subscriber address is stored,
compared and hashed under.

RFC 5321 lets one mailbox be written many ways: a quoted or backslash-escaped local part, a
domain in Unicode or in punycode, in any case. Each spelling must reach the same subscriber,
the same confirmation cooldown and the same suppression hash. email-validator parses and
normalises; the canonical form is the lower-cased local part at the IDNA-encoded, lower-cased
domain (`name@例子.广告` → `name@xn--fsqu00a.xn--4rr70v`).

What readers type is held to the strict rule: quoted or escaped local parts (rare, and a way to
re-spell someone else's address) and internationalised local parts (they need SMTPUTF8 end
to end, which we do not send) are refused with a message that says so. Internationalised
domains are accepted.
"""

import idna
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254

QUOTED = (
    "Please use a plain address, without quotation marks or backslashes before the @ "
    "(for example name@example.com)."
)
INTERNATIONAL_LOCAL_PART = (
    "We can only send to addresses whose part before the @ uses Latin letters, digits and "
    ". _ + - (the part after the @ may be in any script)."
)


def canonical_email(raw: str) -> str:
    """The canonical form of an address a person typed; ValidationError with a clear message."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("Enter an email address.", code="required")
    raw = raw.strip()
    if len(raw) > MAX_LENGTH:
        raise ValidationError(
            f"An email address has at most {MAX_LENGTH} characters.", code="too_long"
        )
    local_part = raw.rpartition("@")[0]
    if local_part.startswith('"') or "\\" in local_part:
        raise ValidationError(QUOTED, code="quoted")
    if not local_part.isascii():
        raise ValidationError(INTERNATIONAL_LOCAL_PART, code="international_local_part")
    try:
        parsed = validate_email(
            raw,
            check_deliverability=False,
            allow_quoted_local=False,
            allow_smtputf8=False,
            allow_domain_literal=False,
            allow_display_name=False,
        )
    except EmailNotValidError as error:
        raise ValidationError(str(error), code="invalid") from error
    return _join(parsed.local_part, parsed.ascii_domain)


def stored_form(address: str) -> str:
    """The canonical form where there is one, for what is already stored.

    Rows from before the strict rule (a quoted local part that needs its quotes, a domain
    that is no longer accepted) keep a lower-cased form: they can still be mailed and erased.
    """
    address = address.strip()
    try:
        parsed = validate_email(
            address,
            check_deliverability=False,
            allow_quoted_local=True,
            allow_smtputf8=True,
            allow_domain_literal=True,
            globally_deliverable=False,
            test_environment=True,
        )
    except EmailNotValidError:
        return address.lower()
    return _join(parsed.local_part, parsed.ascii_domain or parsed.domain)


def display_form(address: str) -> str:
    """The address with its domain in the script its owner reads (for pages and the admin)."""
    local_part, _, domain = address.rpartition("@")
    try:
        return f"{local_part}@{idna.decode(domain)}" if "xn--" in domain else address
    except idna.IDNAError:
        return address


def _join(local_part: str, domain: str) -> str:
    return f"{local_part.lower()}@{domain.lower()}"
