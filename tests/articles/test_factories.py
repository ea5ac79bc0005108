"""Every page model has a factory, found by convention, and each builds a page that works.

The convention: the factory of `<app>.models.<Model>` is `tests.<app>.factories.<Model>Factory`,
one factories module per app, next to that app's tests.
"""

import importlib
from pathlib import Path

import pytest
import wagtail_factories
from django.apps import apps
from django.conf import settings
from wagtail.models import Page, get_page_models

from articles.models import HomePage
from tests.articles.factories import ArticlePageFactory, AuthorFactory


def project_apps() -> set[str]:
    """The labels of the apps at the top of this repository (not Django's, not Wagtail's)."""
    base = Path(settings.BASE_DIR).resolve()
    return {
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == base
    }


def project_page_models() -> list[type[Page]]:
    return [
        model
        for model in get_page_models()
        if model._meta.app_label in project_apps() and not model._meta.abstract
    ]


def factory_for(model: type[Page]) -> type[wagtail_factories.PageFactory] | None:
    """`tests.<app>.factories.<Model>Factory`, if it exists and builds `model`."""
    name = f"tests.{model._meta.app_label}.factories"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if not (name == error.name or name.startswith(f"{error.name}.")):
            raise  # the module exists but is broken
        return None
    factory = getattr(module, f"{model.__name__}Factory", None)
    if factory is None or not issubclass(factory, wagtail_factories.PageFactory):
        return None
    return factory if factory._meta.get_model_class() is model else None


def test_the_project_has_page_models_to_cover():
    assert {model.__name__ for model in project_page_models()} >= {
        "HomePage",
        "SectionPage",
        "ArticlePage",
        "NewsletterIndexPage",
        "NewsletterPage",
        "IssuePage",
    }


@pytest.mark.parametrize("model", project_page_models(), ids=lambda model: model._meta.label)
def test_every_page_model_has_a_factory(model):
    app = model._meta.app_label
    assert factory_for(model), (
        f"{model._meta.label} has no factory: add {model.__name__}Factory, a PageFactory for it, "
        f"to tests/{app}/factories.py"
    )


def create_in_tree(model, home):
    """A page of `model` made by its factory under a parent it allows, built the same way."""
    if model is HomePage:
        return factory_for(model)(parent=Page.get_first_root_node())
    parents = model.allowed_parent_page_models()
    if HomePage in parents:
        parent = home
    else:
        parent = create_in_tree(next(p for p in parents if factory_for(p)), home)
    return factory_for(model)(parent=parent)


@pytest.mark.django_db
@pytest.mark.parametrize("model", project_page_models(), ids=lambda model: model._meta.label)
def test_each_page_factory_creates_a_live_page_of_its_model(model, home):
    page = create_in_tree(model, home)

    stored = Page.objects.get(pk=page.pk)
    assert stored.specific_class is model
    assert stored.live
    assert stored.get_parent().specific_class in model.allowed_parent_page_models()


@pytest.mark.django_db
def test_article_factory_attaches_at_least_one_author(section):
    article = ArticlePageFactory(parent=section)

    stored = ArticlePageFactory._meta.model.objects.get(pk=article.pk)
    assert stored.article_authors.count() == 1
    assert stored.authors[0].name.startswith("Author ")


@pytest.mark.django_db
def test_article_factory_keeps_authors_tags_and_picks_in_order(section):
    first, second = AuthorFactory(name="Li Wei"), AuthorFactory(name="Ana Costa")
    pick = ArticlePageFactory(parent=section)
    article = ArticlePageFactory(
        parent=section, authors=[first, second], tags=["trade", "chips"], related=[pick]
    )

    stored = article.__class__.objects.get(pk=article.pk)
    assert [author.name for author in stored.authors] == ["Li Wei", "Ana Costa"]
    assert sorted(stored.tags.names()) == ["chips", "trade"]
    assert [link.article_id for link in stored.related_picks.all()] == [pick.pk]
