"""Every route, requested as every role, answers what the policy says.

Adding a route without a row here fails test_every_route_is_listed. A row names
the method, the URL arguments (from the World) and the status per role; the
roles go from least to most privileged, so a POST that changes something runs
last for the roles allowed to do it. Every response is also checked for the
security headers.
"""

from __future__ import annotations

import base64
import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import url_for

from parro import clock
from parro.extensions import db
from parro.models import OutboxMail, UserSession
from parro.security import hash_token, new_token

from . import activity_world as aw
from .factories import (
    PASSWORD,
    make_absence,
    make_announcement,
    make_consent_topic,
    make_guardian,
    make_post,
    make_reason,
    make_student,
)
from .helpers import activation_path, login_as, logout
from .test_security_headers import assert_security_headers
from .world import ROLES, build_world, in_school

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


def school_people(ok=200):
    """Everyone of the school, staff and families: a school's own page, which the board's
    admin, who belongs to no school, may not open."""
    return {**signed_in(ok=ok), "board": 403}


def _admin_device(w) -> dict:
    """Another logged-in device of the admin's, which only the admin may log out."""
    row = UserSession(token_hash=hash_token(new_token()), user_id=w.admin.id)
    db.session.add(row)
    db.session.commit()
    return {"session_id": row.id}


def _admin_push_device(w) -> dict:
    """A phone of the admin's with push on, which only the admin may test or turn off."""
    from parro.models import PushSubscription

    login = UserSession(token_hash=hash_token(new_token()), user_id=w.admin.id)
    db.session.add(login)
    db.session.flush()
    row = PushSubscription(user_id=w.admin.id, session_id=login.id,
                           endpoint=f"https://fcm.googleapis.com/fcm/send/{new_token()}",
                           p256dh="B" + "A" * 86, auth="A" * 22)
    db.session.add(row)
    db.session.commit()
    return {"device_id": row.id}


def _queued_mail(w) -> dict:
    mail = OutboxMail(recipient="ouder@example.org", subject="Welkom", body_text="Hallo")
    db.session.add(mail)
    db.session.commit()
    return {"mail_id": mail.id}


def _pending_guardian(w) -> int:
    """A guardian of w.student who has not activated the account yet (made once per world)."""
    from sqlalchemy import select

    from parro.models import User

    user = db.session.scalar(select(User).where(User.email == w.email("pending")))
    if user is None:
        user = make_guardian(child=w.student, email=w.email("pending"), active=False,
                             password=None)
        db.session.commit()
    return user.id


def _activation_token(w) -> str:
    from parro.auth.service import invite_guardian

    invite_guardian(w.student, w.email("invited"), w.admin)
    return activation_path(w.email("invited")).rsplit("/", 1)[1]


ACTIVATION = {"accept": "y", "name": "Nieuwe Ouder", "locale": "nl",
              "password": PASSWORD, "password_again": PASSWORD}

# A second method of one endpoint gets its own row under "endpoint#METHOD".

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


def _office(w):
    """The world's guardian's conversation with the office about the world's student."""
    from parro.chat import service

    if not hasattr(w, "office"):
        w.office = service.write_to_office(w.guardian, w.student, "Wij zijn verhuisd.")
    return w.office


def _kindgesprek(w):
    """The kindgesprek about the world's student, with one message of its guardian."""
    from parro.extensions import db

    from .factories import make_kindgesprek, make_message

    if not hasattr(w, "kindgesprek"):
        w.kindgesprek = make_kindgesprek(w.student)
        w.message = make_message(w.kindgesprek, w.guardian, "Sem is jarig")
        db.session.commit()
    return w.kindgesprek


def _group_chat(w):
    """A chat the world's teacher started with the world's guardian."""
    from .factories import make_chat

    if not hasattr(w, "group_chat"):
        w.group_chat = make_chat(w.teacher, [w.guardian], title="Schoolreis")
        db.session.commit()
    return w.group_chat


def _unsubscribe_token(w):
    from parro.notifications import unsubscribe_url

    return unsubscribe_url(w.guardian, ["group_posts"]).rsplit("/", 1)[1]


def _post_photo(w, allow_saving=False) -> dict:
    post = make_post(w.group, author=w.teacher, photos=1)
    w.school.photo_download = allow_saving
    db.session.commit()
    return {"post_id": post.id, "photo_id": post.photos[0].id}


def _pending_photo(w) -> dict:
    from parro import media
    from parro.models import PendingUpload

    key = media.new_key()
    path = media.path_for(key, "thumb")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8\xff\xd9")
    db.session.add(PendingUpload(uploader_id=w.teacher.id, key=key, kind=media.PHOTO,
                                 filename="foto.jpg", content_type="image/jpeg", size=4))
    db.session.commit()
    return {"key": key, "variant": "klein"}


def _school_logo(w):
    from parro.extensions import db

    from .factories import make_logo

    make_logo(w.school)
    db.session.commit()
    return {"school_id": w.school.id}


def _school_icon(w):
    return {**_school_logo(w), "name": "icon-192"}


def _chat_message(w):
    _kindgesprek(w)
    return {"conversation_id": w.kindgesprek.id, "message_id": w.message.id}


def _chat_attachment(w):
    from parro import media
    from parro.extensions import db
    from parro.models import MessageAttachment

    _kindgesprek(w)
    key = media.new_key()
    path = media.path_for(key, "file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    item = MessageAttachment(message_id=w.message.id, key=key, kind=media.DOCUMENT,
                             content_type="application/pdf", filename="brief.pdf", size=15)
    db.session.add(item)
    db.session.commit()
    return {"key": key, "variant": "bestand"}


CHAT_MEMBERS = ("guardian", "teacher")
POLL = {**only(*CHAT_MEMBERS), "anonymous": 401}

