"""Pre-send checks: what an editor fixes, or agrees to, before an issue goes to its readers.

The issue's own words and its email as readers will get it are checked: links (the same checks
as articles', see articles.content_checks), alt text, placeholders, the subject and preheader,
Gmail's clipping limit and the plain-text part. Errors stop publishing; warnings stop it until
the editor ticks "send anyway" for exactly those warnings. The Delivery panel shows the report,
and publishing runs it again on what is being published.
"""

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property

from articles.content_checks import (
    ARTICLE_KINDS,
    ERROR,
    WARNING,
    Problem,
    alt_text_problem,
    dead_pages,
    link_problems,
    links_in,
    placeholders,
)
from newsletters.rendering import GMAIL_CLIP_BYTES, RenderedIssue, issue_items, render_issue

SEND_ANYWAY_FIELD = "send_anyway"
# Inboxes cut subjects at about 60 characters (fewer on phones), and show 40 to 100
# characters of the preheader after it.
SUBJECT_MAX = 60
PREHEADER_MAX = 100
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')]+")
# What Wagtail's Checks panel calls each kind of problem (see content_checks.add_to_checks_panel).
ISSUE_KINDS = {
    **ARTICLE_KINDS,
    "items": ("Issue without articles", "Compile it from recent articles, or add some"),
    "subject": ("Subject too long for inboxes", "Keep it under about 60 characters"),
    "preheader": ("Preheader empty or too long", "Write 40 to 100 characters"),
    "size": ("Email clipped by Gmail", "Keep the email under 102 KB"),
    "text": ("Plain-text part hard to read", "See the Delivery panel"),
}
LEFTOVER_MARKUP = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*|/[a-zA-Z][a-zA-Z0-9]*)[^<>]*>|&#?\w+;")


@dataclass(frozen=True)
class PresendReport:
    """The pre-send checks of one issue: errors first, then warnings."""

    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if not problem.is_error]

    @cached_property
    def fingerprint(self) -> str:
        """Names these warnings: "send anyway" agrees to them, not to ones found later."""
        said = "\n".join(problem.message for problem in self.warnings)
        return hashlib.sha256(said.encode()).hexdigest()[:16]

    def accepted_by(self, data) -> bool:
        """Whether the editor agreed to send despite these very warnings (or there are none)."""
        return not self.warnings or data.get(SEND_ANYWAY_FIELD) == self.fingerprint

    def refusal(self) -> str:
        count = len(self.errors)
        problems = " ".join(problem.message for problem in self.errors)
        return (
            f"Not published, nothing was sent: the pre-send checks found {count} "
            f"problem{'s' if count != 1 else ''} to fix first. {problems} "
            "Your changes are saved as a draft."
        )


def check_issue(issue) -> PresendReport:
    """Every pre-send check of `issue` (a specific IssuePage, possibly unsaved changes)."""
    rendered = render_issue(issue)
    problems = (
        item_problems(issue)
        + word_problems(issue)
        + email_link_problems(issue, rendered)
        + picture_problems(issue)
        + size_problems(rendered)
        + text_part_problems(issue, rendered)
    )
    ordered = [p for p in problems if p.is_error] + [p for p in problems if not p.is_error]
    return PresendReport(tuple(dict.fromkeys(ordered)))


def report_for(issue) -> PresendReport:
    """The report of the issue as loaded in the editor, made once however many parts show it."""
    if not hasattr(issue, "_presend_report"):
        issue._presend_report = check_issue(issue)
    return issue._presend_report


def chosen_items(issue) -> list:
    return [item for item in issue.items.all() if item.article_id]


def item_problems(issue) -> list[Problem]:
    """Articles readers cannot open, and articles that would show nothing under their title."""
    items = chosen_items(issue)
    if not items:
        message = "The issue has no articles: compile it from recent articles, or add some."
        return [Problem(ERROR, "items", message)]
    problems = [
        Problem(
            ERROR,
            "link",
            f"The issue features “{title}”, which readers cannot open: publish it or remove it.",
        )
        for title in [page.title for page in dead_pages(i.article_id for i in items).values()]
    ]
    for item in items:
        article = item.article
        if not item.blurb.strip() and not article.listing_summary.strip():
            problems.append(
                Problem(
                    ERROR,
                    "placeholder",
                    f"“{article.title}” has no blurb, and the article has no summary or "
                    "standfirst: write a blurb, or the email shows nothing under its title.",
                )
            )
    return problems


