"""What every page's layout needs: the school, the language, the navigation and its counts.

The menu comes from parro/navigation.py, where each feature registered its item: the
layout imports no feature.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from .navigation import count_text, items_for, nav_counts
from .policy import current_school, several_schools


def init_app(app: Flask) -> None:
    @app.context_processor
    def layout():
        # Mails are rendered outside requests too (CLI, tests): no user, no navigation.
        # The user itself, not the proxy: each question to current_user looks it up again.
        user = current_user._get_current_object() if has_request_context() else None
        return {
            "school": current_school(),
            # Called by the template, so fragments never pay for the menu or its counts.
            "nav_items": lambda: _nav_items(user),
            "nav_counts": lambda: nav_counts(user),
            "count_text": lambda key, n: count_text(user, key, n),
            "several_schools": lambda: several_schools(user),
            "current_locale": str(get_locale()),
        }


def _nav_items(user) -> list[dict]:
    if user is None or not user.is_authenticated:
        return []
    blueprint = request.blueprint or ""
    return [{
        "url": url_for(item.endpoint),
        "label": item.label,
        "active": blueprint == item.endpoint.split(".")[0],
        "key": item.key if item.count else None,
    } for item in items_for(user)]
