"""Message text to HTML: everything escaped, links clickable, line breaks kept."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# http(s) and www. links; trailing punctuation belongs to the sentence, not the link.
LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
TRAILING = ".,;:!?)]}'\""


def _link(url: str) -> Markup:
    href = url if url.lower().startswith(("http://", "https://")) else f"https://{url}"
    return Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>').format(
        href, url
    )


def render_text(body: str) -> Markup:
    parts: list[Markup] = []
    pos = 0
    for match in LINK.finditer(body):
        url = match.group(0)
        end = match.end()
        while url and url[-1] in TRAILING:
            # Keep a closing parenthesis that has its opening one inside the link.
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
            end -= 1
        if not url or url.lower() in ("http://", "https://", "www."):
            continue
        parts.append(escape(body[pos : match.start()]))
        parts.append(_link(url))
        pos = end
    parts.append(escape(body[pos:]))
    html = Markup("").join(parts)
    return Markup(html.replace("\r\n", "\n").replace("\n", Markup("<br>\n")))
