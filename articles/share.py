"""The share widget: plain links built on the server, and a WeChat QR code as inline SVG."""

import functools
import io
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from django.utils.safestring import mark_safe


@dataclass(frozen=True)
class ShareLink:
    network: str
    label: str
    url: str


def share_links(url: str, title: str) -> list[ShareLink]:
    """One link per network, each carrying the canonical URL and the title, fully encoded."""
    text = f"{title} {url}"
    return [
        ShareLink("x", "X", _with("https://x.com/intent/post", text=title, url=url)),
        ShareLink(
            "linkedin",
            "LinkedIn",
            _with("https://www.linkedin.com/sharing/share-offsite/", url=url),
        ),
        ShareLink(
            "facebook",
            "Facebook",
            _with("https://www.facebook.com/sharer/sharer.php", u=url),
        ),
        ShareLink("email", "Email", _with("mailto:", subject=title, body=url)),
        ShareLink("whatsapp", "WhatsApp", _with("https://wa.me/", text=text)),
        ShareLink(
            "weibo",
            "Weibo",
            _with("https://service.weibo.com/share/share.php", url=url, title=title),
        ),
        ShareLink("telegram", "Telegram", _with("https://t.me/share/url", url=url, text=title)),
        ShareLink(
            "reddit",
            "Reddit",
            _with("https://www.reddit.com/submit", url=url, title=title),
        ),
    ]


def _with(base: str, **params: str) -> str:
    # quote_via=quote keeps spaces as %20, which mail clients need in mailto: links.
    return f"{base}?{urlencode(params, quote_via=quote)}"


@functools.lru_cache(maxsize=1024)
def qr_code_svg(url: str, title: str) -> str:
    """An accessible inline SVG QR code for `url`, for readers who share by scanning (WeChat)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer,
        kind="svg",
        scale=4,
        border=2,
        xmldecl=False,
        svgns=True,
        title=f"QR code for {title}",
        svgclass="share-qr__code",
        lineclass=None,
        omitsize=True,
    )
    return mark_safe(buffer.getvalue().decode())  # noqa: S308 - segno escapes the title
