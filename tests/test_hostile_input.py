"""No 500 from any input (issue 20, point 3): the probe's reproductions, one by one.

NUL characters, numbers too big for the database, a way back (`next`) to another
site or with a line break in it, and line breaks in one-line fields. The fuzz test
(tests/test_fuzz_routes.py) sends such values to every route as every role.
"""

from __future__ import annotations

import email
import importlib
import inspect
import logging
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import func, select
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.fields import HiddenField

import parro
from parro import mail
from parro.extensions import db
from parro.forms import ParroForm, SingleLine
from parro.inputs import MAX_INT, as_id, to_id, way_back
from parro.models import Message, OutboxMail, School

from . import activity_world as aw
from .factories import make_announcement, make_post, make_school
from .helpers import login_as, mails_to, text_of
from .test_admin_school import SCHOOL
from .test_authorization import _kindgesprek
from .world import build_world

HUGE = "9" * 25
INVALID_CHARACTER = "Ongeldig teken"


# -- NUL characters ------------------------------------------------------------------


def test_a_nul_in_the_login_form_is_refused_before_anything_else(app, client, caplog):
    build_world()
    with caplog.at_level(logging.ERROR):
        response = client.post("/login", data={"email": "guardian@example.org\x00",
                                               "password": "x\x00"})
    assert response.status_code == 400
    assert INVALID_CHARACTER in text_of(response)
    assert "NUL" in text_of(response)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_nul_in_a_message_saves_nothing(app, client):
    w = build_world()
    conversation = _kindgesprek(w)
    login_as(client, w.guardian)
    before = db.session.scalar(select(func.count()).select_from(Message))
    response = client.post(f"/gesprekken/{conversation.id}", data={"body": "Hallo\x00daar"})
    assert response.status_code == 400
    assert INVALID_CHARACTER in text_of(response)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Message)) == before


@pytest.mark.parametrize("url", [
    "/beheer/leerlingen?q=Sem%00", "/media/ab%00cd/groot", "/activeren/x%00y",
    "/activiteiten/agenda/a%00b.ics",
])
def test_a_nul_in_a_query_or_path_is_refused(app, client, url):
    w = build_world()
    login_as(client, w.admin)
    response = client.get(url)
    assert response.status_code == 400
    assert INVALID_CHARACTER in text_of(response)


def test_the_refusal_is_in_english_for_english_users(app, client):
    w = build_world()
    w.guardian.locale = "en"
    login_as(client, w.guardian)
    response = client.get("/groepen/?voor=1%00")
    assert response.status_code == 400
    assert "Invalid character" in text_of(response)


# -- numbers too big for the database ------------------------------------------------


@pytest.mark.parametrize("role, url, statuses", [
    ("guardian", f"/gesprekken/{HUGE}", {404}),
    ("guardian", f"/gesprekken/{2**31}", {404}),
    ("guardian", f"/groepen/bericht/{HUGE}", {404}),
    ("guardian", f"/groepen/?voor={HUGE}", {400}),
    ("guardian", "/groepen/?voor=%C2%B2", {400}),  # "²" is a digit to str.isdigit()
    ("guardian", f"/gesprekken/{{conversation}}?voor={HUGE}", {200}),
    ("guardian", f"/gesprekken/{{conversation}}/nieuw?na={HUGE}&v={HUGE}", {200, 204}),
    ("admin", f"/beheer/logboek?voor={HUGE}", {400}),
    ("admin", f"/beheer/leerlingen?na={HUGE}", {200}),
    ("admin", f"/beheer/ouders?na={HUGE}", {200}),
    ("admin", f"/beheer/gezin-verwijderen?ouder={HUGE}", {404}),
    ("admin", f"/beheer/gezin-verwijderen?leerling={HUGE}", {404}),
    ("admin", f"/beheer/groepen?jaar={HUGE}", {200}),
    ("admin", f"/beheer/leerlingen/nieuw?groep={HUGE}", {200}),
    ("admin", "/beheer/leerlingen?na=" + "9" * 5000, {200}),  # beyond int()'s digit limit
])
def test_a_huge_number_is_a_clear_answer(app, client, role, url, statuses):
    w = build_world()
    conversation = _kindgesprek(w)
    login_as(client, getattr(w, role))
    response = client.get(url.format(conversation=conversation.id))
    assert response.status_code in statuses, url


