from wagtail.models import Site

from articles.chrome import navigation


def navigation_context(request):
    """The sections listed in the site header, looked up only if a template asks for them."""

    def sections():
        site = Site.find_for_request(request)
        return navigation(site) if site else []

    return {"site_sections": sections}
