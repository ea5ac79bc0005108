"""Editors' actions on an issue: compile, send a test, see delivery, retry what failed."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import resolve, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from wagtail.log_actions import log

from newsletters import pausing, presend, publishing
from newsletters.addresses import canonical_email
from newsletters.compile import compile_issue
from newsletters.models import Delivery, IssuePage, IssueSend, progress_of
from newsletters.rendering import render_issue
from newsletters.suppression import may_email
from newsletters.tasks import start_workers


def _issue_for(request, issue_id: int, *, can: str) -> IssuePage:
    issue = get_object_or_404(IssuePage, pk=issue_id)
    permissions = issue.permissions_for_user(request.user)
    if not getattr(permissions, f"can_{can}")():
        raise PermissionDenied
    return issue


def save_the_editors_form(request, issue: IssuePage) -> HttpResponse | None:
    """Save the issue editor's form, posted here by a button in it, as a draft revision.

    Compile and "send a test" act on what the editor sees, unsaved changes included, so the
    form goes through Wagtail's own edit view first: the same validation, locking, comments
    and audit log as "Save draft". Returns None once saved, or the editor page with the errors.
    """
    edit_url = reverse("wagtailadmin_pages:edit", args=[issue.pk])
    response = resolve(edit_url).func(request, page_id=issue.pk)
    if response.status_code == 302 and response.url.startswith(edit_url):
        return None
    return response


@require_POST
def compile_view(request, issue_id):
    issue = _issue_for(request, issue_id, can="edit")
    if (not_saved := save_the_editors_form(request, issue)) is not None:
        messages.error(request, "Nothing was compiled: correct the errors below first.")
        return not_saved
    draft = IssuePage.objects.get(pk=issue.pk).get_latest_revision_as_object()
    added = compile_issue(draft)
    if added:
        draft.save_revision(user=request.user, log_action=False)
        log(draft, "newsletters.compile", user=request.user, data={"added": len(added)})
        messages.success(
            request,
            f"Saved your changes and added {len(added)} article{'s' if len(added) != 1 else ''} "
            "to the draft. Reorder, remove or rewrite blurbs, then save.",
        )
    else:
        messages.info(
            request,
            "Saved your changes. No new articles match this newsletter's rules since its "
            "last issue.",
        )
    return redirect("wagtailadmin_pages:edit", issue.pk)


@require_POST
def publish_view(request, issue_id):
    """The confirmation page's button: publish the draft the editor saved, once agreed to."""
    issue = _issue_for(request, issue_id, can="publish")
    back = redirect("wagtailadmin_pages:edit", issue.pk)
    if request.POST.get("revision") != str(issue.latest_revision_id):
        messages.error(request, "The issue was saved again since: check it, then publish.")
        return back
    if (lock := issue.get_lock()) and lock.for_user(request.user):
        messages.error(request, lock.get_message(request.user))
        return back
    revision = issue.latest_revision
    draft = revision.as_object()
    if not publishing.was_sent(issue):
        report = presend.check_issue(draft)
        if report.errors:
            return publishing.refuse(request, issue, report)
        plan = publishing.SendPlan.for_issue(draft)
        if not plan.confirmed_by(request.POST):
            messages.warning(request, "The number of confirmed subscribers has changed.")
            return publishing.confirmation_page(request, draft, plan, report)
        if not report.accepted_by(request.POST):
            messages.warning(request, "Tick “Send anyway” to send despite these warnings.")
            return publishing.confirmation_page(request, draft, plan, report)
    first = issue.first_published_at is None
    revision.publish(user=request.user)
    issue = IssuePage.objects.get(pk=issue.pk)
    done = "has been published" if issue.live else "has been scheduled for publishing"
    messages.success(request, f"Page '{issue.get_admin_display_title()}' {done}.")
    publishing.announce(request, issue, first_publication=first)
    return back


MAX_TEST_RECIPIENTS = 10


