"""static/css/app.css: no selector is given one property twice with different values.

Each feature has its section of the stylesheet; when two sections style the same
selector (`.totals th`, `ul.plain`), the later one silently wins on the other's pages.
A page that needs its own look scopes the rule by its container instead
(`.import-preview .totals th`). Rules inside the same @media count together; a
shorthand and its longhands (`padding`, `padding-left`) count as one property.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "app.css"


def rules(text: str):
    """(the @media around it, selector, property, value, line) for every declaration."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group()), text, flags=re.S)
    at_rules, selectors, start = [], None, 0
    for brace in re.finditer(r"[{}]", text):
        inside = text[start:brace.start()]
        if brace.group() == "{" and inside.strip().startswith("@"):
            at_rules.append(" ".join(inside.split()))
        elif brace.group() == "{":
            selectors = [" ".join(s.split()) for s in inside.split(",")]
            line = text.count("\n", 0, brace.start()) + 1
        elif selectors is None:  # the end of an @media (or @keyframes) block
            at_rules.pop()
        else:
            media = " ".join(at_rules)
            if not media.startswith("@keyframes"):
                for declaration in filter(str.strip, inside.split(";")):
                    prop, value = (" ".join(part.split()) for part in declaration.split(":", 1))
                    for selector in selectors:
                        yield media, selector, prop, value, line
            selectors = None
        start = brace.end()


def test_no_selector_gets_one_property_twice_with_different_values():
    seen: dict[tuple[str, str], list[tuple[str, str, int]]] = defaultdict(list)
    conflicts = []
    for media, selector, prop, value, line in rules(CSS.read_text()):
        for other_prop, other_value, other_line in seen[media, selector]:
            same = prop == other_prop or prop.startswith(other_prop + "-") \
                or other_prop.startswith(prop + "-")
            if same and other_line != line and (prop, value) != (other_prop, other_value):
                conflicts.append(f"{media} {selector}: {other_prop}: {other_value} (line "
                                 f"{other_line}), {prop}: {value} (line {line})")
        seen[media, selector].append((prop, value, line))
    assert not conflicts, "\n".join(conflicts)
