"""The editor's way to mail a correction: from the article, a page that says how many readers
it goes to, and a button."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from wagtail.log_actions import log

from articles.models import ArticlePage
from newsletters import corrections
from newsletters.models import CorrectionSend, Ledger
from newsletters.permissions import can_manage_newsletters
from newsletters.tasks import deliver_correction


def correction_view(request, page_id: int):
    """GET: the notice to mail and its readers; POST: mail it."""
    if not can_manage_newsletters(request.user):
        raise PermissionDenied
    article = get_object_or_404(ArticlePage.objects.live(), pk=page_id)
    notice = corrections.notice_to_mail(article)
    if request.method == "POST":
        return mail(request, article, notice)
    sends = CorrectionSend.objects.filter(article=article).select_related("newsletter")
    context = {
        "article": article,
        "notice": notice,
        "recipients": corrections.recipient_count(article) if notice else 0,
        "sends": [(send, Ledger.of_correction(send.pk).rows) for send in sends],
    }
    return TemplateResponse(request, "newsletters/admin/correction.html", context)


def mail(request, article: ArticlePage, notice):
    url = reverse("newsletters_admin:correction", args=[article.pk])
    if notice is None:
        messages.info(request, "Every correction and update of this article was mailed already.")
        return redirect(url)
    with transaction.atomic():
        sends = corrections.open_correction(notice, request.user)
        recipients = sum(send.recipients for send in sends)
        if sends:
            log(
                article,
                "newsletters.correction_email",
                user=request.user,
                data={"recipients": recipients, "kind": notice.kind},
            )
            for send in sends:
                transaction.on_commit(partial(deliver_correction.enqueue, send.pk))
    if sends:
        messages.success(
            request, f"Sending the {notice.get_kind_display().lower()} to {recipients} readers."
        )
    else:
        messages.info(request, "Nothing was sent: no reader who received it can be mailed now.")
    return redirect(url)
