"""The welcome letter: each newsletter's own email, sent once to a reader who confirms.

Transactional, like the confirmation email: it answers the reader's own act, so it carries
no bulk headers (List-Id, List-Unsubscribe); a link to their preferences is in its text.
"""

from email.utils import formataddr

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from wagtail.rich_text import expand_db_html

from newsletters import tokens
from newsletters.models import NewsletterPage, Subscription
from newsletters.rendering import CSS_INLINER, absolute_urls, rich_text_as_text
from newsletters.suppression import may_email

LATEST_ISSUES = 3


def welcome_due(subscriber_id: int, newsletter_ids: list[int]) -> list[int]:
    """Of these newsletters, those whose welcome the confirmed reader has not had yet."""
    return list(
        Subscription.objects.filter(
            subscriber_id=subscriber_id,
            newsletter_id__in=newsletter_ids,
            status=Subscription.Status.ACTIVE,
            welcomed_at__isnull=True,
        ).values_list("newsletter_id", flat=True)
    )


def send_welcome_letter(subscriber_id: int, newsletter_id: int) -> bool:
    """Send the newsletter's welcome letter to the reader, unless they have had it; True if
    this call sent it.

    The subscription is marked welcomed before the email goes (one conditional UPDATE, so
    that of two workers only one sends), and unmarked if sending fails: a reader gets the
    letter at most once.
    """
    subscription = (
        Subscription.objects.filter(subscriber_id=subscriber_id, newsletter_id=newsletter_id)
        .select_related("subscriber", "newsletter")
        .first()
    )
    if subscription is None or not may_email(subscription.subscriber.email):
        return False
    unwelcomed = Subscription.objects.filter(
        pk=subscription.pk, status=Subscription.Status.ACTIVE, welcomed_at__isnull=True
    )
    if not unwelcomed.update(welcomed_at=timezone.now()):
        return False  # welcomed already, or no longer subscribed
    try:
        welcome_message(subscription).send()
    except Exception:
        Subscription.objects.filter(pk=subscription.pk).update(welcomed_at=None)
        raise
    return True


def welcome_message(subscription: Subscription) -> EmailMultiAlternatives:
    """The welcome letter to the subscription's reader."""
    newsletter: NewsletterPage = subscription.newsletter
    site = newsletter.get_site()
    root_url = site.root_url if site else ""
    preferences = tokens.make(tokens.PREFERENCES, subscription.subscriber)
    context = {
        "newsletter": newsletter,
        "message_html": absolute_urls(expand_db_html(newsletter.welcome_message), root_url),
        "message_text": rich_text_as_text(newsletter.welcome_message, root_url),
        "issues": [
            (issue.title, root_url + issue.url, issue.first_published_at)
            for issue in newsletter.published_issues()[:LATEST_ISSUES]
        ],
        "newsletter_url": root_url + (newsletter.url or "/"),
        "preferences_url": root_url + reverse("newsletters:preferences", args=[preferences]),
    }
    message = EmailMultiAlternatives(
        subject=f"Welcome to {newsletter.title}",
        body=render_to_string("newsletters/email/welcome.txt", context),
        from_email=formataddr((newsletter.sender_name, newsletter.sender_email)),
        to=[subscription.subscriber.email],
        reply_to=[newsletter.reply_to] if newsletter.reply_to else None,
    )
    html = CSS_INLINER.inline(render_to_string("newsletters/email/welcome.html", context))
    message.attach_alternative(html, "text/html")
    return message
