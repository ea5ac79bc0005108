"""The admin form every page of the outlet is edited with."""

from django.core.exceptions import ValidationError
from wagtail.admin.forms import WagtailAdminPageForm

from articles import content_checks


def slug_help(parent_page) -> str:
    """Where the slug shows, in this site's own addresses rather than Wagtail's example."""
    if parent_page is None or parent_page.is_root():
        return "The page's name in addresses: lowercase letters, digits and hyphens."
    return (
        f"The last part of the page's address, after {parent_page.url or '/'} "
        "(lowercase letters, digits and hyphens). Changing it on a published page "
        "moves the page; readers following the old address are redirected."
    )


class PageForm(WagtailAdminPageForm):
    """Says, under the slug, which address the page gets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].help_text = slug_help(self.parent_page)


class ArticlePageForm(PageForm):
    """Sends no article to review, and publishes none, with a dead link, a picture without alt
    text or a placeholder left in (see articles.content_checks). Drafts are saved as they are."""

    CHECKED_FIELDS = (
        "title",
        "dek",
        "summary",
        "hero_image",
        "hero_caption",
        "hero_credit",
        "body",
    )

    def clean(self):
        cleaned = super().clean()
        if self.is_deferred_validation or self.errors:
            return cleaned
        fields = {
            name: cleaned.get(name, getattr(self.instance, name)) for name in self.CHECKED_FIELDS
        }
        problems = content_checks.errors(
            content_checks.check_article(type(self.instance)(**fields))
        )
        if problems:
            raise ValidationError(
                ["Fix these before the article goes to review or is published:"]
                + [problem.message for problem in problems]
            )
        return cleaned
