"""The school colour, made safe for white text (WCAG AA: contrast at least 4.5:1)."""

from __future__ import annotations

import re

DEFAULT = "#1f6f8b"
AA = 4.5
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def luminance(colour: str) -> float:
    """Relative luminance as WCAG 2.1 defines it."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def darken(colour: str, factor: float) -> str:
    return _hex(c * factor for c in _rgb(colour))


def brand(colour: str | None) -> str:
    """The school's colour, darkened in small steps until white text on it is readable."""
    colour = (colour or "").lower()
    if not _HEX.fullmatch(colour):
        colour = DEFAULT
    while contrast(colour, "#ffffff") < AA:
        colour = darken(colour, 0.95)
    return colour


def brand_dark(colour: str | None) -> str:
    """A darker shade of the brand colour, for hover and links."""
    return darken(brand(colour), 0.75)
