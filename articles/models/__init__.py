from articles.models.notices import ArticleNotice
from articles.models.pages import (
    ArticlePage,
    ArticlePageAuthor,
    ArticlePageRelated,
    ArticlePageTag,
    HomePage,
    HomePageFeaturedArticle,
    SectionPage,
)
from articles.models.settings import PublicationSettings
from articles.models.snippets import Author, Series

__all__ = [
    "ArticleNotice",
    "ArticlePage",
    "ArticlePageAuthor",
    "ArticlePageRelated",
    "ArticlePageTag",
    "Author",
    "HomePage",
    "HomePageFeaturedArticle",
    "PublicationSettings",
    "SectionPage",
    "Series",
]
