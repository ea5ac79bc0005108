"""Issues and Wagtail's page signals: number a new issue; open its one delivery run when it
first goes live; and clear a ledger's feedback before the ledger goes."""

from django.db import transaction
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from wagtail.log_actions import log
from wagtail.signals import init_new_page, page_published

from newsletters.ledger import open_send
from newsletters.models import (
    CorrectionSend,
    FeedbackEvent,
    IssuePage,
    IssueSend,
    NewsletterPage,
    Subscriber,
)
from newsletters.numbering import issue_slug
from newsletters.tasks import start_workers


@receiver(page_published, sender=IssuePage)
def issue_published(sender, instance, revision, **kwargs):
    """Deliver on first publication only; a later publish just updates the web copy."""
    if not instance.live:
        return  # only scheduled (Wagtail signals that too): publish_scheduled sends it on time
    if kwargs.get("alias") or instance.alias_of_id:
        return  # an alias mirrors an issue already sent; republishing the original updates it
    if IssueSend.objects.filter(issue=instance).exists():
        return
    # Set only on revisions published by the scheduler: the time the issue was due.
    send = open_send(instance, scheduled_for=revision.approved_go_live_at if revision else None)
    if send is None:
        return
    log(
        instance,
        "newsletters.send",
        user=getattr(revision, "user", None),
        data={"recipients": send.recipients, "state": send.state},
    )
    if send.state == IssueSend.State.SENDING:
        transaction.on_commit(lambda: start_workers(instance.pk))


@receiver(init_new_page)
def number_a_new_issue(sender, page, parent, **kwargs):
    """A new issue starts as its newsletter's next number: "The Weekly Steep, No. 5" at no-5."""
    if not isinstance(page, IssuePage) or not isinstance(parent, NewsletterPage):
        return
    number = parent.next_issue_number()
    page.title = f"{parent.title}, No. {number}"
    page.slug = issue_slug(number)


LEDGER_OWNERS = {IssuePage: "issue", CorrectionSend: "correction", Subscriber: "subscriber"}


@receiver(pre_delete, sender=IssuePage)
@receiver(pre_delete, sender=CorrectionSend)
@receiver(pre_delete, sender=Subscriber)
def forget_their_feedback(sender, instance, **kwargs):
    """Feedback about the deliveries that go with an issue, a correction or a subscriber, in
    one statement before them: the ledger itself is then deleted in one statement too,
    however long."""
    related = LEDGER_OWNERS[sender]
    FeedbackEvent.objects.filter(**{f"delivery__{related}": instance}).delete()
