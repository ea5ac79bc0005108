from wagtail.models import Site

from articles.chrome import navigation
from articles.seo import site_name


def navigation_context(request):
    """The site's name and the sections listed in its header, looked up only if a template
    asks for them."""

    def sections():
        site = Site.find_for_request(request)
        return navigation(site) if site else []

    return {
        "site_sections": sections,
        "site_name": lambda: site_name(Site.find_for_request(request)),
    }
