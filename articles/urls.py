from django.urls import path

from articles import feeds, views

app_name = "articles"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("feed/", feeds.SiteRssFeed(), name="site_rss"),
    path("feed/atom/", feeds.SiteAtomFeed(), name="site_atom"),
    path("authors/<slug:slug>/", views.author, name="author"),
    path("authors/<slug:slug>/feed/", feeds.AuthorRssFeed(), name="author_rss"),
    path("authors/<slug:slug>/feed/atom/", feeds.AuthorAtomFeed(), name="author_atom"),
    path("series/<slug:slug>/", views.series, name="series"),
    path("series/<slug:slug>/feed/", feeds.SeriesRssFeed(), name="series_rss"),
    path("series/<slug:slug>/feed/atom/", feeds.SeriesAtomFeed(), name="series_atom"),
    path("tags/<str:slug>/", views.tag, name="tag"),
    path("tags/<str:slug>/feed/", feeds.TagRssFeed(), name="tag_rss"),
    path("tags/<str:slug>/feed/atom/", feeds.TagAtomFeed(), name="tag_atom"),
]
