"""What every page's layout needs: the school, the language, the navigation."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from flask import Flask, has_request_context, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from . import policy
from .extensions import db
from .models import School


@dataclass
class NavItem:
    endpoint: str
    label: object
    allowed: Callable = lambda user: True
    # A number next to the label (unread messages): a function of the user, and
    # the template that shows it (it may poll for changes).
    badge: Callable | None = None
    badge_template: str | None = None


def _chat_badge(user):
    from .chat.views import nav_badge

    return nav_badge(user)


# Features add their section here, in the order users see them.
NAV = [
    NavItem("feed.index", _l("Groepen")),
    NavItem("chat.index", _l("Gesprekken"), policy.can_use_chat, _chat_badge, "chat/_nav_count.html"),
    NavItem("activities.index", _l("Activiteiten")),
    NavItem("absence.index", _l("Absentie")),
    NavItem("privacy.topics", _l("Privacy"), policy.can_manage_consent_topics),
    NavItem("admin.index", _l("Beheer"), policy.can_administer),
]


def current_school() -> School | None:
    return db.session.scalar(select(School).limit(1))


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
                        # Called by the template, so fragments never pay for it.
                        "badge": partial(item.badge, current_user) if item.badge else None,
                        "badge_template": item.badge_template,
                    })
        return {"school": current_school(), "nav_items": items, "current_locale": str(get_locale())}
