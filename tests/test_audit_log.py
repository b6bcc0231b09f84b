"""The audit log: events for what the school must be able to trace, the admin's page, and
that nothing in the application can change or remove an event."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from parro import audit, clock
from parro.admin import service as admin_service
from parro.auth import service as auth_service
from parro.auth.reset import complete_reset, request_reset
from parro.extensions import db
from parro.models import AuditEvent, Invitation, PasswordReset, Role
from parro.privacy import service as privacy_service

from .factories import (
    PASSWORD,
    make_consent_topic,
    make_group,
    make_student,
    make_teacher,
)
from .feed_helpers import fresh
from .helpers import login_as, text_of
from .world import build_world

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 at the school
NEW_PASSWORD = "paarse olifanten dansen zelden op dinsdag"


@pytest.fixture
def w(app):
    clock.set_now(NOW)
    return build_world()


def events(action=None) -> list[AuditEvent]:
    fresh()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def summaries(action) -> list[str]:
    return [e.summary for e in events(action)]


# -- what is recorded ------------------------------------------------------------------


def test_invitations_sent_resent_and_accepted(w):
    user = auth_service.invite_staff("nieuw@example.org", "Nieuwe Juf", Role.TEACHER, w.admin)
    auth_service.resend_invitation(user, w.admin)
    auth_service.invite_guardian(w.other_student, w.guardian.email, w.admin)  # child added
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.user_id == user.id, Invitation.revoked_at.is_(None))
    )
    assert auth_service.activate(invitation, "Nieuwe Juf", "nl", PASSWORD)
    db.session.commit()

    sent, resent, added, accepted = events(audit.INVITATION)
    assert sent.actor_id == w.admin.id and sent.target_id == user.id
    assert sent.summary == "Uitnodiging verstuurd aan Nieuwe Juf (nieuw@example.org)"
    assert "eerdere link ingetrokken" in resent.summary and resent.details["revoked"] == 1
    assert "Noah Dekker toegevoegd" in added.summary and w.guardian.email in added.summary
    assert accepted.actor_id == user.id and "geactiveerd" in accepted.summary


def test_role_changes_and_disabling_accounts(w):
    auth_service.change_role(w.teacher, Role.ADMIN, w.admin)
    auth_service.change_role(w.teacher, Role.ADMIN, w.admin)  # no change: nothing to log
    auth_service.set_disabled(w.guardian, True, w.admin)
    auth_service.set_disabled(w.guardian, False, w.admin)
    assert summaries(audit.ROLE_CHANGE) == [
        "Rol van Teacher (teacher@example.org): leerkracht → beheerder".replace(
            "Teacher", w.teacher.name),
        f"Account van {w.guardian.name} (guardian@example.org) uitgeschakeld",
        f"Account van {w.guardian.name} (guardian@example.org) weer ingeschakeld",
    ]
    assert {e.actor_id for e in events(audit.ROLE_CHANGE)} == {w.admin.id}


def test_teachers_and_students_changing_groups(w):
    newcomer = make_teacher(email="invaller@example.org", name="Invaller")
    db.session.commit()
    admin_service.assign_teacher(w.group, newcomer)
    admin_service.unassign_teacher(w.group, newcomer)
    admin_service.place_student(w.student, w.other_group)
    admin_service.remove_from_year(w.student, w.other_group.year)
    assert summaries(audit.GROUP_CHANGE) == [
        "Invaller (invaller@example.org) gekoppeld aan Groep 3 (2026-2027)",
        "Invaller (invaller@example.org) ontkoppeld van Groep 3 (2026-2027)",
        "Sem Jansen verplaatst van Groep 3 naar Groep 5 (2026-2027)",
        "Sem Jansen uit Groep 5 gehaald (2026-2027)",
    ]


def test_a_rollover_is_one_event_with_counts(w):
    for n in range(5):
        make_student(w.group, first_name=f"Kind{n}")
    leavers = make_group("Groep 8", grade=8)
    make_student(leavers, first_name="Vertrekker")
    db.session.commit()
    admin_service.start_new_year("2027-2028", date(2027, 8, 1), date(2028, 7, 31),
                                 move_groups=True, make_it_current=True)
    [event] = events(audit.GROUP_CHANGE)
    assert event.details["students"] == 7 and event.details["leaving"] == 1
    assert "2027-2028" in event.summary and "7 leerlingen" in event.summary


def test_an_import_is_one_event_and_an_unchanged_import_none(w):
    data = (Path(__file__).parent / "data" / "leerlingen.csv").read_bytes()
    year = w.group.year
    for _ in range(2):
        admin_service.apply_import(data, year, admin_service.import_plan(data, year).digest())
    [event] = events(audit.GROUP_CHANGE)
    assert event.summary.startswith("Import in 2026-2027: 1 nieuwe leerlingen")
    assert event.details["new"] == 1


def test_each_consent_change_names_the_child_and_the_topic(w):
    topic = make_consent_topic("Foto's op de website", app_photos=False)
    db.session.commit()
    privacy_service.set_answers({(w.student.id, topic.id): True}, w.guardian)
    privacy_service.set_answers({(w.student.id, topic.id): True}, w.guardian)  # the same again
    privacy_service.set_answers({(w.student.id, topic.id): False}, w.guardian)
    assert summaries(audit.CONSENT_CHANGE) == [
        "Sem Jansen, Foto's op de website: toestemming gegeven",
        "Sem Jansen, Foto's op de website: geen toestemming",
    ]
    assert {e.actor_id for e in events(audit.CONSENT_CHANGE)} == {w.guardian.id}


def test_password_changes_resets_and_ended_sessions(w, client):
    login_as(client, w.guardian)
    response = client.post("/account/wachtwoord", data={
        "current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert client.post("/account/apparaten/andere-uitloggen").status_code == 303
    with client.application.test_request_context():
        request_reset(w.teacher.email)
        db.session.commit()
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.user_id == w.teacher.id))
    assert complete_reset(reset, NEW_PASSWORD)
    db.session.commit()
    changed, ended, by_mail = events(audit.SECURITY)
    assert changed.actor_id == w.guardian.id and "Wachtwoord gewijzigd" in changed.summary
    assert ended.actor_id == w.guardian.id and "andere apparaten" in ended.summary
    assert by_mail.actor_id == w.teacher.id and "e-maillink" in by_mail.summary


# -- the page ----------------------------------------------------------------------------


def _some_events(w):
    audit.record(audit.LOGIN, actor=w.guardian, target=w.guardian, summary=w.guardian.email)
    audit.record(audit.LOGIN_FAILED, summary="onbekend@example.org")
    clock.set_now(datetime(2027, 3, 12, 8, 0, tzinfo=UTC))
    audit.record(audit.ROLE_CHANGE, actor=w.admin, target=w.teacher, summary="Rol van Juf")
    db.session.commit()


def rows(response) -> list[str]:
    """(when, who, action) of each listed event."""
    return re.findall(r'<time[^>]*>([^<]*)</time> · <span class="audit-actor">([^<]*)</span>'
                      r'</p>\s*<p><strong class="audit-action">([^<]*)</strong>', response.text)


def test_the_admin_reads_the_log_newest_first_in_school_time(w, client):
    _some_events(w)
    login_as(client, w.admin)
    index = client.get("/beheer/").text
    assert 'href="/beheer/logboek"' in index and 'href="/beheer/meldingen"' in index
    assert re.search(r"<title>Beheer · [^<]*</title>", index)  # the links are in the page
    page = client.get("/beheer/logboek")
    assert page.status_code == 200
    listed = rows(page)
    assert [label for _, _, label in listed] == ["Rol of account gewijzigd",
                                                 "Mislukte inlogpoging", "Ingelogd"]
    assert listed[-1][0].endswith("10:00:00")  # 09:00 UTC is 10:00 in Amsterdam
    assert "onbekend@example.org" in text_of(page)


def test_filters_by_action_person_and_dates(w, client):
    _some_events(w)
    login_as(client, w.admin)
    only_failed = rows(client.get("/beheer/logboek?actie=login_failed"))
    assert [label for _, _, label in only_failed] == ["Mislukte inlogpoging"]
    by_email = rows(client.get("/beheer/logboek", query_string={"wie": "GUARDIAN@example"}))
    assert [label for _, _, label in by_email] == ["Ingelogd"]
    by_name = rows(client.get("/beheer/logboek", query_string={"wie": w.admin.name}))
    assert [label for _, _, label in by_name] == ["Rol of account gewijzigd"]
    march_10 = rows(client.get("/beheer/logboek?van=2027-03-10&tot=2027-03-10"))
    assert len(march_10) == 2
    later = rows(client.get("/beheer/logboek?van=2027-03-11"))
    assert len(later) == 1
    wrong = client.get("/beheer/logboek?van=2027-03-12&tot=2027-03-10")
    assert wrong.status_code == 422 and "einddatum" in text_of(wrong)
    assert client.get("/beheer/logboek?van=morgen").status_code == 422
    assert client.get("/beheer/logboek?actie=alles-wissen").status_code == 422


def test_older_events_are_a_page_further_by_key(w, client):
    for n in range(55):
        audit.record(audit.LOGIN_FAILED, summary=f"poging{n}@example.org")
    db.session.commit()
    login_as(client, w.admin)
    first = client.get("/beheer/logboek?actie=login_failed")
    assert len(rows(first)) == 50 and "poging54@" in first.text and "poging4@" not in first.text
    older = re.search(r'href="([^"]+)">Oudere</a>', first.text).group(1).replace("&amp;", "&")
    assert "voor=" in older and "actie=login_failed" in older
    second = client.get(older)
    assert len(rows(second)) == 5 and "poging0@" in second.text
    assert "Oudere" not in second.text
    assert client.get("/beheer/logboek?voor=abc").status_code == 400


@pytest.mark.parametrize("role", ["guardian", "teacher"])
def test_only_admins_read_the_log(w, client, role):
    login_as(client, getattr(w, role))
    assert client.get("/beheer/logboek").status_code == 403


# -- append-only -------------------------------------------------------------------------


def test_an_event_cannot_be_changed_or_removed(w):
    event = audit.record(audit.LOGIN, actor=w.guardian, summary="x")
    db.session.commit()
    event.summary = "iets anders"
    with pytest.raises(audit.AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(audit.AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(audit.AppendOnlyError):
        db.session.execute(update(AuditEvent).values(summary="weg"))
    db.session.rollback()
    with pytest.raises(audit.AppendOnlyError):
        db.session.execute(delete(AuditEvent))
    db.session.rollback()
    assert [e.summary for e in events()] == ["x"]


def test_no_route_changes_events(app):
    for rule in app.url_map.iter_rules():
        if "logboek" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    # Only parro/audit.py writes events, and nothing updates or deletes them (retention
    # goes through audit.purging()).
    root = Path(__file__).parent.parent / "parro"
    for path in root.rglob("*.py"):
        source = path.read_text()
        if path.name == "audit.py" and path.parent == root:
            continue
        assert not re.search(r"(update|delete)\(\s*AuditEvent", source), path
        assert "AuditEvent(" not in source or path.parent.name == "models", path