# endpoint: (method, url arguments from the world, expected status per role,
#            form data: a dict, or a function of the world that returns one)
ROUTES = {
    "static": ("GET", lambda w: {"filename": "css/app.css"}, ALL, None),
    "healthz": ("GET", lambda w: {}, ALL, None),
    # The navigation's counts (without arguments each differs from what a page shows: 200).
    # (The board's admin has no counts: 204.)
    "navigation.poll": ("GET", lambda w: {}, {**signed_in(), "anonymous": 401, "board": 204},
                        None),
    # the school's colour, the manifest and the help page: for everyone, logged in or not
    "theme.stylesheet": ("GET", lambda w: {}, ALL, None),
    "theme.manifest": ("GET", lambda w: {}, ALL, None),
    "theme.favicon": ("GET", lambda w: {}, ALL, None),
    "theme.service_worker": ("GET", lambda w: {}, ALL, None),
    # A school's logo: for everyone, like its name and colour (the login page shows it).
    "theme.logo": ("GET", _school_logo, ALL, None),
    # ... and the home-screen icons made from it (the manifest links them).
    "theme.icon": ("GET", _school_icon, ALL, None),
    "help.index": ("GET", lambda w: {}, ALL, None),
    # The installed app's start URL: the login form, the morning overview or the feed;
    # a board admin is sent on to the board's page.
    "home": ("GET", lambda w: {}, {**ALL, "board": 302}, None),
    "auth.login": ("GET", lambda w: {}, {**dict.fromkeys(ROLES, 303), "anonymous": 200}, None),
    "auth.logout": ("POST", lambda w: {}, dict.fromkeys(ROLES, 303), {}),
    "auth.account": ("GET", lambda w: {}, signed_in(), None),
    # The school switcher: everyone their own schools; a school not theirs is refused (422).
    "auth.schools": ("GET", lambda w: {}, signed_in(), None),
    "auth.schools#switch": ("POST", lambda w: {}, signed_in(ok=422), {"school_id": "999999"}),
    "auth.change_password": ("GET", lambda w: {}, signed_in(), None),
    # Inzage: guardians download their own family's data; the admin any family's.
    "auth.export_data": ("POST", lambda w: {}, only("guardian_other", "guardian"), {}),
    # Meldingen: everyone their own; the old address (in mails sent before) leads there.
    # The board's admin gets no notifications: nothing to choose, no phone to turn on.
    "auth.notification_settings": ("GET", lambda w: {}, school_people(), None),
    "auth.notification_settings#save": ("POST", lambda w: {}, school_people(ok=303), {}),
    "auth.email_settings": ("GET", lambda w: {}, signed_in(ok=301), None),
    # A signed link from a notification mail: for whoever holds it, logged in or not.
    "auth.unsubscribe": ("GET", lambda w: {"token": _unsubscribe_token(w)}, ALL, None),
    "auth.unsubscribe#one-click": (
        "POST", lambda w: {"token": _unsubscribe_token(w)}, ALL, {"List-Unsubscribe": "One-Click"},
    ),
    "auth.end_device": ("POST", _admin_device, only("admin", ok=303), {}),
    "auth.end_other_devices": ("POST", lambda w: {}, signed_in(ok=303), {}),
    # Meldingen op deze telefoon: a device is its own user's. Subscribing without a
    # subscription in the body is refused (422) for anyone logged in.
    "auth.push_devices": ("GET", lambda w: {}, school_people(), None),
    "auth.push_subscribe": ("POST", lambda w: {}, school_people(ok=422), {}),
    "auth.push_test": ("POST", _admin_push_device, only("admin", ok=303), {}),
    "auth.push_unsubscribe": ("POST", _admin_push_device, only("admin", ok=303), {}),
    # two-factor login: staff and the board's admin; without a password step the code page
    # sends to /login. The board's admin has it on (they must), the staff here have not:
    # turning it on again sends back to its page, a wrong code or proof is refused (422).
    "auth.login_code": ("GET", lambda w: {}, dict.fromkeys(ROLES, 303), None),
    "auth.two_factor": (
        "GET", lambda w: {}, only("board", "teacher_other", "teacher", "admin"), None,
    ),
    "auth.two_factor_enable": (
        "POST", lambda w: {}, only("board", "teacher_other", "teacher", "admin", ok=303),
        {"code": "1"},
    ),
    "auth.recovery_codes": (
        "POST", lambda w: {}, {**only("teacher_other", "teacher", "admin", ok=303), "board": 422},
        {"nieuw-code": "1"},
    ),
    "auth.two_factor_disable": (
        "POST", lambda w: {}, {**only("teacher_other", "teacher", "admin", ok=303), "board": 422},
        {"proof": "x"},
    ),
    # Signing in with the school account: only when OpenID Connect is set up, which it
    # is not here (tests/test_school_account.py covers the routes against a provider).
    "auth.schoolaccount_start": ("GET", lambda w: {}, dict.fromkeys(ROLES, 404), None),
    "auth.schoolaccount_callback": (
        "GET", lambda w: {}, dict.fromkeys(ROLES, 404), None,
    ),
    "auth.forgot_password": ("GET", lambda w: {}, ALL, None),
    # An unknown link: a page that says so, for everyone.
    "auth.reset_password": ("GET", lambda w: {"token": "x" * 43}, dict.fromkeys(ROLES, 404), None),
    # The mail viewer exists in demo mode without a mail server; invited people
    # follow their link from it before they have an account.
    "devmail.index": ("GET", lambda w: {}, ALL, None),
    "devmail.show": ("GET", _queued_mail, ALL, None),
    # The push viewer (demo mode): from the machine itself (the test client is 127.0.0.1)
    # or for an admin (tests/test_push.py).
    "devpush.push_index": ("GET", lambda w: {}, ALL, None),
    # Demo mode: anyone logged in adds a phone that needs no real push service.
    "devpush.add_phone": ("POST", lambda w: {}, only(*ROLES[1:], ok=303, anonymous=403), {}),
    "feed.index": ("GET", lambda w: {}, school_people(), None),
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
    # invitations and activation
    "students.invite": (
        "POST",
        lambda w: {"student_id": w.student.id},
        only("teacher", "admin", ok=303),
        {"email": "new.parent@example.org", "locale": "nl"},
    ),
    "students.resend_invitation": (
        "POST",
        lambda w: {"student_id": w.student.id, "user_id": _pending_guardian(w)},
        only("teacher", "admin", ok=303),
        {},
    ),
    "auth.activate": ("GET", lambda w: {"token": _activation_token(w)}, ALL, None),
    # the first visitor uses the link; after that it is spent
    "auth.activate#POST": (
        "POST",
        lambda w: {"token": _activation_token(w)},
        {**dict.fromkeys(ROLES, 410), "anonymous": 303},
        ACTIVATION,
    ),
    # people administration
    "admin.staff": ("GET", lambda w: {}, only("admin"), None),
    "admin.invite_staff": (
        "POST",
        lambda w: {},
        only("admin", ok=303),
        {"name": "Nieuwe Juf", "email": "new.teacher@example.org", "role": "teacher",
         "locale": "nl"},
    ),
    "admin.change_role": (
        "POST", lambda w: {"user_id": w.teacher_other.id}, only("admin", ok=303), {"role": "admin"}
    ),
    "admin.disable_account": (
        "POST", lambda w: {"user_id": w.teacher_other.id}, only("admin", ok=303), {}
    ),
    "admin.enable_account": (
        "POST", lambda w: {"user_id": w.teacher_other.id}, only("admin", ok=303), {}
    ),
    "admin.resend_invitation": (
        "POST", lambda w: {"user_id": _pending_guardian(w)}, only("admin", ok=303), {}
    ),
    "admin.reset_two_factor": (
        "POST", lambda w: {"user_id": w.teacher_other.id}, only("admin", ok=303), {}
    ),
    "admin.unlink_school_account": (
        "POST", lambda w: {"user_id": w.teacher_other.id}, only("admin", ok=303), {}
    ),
    "admin.guardians": ("GET", lambda w: {}, only("admin"), None),
    "admin.invite_all_guardians": ("POST", lambda w: {}, only("admin", ok=303), {}),
    "admin.guardian": ("GET", lambda w: {"user_id": w.guardian.id}, only("admin"), None),
    "admin.delete_family": ("GET", lambda w: {"leerling": w.student.id}, only("admin"), None),
    "admin.delete_family#GET_guardian": (
        "GET", lambda w: {"ouder": w.guardian.id}, only("admin"), None,
    ),
    "admin.delete_family#POST": (
        "POST", lambda w: {"leerling": w.student.id}, only("admin", ok=303),
        lambda w: {"kies": "1", "kind": str(w.student.id)},
    ),
    "admin.export_family": (
        "POST", lambda w: {"leerling": w.student.id}, only("admin"), {}
    ),
    "admin.export_guardian": (
        "POST", lambda w: {"user_id": w.guardian.id}, only("admin"), {}
    ),
    # school structure (parro/admin/school.py)
    "admin.school_settings": ("GET", lambda w: {}, only("admin"), None),
    "admin.office_hours": ("GET", lambda w: {}, only("admin"), None),
    "admin.office_hours#POST": (
        "POST", lambda w: {}, only("admin", ok=303),
        {"weekdays": ["1", "2", "4"], "opens_at": "08:30", "closes_at": "12:00"},
    ),
    "admin.years": ("GET", lambda w: {}, only("admin"), None),
    "admin.year_new": ("GET", lambda w: {}, only("admin"), None),
    "admin.year_edit": ("GET", lambda w: {"year_id": w.group.school_year_id}, only("admin"), None),
    "admin.year_make_current": (
        "POST", lambda w: {"year_id": w.group.school_year_id}, only("admin", ok=303), {},
    ),
    "admin.groups": ("GET", lambda w: {}, only("admin"), None),
    "admin.groups#year": ("GET", lambda w: {"jaar": w.group.school_year_id}, only("admin"), None),
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
    "admin.student_new#group": ("GET", lambda w: {"groep": w.group.id}, only("admin"), None),
    "admin.student_edit": ("GET", lambda w: {"student_id": w.student.id}, only("admin"), None),
    "admin.student_place": (
        "POST", lambda w: {"student_id": w.student.id}, only("admin", ok=303),
        lambda w: {"group": str(w.other_group.id)},
    ),
    "admin.student_remove": (
        "POST", lambda w: {"student_id": w.student.id}, only("admin", ok=303), {},
    ),
    "admin.import_upload": ("GET", lambda w: {}, only("admin"), None),
    "admin.import_upload#year": (
        "GET", lambda w: {"jaar": w.group.school_year_id}, only("admin"), None,
    ),
    "admin.import_confirm": ("POST", lambda w: {}, only("admin", ok=303), _import_confirm_data),
    "admin.rollover": ("GET", lambda w: {}, only("admin"), None),
    "admin.rollover_confirm": (
        "POST", lambda w: {}, only("admin", ok=303),
        {"name": "2027-2028", "starts_on": "2027-08-01", "ends_on": "2028-07-31",
         "mode": "move", "make_current": "y", "early": "y"},
    ),
    # -- activities: roles act in order, so a later role may find the booking gone (404)
    # or the child booked already (422); who else may not is checked by the .ics rows,
    # which ask the same policy.
    "activities.index": ("GET", lambda w: {}, school_people(), None),
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
    "activities.edit": ("GET", aw.activity_args, only("teacher", "admin"), None),
    "activities.edit#POST": (
        "POST", aw.activity_args, only("teacher", "admin", ok=422), {"title": ""},
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
    "activities.calendar_page": ("GET", lambda w: {}, school_people(), None),
    "activities.calendar_create": ("POST", lambda w: {}, school_people(ok=303), {}),
    "activities.calendar_revoke": ("POST", lambda w: {}, school_people(ok=303), {}),
    "activities.calendar_feed": (  # a wrong token: nothing, for anyone (a board admin: 403)
        "GET", lambda w: {"token": "geen-geldige-sleutel"},
        {**dict.fromkeys(ROLES, 404), "board": 403}, None,
    ),
    "chat.index": ("GET", lambda w: {}, school_people(), None),
    "chat.child": ("GET", lambda w: {"student_id": w.student.id},
                   only(*CHAT_MEMBERS, ok=303), None),
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
    "chat.edit": ("GET", _chat_message, only("guardian"), None),
    "chat.delete": ("POST", _chat_message, only("guardian", ok=303), {}),
    "chat.attachment": ("GET", _chat_attachment, only(*CHAT_MEMBERS), None),
    "chat.start": ("GET", lambda w: {}, only("teacher_other", "teacher"), None),
    # the office: guardians write (about another family's child: refused, 422), admins read
    "chat.office": ("GET", lambda w: {}, only("guardian_other", "guardian"), None),
    "chat.office#POST": (
        "POST", lambda w: {}, {**only("guardian", ok=303), "guardian_other": 422},
        lambda w: {"subject": str(w.student.id), "body": "Wij hebben een nieuw adres."},
    ),
    "chat.show#office": (
        "GET", lambda w: {"conversation_id": _office(w).id}, only("guardian", "admin"), None
    ),
    "chat.post#office": (
        "POST", lambda w: {"conversation_id": _office(w).id}, only("guardian", "admin", ok=303),
        {"body": "Dank u, het adres is aangepast."},
    ),
    # a chat a teacher started: its members only
    "chat.show#group": (
        "GET", lambda w: {"conversation_id": _group_chat(w).id}, only(*CHAT_MEMBERS), None
    ),
    "chat.post#group": (
        "POST", lambda w: {"conversation_id": _group_chat(w).id}, only(*CHAT_MEMBERS, ok=303),
        {"body": "Wie rijdt er mee?"},
    ),
    "chat.availability": ("GET", lambda w: {}, only("teacher_other", "teacher", "admin"), None),
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
        lambda w: {"announcement_id": make_announcement(school=w.school).id},
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
        lambda w: {"topic_id": make_consent_topic(school=w.school).id},
        only("admin", ok=303),
        {"name": "Foto's in de app en in de klas"},
    ),
    "privacy.child": (
        "POST",
        lambda w: {"student_id": w.student.id},
        only("guardian", ok=303),
        lambda w: {f"topic_{make_consent_topic(school=w.school).id}": "ja"},
    ),
    "privacy.group": ("GET", lambda w: {"group_id": w.group.id}, only("teacher", "admin"), None),
    "privacy.mine": ("GET", lambda w: {}, only("guardian_other", "guardian"), None),
    "privacy.mine#POST_other_family": (
        # Only the own children's questions: an answer for another family's child is refused.
        "POST", lambda w: {}, only("guardian_other", "guardian", ok=403), lambda w: {
            f"c_{make_student(w.group).id}_{make_consent_topic(school=w.school).id}": "ja"},
    ),
    "privacy.round_overview": ("GET", lambda w: {}, only("admin"), None),
    "privacy.remind": ("POST", lambda w: {}, only("admin", ok=303), {}),
    # The photo viewer (issue 19): a photo of a post one may see.
    "feed.photo": ("GET", _post_photo, only("guardian", "teacher", "admin"), None),
    # Saving it: only where the school allows it (here it does; tests/test_photo_viewer.py).
    "feed.save_photo": (
        "GET", lambda w: _post_photo(w, allow_saving=True), only("guardian", "teacher", "admin"),
        None,
    ),
    # A file kept from a refused post: its uploader's alone.
    "media.pending": ("GET", _pending_photo, only("teacher"), None),
    "media.file": (
        "GET",
        lambda w: {"key": make_post(w.group, author=w.teacher, photos=1).photos[0].key,
                   "variant": "klein"},
        only("guardian", "teacher", "admin"),
        None,
    ),
}


