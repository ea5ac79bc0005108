from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        from taggit.models import Tag
        from wagtail.images import get_image_model
        from wagtail.models import Site

        from articles import roles  # noqa: F401 (its receiver opens new sections to writers)
        from articles.models import ArticlePage, Author, PublicationSettings, Series
        from outlet.frontend_cache import listed_elsewhere
        from outlet.page_cache import clear_on_change, leave_structure_alone

        # Besides pages, readers see these: bylines, series labels, tag pages, site identity,
        # images (an author's photo, a replaced picture).
        clear_on_change(Author, Series, Tag, Site, PublicationSettings, get_image_model())
        # Articles are never sections or menus: publishing one keeps the site's structure.
        leave_structure_alone(ArticlePage)
        # A CDN is purged by URL: an article is also listed on its authors', series' and tags'.
        listed_elsewhere(ArticlePage, ArticlePage.listing_paths)
