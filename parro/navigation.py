"""The navigation: the menu items features register, their counts, and the poll that keeps
the counts fresh (/tellers).

A feature adds its menu item when its package is imported
(`navigation.register(NavItem(...))` in parro/feed/__init__.py); nothing here imports
a feature. All counts of a user are one statement, built once per role and set of
items (sql.prebuilt), that only gets the user's values per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from . import policy
from .clock import now
from .database import polled
from .extensions import db, limiter
from .models import Role, User
from .sql import prebuilt


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    position: int  # its place in the menu, left to right
    allowed: Callable[[User], bool] = lambda user: True
    # A number next to the label: `key` names it (in the poll's URL, the element id
    # nav-count-<key>); `count(role)` is a scalar subquery for users of that role, with
    # the bind parameters sql.USER_ID and sql.NOW and any that `params(user)` gives
    # values for; `text(user, n)` the words a screen reader says after the number
    # ("3" "nieuwe berichten").
    key: str | None = None
    count: Callable[[Role], object] | None = None
    text: Callable[[User, int], str] | None = None
    params: Callable[[User], dict] | None = None


_items: list[NavItem] = []


def register(item: NavItem) -> None:
    """Add a feature's menu item (once, when its package is imported)."""
    _items.append(item)
    _items.sort(key=lambda i: i.position)


def items_for(user: User) -> list[NavItem]:
    return [item for item in _items if item.allowed(user)]


@prebuilt
def _counts_statement(role: Role, keys: tuple[str, ...]):
    by_key = {item.key: item for item in _items}
    return select(*[by_key[key].count(role).label(key) for key in keys])


def nav_counts(user: User) -> dict[str, int]:
    """Every count in the user's navigation, in one query (once per request)."""

    def compute():
        items = [item for item in items_for(user) if item.count]
        if not items:
            return {}
        statement = _counts_statement(user.role, tuple(item.key for item in items))
        values = {"user_id": user.id, "now": now(), "school_id": policy.current_school_id()}
        for item in items:
            values.update(item.params(user) if item.params else {})
        # Numbers only: on the session's connection (Core), past the ORM's execution path.
        row = db.session.connection().execute(statement, values).one()
        return {key: int(value or 0) for key, value in row._mapping.items()}

    return policy.per_request("nav_counts", compute)


def count_text(user: User, key: str, n: int) -> str:
    item = next(item for item in _items if item.key == key)
    return item.text(user, n)


bp = Blueprint("navigation", __name__)


@bp.get("/tellers")
@limiter.exempt
@polled
def poll():
    """Answer the navigation's counts, polled by every page; 204 while the page shows them all.

    The empty answer costs two queries: the session lookup and the counts.
    """
    if not current_user.is_authenticated:
        return "", 401
    counts = nav_counts(current_user)
    changed = {k: n for k, n in counts.items() if request.args.get(k, type=int) != n}
    if not changed:
        return "", 204
    return render_template("_nav_counts.html", counts=counts, changed=changed)
