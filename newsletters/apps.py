from django.apps import AppConfig


class NewslettersConfig(AppConfig):
    name = "newsletters"
    verbose_name = "Newsletters"

    def ready(self):
        from articles import promotion
        from newsletters import checks, signal_handlers, webhooks  # noqa: F401
        from newsletters.promotion import NewsletterPromoter

        promotion.register(NewsletterPromoter())
