"""How issues are numbered: "No. 5" in the title, "no-5" in the address."""

import re

ISSUE_SLUG = re.compile(r"^no-(\d+)$")
ISSUE_TITLE = re.compile(r"\bNo\.\s*(\d+)\s*$")


def issue_number(slug: str, title: str) -> int | None:
    """The number of an issue, from its slug ("no-5") or else its title ("…, No. 5")."""
    match = ISSUE_SLUG.match(slug or "") or ISSUE_TITLE.search(title or "")
    return int(match.group(1)) if match else None


def issue_slug(number: int) -> str:
    return f"no-{number}"