def test_a_huge_number_in_a_form_is_an_invalid_choice(app, client):
    w = build_world()
    login_as(client, w.admin)
    response = client.post(f"/beheer/gezin-verwijderen?leerling={w.student.id}",
                           data={"kies": "1", "kind": [HUGE, str(w.student.id)]})
    assert response.status_code in (200, 303, 422)
    response = client.post("/groepen/mededelingen/nieuw",
                           data={"title": "Studiedag", "body": "Vrij", "groups": HUGE})
    assert response.status_code == 422


def test_ids_fit_the_database():
    assert to_id("2147483647") == MAX_INT == 2**31 - 1
    assert to_id(" 12 ") == 12
    for bad in (HUGE, str(2**31), "-1", "+1", "1_000", "²", "١٢", "", "1.0", True):
        assert as_id(bad) is None, bad


# -- the way back -----------------------------------------------------------------------


@pytest.mark.parametrize("target", [
    "/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example",
    "https://evil.example/", "/groepen/\r\nSet-Cookie: x=1", "javascript:alert(1)",
])
def test_way_back_keeps_only_local_paths(app, target):
    with app.test_request_context():
        assert way_back(target, "/standaard") == "/standaard"
        assert way_back("/groepen/?voor=3", "/standaard") == "/groepen/?voor=3"
        assert way_back(None) == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/groepen/\nx", "/\r\n/evil.example"])
