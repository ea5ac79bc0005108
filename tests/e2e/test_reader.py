"""A reader on a phone: home page, an article, copy the link, the WeChat QR, search."""

import re

import pytest
from playwright.sync_api import expect

# The live server sees the test's data only outside a transaction; serialized rollback puts
# back what migrations created (home page, roles) for the tests that run after these.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_reader_follows_an_article_copies_its_link_and_opens_the_qr(page, demo_content):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/")
    first_latest = page.locator(".latest .card__title a").first
    title = first_latest.inner_text()
    first_latest.click()

    expect(page.locator("h1")).to_contain_text(title.split(": ", 1)[-1])
    expect(page.locator(".byline a[rel=author]").first).to_be_visible()
    expect(page.locator("[data-share]")).to_have_count(2)

    share = page.locator("[data-share]").first
    share.locator("[data-share-copy]").click()
    expect(share.locator("[data-share-status]")).to_have_text(re.compile("copied", re.I))
    assert page.evaluate("navigator.clipboard.readText()") == share.get_attribute("data-share-url")

    wechat = share.locator("details.share__wechat")
    qr = wechat.locator("svg.share-qr__code")
    expect(qr).to_be_hidden()
    wechat.locator("summary").click()
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 120, "a QR code smaller than this does not scan"


def test_share_links_work_without_javascript(browser, live_server, demo_content):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    page.locator(".latest .card__title a").first.click()
    share = page.locator("[data-share]").first

    expect(share.locator("[data-share-copy]")).to_be_hidden()
    x_link = share.locator(".share__link--x")
    assert x_link.get_attribute("href").startswith("https://x.com/intent/post?")
    context.close()


def test_reader_searches_from_the_header(page, demo_content):
    page.goto("/")
    page.get_by_role("searchbox", name="Search articles").first.fill("export controls")
    page.get_by_role("searchbox", name="Search articles").first.press("Enter")

    expect(page).to_have_url(re.compile(r"/search/\?q=export\+controls"))
    expect(page.locator(".search__count")).to_contain_text("for “export controls”")
    assert page.locator(".card").count() >= 1
    page.locator(".card__title a").first.click()
    expect(page.locator("article.article")).to_be_visible()
