"""The identity of an article on the web: its canonical URL, normalised so that one story has one
doc_id whatever link led to it (scheme and host in lower case, no default port, no fragment, no
tracking parameters such as utm_*)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import html as lxml_html

TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ref_src|cmpid|ocid)$", re.I
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_url(value: str) -> bool:
    """True for what `assistant ingest` reads as a URL rather than a path (any scheme://)."""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value))


def normalise(url: str) -> str:
    """The URL in its one form: scheme and host lower case, default port and fragment dropped,
    tracking parameters dropped (the others kept, in order), an empty path as "/"."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)]
    query = urlencode(kept)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def canonical(page_url: str, html: str) -> str:
    """The page's own `<link rel="canonical">` (resolved against the page's address), normalised;
    the page's address when it names none or names one on another scheme."""
    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, lxml_html.etree.ParserError):
        return normalise(page_url)
    for link in tree.xpath("//link[@href]"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href").strip():
            target = urljoin(page_url, link.get("href").strip())
            if urlsplit(target).scheme in ("http", "https"):
                return normalise(target)
    return normalise(page_url)