def test_the_like_button_never_leaves_the_site(app, client, target):
    w = build_world()
    post = make_post(w.group, author=w.teacher)
    login_as(client, w.guardian)
    response = client.post(f"/groepen/bericht/{post.id}/vind-ik-leuk", data={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/groepen/bericht/{post.id}#post-{post.id}"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/groepen/\nx"])
def test_closing_an_announcement_never_leaves_the_site(app, client, target):
    w = build_world()
    announcement = make_announcement(groups=[w.group])
    login_as(client, w.guardian)
    response = client.post(f"/groepen/mededelingen/{announcement.id}/sluiten",
                           data={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/groepen/"


def test_deleting_a_post_never_leaves_the_site(app, client):
    w = build_world()
    post = make_post(w.group, author=w.teacher)
    login_as(client, w.teacher)
    response = client.post(f"/groepen/bericht/{post.id}/verwijderen",
                           data={"next": "/\t/evil.example"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/groepen/"


def test_the_login_never_leaves_the_site(app, client):
    build_world()
    response = client.post("/login?next=/%0A/evil.example",
                           data={"email": "guardian@example.org", "password": "wachtwoord-123!"})
    assert response.status_code in (303, 422)
    assert "evil" not in response.headers.get("Location", "")


def test_every_way_back_uses_the_one_helper():
    """No view reads `next` and redirects to it without parro.inputs.way_back."""
    for path in Path(inspect.getfile(parro)).parent.rglob("*.py"):
        source = path.read_text()
        for line in source.splitlines():
            if 'get("next"' in line and "redirect(" in line:
                assert "way_back(" in line or "url_for(" in line, f"{path}: {line.strip()}"


# -- long e-mail addresses -----------------------------------------------------------------


def test_a_long_e_mail_address_is_refused_without_reading_it(app, client, monkeypatch):
    """email_validator looks at every character in Python (seconds for a 10 MB field): an
    address over 254 characters is refused before it reaches that library."""
    import email_validator

    def not_for_long_text(value, **_options):
        assert len(value) <= 254, "a long address reached email_validator"
        raise email_validator.EmailNotValidError("checked")

    monkeypatch.setattr(email_validator, "validate_email", not_for_long_text)
    response = client.post("/wachtwoord-vergeten", data={"email": "a" * 300 + "@example.org"})
    assert response.status_code == 422
    assert "Dit is geen geldig e-mailadres." in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


# -- one-line fields ----------------------------------------------------------------------


def _form_classes():
    seen, todo = set(), [ParroForm]
    # Import every module with forms, so that every form class exists.
    root = Path(inspect.getfile(parro)).parent
    for path in root.rglob("*forms.py"):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        importlib.import_module(module)
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return seen


def test_every_one_line_field_refuses_line_breaks(app):
    missing = []
    with app.test_request_context():
        for cls in _form_classes():
            for name in dir(cls):
                unbound = getattr(cls, name, None)
                field_class = getattr(unbound, "field_class", None)
                if not (inspect.isclass(field_class) and issubclass(field_class, StringField)):
                    continue
                if issubclass(field_class, (TextAreaField, PasswordField, HiddenField)):
                    continue
                validators = unbound.kwargs.get("validators") or []
                if not any(isinstance(v, SingleLine) for v in validators):
                    missing.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    assert not missing, f"one-line fields without forms.single_line: {sorted(missing)}"


@pytest.mark.parametrize("name", ["De Regenboog\r\nBcc: iedereen@example.org", "De\nRegenboog",
                                  "De\u2028Regenboog"])
def test_a_school_name_with_a_line_break_is_refused(app, client, name):
    w = build_world()
    make_school()
    login_as(client, w.admin)
    response = client.post("/beheer/school", data={**SCHOOL, "name": name})
    assert response.status_code == 422
    assert "regelovergang" in text_of(response)
    db.session.expire_all()
    assert db.session.scalar(select(School.name)) == "Basisschool De Test"


@pytest.mark.parametrize("url, data", [
    ("/gesprekken/starten", {"title": "Schoolreis\r\nBcc: x@example.org"}),
    ("/groepen/mededelingen/nieuw", {"title": "Studie\ndag", "body": "Vrij", "all_groups": "y"}),
])
def test_titles_are_one_line(app, client, url, data):
    w = build_world()
    login_as(client, w.teacher if "gesprekken" in url else w.admin)
    response = client.post(url, data=data)
    assert response.status_code == 422
    assert "regelovergang" in text_of(response)


def test_a_school_name_saved_with_a_line_break_breaks_no_feed_and_no_mail(app, client):
    """A school name from before the check: calendars and mails stay whole."""
    from parro.activities import calendar as ics_feed

    w = build_world()
    make_school().name = "De Regenboog\r\nBEGIN:VEVENT\nX-INJECTED:1"
    db.session.commit()
    feed = ics_feed.create_feed(w.guardian)
    with client.application.test_request_context():
        token = ics_feed.feed_token(feed)
    response = client.get(f"/activiteiten/agenda/{token}.ics")
    assert response.status_code == 200
    assert b"\nX-INJECTED" not in response.data and b"\nBEGIN:VEVENT" not in response.data
    calendar = Calendar.from_ical(response.data)
    assert "X-INJECTED" in str(calendar["X-WR-CALNAME"])  # kept as text, on one line

    login_as(client, w.admin)
    client.post(f"/leerlingen/{w.student.id}/uitnodigen",
                data={"email": "nieuw@example.org", "locale": "nl"})
    [row] = mails_to("nieuw@example.org")
    assert "\n" not in row.subject and "\r" not in row.subject
    message = mail.message_of(db.session.get(OutboxMail, row.id))  # raised ValueError before
    sent = email.message_from_bytes(message.as_bytes())
    assert "X-INJECTED" not in sent and "BEGIN:VEVENT" in sent["Subject"]


# -- a group (or guardian) sent twice ---------------------------------------------------


def _twice(w, field="groups"):
    return [str(w.group.id)] * 2 if field == "groups" else [str(w.guardian.id)] * 2


TWICE = {
    "feed.new_post": ("teacher", lambda w: {"group_id": w.group.id},
                      lambda w: {"groups": _twice(w), "body": "Geknutseld."}, "post_group"),
    "feed.new_announcement": (
        "admin", lambda w: {},
        lambda w: {"title": "Studiedag", "body": "Vrij.", "groups": _twice(w),
                   "ends_on": "2999-12-31"}, "announcement_group"),
    "activities.new_conference": (
        "teacher", lambda w: {}, lambda w: {**aw.conference_form(w), "groups": _twice(w)},
        "activity_group"),
    "activities.new_volunteer": (
        "teacher", lambda w: {},
        lambda w: {"title": "Hulp", "groups": _twice(w), "shifts-0-title": "Begeleiders",
                   "shifts-0-places": "4", "deadline_date": "2027-03-08",
                   "deadline_time": "12:00"}, "activity_group"),
    "chat.start": ("teacher", lambda w: {},
                   lambda w: {"title": "Schoolreis", "guardians": _twice(w, "guardians")},
                   "participant"),
}


@pytest.mark.parametrize("endpoint", sorted(TWICE))
def test_a_group_sent_twice_counts_once(app, client, endpoint):
    """A hand-made request that ticks one group (or guardian) twice: stored once, not a
    500 (a unique constraint of the link table)."""
    from flask import url_for
    from sqlalchemy import table

    role, url_args, data, links = TWICE[endpoint]
    w = build_world()
    aw._monday()
    with app.test_request_context():
        url = url_for(endpoint, **url_args(w))
        form = data(w)
    db.session.commit()
    login_as(client, w.user(role))
    response = client.post(url, data=form)
    assert response.status_code == 303, text_of(response)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(table(links))) >= 1
