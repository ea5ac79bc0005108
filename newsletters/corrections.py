"""Correction emails: an article's correction or update, mailed to exactly the readers an
issue sent the article to.

Who: every reader with a sent ledger row for an issue that carried the article, who is
still subscribed to that issue's newsletter and mailable. Each reader once, however many
issues carried the article to them: from the first newsletter (by id) that did.

How: one CorrectionSend run per newsletter, its rows in the same Delivery ledger the issues
use, sent by the same claims, leases, retries and crash recovery (newsletters.delivery),
each reader getting the newsletter's own unsubscribe link and headers.
"""

from email.utils import formataddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string

from articles.models import ArticleNotice, ArticlePage
from newsletters.delivery import deliver_run
from newsletters.ledger import analyze_audience, insert_rows
from newsletters.models import (
    CorrectionSend,
    Delivery,
    IssuePage,
    Ledger,
    NewsletterPage,
    Subscription,
)
from newsletters.rendering import (
    CSS_INLINER,
    PREFERENCES_URL,
    UNSUBSCRIBE_URL,
    RenderedIssue,
    absolute_urls,
)


def issues_that_carried(article: ArticlePage, newsletter: NewsletterPage) -> QuerySet:
    """The newsletter's issues that featured the article and went out to someone."""
    return (
        IssuePage.objects.child_of(newsletter)
        .filter(items__article=article, deliveries__status=Delivery.Status.SENT)
        .distinct()
    )


def audiences(article: ArticlePage) -> list[tuple[NewsletterPage, QuerySet]]:
    """Per newsletter, the subscriptions whose readers its issues sent the article to and who
    may still be mailed; a reader appears under the first such newsletter only."""
    found: list[tuple[NewsletterPage, QuerySet]] = []
    for newsletter in NewsletterPage.objects.order_by("pk"):
        received = Delivery.objects.filter(
            issue__in=issues_that_carried(article, newsletter), status=Delivery.Status.SENT
        )
        readers = Subscription.objects.mailable(newsletter.pk).filter(
            subscriber_id__in=received.values("subscriber_id")
        )
        for _, earlier in found:
            readers = readers.exclude(subscriber_id__in=earlier.values("subscriber_id"))
        found.append((newsletter, readers))
    return found


def recipient_count(article: ArticlePage) -> int:
    return sum(readers.count() for _, readers in audiences(article))


def notice_to_mail(article: ArticlePage) -> ArticleNotice | None:
    """The article's newest published notice that has not been mailed yet."""
    mailed = CorrectionSend.objects.filter(article=article).values("notice_id")
    return (
        ArticleNotice.objects.filter(page=article)
        .exclude(pk__in=mailed)
        .order_by("-date", "-pk")
        .first()
    )


def open_correction(notice: ArticleNotice, user=None) -> list[CorrectionSend]:
    """Create the notice's runs and their ledgers; [] if it was mailed already (or is being
    mailed by a click a moment ago) or no reader is left to mail."""
    article = notice.page.specific
    try:
        with transaction.atomic():
            sends = []
            for newsletter, readers in audiences(article):
                if not readers.exists():
                    continue
                send = CorrectionSend.objects.create(
                    notice=notice,
                    article=article,
                    newsletter=newsletter,
                    kind=notice.kind,
                    noticed_at=notice.date,
                    text=notice.text,
                    requested_by=user,
                )
                send.recipients = insert_rows(readers, correction_id=send.pk)
                send.save(update_fields=["recipients"])
                sends.append(send)
            if sends:
                transaction.on_commit(analyze_audience, robust=True)
    except IntegrityError:
        return []  # one email per notice and newsletter: this one was opened already
    return sends


def deliver(send_id: int) -> str:
    """Send every due row of a correction's run; returns why it stopped."""
    send = CorrectionSend.objects.select_related("article", "newsletter").get(pk=send_id)
    return deliver_run(Ledger.of_correction(send_id), render_correction(send))


def render_correction(send: CorrectionSend) -> RenderedIssue:
    """The correction email, rendered once, with placeholders for each reader's links."""
    newsletter, article = send.newsletter, send.article
    site = newsletter.get_site()
    root_url = site.root_url if site else settings.WAGTAILADMIN_BASE_URL
    issue = issues_that_carried(article, newsletter).order_by("first_published_at").first()
    anchor = f"#notice-{send.notice_id}" if send.notice_id else ""
    label = "Correction" if send.kind == ArticleNotice.Kind.CORRECTION else "Update"
    context = {
        "send": send,
        "label": label,
        "newsletter": newsletter,
        "article_title": article.display_title,
        "article_url": article.get_full_url() + anchor,
        "issue": issue,
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "preferences_url": PREFERENCES_URL,
    }
    html = render_to_string("newsletters/email/correction.html", context)
    domain = newsletter.sender_email.rpartition("@")[2] or "localhost"
    return RenderedIssue(
        newsletter_id=newsletter.pk,
        subject=f"{label}: {article.display_title}",
        from_email=formataddr((newsletter.sender_name, newsletter.sender_email)),
        reply_to=newsletter.reply_to,
        list_id=f"{newsletter.title} <{newsletter.slug}.{domain}>",
        root_url=root_url,
        message_domain=domain,
        html=CSS_INLINER.inline(absolute_urls(html, root_url)),
        text=render_to_string("newsletters/email/correction.txt", context),
    )
