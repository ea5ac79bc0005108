"""Publishing an issue emails it: say first to how many, and when, and go on only if confirmed.

Wagtail publishes from the editor's "Publish" (now, or at the scheduled go-live time). For an
issue not sent yet, the `before_publish_page` hook runs the pre-send checks (see presend) and
stops that publish when they find errors, or unless the request carries the number of
recipients the editor agreed to (`confirm_send`) and, when there are warnings, their "send
anyway" (`send_anyway`), both set by the dialog in the editor or by the confirmation page shown
without JavaScript; the draft revision has been saved by then, so declining loses nothing and
sends nothing.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.defaultfilters import date as format_date
from django.template.response import TemplateResponse
from django.utils import timezone
from wagtail.admin.action_menu import PublishMenuItem

from newsletters import presend
from newsletters.models import IssuePage, IssueSend, Subscription

CONFIRM_FIELD = "confirm_send"


def recipients_now(newsletter) -> int:
    """Who an issue would go to if it went live now: the same rule as the ledger's."""
    return Subscription.objects.mailable(newsletter.pk).count()


def was_sent(issue: IssuePage) -> bool:
    """Whether the issue has had its one delivery run (sent, sending, or missed)."""
    return IssueSend.objects.filter(issue_id=issue.pk).exists()


def when_text(moment: datetime) -> str:
    return format_date(timezone.localtime(moment), "j F Y \\a\\t H:i")


@dataclass(frozen=True)
class SendPlan:
    """What publishing an issue now will do, in the editor's words."""

    title: str
    newsletter: str
    recipients: int
    go_live_at: datetime | None  # None: now

    @classmethod
    def for_issue(cls, issue: IssuePage, newsletter=None) -> "SendPlan":
        newsletter = newsletter or issue.get_parent()
        later = issue.go_live_at if issue.go_live_at and issue.go_live_at > timezone.now() else None
        return cls(issue.title, newsletter.title, recipients_now(newsletter), later)

    @property
    def audience(self) -> str:
        people = "confirmed subscriber" + ("" if self.recipients == 1 else "s")
        return f"{self.recipients} {people} of {self.newsletter}"

    @property
    def question(self) -> str:
        when = f"at {when_text(self.go_live_at)}" if self.go_live_at else "now"
        return f"Send “{self.title}” to {self.audience} {when}?"

    @property
    def button(self) -> str:
        if self.go_live_at:
            return f"Schedule: send at {when_text(self.go_live_at)}"
        return f"Publish and send to {self.recipients}"

    def confirmed_by(self, data) -> bool:
        """Whether the editor agreed to this very number of recipients."""
        return data.get(CONFIRM_FIELD) == str(self.recipients)


def confirmation_page(
    request, issue: IssuePage, plan: SendPlan, report: presend.PresendReport
) -> TemplateResponse:
    """The question, on a page of its own: the editor's way when the dialog could not ask, or
    when the checks found warnings the editor has not agreed to."""
    return TemplateResponse(
        request,
        "newsletters/admin/confirm_send.html",
        {
            "issue": issue,
            "plan": plan,
            "revision_id": issue.latest_revision_id,
            "confirm_field": CONFIRM_FIELD,
            "report": report,
            "send_anyway_field": presend.SEND_ANYWAY_FIELD,
            "header_title": "Send this issue?",
            "page_title": "Send this issue?",
            "header_icon": "mail",
        },
    )


def announce(request, issue: IssuePage, *, first_publication: bool) -> None:
    """Tell the editor what publishing did to the email, beside Wagtail's own message."""
    send = IssueSend.objects.filter(issue_id=issue.pk).first()
    if issue.go_live_at and issue.go_live_at > timezone.now() and not issue.live:
        plan = SendPlan.for_issue(issue)
        messages.info(
            request,
            f"It will be emailed at {when_text(issue.go_live_at)} to the confirmed subscribers "
            f"of {plan.newsletter} at that moment ({plan.recipients} today).",
        )
    elif first_publication and send is not None and send.state != IssueSend.State.MISSED:
        # Still sending, or (with a fast worker) sent already: the panel says which.
        messages.success(
            request,
            f"Emailing it to {send.recipients} confirmed subscriber"
            f"{'' if send.recipients == 1 else 's'}: follow it in the Delivery panel.",
        )
    elif not first_publication and send is not None:
        sent = f"It was emailed on {when_text(send.started_at)}"
        if send.state == IssueSend.State.MISSED:
            sent = "It missed its schedule and was not emailed"
        messages.info(request, f"Only the web copy was updated. {sent}; nothing is sent again.")


def refuse(request, issue: IssuePage, report: presend.PresendReport) -> HttpResponseRedirect:
    """Back to the editor, saying what to fix: the pre-send checks found errors."""
    messages.error(request, report.refusal())
    return redirect("wagtailadmin_pages:edit", issue.pk)


def hold_before_sending(request, issue: IssuePage) -> HttpResponse | None:
    """None when `issue` may be published now; else the answer that stops it: the editor
    again, when the checks found errors, or the question, until it is answered."""
    report = presend.check_issue(issue)
    if report.errors:
        return refuse(request, issue, report)
    plan = SendPlan.for_issue(issue)
    if plan.confirmed_by(request.POST) and report.accepted_by(request.POST):
        return None
    return confirmation_page(request, issue, plan, report)


class IssuePublishMenuItem(PublishMenuItem):
    """Publish, for an issue: says whether it sends, and asks to whom before it does."""

    template_name = "newsletters/admin/publish_issue_menu_item.html"

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        issue = parent_context.get("page") or IssuePage(title="")  # or being created
        if issue.pk and was_sent(issue):
            context["label"] = "Publish the web copy"
            return context
        newsletter = parent_context.get("parent_page") or issue.get_parent()
        context["plan"] = SendPlan.for_issue(issue, newsletter)
        context["report"] = presend.report_for(issue) if issue.pk else None
        context["send_anyway_field"] = presend.SEND_ANYWAY_FIELD
        context["label"] = "Publish and send"
        return context