# -- absence: on a Monday before the morning cut-off, so reporting and withdrawing work.
ABSENCE_MORNING = datetime(2026, 9, 14, 7, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))


def _absence_morning(w, **args):
    clock.set_now(ABSENCE_MORNING)
    return args


def _with_committed(w, **objects):
    _absence_morning(w)
    db.session.commit()
    return {name: obj.id for name, obj in objects.items()}


def _appointment_data(w):
    reason = make_reason(school=w.school)  # a new reason each call: one world serves several routes
    db.session.commit()
    return {"appt-student": w.student.id, "appt-day": "2026-09-16", "appt-starts_at": "10:00",
            "appt-ends_at": "11:00", "appt-reason": reason.id, "appt-note": "Beugel"}


ADMIN_POST = only("admin", ok=303)
ROUTES.update({
    "absence.index": (
        "GET",
        _absence_morning,
        {**only("guardian_other", "guardian"), "teacher_other": 302, "teacher": 302, "admin": 302},
        None,
    ),
    "absence.report_sick": (
        "POST",
        _absence_morning,
        {**only("guardian", ok=303), "guardian_other": 422},
        lambda w: {"sick-student": w.student.id},
    ),
    "absence.report_appointment": (
        "POST",
        _absence_morning,
        {**only("guardian", ok=303), "guardian_other": 422},
        _appointment_data,
    ),
    "absence.withdraw": (
        "POST",
        lambda w: _with_committed(
            w, report_id=make_absence(w.student, day=date(2026, 9, 16), by=w.guardian,
                                      reason=make_reason(school=w.school))
        ),
        only("guardian", ok=303),
        {},
    ),
    "absence.overview": ("GET", _absence_morning, only("teacher_other", "teacher", "admin"), None),
    "absence.office": ("GET", _absence_morning, only("admin"), None),
    "absence.export": ("GET", _absence_morning, only("admin"), None),
    "absence.settings": ("GET", _absence_morning, only("admin"), None),
    "absence.add_reason": ("POST", _absence_morning, ADMIN_POST, {"name": "Logopedie"}),
    "absence.toggle_reason": (
        "POST", lambda w: _with_committed(w, reason_id=make_reason(school=w.school)), ADMIN_POST, {}
    ),
    # Reports phoned in: the office for any child, a teacher for their own groups' children
    # (the other teacher may open the form, but not record for w.student: 422).
    "absence.phoned": ("GET", _absence_morning, only("teacher_other", "teacher", "admin"), None),
    "absence.phoned_sick": (  # the admin comes after the teacher: already reported (422)
        "POST",
        _absence_morning,
        {**only("teacher", ok=303), "teacher_other": 422, "admin": 422},
        lambda w: {"sick-student": w.student.id},
    ),
    "absence.phoned_appointment": (
        "POST",
        _absence_morning,
        {**only("teacher", "admin", ok=303), "teacher_other": 422},
        _appointment_data,
    ),
})


