"""`flask --app app retention`: what is older than the kept school years goes, the rest stays.

Three school years; it is January 2027. Keeping 2 years keeps 2025-2026 and
2026-2027: everything dated before 1 August 2025 goes. Two families have content
in the old year and in the kept years.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from parro import audit, clock
from parro.extensions import db
from parro.models import (
    AuditEvent,
    Booking,
    ConsentChange,
    LoginEvent,
    Membership,
    OutboxMail,
    UserSession,
)
from parro.security import hash_token, new_token

from .erasure_helpers import chat_file, diff, files_of, snapshot, watch_removals
from .factories import (
    make_absence,
    make_announcement,
    make_chat,
    make_conference,
    make_consent_topic,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_message,
    make_post,
    make_student,
    make_teacher,
    make_year,
)

OLD = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)  # 2024-2025: goes
LAST_DAY_OLD = datetime(2025, 7, 31, 21, 0, tzinfo=UTC)  # 23:00 in Amsterdam: goes
RECENT = datetime(2025, 10, 1, 10, 0, tzinfo=UTC)  # 2025-2026: stays
NOW = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)


@contextlib.contextmanager
def at(moment):
    clock.set_now(moment)
    try:
        yield
    finally:
        clock.set_now(NOW)


def _content(family, when, s):
    """Everything one family has at one moment."""
    student, guardian, teacher, group = family.student, family.guardian, s.teacher, family.group
    with at(when):
        post = make_post(group, author=teacher, photos=1, tagged=[student])
        chat = s.chats[student.id]
        message = make_message(chat, guardian, f"bericht van {when:%Y}")
        chat_file(message)
        make_absence(student, day=clock.today(), by=guardian)
        conference = make_conference(group, day=clock.today() + timedelta(days=7),
                                     deadline=clock.now() + timedelta(days=5))
        db.session.add(Booking(slot=conference.slots[0], student=student, booked_by=guardian))
        db.session.add(ConsentChange(student_id=student.id, topic_id=s.topic.id, given=True,
                                     changed_by_id=guardian.id))
        db.session.add(OutboxMail(recipient=guardian.email, subject="Hallo", body_text="..."))
        db.session.add(UserSession(token_hash=hash_token(new_token()), user_id=guardian.id))
        db.session.add(LoginEvent(user_id=guardian.id, email=guardian.email, success=True))
        audit.record(audit.LOGIN, summary="ingelogd", actor=guardian)
        db.session.commit()
    return post


@pytest.fixture
def w(app):
    clock.set_now(NOW)
    old_year = make_year("2024-2025")
    last_year = make_year("2025-2026")
    current = make_year("2026-2027", current=True)
    old_group = make_group("Groep 8 (oud)", grade=8, year=old_year)
    last_year_group = make_group("Groep 4", grade=4, year=last_year)
    group = make_group("Groep 5", grade=5, year=current)
    teacher = make_teacher(groups=[group, old_group])
    # Lisa left after 2024-2025; Sem is still at school.
    lisa = make_student(old_group, first_name="Lisa", last_name="Jansen")
    sem = make_student(old_group, first_name="Sem", last_name="Dekker")
    db.session.add(Membership(student=sem, group=last_year_group, year=last_year_group.year))
    db.session.add(Membership(student=sem, group=group, year=current))
    families = [
        SimpleNamespace(student=lisa, guardian=make_guardian(child=lisa), group=old_group),
        SimpleNamespace(student=sem, guardian=make_guardian(child=sem), group=old_group),
    ]
    topic = make_consent_topic()
    with at(OLD):
        chats = {f.student.id: make_kindgesprek(f.student) for f in families}
        group_chat = make_chat(teacher, [f.guardian for f in families])
    s = SimpleNamespace(teacher=teacher, topic=topic, chats=chats, families=families,
                        group_chat=group_chat, group=group, old_year=old_year)
    s.old_posts = [_content(f, OLD, s) for f in families]
    s.old_posts.append(_content(families[0], LAST_DAY_OLD, s))
    # Only Sem has content in the kept years (Lisa had left); also posts in his new group.
    s.recent_posts = [_content(families[1], RECENT, s)]
    families[1].group = group
    s.recent_posts.append(_content(families[1], NOW - timedelta(days=3), s))
    with at(RECENT):
        make_message(group_chat, teacher, "Nog iemand?")  # the chat stays, its old message goes
    with at(OLD):
        make_message(group_chat, teacher, "Wie rijdt er mee?")
        make_announcement(title="Oud", starts_on=date(2025, 3, 1), ends_on=date(2025, 3, 14))
        make_announcement(title="Zomer", starts_on=date(2025, 7, 1), ends_on=date(2025, 8, 15))
        db.session.commit()
    clock.set_now(NOW)
    return s


def _cli(app, *args, **config):
    db.session.commit()
    saved = {key: app.config[key] for key in config}
    app.config.update(config)
    try:
        return app.test_cli_runner().invoke(args=["retention", *args])
    finally:
        app.config.update(saved)


def _expected_removed(before):
    """The rows dated before 1 August 2025 (midnight in Amsterdam = 22:00 UTC)."""
    cut = datetime.combine(date(2025, 8, 1), time(0)).replace(
        tzinfo=clock.school_tz()).astimezone(UTC)
    rows = before["rows"]

    def old(table, column, limit=cut):
        return {pk for pk, r in rows[table].items()
                if r[column] is not None and _utc(r[column]) < limit}

    posts = old("post", "publish_at")
    messages = old("message", "created_at")
    activities = {pk for pk, r in rows["activity"].items() if _utc(r["deadline"]) < cut}
    left = {r["student_id"] for r in rows["membership"].values()} - {
        r["student_id"] for r in rows["membership"].values()
        if rows["school_year"][r["school_year_id"]]["starts_on"] >= date(2025, 8, 1)
    }
    conversations = {
        pk for pk in rows["conversation"]
        if not any(r["conversation_id"] == pk and m not in messages
                   for m, r in rows["message"].items())
    }
    return {
        "notification_item": old("notification_item", "created_at") | {
            pk for pk, r in rows["notification_item"].items() if r["post_id"] in posts},
        "notification_digest": old("notification_digest", "created_at"),
        "post": posts,
        "post_group": {pk for pk, r in rows["post_group"].items() if r["post_id"] in posts},
        "attachment": {pk for pk, r in rows["attachment"].items()
                       if r["post_id"] in posts
                       or (r["announcement_id"] and rows["announcement"][r["announcement_id"]]
                           ["ends_on"] < date(2025, 8, 1))},
        "photo_tag": {pk for pk, r in rows["photo_tag"].items()
                      if rows["attachment"][r["attachment_id"]]["post_id"] in posts},
        "announcement": {pk for pk, r in rows["announcement"].items()
                         if r["ends_on"] < date(2025, 8, 1)},
        "announcement_group": set(),
        "message": messages,
        "message_attachment": {pk for pk, r in rows["message_attachment"].items()
                               if r["message_id"] in messages},
        "conversation": conversations,
        "conversation_read": {pk for pk in rows["conversation_read"] if pk[0] in conversations},
        "participant": {pk for pk, r in rows["participant"].items()
                        if r["conversation_id"] in conversations},
        "absence_report": {pk for pk, r in rows["absence_report"].items()
                           if r["day"] < date(2025, 8, 1)},
        "activity": activities,
        "activity_group": {pk for pk in rows["activity_group"] if pk[0] in activities},
        "slot": {pk for pk, r in rows["slot"].items() if r["activity_id"] in activities},
        "booking": {pk for pk, r in rows["booking"].items() if r["activity_id"] in activities},
        "consent_change": {pk for pk, r in rows["consent_change"].items()
                           if _utc(r["changed_at"]) < cut and r["student_id"] in left},
        "outbox_mail": old("outbox_mail", "created_at"),
        "user_session": old("user_session", "last_seen_at"),
        "login_event": old("login_event", "created_at"),
        "audit_event": old("audit_event", "created_at"),
    }


def _utc(value):
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _drop_empty(d):
    return {k: v for k, v in d.items() if v}


@pytest.mark.parametrize("batch", ["1000", "2"])
def test_retention_removes_exactly_what_is_older_than_the_kept_years(app, w, batch):
    before = snapshot()
    expected = _drop_empty(_expected_removed(before))
    # The old year's content is really there, of both families, and some stays.
    assert len(expected["post"]) == 3 and len(expected["message"]) == 4
    assert len(expected["conversation"]) == 1  # Lisa's kindgesprek: nothing newer in it
    assert len(expected["consent_change"]) == 2  # Lisa's; Sem's old answers stay
    old_keys = [a.key for p in w.old_posts for a in p.attachments]
    old_files = files_of(*old_keys) | files_of(*(
        r["key"] for pk, r in before["rows"]["message_attachment"].items()
        if pk in expected["message_attachment"]))
    assert len(old_files) == 3 * 3 + 3  # photos: display size, thumbnail and WebP

    result = _cli(app, "--batch-size", batch)
    assert result.exit_code == 0, result.output
    assert "Keeping 2025-2026, 2026-2027" in result.output
    assert "posts: 3" in result.output and "messages: 4" in result.output
    after = snapshot()
    removed, changed, added = diff(before, after)
    assert removed == expected
    assert changed == {}
    assert set(added) == {"audit_event"} and len(added["audit_event"]) == 1
    assert before["files"] - after["files"] == old_files
    # Sem's recent photos and chat files are still there.
    recent_keys = [a.key for p in w.recent_posts for a in p.attachments]
    assert len(files_of(*recent_keys)) == 6  # two photos, three files each

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == audit.RETENTION))
    assert event.details["posts"] == 3 and event.details["cutoff"] == "2025-08-01"
    assert event.details["years"] == 2


def test_dry_run_says_the_same_and_changes_nothing(app, w):
    before = snapshot()
    dry = _cli(app, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing was removed." in dry.output
    assert snapshot() == before
    real = _cli(app)
    counts = lambda out: [l for l in out.splitlines() if l.startswith("  ")]  # noqa: E731,E741
    assert counts(dry.output) == counts(real.output)
    assert "  posts: 3" in counts(real.output)


def test_more_years_kept_than_there_are_removes_nothing(app, w):
    before = snapshot()
    result = _cli(app, "--years", "4")
    assert result.exit_code == 0
    assert "nothing removed" in result.output
    assert snapshot() == before


@pytest.mark.parametrize("value", ["0", "-1", "twee", "2.5", ""])
def test_a_nonsense_number_of_years_is_refused(app, w, value):
    before = snapshot()
    result = _cli(app, f"--years={value}")
    assert result.exit_code != 0
    assert "whole number of at least 1" in result.output
    assert snapshot() == before


@pytest.mark.parametrize("value", [0, -2, "veel", True, None, 1.5])
def test_a_nonsense_setting_is_refused(app, w, value):
    before = snapshot()
    result = _cli(app, RETENTION_YEARS=value)
    assert result.exit_code != 0
    assert "whole number of at least 1" in result.output
    assert snapshot() == before


def test_the_setting_decides_by_default(app, w):
    before = snapshot()
    result = _cli(app, RETENTION_YEARS=4)
    assert "nothing removed" in result.output
    assert snapshot() == before


def test_files_go_batch_by_batch_after_each_commit(app, w, monkeypatch):
    calls = watch_removals(monkeypatch)
    result = _cli(app, "--batch-size", "2")
    assert result.exit_code == 0, result.output
    with_files = [keys for keys, _ in calls if keys]
    assert len(with_files) >= 3  # posts and messages, two per batch
    assert all(len(keys) <= 2 for keys in with_files)
    assert all(left == [] for _, left in calls)
