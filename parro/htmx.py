"""The one way to ask whether htmx made the request (it sends `HX-Request: true`)."""

from flask import request


def is_htmx() -> bool:
    """htmx made the request: a fragment swap, or a boosted link or form."""
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """htmx asks for part of a page; a boosted navigation wants the whole page."""
    return is_htmx() and request.headers.get("HX-Boosted") != "true"
