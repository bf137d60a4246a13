"""Markdown → safe HTML for knowledge-base pages.

Two layers: markdown-it-py with raw HTML off (a `<script>` in the text stays text, and its link
validator refuses javascript:/vbscript:/data: URLs), then nh3 with an allow-list of tags and
attributes — no event handlers, no style, links only to http(s)/mailto or this site, pictures only
from /static/kb/ (the illustrations shipped with the app; never an external URL).
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

TAGS = {
    "p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote",
    "a", "img", "table", "thead", "tbody", "tr", "th", "td", "hr", "br",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
PICTURE = re.compile(r"^/static/kb/[a-z0-9][a-z0-9-]*\.(svg|png)$")
MAX_BODY = 20_000


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if PICTURE.match(value) else None
    if tag == "a" and attribute == "href" and value.startswith("//"):
        return None  # scheme-relative: another site
    return value


def render(markdown: str) -> Markup:
    html = _md.render(markdown or "")
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(clean)
