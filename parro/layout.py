"""What every page's layout needs: the school, the language, the navigation and its counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, has_request_context, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, select

from . import policy
from .clock import now
from .database import UTCDateTime, polled
from .extensions import db, limiter
from .models import School

# The counts are built once per role with these bind parameters, so a request
# only fills in the values (building SQL expressions costs more than running them).
USER_ID = bindparam("user_id")
NOW = bindparam("now", type_=UTCDateTime())


@dataclass
class NavItem:
    endpoint: str
    label: object
    allowed: Callable = lambda user: True
    # A number next to the label: `key` names it (in the poll's URL, the element id
    # nav-count-<key>); `count(user)` is a scalar subquery with the parameters
    # USER_ID and NOW, and any that `params(user)` gives values for; it may
    # depend on the user's role only (all counts are one statement, made once
    # per role); `text(user, n)` the words a screen reader says after the number
    # ("3" "nieuwe berichten").
    key: str | None = None
    count: Callable | None = None
    text: Callable | None = None
    params: Callable | None = None


def _new_posts(user):
    from .feed.counts import new_posts_count

    return new_posts_count(user)


def _new_posts_params(user):
    from .feed.counts import params

    return params(user)


def _unread(user):
    from .chat.service import unread_count

    return unread_count(user)


def _open_activities(user):
    from .activities.overview import open_count

    return open_count(user)


def _activities_text(user, n):
    if user.is_staff:
        return ngettext("lopende activiteit", "lopende activiteiten", n)
    return ngettext("activiteit wacht op u", "activiteiten wachten op u", n)


# Features add their section here, in the order users see them.
NAV = [
    NavItem("feed.index", _l("Groepen"), key="feed", count=_new_posts, params=_new_posts_params,
            text=lambda user, n: ngettext("nieuw bericht", "nieuwe berichten", n)),
    NavItem("chat.index", _l("Gesprekken"), policy.can_use_chat, key="chat", count=_unread,
            text=lambda user, n: ngettext("ongelezen bericht", "ongelezen berichten", n)),
    NavItem("activities.index", _l("Activiteiten"), key="activities", count=_open_activities,
            text=_activities_text),
    NavItem("calendar.index", _l("Kalender"), policy.can_see_calendar),
    NavItem("absence.index", _l("Absentie")),
    NavItem("privacy.topics", _l("Privacy"), policy.can_manage_consent_topics),
    NavItem("admin.index", _l("Beheer"), policy.can_administer),
]


_SCHOOL = select(School).order_by(School.id).limit(1)  # built once: it runs on every page


def current_school() -> School | None:
    """The school (one per installation); loaded once per request."""
    def load():
        return db.session.scalar(_SCHOOL)

    return policy.per_request("school", load) if has_request_context() else load()


def _counted(user) -> list[NavItem]:
    return [item for item in NAV if item.count and item.allowed(user)]


_statements: dict[tuple, object] = {}


def nav_counts(user) -> dict[str, int]:
    """Every count in the user's navigation, in one query (once per request)."""

    def compute():
        items = _counted(user)
        if not items:
            return {}
        shape = (user.role, tuple(item.key for item in items))
        if shape not in _statements:
            _statements[shape] = select(*[item.count(user).label(item.key) for item in items])
        values = {"user_id": user.id, "now": now()}
        for item in items:
            values.update(item.params(user) if item.params else {})
        row = db.session.execute(_statements[shape], values).one()
        return {key: int(value or 0) for key, value in row._mapping.items()}

    return policy.per_request("nav_counts", compute)


def count_text(key: str, n: int) -> str:
    item = next(item for item in NAV if item.key == key)
    return item.text(current_user, n)


def init_app(app: Flask) -> None:
    @app.context_processor
    def layout():
        items = []
        # Mails are rendered outside requests too (CLI, tests): no user, no navigation.
        if has_request_context() and current_user.is_authenticated:
            for item in NAV:
                if item.allowed(current_user):
                    prefix = item.endpoint.split(".")[0]
                    items.append({
                        "url": url_for(item.endpoint),
                        "label": item.label,
                        "active": (request.blueprint or "") == prefix,
                        "key": item.key if item.count else None,
                    })
        return {
            "school": current_school(),
            "nav_items": items,
            # Called by the template, so fragments never pay for the counts.
            "nav_counts": lambda: nav_counts(current_user),
            "count_text": count_text,
            "current_locale": str(get_locale()),
        }

    @app.get("/tellers")
    @limiter.exempt
    @polled
    def nav_poll():
        """The navigation's counts, polled by every page; 204 while the page shows them all.

        The empty answer costs two queries: the session lookup and the counts.
        """
        if not current_user.is_authenticated:
            return "", 401
        counts = nav_counts(current_user)
        changed = {k: n for k, n in counts.items() if request.args.get(k, type=int) != n}
        if not changed:
            return "", 204
        return render_template("_nav_counts.html", counts=counts, changed=changed)
