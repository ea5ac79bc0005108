"""Suite-wide fixtures and the rule that CI never silently skips a test."""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    """Mark browser tests so that `-m "not browser"` selects the fast suite."""
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skip means a missing service or browser: fail instead of hiding it."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"Skipped under CI, where nothing may be left out: {reason}"


@pytest.fixture(autouse=True)
def _clear_caches():
    """Each test starts with empty caches: page-cache hits must come from the test itself."""
    from django.core.cache import caches

    for alias in ("default", "pages", "structure"):
        caches[alias].clear()
    yield


@pytest.fixture
def site(db):
    """The default site that migration 0002 creates, rooted at the outlet's home page."""
    from wagtail.models import Site

    return Site.objects.get(is_default_site=True)


@pytest.fixture
def home(site):
    return site.root_page.specific


@pytest.fixture
def section(home):
    from tests.articles.factories import SectionPageFactory

    return SectionPageFactory(parent=home, title="Analysis", slug="analysis")


@pytest.fixture
def writer(db):
    from tests.articles.factories import UserFactory

    return UserFactory(username="wendy-writer", groups=["Writers"])


@pytest.fixture
def editor(db):
    from tests.articles.factories import UserFactory

    return UserFactory(username="eddie-editor", groups=["Editors"])


@pytest.fixture
def image(db):
    from tests.articles.factories import ImageFactory

    return ImageFactory()
