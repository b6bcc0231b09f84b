"""Success and error messages for htmx actions, through the same flash() as plain forms.

A plain form flashes and redirects; the next page shows the message. An htmx
action swaps in a fragment instead, so its flashed messages travel in the
response's HX-Trigger header as a `parro:flash` event, which static/js/app.js
writes into the page's status region (#flashes, role="status").
"""

from __future__ import annotations

import json

from flask import Flask, Response, get_flashed_messages, request

from .htmx import is_htmx


def init_app(app: Flask) -> None:
    @app.after_request
    def flashes_to_htmx(response: Response) -> Response:
        # Only htmx actions that stay on the page: a poll (GET) must not take a
        # message meant for the next page, and an HX-Redirect leaves them for it.
        stays = response.status_code < 300 or response.status_code == 422
        if (not is_htmx() or request.method == "GET"
                or "HX-Redirect" in response.headers or not stays):
            return response
        messages = get_flashed_messages(with_categories=True)
        if messages:
            response.headers["HX-Trigger"] = json.dumps(
                {"parro:flash": {"messages": [list(m) for m in messages]}})
        return response
