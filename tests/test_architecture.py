"""The shape the design promises: newsletters builds on articles, never the other way round,
and no module needs another that needs it back.

Reads every module's source (without importing it) and Django's migration graph.
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


# No cycles, and none hidden by importing inside a function.

PACKAGES = ("articles", "newsletters", "demo", "outlet")


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages by dotted name, migrations left out."""
    modules = {}
    for package in PACKAGES:
        for path in (BASE_DIR / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(BASE_DIR).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported_modules(node, modules: dict[str, Path]) -> set[str]:
    """The project modules an import statement loads, with the packages Python initialises
    on the way (importing a.b.c runs a/__init__ and a/b/__init__ first)."""
    names = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    loaded = set()
    for name in names:
        parts = name.split(".")
        loaded.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return loaded & modules.keys()


def module_graph() -> dict[str, set[str]]:
    """Each module, and the modules it imports when it is imported."""
    modules = project_modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        # A module's own packages are already being initialised when it runs: no edge.
        ancestors = {name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)}
        loaded = set().union(*(imported_modules(node, modules) for node in top))
        graph[name] = loaded - ancestors - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other():
    assert cycles(module_graph()) == []


def test_the_cycle_check_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_defers_an_import_of_the_project_to_a_function():
    """An import inside a function hides a cycle; only an app's ready() may import late."""
    modules = project_modules()
    deferred = set()
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if path.name == "apps.py" and function.name == "ready":
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom) and imported_modules(
                    node, modules
                ):
                    deferred.add(f"{name}.{function.name}")
    assert deferred == set()
