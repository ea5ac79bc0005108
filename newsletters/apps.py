from django.apps import AppConfig


class NewslettersConfig(AppConfig):
    name = "newsletters"
    verbose_name = "Newsletters"

    def ready(self):
        from articles import promotion
        from newsletters import checks, signal_handlers, webhooks  # noqa: F401
        from newsletters.models import IssuePage
        from newsletters.promotion import NewsletterPromoter
        from outlet.page_cache import leave_structure_alone

        promotion.register(NewsletterPromoter())
        # An issue is in no menu, and newsletters are not promoted for their issues: publishing
        # one keeps the site's structure (outlet.page_cache).
        leave_structure_alone(IssuePage)
