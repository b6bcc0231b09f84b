"""The one way to ask whether htmx made the request (it sends `HX-Request: true`)."""

from flask import request


def is_htmx() -> bool:
    """htmx made the request: a fragment swap, or a boosted link or form."""
    # The WSGI environ, where the header is: request.headers raises (and catches) an
    # exception for each header a request lacks, and most requests lack these.
    return request.environ.get("HTTP_HX_REQUEST") == "true"


def wants_fragment() -> bool:
    """htmx asks for part of a page; a boosted navigation wants the whole page."""
    return is_htmx() and request.environ.get("HTTP_HX_BOOSTED") != "true"