class _Upload(io.BytesIO):
    """A file the test client sends once per role: reading it to the end rewinds it."""

    def read(self, size=-1):
        data = super().read(size)
        if not data:
            self.seek(0)
        return data

    def close(self):
        """Kept open: the next role's request sends it again."""


ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//NL\r\nBEGIN:VEVENT\r\n"
       b"UID:herfst-2026@example.org\r\nDTSTAMP:20260901T000000Z\r\n"
       b"DTSTART;VALUE=DATE:20261019\r\nDTEND;VALUE=DATE:20261024\r\n"
       b"SUMMARY:Herfstvakantie\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
CALENDAR_ITEM = {"title": "Sportdag", "kind": "event", "starts_on": "2026-10-02",
                 "ends_on": "2026-10-02"}


def _calendar_item(w):
    from .factories import make_calendar_item

    _absence_morning(w)
    item = make_calendar_item(date(2026, 10, 2), school=w.school)
    db.session.commit()
    return {"item_id": item.id}


ROUTES.update({
    # -- the jaarkalender: everyone reads, the office writes
    "calendar.index": ("GET", _absence_morning, school_people(), None),
    "calendar.new": ("GET", lambda w: {}, only("admin"), None),
    "calendar.new#POST": ("POST", _absence_morning, ADMIN_POST, CALENDAR_ITEM),
    "calendar.edit": ("GET", _calendar_item, only("admin"), None),
    "calendar.edit#POST": ("POST", _calendar_item, ADMIN_POST, CALENDAR_ITEM),
    "calendar.delete": ("POST", _calendar_item, ADMIN_POST, {}),
    "calendar.import_ics": ("GET", lambda w: {}, only("admin"), None),
    "calendar.import_ics#POST": (
        "POST", _absence_morning, ADMIN_POST,
        lambda w: {"file": (_Upload(ICS), "vakanties.ics"), "kind": "auto"},
    ),
})