def word_problems(issue) -> list[Problem]:
    """Placeholders in everything the editor wrote or the issue quotes, and the subject line
    and preheader as inboxes show them."""
    texts = [
        ("the subject", issue.subject),
        ("the preheader", issue.preheader),
        ("the intro", issue.intro),
        ("the closing note", issue.closing_note),
    ]
    for item in chosen_items(issue):
        title = item.article.title
        texts.append((f"the title of “{title}”", title))
        if item.blurb.strip():
            texts.append((f"the blurb of “{title}”", item.blurb))
        else:
            texts.append(
                (f"the summary of “{title}” (the issue has no blurb)", item.article.listing_summary)
            )
    problems = [problem for where, text in texts for problem in placeholders(where, text)]
    return problems + headline_problems(issue)


def headline_problems(issue) -> list[Problem]:
    problems = []
    subject = (issue.subject or issue.title or "").strip()
    if len(subject) > SUBJECT_MAX:
        problems.append(
            Problem(
                WARNING,
                "subject",
                f"The subject is {len(subject)} characters long: inboxes show about "
                f"{SUBJECT_MAX}, fewer on phones.",
            )
        )
    preheader = (issue.preheader or "").strip()
    if not preheader:
        problems.append(
            Problem(
                WARNING,
                "preheader",
                "The preheader is empty: inboxes will show the first words of the email "
                "after the subject instead.",
            )
        )
    elif len(preheader) > PREHEADER_MAX:
        problems.append(
            Problem(
                WARNING,
                "preheader",
                f"The preheader is {len(preheader)} characters long: inboxes show at most "
                f"about {PREHEADER_MAX}.",
            )
        )
    return problems


def email_link_problems(issue, rendered: RenderedIssue) -> list[Problem]:
    """Every link in the email (both parts) and the pages the intro and closing note link."""
    page_ids = links_in(issue.intro).page_ids + links_in(issue.closing_note).page_ids
    hrefs = links_in(rendered.html).hrefs + URL_IN_TEXT.findall(rendered.text)
    return link_problems("the email", page_ids, hrefs)


def picture_problems(issue) -> list[Problem]:
    """Each article's picture has alt text that describes it (the email's only pictures)."""
    problems = [
        alt_text_problem(f"“{item.title}”", item.image_alt, item.image)
        for item in issue_items(issue)
        if item.image
    ]
    return [problem for problem in problems if problem is not None]


def size_problems(rendered: RenderedIssue) -> list[Problem]:
    if not rendered.clipped_by_gmail:
        return []
    return [Problem(WARNING, "size", clipping_warning(rendered.html_size))]


def clipping_warning(size: int) -> str:
    return (
        f"The email is {size // 1024} KB: Gmail clips messages over {GMAIL_CLIP_BYTES // 1024} "
        "KB and hides the rest, including the unsubscribe link. Remove an article or shorten "
        "blurbs."
    )


def text_part_problems(issue, rendered: RenderedIssue) -> list[Problem]:
    """The plain-text part is there, carries no markup, and links every article."""
    text = rendered.text.strip()
    if not text:
        return [Problem(ERROR, "text", "The email has no plain-text part.")]
    problems = []
    if leftover := LEFTOVER_MARKUP.findall(text):
        shown = ", ".join(dict.fromkeys(leftover[:3]))
        problems.append(
            Problem(WARNING, "text", f"The plain-text part shows markup to readers: {shown}.")
        )
    for item in issue_items(issue):
        if item.url not in text:
            problems.append(
                Problem(WARNING, "text", f"The plain-text part has no link to “{item.title}”.")
            )
    return problems
