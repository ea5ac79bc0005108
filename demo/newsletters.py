"""The demo's seam to the newsletters app: newsletters, past issues, a draft and subscribers.

The one module of `articles` that imports `newsletters` at module level, so the dependency still
runs newsletters → articles everywhere else: `load_demo_content` imports it inside a function.

Past issues are archive copies, never mail: each gets its `IssueSend` row ("sent" to nobody)
before it is published, and the signal handler sends nothing for an issue that has one. Running
the loader again updates what it created and never re-subscribes or re-sends anything.
"""

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from django.core.management.base import CommandError
from taggit.models import Tag

from articles.models import HomePage, SectionPage
from demo.loader import assign_fields, publish
from newsletters.models import (
    IssueItem,
    IssuePage,
    IssueSend,
    NewsletterIndexPage,
    NewsletterPage,
    Subscriber,
    Subscription,
    Suppression,
)

NEWSLETTERS_PATH = Path(__file__).with_name("newsletters.json")
# Issues go out two hours after the demo's publication hour, on the day they are dated.
ISSUE_DELAY = timedelta(hours=2)
SEND_DURATION = timedelta(minutes=3)
NEWSLETTER_FIELDS = (
    "title",
    "description",
    "cadence",
    "sender_name",
    "sender_email",
    "reply_to",
    "promote_by_default",
    "lookback_days",
    "max_items",
)
ISSUE_FIELDS = ("title", "subject", "preheader", "intro", "closing_note")
SOURCE = "demo"