@require_POST
def send_test_view(request, issue_id):
    issue = _issue_for(request, issue_id, can="edit")
    if (not_saved := save_the_editors_form(request, issue)) is not None:
        messages.error(request, "No test was sent: correct the errors below first.")
        return not_saved
    recipients, refused = test_recipients(request.user, request.POST.get("test_recipients", ""))
    for address, reason in refused:
        messages.error(request, f"Not sent to {address}: {reason}")
    if not recipients:
        if not refused:
            messages.error(request, "Add an email address to your account to receive test sends.")
        return redirect("wagtailadmin_pages:edit", issue.pk)
    draft = IssuePage.objects.get(pk=issue.pk).get_latest_revision_as_object()
    rendered = render_issue(draft)  # the exact email readers will get; only the subject says TEST
    with get_connection() as connection:
        for address in recipients:
            rendered.message_for(
                TestRecipient(address), subject_prefix="[TEST] ", connection=connection
            ).send()
    log(draft, "newsletters.send_test", user=request.user, data={"to": recipients})
    messages.success(
        request,
        f"Saved your changes and sent a test of them to {', '.join(recipients)}. "
        "Nothing was recorded as delivered.",
    )
    if rendered.clipped_by_gmail:
        messages.warning(request, presend.clipping_warning(rendered.html_size))
    return redirect("wagtailadmin_pages:edit", issue.pk)


def test_recipients(user, typed: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The editor, and the other addresses they typed (comma-separated), minus those refused.

    Addresses of people who are not staff are held to the suppression rule like any reader's.
    """
    recipients, refused = [user.email] if user.email else [], []
    for raw in [part for part in typed.replace(";", ",").split(",") if part.strip()]:
        try:
            address = canonical_email(raw)
        except ValidationError as error:
            refused.append((raw.strip(), " ".join(error.messages)))
            continue
        if address in recipients:
            continue
        if len(recipients) >= MAX_TEST_RECIPIENTS:
            refused.append((address, f"a test goes to at most {MAX_TEST_RECIPIENTS} addresses."))
        elif not is_staff_address(address) and not may_email(address):
            refused.append((address, "Outlet does not mail this address (it is suppressed)."))
        else:
            recipients.append(address)
    return recipients, refused


def is_staff_address(address: str) -> bool:
    """Whether the address belongs to someone who can use the admin."""
    users = get_user_model().objects.filter(email__iexact=address, is_active=True)
    return any(user.has_perm("wagtailadmin.access_admin") for user in users)


class TestRecipient:
    """Stands in for a subscriber in a test send: links in it are signed for nobody."""

    pk = 0
    token_version = 0

    def __init__(self, email: str):
        self.email = email


def delivery_view(request, issue_id):
    issue = _issue_for(request, issue_id, can="edit")
    failed = Delivery.objects.filter(issue=issue, status=Delivery.Status.FAILED).select_related(
        "subscriber"
    )[:200]
    return TemplateResponse(
        request,
        "newsletters/admin/delivery.html",
        {"issue": issue, "progress": progress_of(issue), "failed": failed},
    )


@require_POST
def retry_failed_view(request, issue_id):
    issue = _issue_for(request, issue_id, can="publish")
    with transaction.atomic():
        retried = Delivery.objects.filter(issue=issue, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if retried:
            # A paused run stays paused: the retried rows wait for the editor who resumes it.
            IssueSend.objects.filter(issue=issue).exclude(state=IssueSend.State.PAUSED).update(
                state=IssueSend.State.SENDING, finished_at=None
            )
            log(issue, "newsletters.retry", user=request.user, data={"retried": retried})
            transaction.on_commit(lambda: start_workers(issue.pk))
    messages.success(request, f"Retrying {retried} failed deliver{'ies' if retried != 1 else 'y'}.")
    return redirect(reverse("newsletters_admin:delivery", args=[issue.pk]))


@require_POST
def resume_view(request, issue_id):
    """An editor has looked at why the run paused itself, and lets it go on."""
    issue = _issue_for(request, issue_id, can="publish")
    with transaction.atomic():
        if resumed := pausing.resume(issue.pk):
            log(issue, "newsletters.resume", user=request.user)
            transaction.on_commit(lambda: start_workers(issue.pk))
    if resumed:
        messages.success(request, "Sending resumed.")
    else:
        messages.info(request, "This issue's sending was not paused.")
    return redirect(reverse("newsletters_admin:delivery", args=[issue.pk]))
