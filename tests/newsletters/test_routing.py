"""Routing reads each page on the way in one query, and never misses a page it has not seen."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page

from tests.articles.factories import SectionPageFactory
from tests.newsletters.factories import IssuePageFactory

pytestmark = pytest.mark.django_db


def test_an_issue_is_routed_in_one_query_per_level(site, newsletter):
    issue = IssuePageFactory(parent=newsletter, subject="Tariffs")
    Page.route_for_request(RequestFactory().get(issue.url), issue.url)  # remembers types
    request = RequestFactory().get(issue.url)

    with CaptureQueriesContext(connection) as queries:
        routed = Page.route_for_request(request, issue.url)

    assert routed.page.specific == issue
    # The site, the home page, then one query each: newsletters, the newsletter, the issue.
    assert len(queries) == 5, "\n".join(query["sql"][:120] for query in queries)


def test_a_page_added_since_the_home_pages_children_were_remembered_is_found(client, home):
    SectionPageFactory(parent=home, title="Analysis", slug="analysis")
    assert client.get("/analysis/").status_code == 200  # the children's types are remembered

    SectionPageFactory(parent=home, title="Columns", slug="columns")  # no publish signal

    response = client.get("/columns/")
    assert response.status_code == 200
    assert b"Columns" in response.content
