"""What an anonymous reader gets back: parsed HTML, after checking the page really was served."""

import xml.etree.ElementTree as ET

from bs4 import BeautifulSoup

NOT_FOUND_HEADING = "We can\N{RIGHT SINGLE QUOTATION MARK}t find that page"


def read(client, url: str, status: int = 200) -> BeautifulSoup:
    """GET `url` as the client, insist on `status`, and return the HTML parsed."""
    response = client.get(url)
    assert response.status_code == status, f"GET {url} → {response.status_code}, not {status}"
    return BeautifulSoup(response.content, "html.parser")


def text_of(soup, selector: str) -> str:
    """The whitespace-normalised text of the first element matching `selector`."""
    element = soup.select_one(selector)
    assert element is not None, f"nothing matches {selector!r}"
    return " ".join(element.get_text(" ").split())


def section_headed(soup, heading: str):
    """The landmark (section/aside) whose heading reads `heading`, e.g. "Written by"."""
    for tag in soup.find_all(["h2", "h3"]):
        if " ".join(tag.get_text(" ").split()) == heading:
            container = tag.find_parent(["section", "aside"])
            assert container is not None, f"the {heading!r} heading is not inside a section"
            return container
    raise AssertionError(f"no heading reads {heading!r}")


def has_heading(soup, heading: str) -> bool:
    return any(
        " ".join(tag.get_text(" ").split()) == heading for tag in soup.find_all(["h2", "h3"])
    )


def card_titles(soup) -> list[str]:
    """The titles of the article cards in a listing, in the order shown."""
    return [" ".join(tag.get_text(" ").split()) for tag in soup.select("article h2, article h3")]


def parse_xml(content: bytes) -> ET.Element:
    """Parse XML the test server itself produced (a feed or the sitemap)."""
    return ET.fromstring(content)  # noqa: S314 - our own output, not untrusted input
