"""SQL queries per page, counted on the benchmark's database through the whole middleware stack.

Run by article_page.py (python -m bench.query_counts OUT.json) with the same environment
as gunicorn. Each page is requested once to warm it up (image renditions are created on the
first view). Then three counts:

- `queries`: an anonymous reader's cache miss, the way it is served in steady state. The
  site chrome (navigation, publication settings, promoted newsletter: articles/chrome.py)
  lives in the page cache, so the page cache is emptied, a request with a session cookie
  (never stored) fills the chrome again, and the anonymous request that follows is counted:
  the page itself is a miss, the chrome a hit. This is the figure the <= 15 target uses.
- `queries_cold`: the first request after an article is published (one is republished, as
  an editor does), which empties the page cache: the page and every part kept with it are
  rebuilt; the site's structure (chrome, site, private sections: outlet.page_cache) is kept.
- `queries_after_structure_change`: the first request after a change that also empties the
  site's structure (a section, a newsletter, the settings, a privacy change: rarer), so the
  chrome is recomputed too.
- `queries_with_session_cookie`: what the load test's uncached runs cost (chrome warm).

It also picks the pages the load test uses, one of every kind: the costliest article (most
queries, then most authors, image blocks, blocks, tags), its section, first author, series
and first tag, the home page, a newsletter, its latest issue, and the feeds. Every live
article is counted too, so that a count growing with authors, tags or blocks shows up.
"""

import json
import sys

import django
from django.conf import settings


def main(out_path: str) -> None:
    django.setup()
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from articles.models import ArticlePage, HomePage
    from newsletters.models import IssuePage, NewsletterPage
    from outlet.page_cache import clear_page_cache

    client = Client(HTTP_HOST="127.0.0.1")
    page_cache = caches[settings.CACHE_MIDDLEWARE_ALIAS]

    session_client = Client(HTTP_HOST="127.0.0.1")
    session_client.cookies["sessionid"] = "x"

    published = ArticlePage.objects.live().order_by("pk").first()

    def count(url: str, with_session: bool = False) -> dict:
        warm = client.get(url)
        # Cold: right after an article is published, the page is rebuilt.
        published.get_latest_revision().publish()
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        # captured_queries slices the connection's query log, which every request resets:
        # read it before the next request.
        cold = [query["sql"] for query in captured.captured_queries]
        # After a change of the site's structure, the chrome is recomputed too.
        clear_page_cache()
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        restructured = [query["sql"] for query in captured.captured_queries]
        # Steady state: the page is a miss, the chrome a hit (a session-cookie request fills
        # the chrome without storing the page).
        page_cache.clear()
        session_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        steady = [query["sql"] for query in captured.captured_queries]
        result = {
            "url": url,
            "status": response.status_code,
            "warmup_status": warm.status_code,
            "queries": len(steady),
            "queries_cold": len(cold),
            "queries_after_structure_change": len(restructured),
            "bytes": len(response.content),
            "sql": steady,
            "sql_cold_only": [sql for sql in cold if sql not in steady],
        }
        if with_session:
            # What the load test's uncached runs cost: the same page with a session cookie.
            with CaptureQueriesContext(connection) as captured:
                session_client.get(url)
            result["queries_with_session_cookie"] = len(captured.captured_queries)
        page_cache.clear()
        return result

    articles = []
    for article in ArticlePage.objects.live().public().specific():
        shape = {
            "authors": article.article_authors.count(),
            "tags": article.tags.count(),
            "related_picks": article.related_picks.count(),
            "blocks": len(article.body.raw_data),
            "image_blocks": sum(1 for b in article.body.raw_data if b["type"] == "image"),
            "hero_image": article.hero_image_id is not None,
        }
        articles.append({**count(article.url), **shape, "pk": article.pk, "title": article.title})
    if not articles:
        sys.exit("no live article to benchmark: did the demo content load?")

    def weight(item):
        # The costliest article: most queries, then most of everything a page shows.
        shape = (item["authors"], item["image_blocks"], item["blocks"], item["tags"])
        return (item["queries"], *shape, item["related_picks"])

    costliest = max(articles, key=weight)
    article = ArticlePage.objects.get(pk=costliest["pk"])
    section = article.get_parent().specific
    home = HomePage.objects.live().first()
    author = article.authors[0]
    tag = article.tags.first()
    newsletter = NewsletterPage.objects.live().public().first()
    issue = IssuePage.objects.live().public().child_of(newsletter).last()
    if newsletter is None or issue is None or tag is None or article.series is None:
        sys.exit("the costliest article needs a series and a tag, and a live issue must exist")
    urls = {
        "article": costliest["url"],
        "home": home.url,
        "section": section.url,
        "author": author.get_absolute_url(),
        "series": article.series.get_absolute_url(),
        "tag": reverse("articles:tag", args=[tag.slug]),
        "newsletter": newsletter.url,
        "issue": issue.url,
        "feed": "/feed/",
        "section_feed": f"{section.url}feed/",
        "issue_feed": f"{newsletter.url}feed/",
    }
    pages = {name: count(url, with_session=True) for name, url in urls.items()}
    pages["article"] = {**costliest, **pages["article"]}
    result = {
        "pages": pages,
        "page_queries_max": max(page["queries"] for page in pages.values()),
        "page_queries_cold_max": max(page["queries_cold"] for page in pages.values()),
        "page_queries_after_structure_change_max": max(
            page["queries_after_structure_change"] for page in pages.values()
        ),
        "articles": [{k: v for k, v in a.items() if not k.startswith("sql")} for a in articles],
        "article_queries_min": min(a["queries"] for a in articles),
        "article_queries_max": max(a["queries"] for a in articles),
        "article_queries_cold_max": max(a["queries_cold"] for a in articles),
    }
    with open(out_path, "w") as handle:
        json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
