"""Background work, as Django Tasks: the database backend by default, RQ on Redis to scale out.

Tasks only trigger work; the ledger says what is left. A lost task loses no email, because
the scheduler's sweep enqueues delivery again for any run (an issue's or a correction's) with
rows still due.
"""

from django.conf import settings
from django_tasks import task

from newsletters import corrections
from newsletters.delivery import deliver
from newsletters.subscribing import send_confirmation_email
from newsletters.welcome import send_welcome_letter


@task()
def deliver_issue(issue_id: int) -> str:
    return deliver(issue_id).value  # kept with the task's result, as JSON


@task()
def deliver_correction(send_id: int) -> str:
    return corrections.deliver(send_id)


@task()
def send_confirmation(subscriber_id: int, newsletter_ids: list[int]) -> None:
    send_confirmation_email(subscriber_id, newsletter_ids)


@task()
def send_welcome(subscriber_id: int, newsletter_id: int) -> bool:
    return send_welcome_letter(subscriber_id, newsletter_id)


def start_workers(issue_id: int) -> None:
    """Enqueue as many deliveries of the issue as may run side by side."""
    for _ in range(settings.DELIVERY_CONCURRENCY):
        deliver_issue.enqueue(issue_id)
