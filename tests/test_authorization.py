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

from .factories import make_announcement, make_consent_topic, make_post
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
    # -- group feed (issue 3)
    "feed.students": (
        "GET", lambda w: {"group_id": w.group.id}, only("teacher", "admin"), None,
    ),
    "feed.new_post": (
        "POST",
        lambda w: {"group_id": w.group.id},
        only("teacher", ok=303),
        lambda w: {"groups": str(w.group.id), "body": "Vandaag hebben we geknutseld."},
    ),
    "feed.post": (
        "GET",
        lambda w: {"post_id": make_post(w.group, author=w.teacher).id},
        only("guardian", "teacher", "admin"),
        None,
    ),
    "feed.edit_post": (
        "POST",
        lambda w: {"post_id": make_post(w.group, author=w.teacher).id},
        only("teacher", ok=303),
        {"title": "Uitje", "body": "Aangepaste tekst."},
    ),
    # The author deletes it; the admin (who may delete any post) then finds it gone.
    "feed.delete_post": (
        "POST",
        lambda w: {"post_id": make_post(w.group, author=w.teacher).id},
        {**only("teacher", ok=303), "admin": 404},
        {},
    ),
    "feed.like": (
        "POST",
        lambda w: {"post_id": make_post(w.group, author=w.teacher).id},
        only("guardian", "teacher", ok=303),
        {},
    ),
    "feed.announcements": ("GET", lambda w: {}, only("admin"), None),
    "feed.new_announcement": (
        "POST",
        lambda w: {},
        only("admin", ok=303),
        {"title": "Studiedag", "body": "Vrijdag zijn alle kinderen vrij.", "all_groups": "y",
         "ends_on": "2999-12-31"},
    ),
    "feed.delete_announcement": (
        "POST",
        lambda w: {"announcement_id": make_announcement().id},
        only("admin", ok=303),
        {},
    ),
    "feed.dismiss_announcement": (
        "POST",
        lambda w: {"announcement_id": make_announcement(groups=[w.group]).id},
        only("guardian", "teacher", "admin", ok=303),
        {},
    ),
    "privacy.topics": (
        "POST", lambda w: {}, only("admin", ok=303), {"name": "Foto's op de website"},
    ),
    "privacy.edit_topic": (
        "POST",
        lambda w: {"topic_id": make_consent_topic().id},
        only("admin", ok=303),
        {"name": "Foto's in de app en in de klas"},
    ),
    "privacy.child": (
        "POST",
        lambda w: {"student_id": w.student.id},
        only("guardian", ok=303),
        lambda w: {f"topic_{make_consent_topic().id}": "ja"},
    ),
    "privacy.group": ("GET", lambda w: {"group_id": w.group.id}, only("teacher", "admin"), None),
    "media.file": (
        "GET",
        lambda w: {"key": make_post(w.group, author=w.teacher, photos=1).photos[0].key,
                   "variant": "klein"},
        only("guardian", "teacher", "admin"),
        None,
    ),
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
        form = data(world) if callable(data) else data
    got = {}
    for role in ROLES:
        logout(client)
        user = world.user(role)
        if user is not None:
            login_as(client, user)
        response = client.open(url, method=method, data=form)
        got[role] = response.status_code
        assert_security_headers(response)
        if response.status_code == LOGIN and role == "anonymous" and endpoint != "home":
            assert "/login" in response.headers["Location"]
    assert got == expected, f"{method} {url}"
