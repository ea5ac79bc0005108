"""Factories for the newsletters app: newsletter pages, issues with their articles, subscribers.

Pages are created in the tree with wagtail-factories (`parent=` a page). An issue takes its
articles as `items=[article, (article, "blurb"), …]`, in order.
"""

import factory
import wagtail_factories
from django.utils import timezone
from factory.django import DjangoModelFactory

from newsletters.models import (
    IssueItem,
    IssuePage,
    NewsletterIndexPage,
    NewsletterPage,
    Subscriber,
    Subscription,
)


class NewsletterIndexPageFactory(wagtail_factories.PageFactory):
    title = "Newsletters"
    slug = "newsletters"
    intro = "Analysis in your inbox."

    class Meta:
        model = NewsletterIndexPage


class NewsletterPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Newsletter {n}")
    description = factory.LazyAttribute(lambda obj: f"The best of {obj.title}, by email.")
    cadence = NewsletterPage.Cadence.WEEKLY
    sender_name = factory.LazyAttribute(lambda obj: obj.title)
    sender_email = "newsletters@outlet.example"
    reply_to = "editors@outlet.example"

    class Meta:
        model = NewsletterPage


class IssuePageFactory(wagtail_factories.PageFactory):
    """A live issue (not sent: the factory does not publish through Wagtail's signals)."""

    title = factory.Sequence(lambda n: f"Issue {n}")
    subject = factory.LazyAttribute(lambda obj: f"{obj.title}: the week in trade")
    preheader = "Tariffs, chips and ports."
    intro = "<p>Good morning. Here is what we published this week.</p>"
    first_published_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = IssuePage
        skip_postgeneration_save = True

    @factory.post_generation
    def items(self, create, extracted, **kwargs):
        for entry in extracted or []:
            article, blurb = entry if isinstance(entry, tuple) else (entry, "")
            self.items.add(IssueItem(article=article, blurb=blurb))
        if create:
            self.save()


class SubscriberFactory(DjangoModelFactory):
    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    name = factory.Sequence(lambda n: f"Reader {n}")
    consent_at = factory.LazyFunction(timezone.now)
    consent_source = "/newsletters/"

    class Meta:
        model = Subscriber


class SubscriptionFactory(DjangoModelFactory):
    """A confirmed subscription unless `status=` says otherwise."""

    subscriber = factory.SubFactory(SubscriberFactory)
    status = Subscription.Status.ACTIVE
    source = "/newsletters/"
    confirmed_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = Subscription
