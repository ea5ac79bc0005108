"""The newsletters panel on an editor's dashboard: what goes out next, what is going out, what
went wrong, and whether readers are joining or leaving."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q
from django.utils import timezone
from wagtail.admin.ui.components import Component
from wagtail.models import Revision

from newsletters.models import (
    Delivery,
    IssuePage,
    IssueSend,
    NewsletterPage,
    Subscription,
    progress_of,
)

RECENT = timedelta(days=30)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class ScheduledIssue:
    issue: IssuePage
    newsletter: NewsletterPage
    go_live_at: datetime
    recipients: int  # if it went out now


@dataclass(frozen=True)
class Growth:
    newsletter: NewsletterPage
    confirmed: int  # mailable today
    joined_this_week: int
    joined_last_week: int
    left_this_week: int


def scheduled_issues(audiences: dict[int, int]) -> list[ScheduledIssue]:
    """Issues whose publication (and so whose sending) Wagtail has scheduled, soonest first."""
    revisions = Revision.objects.filter(
        approved_go_live_at__isnull=False,
        content_type=ContentType.objects.get_for_model(IssuePage),
    ).values_list("object_id", "approved_go_live_at")
    when = {int(pk): go_live_at for pk, go_live_at in revisions}
    newsletters = {newsletter.path: newsletter for newsletter in NewsletterPage.objects.all()}
    scheduled = []
    for issue in IssuePage.objects.filter(pk__in=when):
        newsletter = newsletters[issue.path[: -IssuePage.steplen]]
        reach = audiences.get(newsletter.pk, 0)
        scheduled.append(ScheduledIssue(issue, newsletter, when[issue.pk], reach))
    return sorted(scheduled, key=lambda entry: entry.go_live_at)


def sends_in_progress() -> list:
    sends = IssueSend.objects.filter(state=IssueSend.State.SENDING).select_related("issue")
    return [(send, progress_of(send.issue)) for send in sends.order_by("started_at")]


def recent_failures():
    """Sends that paused themselves, missed their schedule or have failed rows, in the last
    month."""
    failed = Count("issue__deliveries", filter=Q(issue__deliveries__status=Delivery.Status.FAILED))
    return (
        IssueSend.objects.filter(started_at__gte=timezone.now() - RECENT)
        .annotate(failed=failed)
        .filter(Q(state__in=[IssueSend.State.MISSED, IssueSend.State.PAUSED]) | Q(failed__gt=0))
        .select_related("issue")
        .order_by("-started_at")[:10]
    )


def growth(audiences: dict[int, int]) -> list[Growth]:
    """Per newsletter: confirmed readers now, who confirmed this week and last, who left."""
    now = timezone.now()
    joined = "subscriptions__confirmed_at"
    left = "subscriptions__unsubscribed_at"
    newsletters = NewsletterPage.objects.annotate(
        joined_this_week=Count("subscriptions", filter=Q(**{f"{joined}__gte": now - WEEK})),
        joined_last_week=Count(
            "subscriptions",
            filter=Q(**{f"{joined}__gte": now - 2 * WEEK, f"{joined}__lt": now - WEEK}),
        ),
        left_this_week=Count("subscriptions", filter=Q(**{f"{left}__gte": now - WEEK})),
    ).order_by("title")
    return [
        Growth(
            newsletter=newsletter,
            confirmed=audiences.get(newsletter.pk, 0),
            joined_this_week=newsletter.joined_this_week,
            joined_last_week=newsletter.joined_last_week,
            left_this_week=newsletter.left_this_week,
        )
        for newsletter in newsletters
    ]


def audiences() -> dict[int, int]:
    """Mailable subscribers per newsletter now: whom an issue going out now would reach."""
    return {
        pk: Subscription.objects.mailable(pk).count()
        for pk in NewsletterPage.objects.values_list("pk", flat=True)
    }


class NewsletterDashboardPanel(Component):
    """Shown to those who manage newsletters (see wagtail_hooks)."""

    name = "newsletters"
    template_name = "newsletters/admin/dashboard_panel.html"
    order = 90

    def get_context_data(self, parent_context=None):
        context = super().get_context_data(parent_context)
        reach = audiences()
        context.update(
            scheduled=scheduled_issues(reach),
            sending=sends_in_progress(),
            failures=recent_failures(),
            growth=growth(reach),
        )
        return context
