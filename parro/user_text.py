"""What people type, as HTML: everything escaped, links clickable, line breaks kept.

One function for posts, announcements and chat messages (the `user_text` filter).
linkify-it-py finds the links, with its rules for brackets and trailing
punctuation; of what it finds, only web addresses become links: http(s)://…
and www.… (a bare domain or an e-mail address stays text, as before).
"""

from __future__ import annotations

from linkify_it import LinkifyIt
from markupsafe import Markup, escape

_LINKS = LinkifyIt()
_LINK = Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank"{}>{}</a>')


def _href(match) -> str | None:
    """Where a found link goes, or None when it is not a web address."""
    if match.schema.lower() in ("http:", "https:"):
        return match.url
    if not match.schema and match.raw.lower().startswith("www."):
        return f"https://{match.raw}"
    return None


def render_text(text: str | None, link_style: str | None = None) -> Markup:
    """`link_style`: an inline style for the links (mail, where stylesheets do not reach)."""
    style = Markup(' style="{}"').format(link_style) if link_style else ""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    parts: list[Markup] = []
    pos = 0
    for match in _LINKS.match(text) or ():
        href = _href(match)
        if href is None:
            continue
        parts.append(escape(text[pos:match.index]))
        parts.append(_LINK.format(href, style, match.raw))
        pos = match.last_index
    parts.append(escape(text[pos:]))
    # Safe: every character typed is escaped above; only line breaks become tags.
    return Markup("").join(parts).replace("\n", Markup("<br>\n"))
