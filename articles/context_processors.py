from wagtail.models import Site

from articles.models import SectionPage


def navigation(request):
    """The sections listed in the site header, fetched only if a template asks for them."""

    def sections():
        site = Site.find_for_request(request)
        if site is None:
            return SectionPage.objects.none()
        return SectionPage.objects.live().public().in_menu().child_of(site.root_page)

    return {"site_sections": sections}
