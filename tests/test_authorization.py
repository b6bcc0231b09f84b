"""Every route, requested as every role, answers what the policy says.

Adding a route without a row here fails test_every_route_is_listed. A row names
the method, the URL arguments (from the World) and the status per role; the
roles go from least to most privileged, so a POST that changes something runs
last for the roles allowed to do it. Every response is also checked for the
security headers.
"""

from __future__ import annotations

import pytest
from flask import url_for

from .helpers import login_as, logout
from .test_security_headers import assert_security_headers
from .world import ROLES, build_world

LOGIN = 302  # anonymous users are sent to the login page
ALL = dict.fromkeys(ROLES, 200)


def only(*allowed, ok=200, denied=403, anonymous=LOGIN):
    return {
        role: (ok if role in allowed else (anonymous if role == "anonymous" else denied))
        for role in ROLES
    }


def signed_in(ok=200):
    return only(*ROLES[1:], ok=ok)


def _kindgesprek(w):
    """The kindgesprek about the world's student, with one message of its guardian."""
    from parro.extensions import db

    from .factories import make_kindgesprek, make_message

    if not hasattr(w, "kindgesprek"):
        w.kindgesprek = make_kindgesprek(w.student)
        w.message = make_message(w.kindgesprek, w.guardian, "Sem is jarig")
        db.session.commit()
    return w.kindgesprek


def _chat_message(w):
    _kindgesprek(w)
    return {"conversation_id": w.kindgesprek.id, "message_id": w.message.id}


def _chat_attachment(w):
    from pathlib import Path

    from flask import current_app

    from parro.extensions import db
    from parro.models import MessageAttachment

    _kindgesprek(w)
    path = Path(current_app.config["MEDIA_PATH"]) / "chat" / "test" / "world.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    item = MessageAttachment(message_id=w.message.id, kind="pdf", path="chat/test/world.pdf",
                             content_type="application/pdf", filename="brief.pdf", size=15)
    db.session.add(item)
    db.session.commit()
    return {"attachment_id": item.id}


CHAT_MEMBERS = ("guardian", "teacher")
POLL = {**only(*CHAT_MEMBERS), "anonymous": 401}

# endpoint: (method, url arguments from the world, expected status per role, form data)
ROUTES = {
    "static": ("GET", lambda w: {"filename": "css/app.css"}, ALL, None),
    "healthz": ("GET", lambda w: {}, ALL, None),
    "home": ("GET", lambda w: {}, dict.fromkeys(ROLES, 302), None),
    "auth.login": ("GET", lambda w: {}, {**dict.fromkeys(ROLES, 303), "anonymous": 200}, None),
    "auth.logout": ("POST", lambda w: {}, dict.fromkeys(ROLES, 303), {}),
    "auth.account": ("GET", lambda w: {}, signed_in(), None),
    "feed.index": ("GET", lambda w: {}, signed_in(), None),
    "feed.group": (
        "GET",
        lambda w: {"group_id": w.group.id},
        only("guardian", "teacher", "admin"),
        None,
    ),
    "students.show": (
        "GET",
        lambda w: {"student_id": w.student.id},
        only("guardian", "teacher", "admin"),
        None,
    ),
    "admin.index": ("GET", lambda w: {}, only("admin"), None),
    "chat.index": ("GET", lambda w: {}, signed_in(), None),
    "chat.child": ("GET", lambda w: {"student_id": w.student.id}, only(*CHAT_MEMBERS, ok=303), None),
    "chat.show": (
        "GET", lambda w: {"conversation_id": _kindgesprek(w).id}, only(*CHAT_MEMBERS), None
    ),
    "chat.post": (
        "POST",
        lambda w: {"conversation_id": _kindgesprek(w).id},
        only(*CHAT_MEMBERS, ok=303),
        {"body": "Morgen is Sem er weer."},
    ),
    "chat.poll": ("GET", lambda w: {"conversation_id": _kindgesprek(w).id, "v": 0}, POLL, None),
    "chat.unread": ("GET", lambda w: {}, {**signed_in(), "anonymous": 401}, None),
    "chat.edit": ("GET", _chat_message, only("guardian"), None),
    "chat.delete": ("POST", _chat_message, only("guardian", ok=303), {}),
    "chat.attachment": ("GET", _chat_attachment, only(*CHAT_MEMBERS), None),
    "chat.start": ("GET", lambda w: {}, only("teacher_other", "teacher"), None),
    "chat.notifications": ("GET", lambda w: {}, signed_in(), None),
    "chat.availability": ("GET", lambda w: {}, only("teacher_other", "teacher", "admin"), None),
}


def test_every_route_is_listed(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ROUTES.keys())
    stale = sorted(ROUTES.keys() - endpoints)
    assert not missing, f"routes without a row in the authorization table: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_answers_each_role_as_the_policy_says(app, client, endpoint):
    method, url_args, expected, data = ROUTES[endpoint]
    world = build_world()
    with app.test_request_context():
        url = url_for(endpoint, **url_args(world))
    got = {}
    for role in ROLES:
        logout(client)
        user = world.user(role)
        if user is not None:
            login_as(client, user)
        response = client.open(url, method=method, data=data)
        got[role] = response.status_code
        assert_security_headers(response)
        if response.status_code == LOGIN and role == "anonymous" and endpoint != "home":
            assert "/login" in response.headers["Location"]
    assert got == expected, f"{method} {url}"
