"""What the app accepts from a request before any of it reaches the database or a header.

One place for each kind of hostile input (issue 20, point 3):

- NUL characters anywhere in the path, the query, the form or a file name: refused
  with 400 before the view runs (PostgreSQL cannot store them in text; no field of
  ours ever needs one). `init_app` installs the check.
- Numbers: an id in a path (`<int:...>`, the app's bounded converter) or in a query or
  form (`int_arg`, `int_list`, `to_id`) fits the database's integer columns, or the
  request is treated as naming nothing (404 or the empty choice) instead of overflowing.
- The way back (`next`): only a local path (`way_back`), whatever form or link sent it.

Line breaks in one-line form fields are refused by `parro.forms.SingleLine`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

# The largest value of an INTEGER column on PostgreSQL (and far within SQLite's): every
# id, position and count the app stores fits in it.
MAX_INT = 2**31 - 1


class InvalidCharacter(BadRequest):
    """A request with a NUL character in it: refused before the view runs."""


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a number from 0 to MAX_INT, else no route matches (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=MAX_INT if max is None else max, signed=signed)


def to_id(value) -> int:
    """`value` as a whole number from 0 to MAX_INT; ValueError otherwise.

    The coerce of a WTForms choice field: a value that does not fit fails validation
    (an invalid choice) instead of reaching the database.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip()
        # ASCII digits only ("²".isdigit() is true, but int("²") fails), and at most ten
        # of them: a 10 MB number is never converted.
        if not (0 < len(text) <= 10 and text.isascii() and text.isdigit()):
            raise ValueError(value)
        number = int(text)
    if not 0 <= number <= MAX_INT:
        raise ValueError(value)
    return number


def as_id(value) -> int | None:
    """`value` as an id (see `to_id`), or None."""
    try:
        return to_id(value)
    except ValueError:
        return None


def int_arg(name: str, source=None) -> int | None:
    """The id or number `name` from the query (or `source`): None when missing or not one.

    Use it for every number read from request.args, request.form or request.values:
    Werkzeug's `type=int` lets through numbers too big for the database.
    """
    values = request.args if source is None else source
    return as_id(values.get(name, ""))


def int_list(name: str, source=None) -> list[int]:
    """Every id `name` in the query (or `source`), leaving out what is not one."""
    values = request.args if source is None else source
    return [number for raw in values.getlist(name) if (number := as_id(raw)) is not None]


def way_back(target: str | None, default: str | None = None) -> str:
    """`target` when it is a path on this site, else `default` (the home page).

    For every way-back parameter (`next` in a link or a form): a login link or a like
    button must not send anyone to another site.
    """
    # "//host", "///host" and "/\host" are other sites to a browser; so is a path with
    # a tab or newline in it, which browsers drop before reading it (and a line break
    # in a Location header cannot be sent at all).
    local = (
        isinstance(target, str)
        and target.isprintable()
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    )
    if local and not urlsplit(target).netloc:
        return target
    return default if default is not None else url_for("home")


def _has_nul() -> bool:
    # The query as sent: a NUL in it is "%00" (or the raw byte). Parsing it into
    # request.args for every poll cost more than the check; a body is only read when
    # there is one (a GET has none).
    if "\x00" in request.path or b"%00" in request.query_string or b"\x00" in request.query_string:
        return True
    environ = request.environ
    if environ.get("CONTENT_LENGTH") in (None, "", "0") and "HTTP_TRANSFER_ENCODING" not in environ:
        return False
    for key, value in request.form.items(multi=True):
        if "\x00" in key or "\x00" in value:
            return True
    return any("\x00" in (file.filename or "") for file in request.files.values())


def refuse_nul() -> None:
    """Before every view: a NUL character in what the browser sent is a 400."""
    if _has_nul():
        raise InvalidCharacter()


def init_app(app: Flask) -> None:
    # Before the blueprints: a rule binds its converters when it is added.
    app.url_map.converters["int"] = IdConverter
    # First of the before_request functions: nothing may reach the database with a NUL.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul)