def read_newsletters(path: Path = NEWSLETTERS_PATH) -> dict:
    """The demo newsletters, issues and subscribers as written in newsletters.json."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CommandError(f"Cannot read demo newsletters from {path}: {error}") from error


def _issue_state(issue: IssuePage) -> dict:
    return {
        "fields": {name: getattr(issue, name) for name in ISSUE_FIELDS},
        "items": [(item.article_id, item.blurb) for item in issue.items.all()],
    }


def _rules_state(page: NewsletterPage) -> dict:
    return {
        name: sorted(obj.pk for obj in getattr(page, name).all())
        for name in ("compile_sections", "compile_series", "compile_tags", "promoted_on")
    }


class NewsletterDemoLoader:
    """Creates or updates the demo newsletters; counts what it did in the shared `report`."""

    def __init__(self, content: dict, today: datetime, report: Counter):
        self.content = content
        self.today = today
        self.report = report

    def _count(self, kind: str, outcome: str) -> None:
        self.report[(kind, outcome)] += 1

    def _day(self, days_ago: int) -> datetime:
        return self.today - timedelta(days=days_ago)

    def load(self, home: HomePage, articles: dict, series: dict) -> None:
        """Everything under /newsletters/ (with the series each is promoted on), then the
        subscribers."""
        index = self.load_index(home, self.content["index"])
        newsletters = {}
        for entry in self.content["newsletters"]:
            newsletter = self.load_newsletter(index, entry, series)
            newsletters[entry["slug"]] = newsletter
            for issue in entry["issues"]:
                self.load_past_issue(newsletter, issue, articles)
            if entry.get("draft"):
                self.load_draft(newsletter, entry["draft"])
        for entry in self.content["subscribers"]:
            self.load_subscriber(entry, newsletters)

    def load_index(self, home: HomePage, entry: dict) -> NewsletterIndexPage:
        """The one /newsletters/ page."""
        index = NewsletterIndexPage.objects.child_of(home).first()
        fields = {key: entry[key] for key in ("slug", "title", "intro")}
        if index is None:
            index = home.add_child(instance=NewsletterIndexPage(live=False, **fields))
            outcome = "created"
        else:
            outcome = assign_fields(index, fields)
            if outcome == "unchanged" and index.live and not index.has_unpublished_changes:
                self._count("newsletter index", outcome)
                return index
        publish(index, when=index.first_published_at or self._day(entry["launched_days_ago"]))
        self._count("newsletter index", outcome if outcome == "created" else "updated")
        return index

    def load_newsletter(
        self, index: NewsletterIndexPage, entry: dict, series: dict
    ) -> NewsletterPage:
        """A newsletter page with its sender and compile rules."""
        page = NewsletterPage.objects.child_of(index).filter(slug=entry["slug"]).first()
        fields = {name: entry[name] for name in NEWSLETTER_FIELDS}
        if fields["promote_by_default"]:
            # Only one newsletter may be promoted by default; an editor's choice stands.
            others = NewsletterPage.objects.filter(promote_by_default=True)
            if page is not None:
                others = others.exclude(pk=page.pk)
            fields["promote_by_default"] = not others.exists()
        rules = {
            "compile_sections": list(
                SectionPage.objects.filter(slug__in=entry["compile_sections"])
            ),
            "compile_series": [series[slug] for slug in entry["compile_series"]],
            "compile_tags": list(Tag.objects.filter(name__in=entry["compile_tags"])),
            # The series whose articles promote this newsletter instead of the default one.
            "promoted_on": [series[slug] for slug in entry["promoted_by_series"]],
        }
        before = (_rules_state(page), page.live, page.has_unpublished_changes) if page else None
        page = page or NewsletterPage(slug=entry["slug"], live=False)
        outcome = assign_fields(page, fields)
        for name, value in rules.items():
            setattr(page, name, value)
        if page.pk is None:
            index.add_child(instance=page)
            outcome = "created"
        elif outcome == "unchanged" and before == (_rules_state(page), True, False):
            self._count("newsletters", "unchanged")
            return page
        else:
            outcome = "updated"
        publish(page, when=page.first_published_at or self._day(entry["launched_days_ago"]))
        self._count("newsletters", outcome)
        return page

    def _items(self, issue_entry: dict, articles: dict, sent_at: datetime) -> list[IssueItem]:
        items = []
        for order, item in enumerate(issue_entry["items"]):
            article = articles.get(item["article"])
            if article is None:
                raise CommandError(
                    f"Demo issue {issue_entry['slug']!r} lists an unknown article "
                    f"{item['article']!r}."
                )
            if article.date >= sent_at:
                raise CommandError(
                    f"Demo issue {issue_entry['slug']!r} is dated before its article "
                    f"{item['article']!r}."
                )
            items.append(IssueItem(article=article, blurb=item["blurb"], sort_order=order))
        return items

    def load_past_issue(self, newsletter: NewsletterPage, entry: dict, articles: dict) -> None:
        """A published issue, backdated, whose delivery run is on record so nothing is sent."""
        if entry["days_ago"] < 1:
            raise CommandError(f"Demo issue {entry['slug']!r} must be dated in the past.")
        sent_at = self._day(entry["days_ago"]) + ISSUE_DELAY
        items = self._items(entry, articles, sent_at)
        issue = IssuePage.objects.child_of(newsletter).filter(slug=entry["slug"]).first()
        before = _issue_state(issue) if issue else None
        issue = issue or IssuePage(slug=entry["slug"], live=False)
        for name in ISSUE_FIELDS:
            setattr(issue, name, entry[name])
        issue.items = items
        if issue.pk is None:
            newsletter.add_child(instance=issue)
            outcome = "created"
        elif before == _issue_state(issue) and issue.live and not issue.has_unpublished_changes:
            outcome = "unchanged"
        else:
            outcome = "updated"
        # Before publishing: an issue with a delivery run on record is never mailed.
        IssueSend.objects.get_or_create(
            issue=issue,
            defaults={
                "state": IssueSend.State.SENT,
                "recipients": 0,
                "started_at": sent_at,
                "finished_at": sent_at + SEND_DURATION,
            },
        )
        if outcome != "unchanged":
            publish(issue, when=sent_at)
        self._count("past issues", outcome)

    def load_draft(self, newsletter: NewsletterPage, entry: dict) -> None:
        """An unpublished issue to try Compile, the previews, a test send and scheduling on.

        Created once and then left alone: whatever an editor did with it since is theirs.
        """
        if IssuePage.objects.child_of(newsletter).filter(slug=entry["slug"]).exists():
            self._count("draft issues", "unchanged")
            return
        fields = {name: entry[name] for name in ISSUE_FIELDS}
        issue = newsletter.add_child(instance=IssuePage(slug=entry["slug"], live=False, **fields))
        issue.save_revision()
        self._count("draft issues", "created")

    def load_subscriber(self, entry: dict, newsletters: dict) -> None:
        """A sample reader and their subscriptions, added once and never changed afterwards.

        Whatever became of a demo subscriber since (unsubscribed, erased, bounced) stands.
        """
        joined = self._day(entry["days_ago"]) - timedelta(hours=2, minutes=len(entry["name"]))
        status = entry["status"]
        confirmed = None if status == "pending" else joined + timedelta(minutes=4)
        left = self._day(entry["left_days_ago"]) if "left_days_ago" in entry else None
        subscriber = Subscriber.objects.filter(email=entry["email"]).first()
        if subscriber is None:
            if Suppression.covers(entry["email"]):
                self._count("subscribers", "suppressed, left out")
                return
            subscriber = Subscriber.objects.create(
                email=entry["email"],
                name=entry["name"],
                status=Subscriber.Status.BOUNCED
                if status == "bounced"
                else Subscriber.Status.ACTIVE,
                created_at=joined,
                consent_at=confirmed,
                consent_source=SOURCE,
                confirmation_sent_at=joined,
            )
            if status == "bounced":
                Suppression.add(subscriber.email, Suppression.Reason.BOUNCED)
            self._count("subscribers", "created")
        else:
            self._count("subscribers", "unchanged")
        for slug in entry["newsletters"]:
            defaults: dict[str, object]
            if status == "pending":
                defaults = {"status": Subscription.Status.PENDING}
            elif status == "unsubscribed":
                defaults = {"status": Subscription.Status.UNSUBSCRIBED, "unsubscribed_at": left}
            else:  # active, or bounced: a bounce suppresses the address, not the subscription
                defaults = {"status": Subscription.Status.ACTIVE}
            _, created = Subscription.objects.get_or_create(
                subscriber=subscriber,
                newsletter=newsletters[slug],
                defaults={
                    **defaults,
                    "source": SOURCE,
                    "created_at": joined,
                    "confirmed_at": confirmed,
                },
            )
            self._count("subscriptions", "created" if created else "unchanged")