def _reported_post(w):
    """A post of the teacher's, reported by the guardian (made once per world)."""
    from parro.moderation import service

    if not hasattr(w, "reported"):
        post = make_post(w.group, author=w.teacher)
        w.reported = service.report_item(w.guardian, post, "Past niet bij de afspraken")
    return w.reported


def _hidden_post_report(w):
    """A post of the teacher's that the admin hid after the guardian reported it."""
    from parro.moderation import service

    if not hasattr(w, "hidden_report"):
        post = make_post(w.group, author=w.teacher)
        w.hidden_report = service.report_item(w.guardian, post, "Naam van een kind")
        service.handle(w.hidden_report, w.admin, True, "Verborgen, dank u.", "Zonder namen graag.")
    return w.hidden_report


ROUTES.update({
    # -- moderation and the audit log (issue 7)
    "moderation.mine": ("GET", lambda w: {}, school_people(), None),
    # Those who see the post and did not write it: the guardian of its group, the admin.
    "moderation.report_post": (
        "GET", lambda w: {"post_id": make_post(w.group, author=w.teacher).id},
        only("guardian", "admin"), None,
    ),
    "moderation.report_post#POST": (
        "POST", lambda w: {"post_id": make_post(w.group, author=w.teacher).id},
        only("guardian", "admin", ok=303), {"reason": "Er staat een naam van een gezin in."},
    ),
    # The message is the guardian's own: only the teacher in the conversation reports it.
    "moderation.report_message": ("GET", lambda w: {"message_id": _chat_message(w)["message_id"]},
                                  only("teacher"), None),
    "moderation.report_message#POST": (
        "POST", lambda w: {"message_id": _chat_message(w)["message_id"]},
        only("teacher", ok=303), {"reason": "Onbeleefd"},
    ),
    "admin.reports": ("GET", lambda w: {}, only("admin"), None),
    "admin.handle_report": (
        "POST", lambda w: {"report_id": _reported_post(w).id}, only("admin", ok=303),
        {"decision": "dismiss", "answer": "Dit mag blijven staan."},
    ),
    "admin.unhide_report": (
        "POST", lambda w: {"report_id": _hidden_post_report(w).id}, only("admin", ok=303), {},
    ),
    "admin.audit_log": ("GET", lambda w: {}, only("admin"), None),
})


def _new_school(w) -> dict:
    """A second school of the board, with no admin yet (made once per world)."""
    from .factories import make_other_school

    if not hasattr(w, "new_school"):
        w.new_school = make_other_school("Basisschool Het Anker")
        db.session.commit()
    return {"school_id": w.new_school.id}


