"""The shape the design promises: newsletters builds on articles, never the other way round.

Walks every module of `articles` (its source, without importing it) and Django's migration
graph, and fails on any edge from articles to newsletters or to the demo.
"""

import ast
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

from outlet.settings.base import BASE_DIR

ARTICLES = BASE_DIR / "articles"
FORBIDDEN = ("newsletters", "demo")


def imports_of(path: Path) -> set[str]:
    """The modules a Python file imports, at its top or inside functions alike."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_of_articles_imports_newsletters_or_the_demo():
    edges = {
        f"{path.relative_to(BASE_DIR)} → {module}"
        for path in ARTICLES.rglob("*.py")
        for module in imports_of(path)
        if module.split(".")[0] in FORBIDDEN
    }

    assert edges == set()


def test_no_template_of_articles_loads_newsletters_tags():
    templates = [*(BASE_DIR / "templates" / "articles").rglob("*.html")]
    templates += [BASE_DIR / "templates" / "base.html"]
    loading = {
        str(path.relative_to(BASE_DIR))
        for path in templates
        if "newsletter_tags" in path.read_text() or "newsletters:" in path.read_text()
    }

    assert loading == set()


@pytest.mark.django_db
def test_no_migration_of_articles_depends_on_newsletters():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    edges = {
        f"{node} → {parent.key}"
        for key, node in graph.node_map.items()
        if key[0] == "articles"
        for parent in node.parents
        if parent.key[0] in FORBIDDEN
    }

    assert edges == set()


def test_the_check_can_see_an_edge(tmp_path):
    module = tmp_path / "example.py"
    module.write_text("def f():\n    from newsletters.models import Delivery\n")

    assert "newsletters.models" in imports_of(module)
