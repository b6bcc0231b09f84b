"""Every route, requested as every role, answers what the policy says.

Adding a route without a row here fails test_every_route_is_listed. A row names
the method, the URL arguments (from the World) and the status per role; the
roles go from least to most privileged, so a POST that changes something runs
last for the roles allowed to do it. Every response is also checked for the
security headers.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from flask import url_for

from .helpers import login_as, logout
from .test_security_headers import assert_security_headers
from .world import ROLES, build_world

LOGIN = 302  # anonymous users are sent to the login page
IMPORT_CSV = Path(__file__).parent / "data" / "leerlingen.csv"
ALL = dict.fromkeys(ROLES, 200)


def only(*allowed, ok=200, denied=403, anonymous=LOGIN):
    return {
        role: (ok if role in allowed else (anonymous if role == "anonymous" else denied))
        for role in ROLES
    }


def signed_in(ok=200):
    return only(*ROLES[1:], ok=ok)


def _import_confirm_data(w):
    """A realistic confirm of the CSV import: the previewed file, year and plan digest."""
    from parro.admin import service

    data = IMPORT_CSV.read_bytes()
    year = w.group.year
    return {
        "content": base64.b64encode(data).decode(),
        "year": str(year.id),
        "digest": service.import_plan(data, year).digest(),
    }


# endpoint: (method, url arguments from the world, expected status per role,
#            form data: a dict, or a function of the world that returns one)
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
    # school structure (parro/admin/school.py)
    "admin.school_settings": ("GET", lambda w: {}, only("admin"), None),
    "admin.years": ("GET", lambda w: {}, only("admin"), None),
    "admin.year_new": ("GET", lambda w: {}, only("admin"), None),
    "admin.year_edit": ("GET", lambda w: {"year_id": w.group.school_year_id}, only("admin"), None),
    "admin.year_make_current": (
        "POST", lambda w: {"year_id": w.group.school_year_id}, only("admin", ok=303), {},
    ),
    "admin.groups": ("GET", lambda w: {}, only("admin"), None),
    "admin.group_new": ("GET", lambda w: {"year_id": w.group.school_year_id}, only("admin"), None),
    "admin.group_edit": ("GET", lambda w: {"group_id": w.group.id}, only("admin"), None),
    "admin.group_assign": (
        "POST", lambda w: {"group_id": w.group.id}, only("admin", ok=303),
        lambda w: {"teacher": str(w.teacher_other.id)},
    ),
    "admin.group_unassign": (
        "POST", lambda w: {"group_id": w.group.id, "user_id": w.teacher.id},
        only("admin", ok=303), {},
    ),
    "admin.group_delete": ("POST", lambda w: {"group_id": w.group.id}, only("admin", ok=303), {}),
    "admin.students": ("GET", lambda w: {}, only("admin"), None),
    "admin.student_new": ("GET", lambda w: {}, only("admin"), None),
    "admin.student_edit": ("GET", lambda w: {"student_id": w.student.id}, only("admin"), None),
    "admin.student_place": (
        "POST", lambda w: {"student_id": w.student.id}, only("admin", ok=303),
        lambda w: {"group": str(w.other_group.id)},
    ),
    "admin.student_remove": (
        "POST", lambda w: {"student_id": w.student.id}, only("admin", ok=303), {},
    ),
    "admin.import_upload": ("GET", lambda w: {}, only("admin"), None),
    "admin.import_confirm": ("POST", lambda w: {}, only("admin", ok=303), _import_confirm_data),
    "admin.rollover": ("GET", lambda w: {}, only("admin"), None),
    "admin.rollover_confirm": (
        "POST", lambda w: {}, only("admin", ok=303),
        {"name": "2027-2028", "starts_on": "2027-08-01", "ends_on": "2028-07-31",
         "mode": "move", "make_current": "y"},
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
    if callable(data):
        data = data(world)
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
