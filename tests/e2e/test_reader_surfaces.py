"""What readers see of every page kind, on a phone and a desktop, in light and dark.

On every page: nothing wider than the screen, no spam trap that anyone can see, reach or hear,
nothing the Content Security Policy had to block, and no serious or critical axe-core
violation. On the article: the newsletter promo inside the reading column, the share widget in
one row on a phone, and a "Scroll to top" that works.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import override_settings
from django.urls import reverse
from playwright.sync_api import expect

# The live server sees the test's data only outside a transaction; serialized rollback puts
# back what migrations created for the tests that run after these.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SERIOUS = {"serious", "critical"}
AXE = Axe()  # axe-core as the package ships it: nothing is fetched


@pytest.fixture
def reader_urls(demo_content) -> dict[str, str]:
    """One URL of each page kind a reader meets in the demo, by name."""
    from articles.models import ArticlePage, SectionPage
    from newsletters import tokens
    from newsletters.models import IssuePage, NewsletterPage, Subscription

    # An article whose series a newsletter is promoted on: it shows that newsletter's promo.
    promoted = NewsletterPage.objects.exclude(promoted_on=None).values("promoted_on")
    article = ArticlePage.objects.live().filter(series__in=promoted).first()
    active = Subscription.objects.filter(status=Subscription.Status.ACTIVE).first()
    pending = Subscription.objects.filter(status=Subscription.Status.PENDING).first()
    return {
        "home": "/",
        "section": SectionPage.objects.live().first().url,
        "article": article.url,
        "author": article.authors[0].get_absolute_url(),
        "series": article.series.get_absolute_url(),
        "tag": reverse("articles:tag", args=[article.tags.first().slug]),
        "search": reverse("articles:search") + "?q=tariffs",
        "search-long-query": reverse("articles:search") + "?q=" + "tariffs" * 40,
        "newsletters": "/newsletters/",
        "newsletter": NewsletterPage.objects.live().get(promote_by_default=True).url,
        "issue": IssuePage.objects.live().order_by("-first_published_at").first().url,
        "check-inbox": reverse("newsletters:check_inbox"),
        "confirm": reverse(
            "newsletters:confirm", args=[tokens.make(tokens.CONFIRM, pending.subscriber)]
        ),
        "preferences": reverse(
            "newsletters:preferences", args=[tokens.make(tokens.PREFERENCES, active.subscriber)]
        ),
        "unsubscribe": reverse(
            "newsletters:unsubscribe",
            args=[tokens.make(tokens.UNSUBSCRIBE, active.subscriber, active.newsletter_id)],
        ),
        "bad-link": reverse("newsletters:preferences", args=["not-a-token"]),
    }


@pytest.fixture(params=[(PHONE, "light"), (DESKTOP, "light"), (PHONE, "dark")], ids=str)
def reader(request, browser, live_server):
    viewport, scheme = request.param
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, color_scheme=scheme, reduced_motion="reduce"
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


class Findings:
    """What a reader would notice, page by page; the test fails on any of it."""

    def __init__(self, page):
        self.problems: list[str] = []
        self.traps = 0
        self.refusals: list[str] = []  # what the Content Security Policy blocked
        page.on("console", self.note_refusal)

    def note_refusal(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.refusals.append(message.text[:160])

    def look(self, page, name: str) -> None:
        self.problems += [f"{name}: {problem}" for problem in self.on(page)]

    def on(self, page) -> list[str]:
        found, self.refusals = self.refusals, []
        screen = page.viewport_size["width"]
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > screen:
            found.append(f"the page is {width}px wide on a {screen}px screen")
        found += self.trap_problems(page)
        for violation in AXE.run(page).response["violations"]:
            if violation["impact"] in SERIOUS:
                where = ", ".join(str(node["target"][0]) for node in violation["nodes"][:3])
                found.append(f"axe {violation['id']} ({violation['impact']}) at {where}")
        return found

    def trap_problems(self, page) -> list[str]:
        found = []
        for trap in page.locator("input[name=website]").all():
            self.traps += 1
            if trap.bounding_box() is not None or trap.is_visible():
                found.append("the spam trap has a box on screen")
            trap.evaluate("field => field.focus()")
            if page.evaluate("document.activeElement?.name") == "website":
                found.append("the spam trap takes focus")
        if "Leave this empty" in page.locator("body").aria_snapshot():
            found.append("the spam trap is in the accessibility tree")
        return found


def test_every_reader_page_fits_hides_its_trap_and_passes_axe(reader, reader_urls):
    findings = Findings(reader)
    for name, url in reader_urls.items():
        reader.goto(url)
        expect(reader.locator("h1").first).to_be_visible()
        findings.look(reader, name)

    # The pages reached by pressing buttons: unsubscribed, a refused address, too many tries.
    reader.goto(reader_urls["unsubscribe"])
    reader.get_by_role("button", name="Unsubscribe").click()
    expect(reader.locator("h1")).to_have_text("You are unsubscribed")
    findings.look(reader, "unsubscribed")
    with override_settings(SIGNUP_RATE_LIMIT=1):
        submit_address(reader, reader_urls["newsletters"], "not an address")
        expect(reader.locator("h1")).to_have_text("Check your address")
        findings.look(reader, "subscribe-error")
        submit_address(reader, None, "reader@example.org")
        expect(reader.locator("h1")).to_have_text("Too many requests")
        findings.look(reader, "rate-limited")

    assert findings.traps >= 8, "the trap checks looked at too few forms to mean anything"
    assert not findings.problems, "\n".join(findings.problems)


def submit_address(page, url: str | None, address: str) -> None:
    """Type `address` in the first subscribe form (of `url`, or of the page shown) and send it."""
    if url:
        page.goto(url)
    form = page.locator("form.subscribe__form").first
    form.evaluate("form => { form.noValidate = true; }")  # let the server judge the address
    form.get_by_label("Email address").fill(address)
    form.get_by_role("button", name="Subscribe").click()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_the_article_promo_keeps_to_the_reading_column(browser, live_server, reader_urls, viewport):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    page = context.new_page()
    page.goto(reader_urls["article"])

    column = page.locator(".article__body").bounding_box()
    promo = page.locator(".article__promo .newsletter-promo")
    expect(promo).to_be_visible()
    box = promo.bounding_box()
    assert column["x"] - 0.5 <= box["x"], (column, box)
    assert box["x"] + box["width"] <= column["x"] + column["width"] + 0.5, (column, box)
    assert box["width"] >= column["width"] - 1, "the promo fills the column it sits in"
    context.close()


def test_on_a_phone_the_share_widget_is_one_labelled_row(page, reader_urls):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(reader_urls["article"])

    share = page.get_by_role("complementary", name="Share this article", exact=True)
    items = share.locator(".share__links > li:visible")
    expect(share.locator("[data-share-copy]")).to_be_visible()  # outlet.js has run
    tops = {round(item.bounding_box()["y"]) for item in items.all()}
    assert items.count() >= 10 and len(tops) == 1, f"{items.count()} items on rows at {tops}"
    assert share.bounding_box()["height"] < 80
    for item in items.all():
        box = item.bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, "WCAG 2.2 target size"
    expect(share.get_by_role("link", name="Share on LinkedIn")).to_be_visible()


def test_scroll_to_top_returns_to_the_masthead(page, reader_urls):
    page.emulate_media(reduced_motion="reduce")
    page.goto(reader_urls["article"])
    link = page.get_by_role("link", name="Scroll to top")
    link.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 1000

    link.click()

    # With reduced motion the jump is instant (no smooth scrolling to wait for).
    expect(page.locator(".site-header__brand")).to_be_in_viewport()
    assert page.evaluate("window.scrollY") == 0


def test_header_and_footer_lead_to_the_newsletters(page, reader_urls):
    page.goto(reader_urls["article"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Newsletters").click()
    expect(page.locator("h1")).to_have_text("Newsletters")
    expect(page.locator(".newsletter-card")).to_have_count(2)

    page.goto(reader_urls["section"])
    page.locator("footer.site-footer").get_by_role("link", name="Newsletters").click()
    expect(page).to_have_url(reader_urls["newsletters"])
    signup = page.locator(".site-signup")
    expect(signup).to_have_count(0)  # the newsletter pages carry their own forms
