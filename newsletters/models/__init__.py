from newsletters.models.delivery import (
    CorrectionSend,
    Delivery,
    DeliveryProgress,
    FeedbackEvent,
    IssueSend,
    Ledger,
    SendRateWindow,
    progress_of,
)
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
    "CorrectionSend",
    "Delivery",
    "DeliveryProgress",
    "FeedbackEvent",
    "IssueItem",
    "IssuePage",
    "IssueSend",
    "Ledger",
    "NewsletterIndexPage",
    "NewsletterPage",
    "SendRateWindow",
    "SignupAttempt",
    "Subscriber",
    "SubscriberMerge",
    "Subscription",
    "Suppression",
    "email_hash",
    "normalize_email",
    "progress_of",
]
