from django.conf import settings
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.admin.views.reports.page_types_usage import PageTypesUsageReportView
from wagtail.documents import urls as wagtaildocs_urls

from articles.sitemaps import SITEMAPS, news_sitemap

# Wagtail's page types report names the last edited page of every type to anyone who may edit
# a page anywhere; here it is for those who may publish (Editors), so that Writers learn nothing
# of pages outside their sections. The report's own URL names still resolve to these paths.
PUBLISHERS_ONLY = {"any_permission_required": ["publish"]}

urlpatterns = [
    path(
        "admin/reports/page-types-usage/",
        PageTypesUsageReportView.as_view(**PUBLISHERS_ONLY),
    ),
    path(
        "admin/reports/page-types-usage/results/",
        PageTypesUsageReportView.as_view(results_only=True, **PUBLISHERS_ONLY),
    ),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("news-sitemap.xml", news_sitemap, name="news-sitemap"),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
        name="robots",
    ),
    path("subscriptions/", include("newsletters.urls")),
    # Providers' webhooks (bounces, complaints…) at /email/<provider>/tracking/: see webhooks.py.
    path("email/", include("anymail.urls")),
    path("", include("articles.urls")),
]

if getattr(settings, "SERVE_MEDIA", False):
    # Development only: production serves media from its web server or object storage.
    urlpatterns += [
        re_path(
            rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]

# Wagtail's page serving comes last: everything not matched above is a page path.
urlpatterns += [path("", include(wagtail_urls))]
