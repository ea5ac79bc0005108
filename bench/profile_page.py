"""Where an uncached page spends its time: cProfile over repeated requests through the stack.

Run by article_page.py (python -m bench.profile_page URL REPEAT OUT.txt) with the same
environment as gunicorn. Requests carry a session cookie, as the load test's uncached runs
do, so the page cache is bypassed and every request renders the page.
"""

import cProfile
import io
import pstats
import sys
import time

import django

# (label, file suffix, function): the costs the README's analysis names.
BREAKDOWN = [
    ("the whole request inside Django's handler", "django/core/handlers/base.py", "_get_response"),
    (
        "Wagtail serve: routing, view restrictions, get_context (rendering comes after)",
        "wagtail/views.py",
        "serve",
    ),
    (
        "ArticlePage.get_context (meta, further reading, tags, share links, QR code)",
        "articles/models/pages.py",
        "get_context",
    ),
    (
        "template rendering (includes queries run lazily from templates)",
        "django/template/response.py",
        "render",
    ),
    (
        "SQL: building and running every query (ORM compile + SQLite)",
        "django/db/models/sql/compiler.py",
        "execute_sql",
    ),
    ("SQL: SQLite itself", "django/db/backends/sqlite3/base.py", "execute"),
    ("further_reading()", "articles/further_reading.py", "further_reading"),
    (
        "get_meta() (PageMeta, JSON-LD, breadcrumbs, share image)",
        "articles/models/pages.py",
        "get_meta",
    ),
    ("breadcrumbs() (ancestors .specific())", "articles/models/pages.py", "breadcrumbs"),
    ("Wagtail routing: Page.route() down the tree", "wagtail/models/pages.py", "route"),
    ("Site.find_for_request", "wagtail/models/sites.py", "find_for_request"),
    ("share_links() (share widget URLs)", "articles/share.py", "share_links"),
    ("qr_code_svg() (segno, memoised per URL)", "articles/share.py", "qr_code_svg"),
    ("Image.get_rendition (one image)", "wagtail/images/models.py", "get_rendition"),
    ("Image.get_renditions ({% picture %})", "wagtail/images/models.py", "get_renditions"),
    ("site chrome: remember() (page-cache lookups)", "articles/chrome.py", "remember"),
    ("newsletter promo tag", "newsletters/templatetags/newsletter_tags.py", "newsletter_promo"),
    ("file cache get() (page cache, chrome)", "outlet/file_cache.py", "get"),
    ("file cache set()", "django/core/cache/backends/filebased.py", "set"),
    ("locmem cache get() (renditions)", "django/core/cache/backends/locmem.py", "get"),
    (
        "StreamField body rendering (include_block)",
        "wagtail/templatetags/wagtailcore_tags.py",
        "render",
    ),
]


def main(url: str, repeat: int, out_path: str) -> None:
    django.setup()
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = "x"
    for _ in range(5):
        assert client.get(url).status_code == 200

    started = time.perf_counter()
    for _ in range(repeat):
        client.get(url)
    plain = (time.perf_counter() - started) / repeat

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        client.get(url)
    profiler.disable()

    stats = pstats.Stats(profiler)
    # The largest cumulative time among same-named functions of a file: the outermost of a
    # super() chain (ArticlePage.get_context calls MetadataMixin.get_context).
    per_request = {
        label: max(
            (
                entry[3]
                for (filename, _, name), entry in stats.stats.items()
                if filename.endswith(suffix) and name == function
            ),
            default=0.0,
        )
        * 1000
        / repeat
        for label, suffix, function in BREAKDOWN
    }
    profiled = sum(entry[2] for entry in stats.stats.values()) * 1000 / repeat

    report = io.StringIO()
    report.write(
        f"{url}: {plain * 1000:.2f} ms per request without the profiler "
        f"(test client, one process, {repeat} requests)\n\n"
    )
    report.write(
        f"Where the time goes (cumulative ms per request under cProfile, of "
        f"{profiled:.1f} ms profiled; the lines overlap, they are not a sum):\n"
    )
    for label, ms in per_request.items():
        report.write(f"  {ms:7.2f} ms  {ms / profiled:5.1%}  {label}\n")
    report.write("\n")
    stats = pstats.Stats(profiler, stream=report).strip_dirs()
    report.write("== by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(45)
    report.write("== by own time ==\n")
    stats.sort_stats("tottime").print_stats(25)
    with open(out_path, "w") as handle:
        handle.write(report.getvalue())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
