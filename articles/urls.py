from django.urls import path

from articles import feeds, views

app_name = "articles"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("feed/", feeds.SiteRssFeed.as_view(), name="site_rss"),
    path("feed/atom/", feeds.SiteAtomFeed.as_view(), name="site_atom"),
    path("corrections/", views.corrections, name="corrections"),
    path("corrections/feed/", feeds.CorrectionsRssFeed.as_view(), name="corrections_rss"),
    path("corrections/feed/atom/", feeds.CorrectionsAtomFeed.as_view(), name="corrections_atom"),
    path("authors/<slug:slug>/", views.author, name="author"),
    path("authors/<slug:slug>/feed/", feeds.AuthorRssFeed.as_view(), name="author_rss"),
    path("authors/<slug:slug>/feed/atom/", feeds.AuthorAtomFeed.as_view(), name="author_atom"),
    path("series/<slug:slug>/", views.series, name="series"),
    path("series/<slug:slug>/feed/", feeds.SeriesRssFeed.as_view(), name="series_rss"),
    path("series/<slug:slug>/feed/atom/", feeds.SeriesAtomFeed.as_view(), name="series_atom"),
    path("tags/<str:slug>/", views.tag, name="tag"),
    path("tags/<str:slug>/feed/", feeds.TagRssFeed.as_view(), name="tag_rss"),
    path("tags/<str:slug>/feed/atom/", feeds.TagAtomFeed.as_view(), name="tag_atom"),
]
