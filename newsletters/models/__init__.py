from newsletters.models.delivery import Delivery, IssueSend
from newsletters.models.pages import IssueItem, IssuePage, NewsletterIndexPage, NewsletterPage
from newsletters.models.subscribers import (
    SignupAttempt,
    Subscriber,
    SubscriberMerge,
    Subscription,
    Suppression,
    email_hash,
    normalize_email,
)

__all__ = [
    "Delivery",
    "IssueItem",
    "IssuePage",
    "IssueSend",
    "NewsletterIndexPage",
    "NewsletterPage",
    "SignupAttempt",
    "Subscriber",
    "SubscriberMerge",
    "Subscription",
    "Suppression",
    "email_hash",
    "normalize_email",
]
