"""Plain text of posts as HTML: everything escaped, links clickable, line breaks kept."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+")
TRAILING = ".,;:!?'\""


def _split_trailing(url: str) -> tuple[str, str]:
    """Punctuation after a link belongs to the sentence, not to the link."""
    tail = ""
    while url and (url[-1] in TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        tail = url[-1] + tail
        url = url[:-1]
    return url, tail


def render_text(text: str | None) -> Markup:
    text = text or ""
    parts: list[str] = []
    pos = 0
    for match in URL_RE.finditer(text):
        url, tail = _split_trailing(match.group(0))
        parts.append(escape(text[pos : match.start()]))
        href = url if url.lower().startswith("http") else f"https://{url}"
        parts.append(
            Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>').format(
                href, url
            )
        )
        parts.append(escape(tail))
        pos = match.end()
    parts.append(escape(text[pos:]))
    html = "".join(str(p) for p in parts)
    # Safe: every character the user typed is escaped above; only newlines become tags.
    return Markup(html.replace("\n", "<br>\n"))
