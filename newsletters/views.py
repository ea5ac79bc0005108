"""Public pages for subscribing, confirming, managing preferences and unsubscribing.

Links in emails only ever lead to a page: GET and HEAD never change anything, so mail
scanners that follow every link subscribe, confirm and unsubscribe nobody. The change is
a POST from the page's button (or, for unsubscribe, the RFC 8058 one-click POST).
"""

import functools

from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from articles.models import PublicationSettings
from articles.seo import PageMeta
from newsletters import subscribing, tasks, tokens
from newsletters.forms import PreferencesForm, SubscribeForm
from newsletters.models import NewsletterPage, Subscription
from newsletters.welcome import welcome_due
from outlet.client_address import client_address


def _meta(request, title):
    identity = PublicationSettings.for_request(request)
    return PageMeta.for_view(request, identity, title=title, description="", noindex=True)


def _render(request, template, title, status=200, **context):
    response = render(request, template, {"meta": _meta(request, title), **context}, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def _bad_link(request):
    return _render(request, "newsletters/bad_link.html", "This link does not work", status=400)


def email_link(purpose: str):
    """A page reached from a link in an email: GET or HEAD shows it, POST acts.

    The view receives the subscriber and claims of a valid token; any other token gets the
    same clear "this link does not work" page and changes nothing. No CSRF token: the signed
    link is the credential, and RFC 8058 one-click POSTs come with no cookie at all.
    """

    def decorate(view):
        @csrf_exempt
        @require_http_methods(["GET", "HEAD", "POST"])
        @functools.wraps(view)
        def wrapper(request, token):
            try:
                subscriber, claims = subscribing.subscriber_for(purpose, token)
            except tokens.BadToken:
                return _bad_link(request)
            return view(request, subscriber, claims)

        return wrapper

    return decorate


def live_newsletters():
    return NewsletterPage.objects.live().public().order_by("title")


# The subscribe form sits on cached pages, so it carries no CSRF token: a forged request can
# only ask for a confirmation email to an address the forger already knows.
@csrf_exempt
@require_http_methods(["POST"])
def subscribe(request):
    form = SubscribeForm(request.POST, newsletters=live_newsletters())
    if form.is_bot:
        return HttpResponseRedirect(reverse("newsletters:check_inbox"))
    # Every use counts, valid or not: the limit is on the form, not on good addresses.
    if retry_after := subscribing.signup_retry_after(client_address(request)):
        response = _render(
            request,
            "newsletters/rate_limited.html",
            "Too many requests",
            status=429,
            retry_after=retry_after,
        )
        response["Retry-After"] = str(retry_after)
        return response
    if not form.is_valid():
        return _render(
            request,
            "newsletters/subscribe_error.html",
            "Check your address",
            status=400,
            form=form,
        )
    source = form.cleaned_data["source"] or request.headers.get("Referer", "")[:255]
    due = subscribing.request_subscription(
        form.cleaned_data["email"], form.cleaned_data["newsletters"], source
    )
    if due is not None:
        # After the commit, so that the worker finds the subscriber it is asked to mail.
        transaction.on_commit(
            lambda: tasks.send_confirmation.enqueue(due.subscriber_id, due.newsletter_ids)
        )
    return HttpResponseRedirect(reverse("newsletters:check_inbox"))


def check_inbox(request):
    return _render(request, "newsletters/check_inbox.html", "Check your inbox")


@email_link(tokens.CONFIRM)
def confirm(request, subscriber, claims):
    if request.method != "POST":
        pending = Subscription.objects.filter(
            subscriber=subscriber, status=Subscription.Status.PENDING
        ).select_related("newsletter")
        return _render(
            request,
            "newsletters/confirm.html",
            "Confirm your subscription",
            pending=[s.newsletter for s in pending],
            subscriber=subscriber,
        )
    confirmed = subscribing.confirm(subscriber)
    for newsletter_id in welcome_due(subscriber.pk, [newsletter.pk for newsletter in confirmed]):
        transaction.on_commit(
            functools.partial(tasks.send_welcome.enqueue, subscriber.pk, newsletter_id)
        )
    return _render(
        request,
        "newsletters/confirmed.html",
        "You are subscribed",
        confirmed=confirmed,
        preferences_token=tokens.make(tokens.PREFERENCES, subscriber),
    )


# RFC 8058: mail providers POST "List-Unsubscribe=One-Click" with no cookie and no token.
@email_link(tokens.UNSUBSCRIBE)
def unsubscribe(request, subscriber, claims):
    newsletter = NewsletterPage.objects.filter(pk=claims.newsletter_id).first()
    context = {
        "newsletter": newsletter,
        "subscriber": subscriber,
        "preferences_token": tokens.make(tokens.PREFERENCES, subscriber),
    }
    if request.method != "POST":
        return _render(request, "newsletters/unsubscribe.html", "Unsubscribe", **context)
    subscribing.unsubscribe(subscriber, [claims.newsletter_id])
    return _render(request, "newsletters/unsubscribed.html", "You are unsubscribed", **context)


@email_link(tokens.PREFERENCES)
def preferences(request, subscriber, claims):
    newsletters = live_newsletters()
    active = set(
        subscriber.subscriptions.filter(status=Subscription.Status.ACTIVE).values_list(
            "newsletter_id", flat=True
        )
    )
    saved = False
    if request.method == "POST":
        if "unsubscribe_all" in request.POST:
            subscribing.unsubscribe(subscriber)
            return _render(
                request,
                "newsletters/unsubscribed.html",
                "You are unsubscribed",
                subscriber=subscriber,
                newsletter=None,
                everything=True,
            )
        form = PreferencesForm(request.POST, newsletters=newsletters)
        if form.is_valid():
            subscribing.set_preferences(subscriber, set(form.cleaned_data["newsletters"]))
            active, saved = set(form.cleaned_data["newsletters"]), True
    form = PreferencesForm(initial={"newsletters": sorted(active)}, newsletters=newsletters)
    return _render(
        request,
        "newsletters/preferences.html",
        "Your newsletters",
        form=form,
        subscriber=subscriber,
        saved=saved,
    )
