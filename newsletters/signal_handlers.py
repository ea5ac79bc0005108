"""When an issue first goes live, open its one delivery run."""

from django.db import transaction
from django.dispatch import receiver
from wagtail.log_actions import log
from wagtail.signals import page_published

from newsletters.ledger import open_send
from newsletters.models import IssuePage, IssueSend
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
