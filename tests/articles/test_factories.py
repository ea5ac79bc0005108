"""Every page model has a factory, and each factory builds a page that works."""

import importlib

import pytest
import wagtail_factories
from wagtail.models import Page, get_page_models

from articles.models import HomePage
from tests.factories import ArticlePageFactory, AuthorFactory

PROJECT_APPS = {"articles", "newsletters"}
# Each app's tests keep their factories next to them; this test looks in all of them.
FACTORY_MODULES = ["tests.factories", "tests.newsletters.factories"]


def project_page_models() -> list[type[Page]]:
    return [
        model
        for model in get_page_models()
        if model._meta.app_label in PROJECT_APPS and not model._meta.abstract
    ]


def _subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def page_factories() -> dict[type[Page], type]:
    """The PageFactory of each project page model, from every factory module that exists."""
    for name in FACTORY_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if not (name == error.name or name.startswith(f"{error.name}.")):
                raise  # the module exists but is broken
    factories = {}
    for factory in _subclasses(wagtail_factories.PageFactory):
        model = factory._meta.get_model_class()
        if model is not None and model._meta.app_label in PROJECT_APPS:
            factories[model] = factory
    return factories


def test_the_project_has_page_models_to_cover():
    assert {model.__name__ for model in project_page_models()} >= {
        "HomePage",
        "SectionPage",
        "ArticlePage",
    }


@pytest.mark.parametrize("model", project_page_models(), ids=lambda model: model._meta.label)
def test_every_page_model_has_a_factory(model):
    assert model in page_factories(), f"{model._meta.label} has no PageFactory in the tests"


def create_in_tree(model, home):
    """A page of `model` made by its factory under a parent it allows, built the same way."""
    if model is HomePage:
        return page_factories()[model](parent=Page.get_first_root_node())
    parents = model.allowed_parent_page_models()
    if HomePage in parents:
        parent = home
    else:
        parent = create_in_tree(next(p for p in parents if p in page_factories()), home)
    return page_factories()[model](parent=parent)


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
