"""The admin form every page of the outlet is edited with."""

from wagtail.admin.forms import WagtailAdminPageForm


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
