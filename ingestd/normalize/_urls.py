"""Links made absolute: `urljoin`'s answer, without its cost for a link that is absolute already.

Most links in feeds are written absolute; urljoin parses the base and the link to give such a
link back as written (~5 µs a link). `join` gives it back after one regex instead.
"""

from __future__ import annotations

import re
from functools import lru_cache, partial
from urllib.parse import urljoin, urlsplit

import lxml.html

# An http(s) link that urljoin returns unchanged whatever the base: a host, then no character
# that urlsplit removes or that its round trip rewrites (";" params, brackets, an empty "?" or "#",
# whitespace and controls; non-ASCII is left to urljoin by `join`).
_AS_WRITTEN = re.compile(
    r"https?://[^/?#;\[\]\x00-\x20\x7f][^?#;\[\]\x00-\x20\x7f]*"
    r"(?:\?[^#;\[\]\x00-\x20\x7f]+)?(?:#[^;\[\]\x00-\x20\x7f]+)?"
)


def join(base: str, url: str) -> str:
    """`urljoin(base, url)`, ValueError included (a base or link urlsplit refuses)."""
    if url.isascii() and _AS_WRITTEN.fullmatch(url) and _parses(base):
        return url
    return urljoin(base, url)


def make_links_absolute(root: lxml.html.HtmlElement, base: str) -> None:
    """`root.make_links_absolute(base, handle_failures="discard")`, links joined by `join`.

    lxml's rewrite_links applies and drops a `<base href>` first, as make_links_absolute does."""
    root.rewrite_links(partial(_joined, base))


def _joined(base: str, href: str) -> str | None:
    try:
        return join(base, href)
    except ValueError:  # the link is dropped, as handle_failures="discard" drops it
        return None


@lru_cache(maxsize=256)
def _parses(base: str) -> bool:
    # urljoin parses the base first: one it refuses refuses every link
    try:
        urlsplit(base)
    except ValueError:
        return False
    return True
