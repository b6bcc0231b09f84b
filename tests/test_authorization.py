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

from . import activity_world as aw
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
    # -- activities: roles act in order, so a later role may find the booking gone (404)
    # or the child booked already (422); who else may not is checked by the .ics rows,
    # which ask the same policy.
    "activities.index": ("GET", lambda w: {}, signed_in(), None),
    "activities.new": ("GET", lambda w: {}, only("teacher_other", "teacher", "admin"), None),
    "activities.new_conference": (
        "POST", lambda w: {}, only("teacher", "admin", ok=303), aw.conference_form,
    ),
    "activities.new_volunteer": (
        "POST", lambda w: {}, only("teacher", "admin", ok=303),
        lambda w: {"title": "Hulp bij de excursie", "groups": [str(w.group.id)],
                   "shifts-0-title": "Begeleiders Naturalis", "shifts-0-places": "4",
                   "deadline_date": "2027-03-08", "deadline_time": "12:00"},
    ),
    "activities.new_materials": (
        "POST", lambda w: {}, only("teacher", "admin", ok=303),
        lambda w: {"title": "Knutselen", "groups": [str(w.group.id)],
                   "items-0-name": "lege wc-rollen", "items-0-needed": "10",
                   "deadline_date": "2027-03-08", "deadline_time": "12:00"},
    ),
    "activities.new_invitation": (
        "POST", lambda w: {}, only("teacher", "admin", ok=303),
        lambda w: {"title": "Kerstviering", "groups": [str(w.group.id)],
                   "event_date": "2027-03-20", "event_start": "19:00", "event_end": "21:00",
                   "deadline_date": "2027-03-08", "deadline_time": "12:00"},
    ),
    "activities.show": (
        "GET", aw.activity_args, only("guardian", "teacher", "admin"), None,
    ),
    "activities.delete": (  # the teacher deletes it; then it is gone for the admin
        "POST", aw.activity_args, {**only("teacher", ok=303), "admin": 404}, {},
    ),
    "activities.schedule": ("GET", aw.activity_args, only("teacher", "admin"), None),
    "activities.book": (
        "POST", aw.activity_args, {**only("guardian", ok=303), "teacher": 422, "admin": 422},
        aw.book_form,
    ),
    "activities.move": (
        "POST", aw.booking_args, only("guardian", "teacher", "admin", ok=303), aw.move_form,
    ),
    "activities.cancel": (
        "POST", aw.booking_args,
        {**only("guardian", ok=303), "teacher_other": 404, "teacher": 404, "admin": 404}, {},
    ),
    "activities.booking_ics": (
        "GET", aw.booking_args, only("guardian", "teacher", "admin"), None,
    ),
    "activities.block": (
        "POST", lambda w: {"slot_id": aw.conference(w).slots[2].id},
        only("teacher", "admin", ok=303), {"on": "1"},
    ),
    "activities.separate": (
        "POST", aw.activity_args, only("teacher", "admin", ok=303),
        lambda w: {"child_id": w.student.id, "on": "1"},
    ),
    "activities.sign_up": (
        "POST", lambda w: {"shift_id": aw.volunteer(w).shifts[0].id},
        only("guardian", ok=303), {},
    ),
    "activities.withdraw": (
        "POST", lambda w: {"signup_id": aw.signup(w).id},
        {**only("guardian", ok=303), "teacher_other": 404, "teacher": 404, "admin": 404}, {},
    ),
    "activities.signup_ics": (
        "GET", lambda w: {"signup_id": aw.signup(w).id}, only("guardian", "teacher", "admin"),
        None,
    ),
    "activities.pledge": (
        "POST", lambda w: {"item_id": aw.materials(w).items[0].id},
        only("guardian", ok=303), {"quantity": "2"},
    ),
    "activities.respond": (
        "POST", lambda w: {"activity_id": aw.invitation(w).id},
        only("guardian", "teacher", "admin", ok=303),
        lambda w: {"child_id": w.student.id, "answer": "yes", "people": "2"},
    ),
    "activities.event_ics": (
        "GET", lambda w: {"activity_id": aw.invitation(w).id},
        only("guardian", "teacher", "admin"), None,
    ),
    "activities.calendar_page": ("GET", lambda w: {}, signed_in(), None),
    "activities.calendar_create": ("POST", lambda w: {}, signed_in(ok=303), {}),
    "activities.calendar_revoke": ("POST", lambda w: {}, signed_in(ok=303), {}),
    "activities.calendar_feed": (  # a wrong token: nothing, for anyone
        "GET", lambda w: {"token": "geen-geldige-sleutel"}, dict.fromkeys(ROLES, 404), None,
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
    if callable(data):  # form data that needs what the URL arguments made
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