ROUTES.update({
    # -- the school board (issue 22): its board admin only, never a school's staff
    "board.index": ("GET", lambda w: {}, only("board"), None),
    "board.school_new": ("GET", lambda w: {}, only("board"), None),
    "board.school_new#POST": (
        "POST", lambda w: {}, only("board", ok=303),
        {"name": "Basisschool De Vlieger", "year_name": "2026-2027", "starts_on": "2026-08-01",
         "ends_on": "2027-07-31"},
    ),
    "board.school_admins": ("GET", _new_school, only("board"), None),
    "board.school_admins#POST": (
        "POST", _new_school, only("board", ok=303), {"email": "nieuw.anker@example.org"},
    ),
    "board.remove_admin": (
        "POST", lambda w: {**_new_school(w), "user_id": w.admin.id}, only("board", ok=303), {},
    ),
})


def test_every_route_is_listed(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    listed = {key.split("#")[0] for key in ROUTES}
    missing = sorted(endpoints - listed)
    stale = sorted(listed - endpoints)
    assert not missing, f"routes without a row in the authorization table: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_answers_each_role_as_the_policy_says(app, client, endpoint):
    method, url_args, expected, data = ROUTES[endpoint]
    world = build_world()
    with app.test_request_context():
        url = url_for(endpoint.split("#")[0], **url_args(world))
        form = data(world) if callable(data) else data
    db.session.commit()  # what the arguments made is there for the request, no lock held
    got = {}
    for role in ROLES:
        logout(client)
        user = world.user(role)
        if user is not None:
            login_as(client, user)
        response = client.open(url, method=method, data=form)
        got[role] = response.status_code
        assert_security_headers(response)
        if response.status_code == LOGIN and role == "anonymous":
            assert "/login" in response.headers["Location"]
    assert got == expected, f"{method} {url}"


# -- isolation between schools (issue 22) ---------------------------------------------
#
# Every row of ROUTES is tried once more, with the objects of a second school's world
# (the same world, built in school B by the same lambdas), as the guardian, the teacher
# and the admin of the first school, and a teacher and an admin of both, logged in there:
# each is refused, shows none of B's names, and the database is as it was. A row says
# which answer counts as refused, or why the route takes nothing of a school's.

REFUSED = frozenset({403, 404})
# A page of one's own school that takes another school's id as a choice in its query: it
# may show (200) what is the user's, but nothing of the other school.
NOT_SHOWN = frozenset({200, 403, 404, 422})
# The object is named in the form, not the URL: a field that names something not theirs
# is bad input (422) or a refusal.
FORM_REFUSED = frozenset({403, 404, 422})
NO_OBJECT = "takes no object of a school: the user's own things, or the current school's"
BEARER = "a signed link from a mail: it works for whoever holds it, as the link of school A's"
DEMO_VIEWER = "the demo mail viewer shows every mail to the machine itself (DEMO only)"
PUBLIC = "public like a school's name and colour: a school's logo shows on its login page"
CROSS_SCHOOL_ROLES = ("guardian", "teacher", "admin", "teacher_of_both", "admin_of_both")
# Staff of both schools, working in A, are refused B's objects as well, but for the chats
# they are in at B: those they see in either school (issue 22: "see both where that is
# natural (their chats)"), a teacher the kindgesprek of a child they teach at B, an admin
# B's office conversations.
CHATS_OF_BOTH = {
    "teacher_of_both": {"chat.show", "chat.post", "chat.poll", "chat.attachment",
                        "moderation.report_message", "moderation.report_message#POST"},
    "admin_of_both": {"chat.show#office", "chat.post#office"},
}

CROSS_SCHOOL = {
    **dict.fromkeys([
        "static", "healthz", "navigation.poll", "theme.stylesheet", "theme.manifest",
        "theme.favicon", "theme.service_worker", "help.index", "home", "auth.login",
        "auth.logout", "auth.account", "auth.schools", "auth.schools#switch",
        "auth.change_password", "auth.export_data", "auth.notification_settings",
        "auth.notification_settings#save", "auth.email_settings", "auth.end_other_devices",
        "auth.push_devices", "auth.push_subscribe", "auth.login_code", "auth.two_factor",
        "auth.two_factor_enable", "auth.recovery_codes", "auth.two_factor_disable",
        "auth.schoolaccount_start", "auth.schoolaccount_callback", "auth.forgot_password",
        "auth.reset_password", "devmail.index", "devpush.push_index", "devpush.add_phone",
        "feed.index", "admin.index", "admin.staff", "admin.invite_staff", "admin.guardians",
        "admin.invite_all_guardians", "admin.school_settings", "admin.office_hours",
        "admin.office_hours#POST", "admin.years", "admin.year_new", "admin.groups",
        "admin.students", "admin.student_new", "admin.import_upload", "admin.rollover",
        "admin.rollover_confirm", "activities.index", "activities.new",
        "activities.calendar_page", "activities.calendar_create", "activities.calendar_revoke",
        "activities.calendar_feed", "chat.index", "chat.start", "chat.office",
        "chat.availability", "feed.announcements", "feed.new_announcement", "privacy.topics",
        "privacy.mine", "privacy.round_overview", "privacy.remind", "absence.index",
        "absence.overview", "absence.office", "absence.export", "absence.settings",
        "absence.add_reason", "absence.phoned", "calendar.index", "calendar.new",
        "calendar.new#POST", "calendar.import_ics", "calendar.import_ics#POST",
        "moderation.mine", "admin.reports", "admin.audit_log",
        "board.index", "board.school_new", "board.school_new#POST",
    ], NO_OBJECT),
    **dict.fromkeys(["auth.unsubscribe", "auth.unsubscribe#one-click", "auth.activate",
                     "auth.activate#POST"], BEARER),
    "devmail.show": DEMO_VIEWER,
    "theme.logo": PUBLIC,
    "theme.icon": PUBLIC,
    **dict.fromkeys(["admin.groups#year", "admin.student_new#group", "admin.import_upload#year"],
                    NOT_SHOWN),
    **dict.fromkeys([
        "admin.import_confirm", "activities.new_conference", "activities.new_volunteer",
        "activities.new_materials", "activities.new_invitation", "chat.office#POST",
        "privacy.mine#POST_other_family", "absence.report_sick", "absence.report_appointment",
        "absence.phoned_sick", "absence.phoned_appointment",
    ], FORM_REFUSED),
    **dict.fromkeys([
        "auth.end_device", "auth.push_test", "auth.push_unsubscribe",
        "feed.group", "students.show", "students.invite", "students.resend_invitation",
        "admin.change_role", "admin.disable_account", "admin.enable_account",
        "admin.resend_invitation", "admin.reset_two_factor", "admin.unlink_school_account",
        "admin.guardian", "admin.delete_family", "admin.delete_family#GET_guardian",
        "admin.delete_family#POST", "admin.export_family", "admin.export_guardian",
        "admin.year_edit", "admin.year_make_current", "admin.group_new", "admin.group_edit",
        "admin.group_assign", "admin.group_unassign", "admin.group_delete",
        "admin.student_edit", "admin.student_place", "admin.student_remove",
        "activities.show", "activities.edit", "activities.edit#POST", "activities.delete",
        "activities.schedule", "activities.book", "activities.move", "activities.cancel",
        "activities.booking_ics", "activities.block", "activities.separate",
        "activities.sign_up", "activities.withdraw", "activities.signup_ics",
        "activities.pledge", "activities.respond", "activities.event_ics",
        "chat.child", "chat.show", "chat.post", "chat.poll", "chat.edit", "chat.delete",
        "chat.attachment", "chat.show#office", "chat.post#office", "chat.show#group",
        "chat.post#group",
        "feed.students", "feed.new_post", "feed.post", "feed.edit_post", "feed.delete_post",
        "feed.like", "feed.delete_announcement", "feed.dismiss_announcement",
        "privacy.edit_topic", "privacy.child", "privacy.group",
        "feed.photo", "feed.save_photo", "media.pending", "media.file",
        "absence.withdraw", "absence.toggle_reason",
        "calendar.edit", "calendar.edit#POST", "calendar.delete",
        "moderation.report_post", "moderation.report_post#POST", "moderation.report_message",
        "moderation.report_message#POST", "admin.handle_report", "admin.unhide_report",
        "board.school_admins", "board.school_admins#POST", "board.remove_admin",
    ], REFUSED),
}

# Leaks the cross-school test found that are not fixed yet: endpoint -> what leaks.
# Strict: a fixed leak fails as XPASS until its line here goes.
CROSS_SCHOOL_LEAKS: dict[str, str] = {}


def test_every_route_has_a_cross_school_row():
    missing = sorted(set(ROUTES) - set(CROSS_SCHOOL))
    stale = sorted(set(CROSS_SCHOOL) - set(ROUTES))
    assert not missing, f"routes without a row in CROSS_SCHOOL: {missing}"
    assert not stale, f"rows in CROSS_SCHOOL for routes that no longer exist: {stale}"


# What a request of someone else may write without changing anything of a school's:
# the logins of the test itself.
_NOT_COMPARED = {"user_session", "login_event"}


def _snapshot() -> dict[str, list]:
    """Every row of every table (but the logins), to compare before and after a request."""
    from sqlalchemy import select

    db.session.expire_all()
    rows = {
        table.name: sorted(map(repr, db.session.execute(select(table)).all()))
        for table in db.metadata.sorted_tables if table.name not in _NOT_COMPARED
    }
    db.session.rollback()
    return rows


def _changes(before: dict, after: dict) -> dict:
    return {
        name: {"gone": sorted(set(before[name]) - set(after[name])),
               "new": sorted(set(after[name]) - set(before[name]))}
        for name in before if before[name] != after[name]
    }


def _names_of(w) -> list[str]:
    """What a page that shows world `w`'s school's people and groups would show."""
    n = w.names
    return [n.group, n.other_group, " ".join(n.student), " ".join(n.other_student),
            *(name for name in (n.guardian, n.guardian_other, n.teacher, n.teacher_other,
                                n.admin) if name), n.domain]


def _staff_of_both(a, b) -> None:
    """A teacher of a group at each school and an admin of both, as a's roles."""
    from .factories import also_works_at, make_admin, make_teacher

    a.teacher_of_both = also_works_at(b.school, make_teacher(
        groups=[a.group], email=a.email("teacher.of.both"), school=a.school), groups=[b.group])
    a.admin_of_both = also_works_at(b.school, make_admin(email=a.email("admin.of.both"),
                                                         school=a.school))
    db.session.commit()


def two_worlds():
    """The world in the first school (A) and the same world in a second school (B)."""
    from .factories import make_other_school
    from .world import OTHER

    first = build_world()
    second = build_world(make_other_school("Basisschool De Wilgenhof"), OTHER)
    return first, second


def _cross_school_params():
    for endpoint in sorted(ROUTES):
        expected = CROSS_SCHOOL.get(endpoint)
        if not isinstance(expected, frozenset):
            continue
        marks = ()
        if endpoint in CROSS_SCHOOL_LEAKS:
            marks = pytest.mark.xfail(strict=True, reason=CROSS_SCHOOL_LEAKS[endpoint])
        yield pytest.param(endpoint, marks=marks)


@pytest.mark.parametrize("endpoint", list(_cross_school_params()))
def test_school_a_is_refused_the_objects_of_school_b(app, client, endpoint):
    method, url_args, _expected, data = ROUTES[endpoint]
    refused = CROSS_SCHOOL[endpoint]
    a, b = two_worlds()
    _staff_of_both(a, b)
    with in_school(app, b.school):
        url = url_for(endpoint.split("#")[0], **url_args(b))
        form = data(b) if callable(data) else data
    db.session.commit()  # what the arguments made is there for the request
    names = _names_of(b)
    got, changed, shown = {}, {}, {}
    before = _snapshot()
    for role in CROSS_SCHOOL_ROLES:
        logout(client)
        login_as(client, a.user(role), school=a.school)
        response = client.open(url, method=method, data=form)
        if endpoint in CHATS_OF_BOTH.get(role, ()):
            before = _snapshot()
            continue
        got[role] = response.status_code
        body = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
        if found := [name for name in names if name in body]:
            shown[role] = found
        after = _snapshot()
        if after != before:
            changed[role] = _changes(before, after)
        before = after
    wrong = {role: status for role, status in got.items() if status not in refused}
    assert not wrong, f"{method} {url} with school B's objects, as school A's: {got}"
    assert not changed, f"{method} {url} changed school B's data: {changed}"
    assert not shown, f"{method} {url} showed school B's names: {shown}"


# -- the teacher who left school B: nothing of B's is theirs, not even what they wrote -----


def _teacher_params():
    """The routes of B's objects that B's teacher may use (their own posts, photos, kept
    files, activities, chats): after leaving B each is refused like anyone else's."""
    for endpoint in sorted(ROUTES):
        if CROSS_SCHOOL.get(endpoint) is REFUSED and ROUTES[endpoint][2].get("teacher") \
                not in REFUSED:
            yield endpoint


@pytest.mark.parametrize("endpoint", list(_teacher_params()))
def test_a_teacher_taken_off_school_b_is_refused_what_they_made_there(app, client, endpoint):
    from parro.auth.service import leave_school
    from parro.models import SchoolStaff

    method, url_args, _expected, data = ROUTES[endpoint]
    a, b = two_worlds()
    with in_school(app, b.school):
        url = url_for(endpoint.split("#")[0], **url_args(b))
        form = data(b) if callable(data) else data
    db.session.add(SchoolStaff(user_id=b.teacher.id, school_id=a.school.id))
    db.session.commit()
    login_as(client, b.teacher, school=b.school)
    with in_school(app, b.school):  # B's office takes them off B; they work at A now
        assert leave_school(b.teacher, b.school, b.admin)
    before = _snapshot()
    response = client.open(url, method=method, data=form)
    body = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
    n = b.names
    shown = [name for name in (n.group, " ".join(n.student), " ".join(n.other_student))
             if name in body]
    assert response.status_code in REFUSED, f"{method} {url}: {response.status_code}"
    assert _snapshot() == before, f"{method} {url} changed: {_changes(before, _snapshot())}"
    assert not shown, f"{method} {url} showed {shown}"


# -- a form of school A's that names something of school B's ---------------------------


def _b_reason(a, b):
    """An appointment for A's child with one of B's absence reasons."""
    _absence_morning(a)
    return {**_appointment_data(a), "appt-reason": make_reason(school=b.school).id}


# name: (role of A, method, endpoint, URL arguments of (a, b), form of (a, b))
MIXED = {
    "a post for B's group too": (
        "teacher", "POST", "feed.new_post", lambda a, b: {"group_id": a.group.id},
        lambda a, b: {"groups": [str(a.group.id), str(b.group.id)], "body": "Geknutseld."},
    ),
    "a post moved to B's group": (
        "teacher", "POST", "feed.edit_post",
        lambda a, b: {"post_id": make_post(a.group, author=a.teacher).id},
        lambda a, b: {"title": "Uitje", "body": "Tekst.", "groups": [str(b.group.id)]},
    ),
    "A's child placed in B's group": (
        "admin", "POST", "admin.student_place", lambda a, b: {"student_id": a.student.id},
        lambda a, b: {"group": str(b.group.id)},
    ),
    "B's teacher assigned to A's group": (
        "admin", "POST", "admin.group_assign", lambda a, b: {"group_id": a.group.id},
        lambda a, b: {"teacher": str(b.teacher.id)},
    ),
    "an announcement for B's group": (
        "admin", "POST", "feed.new_announcement", lambda a, b: {},
        lambda a, b: {"title": "Studiedag", "body": "Vrij.", "groups": [str(b.group.id)],
                      "ends_on": "2999-12-31"},
    ),
    "a calendar item for B's group": (
        "admin", "POST", "calendar.new", lambda a, b: _absence_morning(a),
        lambda a, b: {**CALENDAR_ITEM, "groups": [str(b.group.id)]},
    ),
    "a chat with B's guardian": (
        "teacher", "POST", "chat.start", lambda a, b: {},
        lambda a, b: {"title": "Schoolreis", "guardians": [str(a.guardian.id),
                                                          str(b.guardian.id)]},
    ),
    "a conference for B's group too": (
        "teacher", "POST", "activities.new_conference", lambda a, b: {},
        lambda a, b: {**aw.conference_form(a), "groups": [str(a.group.id), str(b.group.id)]},
    ),
    "B's consent question answered for A's child": (
        "guardian", "POST", "privacy.child", lambda a, b: {"student_id": a.student.id},
        lambda a, b: {f"topic_{make_consent_topic(school=b.school).id}": "ja"},
    ),
    "B's absence reason for A's child": (
        "guardian", "POST", "absence.report_appointment", lambda a, b: {}, _b_reason,
    ),
    "B's absence reason phoned in": (
        "admin", "POST", "absence.phoned_appointment", lambda a, b: {}, _b_reason,
    ),
}


@pytest.mark.parametrize("case", sorted(MIXED))
def test_a_form_of_school_a_naming_school_b_changes_nothing(app, client, case):
    """Refused (403/404/422), or at most an answer that stored nothing: never a 500, and
    not a row changed."""
    role, method, endpoint, url_args, data = MIXED[case]
    a, b = two_worlds()
    with in_school(app, a.school):
        url = url_for(endpoint, **url_args(a, b))
        form = data(a, b)
    db.session.commit()
    login_as(client, a.user(role), school=a.school)
    before = _snapshot()
    response = client.open(url, method=method, data=form)
    changed = _changes(before, _snapshot())
    assert response.status_code in {303, 403, 404, 422}, f"{case}: {response.status_code}"
    assert not changed, f"{case} ({response.status_code}) changed: {changed}"
