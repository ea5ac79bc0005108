"""Editors' subscriber tools: the add/edit form, CSV import, and a subscriber's GDPR export
and erasure."""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.log_actions import log

from newsletters.forms import AddressField
from newsletters.gdpr import erase_subscriber, export_subscriber
from newsletters.importing import UnreadableFile, import_subscribers
from newsletters.models import NewsletterPage, Subscriber, Suppression
from newsletters.suppression import reason_not_to_email, suppress

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _require(request, permission: str) -> None:
    if not request.user.has_perm(f"newsletters.{permission}"):
        raise PermissionDenied


class SubscriberAdminForm(WagtailAdminModelForm):
    """Editors add and correct subscribers: canonical addresses, and the suppression rule kept.

    An address that bounced, complained, unsubscribed from everything or was erased is not
    added back by an editor: only its owner can opt in again.
    """

    email = AddressField(label="Email address")

    def clean(self):
        cleaned = super().clean()
        email, status = cleaned.get("email"), cleaned.get("status")
        reason = reason_not_to_email(email) if email else None
        if reason and email != self.initial.get("email"):
            self.add_error("email", SUPPRESSED_ADDRESS.format(reason=REASON_TEXT[reason]))
        elif reason in Suppression.NEVER and status == Subscriber.Status.ACTIVE:
            self.add_error("status", NEVER_AGAIN.format(reason=REASON_TEXT[reason]))
        return cleaned

    def save(self, commit=True):
        subscriber = super().save(commit=commit)
        if commit and subscriber.status in Suppression.NEVER:
            suppress(subscriber, subscriber.status)
        return subscriber


SUPPRESSED_ADDRESS = (
    "Outlet does not mail this address: {reason}. Only its owner can opt in again, through a "
    "subscribe form."
)
NEVER_AGAIN = "This address {reason}, so it stays suppressed: Outlet never mails it again."
REASON_TEXT = {
    Suppression.Reason.BOUNCED: "it bounced permanently",
    Suppression.Reason.COMPLAINED: "its owner marked our email as spam",
    Suppression.Reason.UNSUBSCRIBED: "its owner unsubscribed from everything",
    Suppression.Reason.ERASED: "its owner's data was erased on request",
}


class ImportForm(forms.Form):
    newsletter = forms.ModelChoiceField(queryset=NewsletterPage.objects.all())
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, with a header line naming an “email” column (and optionally “name”). "
        "Only import people who agreed to receive this newsletter.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB; split it.")
        return upload


def import_view(request):
    _require(request, "add_subscriber")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = import_subscribers(
                form.cleaned_data["file"].read(), form.cleaned_data["newsletter"]
            )
        except UnreadableFile as error:
            form.add_error("file", str(error))
        else:
            summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(report.items()))
            messages.success(request, f"Import finished: {summary or 'the file had no rows'}.")
            return redirect("subscribers:index")
    return TemplateResponse(request, "newsletters/admin/import.html", {"form": form})


def export_view(request, pk):
    _require(request, "view_subscriber")
    subscriber = get_object_or_404(Subscriber, pk=pk)
    data = json.dumps(export_subscriber(subscriber), cls=DjangoJSONEncoder, indent=2)
    response = HttpResponse(data, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="subscriber-{subscriber.pk}.json"'
    return response


def erase_view(request, pk):
    _require(request, "delete_subscriber")
    subscriber = get_object_or_404(Subscriber, pk=pk)
    if request.method == "POST":
        log(subscriber, "wagtail.delete", user=request.user)
        erase_subscriber(subscriber)
        messages.success(request, "The subscriber and everything about them were erased.")
        return redirect("subscribers:index")
    return TemplateResponse(request, "newsletters/admin/erase.html", {"subscriber": subscriber})
