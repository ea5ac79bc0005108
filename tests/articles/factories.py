"""Factories for the articles app: its pages and snippets, and the people (users in the
newsroom's Writers and Editors groups) and images its tests need.

Pages are created in the tree with wagtail-factories (`parent=` a page); articles always get at
least one author, as the admin form requires. Each app's factories are named after its models
(`<Model>Factory`), which is how tests/articles/test_factories.py finds them.
"""

from datetime import UTC, datetime, timedelta

import factory
import wagtail_factories
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.html import escape
from django.utils.text import slugify
from factory.django import DjangoModelFactory

from articles.models import (
    ArticlePage,
    ArticlePageAuthor,
    ArticlePageRelated,
    Author,
    HomePage,
    SectionPage,
    Series,
)

# Articles are dated one hour apart in creation order, so "newest first" is predictable.
FIRST_ARTICLE_DATE = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def paragraph(text: str) -> dict:
    """A rich-text paragraph block holding `text` as plain text (escaped, as the editor would)."""
    return {"type": "paragraph", "value": f"<p>{escape(text)}</p>"}


def words(count: int, word: str = "tariff") -> str:
    return " ".join([word] * count)


class AuthorFactory(DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Author {n}")
    slug = factory.LazyAttribute(lambda obj: slugify(obj.name))
    role = "Correspondent"
    bio = factory.LazyAttribute(lambda obj: f"{obj.name} covers trade and technology.")

    class Meta:
        model = Author
        skip_postgeneration_save = True


class SeriesFactory(DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Series {n}")
    slug = factory.LazyAttribute(lambda obj: slugify(obj.name))
    label = "CvT"
    description = factory.LazyAttribute(lambda obj: f"About {obj.name}.")

    class Meta:
        model = Series


class HomePageFactory(wagtail_factories.PageFactory):
    title = "Outlet"
    intro = "Analysis of business and politics."

    class Meta:
        model = HomePage


class SectionPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Section {n}")
    intro = factory.LazyAttribute(lambda obj: f"The latest {obj.title.lower()}.")
    show_in_menus = True

    class Meta:
        model = SectionPage


class ArticlePageFactory(wagtail_factories.PageFactory):
    """A live article with one new author unless `authors=[...]` is given.

    Post-generation arguments: `authors` (list of Author), `tags` (list of str),
    `related` (list of ArticlePage picks, in order).
    """

    title = factory.Sequence(lambda n: f"Article {n}")
    dek = factory.LazyAttribute(lambda obj: f"What {obj.title} means.")
    summary = factory.LazyAttribute(lambda obj: f"Summary of {obj.title}.")
    date = factory.Sequence(lambda n: FIRST_ARTICLE_DATE + timedelta(hours=n))
    # Published when dated, as an article written and published the same day is.
    first_published_at = factory.SelfAttribute("date")
    body = factory.LazyAttribute(lambda obj: [paragraph(f"The body of {obj.title}.")])

    class Meta:
        model = ArticlePage
        skip_postgeneration_save = True

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        authors = extracted if extracted is not None else [AuthorFactory()]
        self.article_authors = [ArticlePageAuthor(author=author) for author in authors]

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if extracted:
            self.tags.add(*extracted)

    @factory.post_generation
    def related(self, create, extracted, **kwargs):
        if extracted:
            self.related_picks = [ArticlePageRelated(article=article) for article in extracted]

    @factory.post_generation
    def save_clusters(self, create, extracted, **kwargs):
        """One save commits the authors, tags and picks set above (they live in the cluster)."""
        if create:
            self.save()


class ImageFactory(wagtail_factories.ImageFactory):
    title = factory.Sequence(lambda n: f"Photo {n}")
    description = "A container ship at the port of Ningbo"
    file = factory.django.ImageField(width=320, height=180, color="steelblue")


class UserFactory(DjangoModelFactory):
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda obj: f"{obj.username}@example.org")
    password = factory.django.Password("correct horse battery staple")

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or []:
            self.groups.add(Group.objects.get(name=name))
