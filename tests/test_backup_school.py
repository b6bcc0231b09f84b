"""flask backup DIR --school ID: one school's rows and files, and its restore alone."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import func, select, text

from parro import audit, clock, notifications, policy, school_backup
from parro.audit import GROUP_CHANGE, ROLE_CHANGE
from parro.board import service as board
from parro.chat import service as chat
from parro.extensions import db
from parro.models import (
    Attachment,
    AuditEvent,
    Guardianship,
    Invitation,
    Message,
    MessageAttachment,
    NotificationChoice,
    NotificationDigest,
    NotificationItem,
    OutboxMail,
    Post,
    Role,
    School,
    SchoolStaff,
    TeacherAssignment,
    User,
)

from . import test_backup
from .factories import (
    current_year,
    make_board_admin,
    make_chat,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_message,
    make_other_school,
    make_post,
    make_school,
    make_student,
    make_teacher,
    photo_bytes,
    stage_files,
)
from .test_backup import _media, _restore
from .test_login import log_in

media_app, empty_instance = test_backup.media_app, test_backup.empty_instance  # fixtures


def test_every_table_has_an_ownership_entry(app):
    """Every table is decided about: its school's rows (a condition on :school), or left
    out of every school's snapshot with the reason why. A new table cannot be dropped
    from a school's snapshot without anyone deciding so."""
    missing = sorted(set(db.metadata.tables) - set(school_backup.OWNERSHIP))
    stale = sorted(set(school_backup.OWNERSHIP) - set(db.metadata.tables))
    assert not missing, f"tables without a row in school_backup.OWNERSHIP: {missing}"
    assert not stale, f"rows for tables that no longer exist: {stale}"
    for table, rule in school_backup.OWNERSHIP.items():
        if isinstance(rule, school_backup.LeftOut):
            assert len(rule.why.split()) >= 5, f"{table}: say why it is left out"
        else:
            assert isinstance(rule, str) and ":school" in rule, f"{table}: whose rows?"


def _two_schools() -> SimpleNamespace:
    """School A and school B, each with a post with a photo and chats of each kind; a
    family with a child at each school; a family and a teacher only at A."""
    school_a, school_b = make_school("Basisschool Alfa"), make_other_school("Basisschool Beta")
    group_a = make_group("Groep A3", year=current_year(school_a))
    group_b = make_group("Groep B5", year=current_year(school_b))
    anna = make_student(group_a, first_name="Annabel")
    bram = make_student(group_b, first_name="Bramwell")
    only_a_child = make_student(group_a, first_name="Alleenkind")
    family = make_guardian(children=[anna, bram], email="gezin@example.org")
    only_a = make_guardian(only_a_child, email="alleen-a@example.org")
    teacher_a = make_teacher(group_a, email="juf-a@example.org")
    teacher_b = make_teacher(group_b, email="meester-b@example.org", school=school_b)
    post_a = make_post(group_a, author=teacher_a, photos=1, body="Nieuws van Alfa")
    post_b = make_post(group_b, author=teacher_b, photos=1, body="Nieuws van Beta")

    chat_a = make_chat(teacher_a, [family, only_a], title="Uitje Alfa")
    make_message(chat_a, teacher_a, "Bericht in Alfa")
    chat_b = make_chat(teacher_b, [family], title="Uitje Beta")
    chat_b.school_id = school_b.id  # started from A's context; a chat of B's
    db.session.commit()
    make_message(chat_b, teacher_b, "Bericht in Beta")
    make_message(make_kindgesprek(anna), teacher_a, "Kindgesprek Alfa")
    child_b = make_kindgesprek(bram)
    db.session.commit()
    with_photo_b = chat.send_message(child_b, teacher_b, "Kindgesprek Beta",
                                     staged=stage_files(("klas.jpg", photo_bytes())))
    with_photo_a = chat.send_message(chat_a, teacher_a, "Foto Alfa",
                                     staged=stage_files(("alfa.jpg", photo_bytes())))
    chat.write_to_office(family, bram, "Kantoor Beta")
    chat.write_to_office(family, anna, "Kantoor Alfa")
    db.session.commit()
    keys = {
        "a": {a.key for a in db.session.query(Attachment).filter_by(post_id=post_a.id)}
        | {a.key for a in db.session.query(MessageAttachment).filter_by(
            message_id=with_photo_a.id)},
        "b": {a.key for a in db.session.query(Attachment).filter_by(post_id=post_b.id)}
        | {a.key for a in db.session.query(MessageAttachment).filter_by(
            message_id=with_photo_b.id)},
    }
    return SimpleNamespace(school_b=school_b, keys=keys, family=family, anna=anna, bram=bram)


def _rows(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}
    finally:
        conn.close()


def _column(path: Path, sql: str) -> set:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute(sql)}
    finally:
        conn.close()


def test_a_school_backup_holds_that_school_only_and_restores_alone(
    media_app, empty_instance, tmp_path
):
    with media_app.app_context():
        made = _two_schools()
        school_b, keys = made.school_b, made.keys
        assert len(keys["a"]) == len(keys["b"]) == 2
        all_media = _media(media_app)
        result = media_app.test_cli_runner().invoke(
            args=["backup", str(tmp_path / "backups"), "--school", str(school_b.id)])
        db.session.remove()
    assert result.exit_code == 0, result.output
    (snapshot,) = sorted((tmp_path / "backups").iterdir())
    assert f"Backup written to {snapshot}" in result.output

    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["school"] == "Basisschool Beta"
    assert manifest["engine"] == "sqlite" and manifest["database"] == "database.sqlite3"
    database = snapshot / "database.sqlite3"
    school_ids = _column(database, "SELECT id FROM school")
    assert _column(database, "SELECT name FROM school") == {"Basisschool Beta"}
    assert _column(database, "SELECT first_name FROM student") == {"Bramwell"}
    assert _column(database, "SELECT email FROM app_user") == {
        "gezin@example.org", "meester-b@example.org"}
    assert _column(database, "SELECT body FROM post") == {"Nieuws van Beta"}
    assert _column(database, "SELECT body FROM message") == {
        "Bericht in Beta", "Kindgesprek Beta", "Kantoor Beta"}
    assert len(_column(database, "SELECT id FROM conversation")) == 3  # group, child, office
    assert _column(database, "SELECT key FROM attachment UNION SELECT key FROM "
                             "message_attachment") == keys["b"]
    everything = repr(_rows(database))
    for of_a in ("Alfa", "Annabel", "Alleenkind", "alleen-a@", "juf-a@", *keys["a"]):
        assert of_a not in everything

    # The media: every stored file of B's keys (all their sizes), nothing of A's.
    listed = {f["path"] for f in manifest["files"]}
    files = {p for p in listed if p.startswith("media/")}
    expected = {f"media/{p}" for p in all_media if Path(p).name.split(".")[0] in keys["b"]}
    assert files == expected and len(expected) >= 4
    assert not any(key in path for key in keys["a"] for path in listed)

    # Restored into an empty instance: a working one-school installation.
    target = empty_instance()
    restored = _restore(target, snapshot)
    assert restored.exit_code == 0, restored.output
    assert _media(target) == {p.removeprefix("media/"): (snapshot / p).read_bytes()
                              for p in files}
    client = target.test_client()  # outside any app context, as a browser is
    assert log_in(client, "gezin@example.org").status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "Nieuws van Beta" in page and "Alfa" not in page
    urls = re.findall(r'/media/[A-Za-z0-9_-]{32}/[a-z0-9]+\?v=[^"&]+', page)
    assert urls and all(url.split("/")[2] in keys["b"] for url in urls)
    photo = client.get(urls[0])
    assert photo.status_code == 200 and len(photo.data) > 100
    with target.app_context():  # new rows get new ids (PostgreSQL: the sequences moved on)
        db.session.add(School(name="Basisschool Gamma"))
        db.session.commit()
        assert db.session.query(School.id).filter_by(name="Basisschool Gamma").scalar() > max(
            school_ids)
        db.session.remove()


def test_backup_of_a_school_that_does_not_exist_is_refused(media_app, tmp_path):
    with media_app.app_context():
        result = media_app.test_cli_runner().invoke(
            args=["backup", str(tmp_path / "backups"), "--school", "999"])
    assert result.exit_code != 0
    assert "There is no school with id 999" in result.output
    assert not any((tmp_path / "backups").glob("parro-*"))



def _snapshot_of(app, school_id: int, folder: Path) -> Path:
    with app.app_context():
        result = app.test_cli_runner().invoke(
            args=["backup", str(folder), "--school", str(school_id)])
        db.session.remove()
    assert result.exit_code == 0, result.output
    (snapshot,) = sorted(folder.iterdir())
    return snapshot


def _owned_rows(school_id: int | None = None) -> dict[str, dict]:
    """Every table's rows by primary key: those OWNERSHIP gives school `school_id`, or
    (None) all of this instance's."""
    rows = {}
    for table in db.metadata.sorted_tables:
        rule = school_backup.OWNERSHIP[table.name]
        if not isinstance(rule, str):
            continue
        query = select(table)
        if school_id is not None:
            query = query.where(text(f"({rule})"))
        found = db.session.execute(query, {"school": school_id}).mappings()
        pk = [c.name for c in table.primary_key.columns]
        rows[table.name] = {tuple(r[c] for c in pk): dict(r) for r in found}
    db.session.commit()
    return rows


def test_a_school_snapshot_keeps_its_digest_lines_and_what_the_board_did_there(
    media_app, empty_instance, tmp_path
):
    """The lines waiting for the school's families' digests come along (that school's
    only, with the digests already sent, so no line is mailed twice), and so does the
    board admin who appointed the school's admin: its log and the invitation still name
    them, through an account that lets nobody in. Every other row is restored as it was."""
    day = datetime(2027, 3, 9, 11, 0, tzinfo=UTC)  # the posts: today's digest (18:00) lists them
    with media_app.app_context():
        clock.set_now(day)
        made = _two_schools()
        family, school_b = made.family, made.school_b
        clock.set_now(day + timedelta(hours=7))
        assert notifications.digest_for(family, day.date())  # both schools' posts
        clock.set_now(day + timedelta(hours=20))  # the next morning
        db.session.add(NotificationChoice(user_id=family.id, category=notifications.ABSENCE,
                                          mail=notifications.DIGEST))
        for child in (made.anna, made.bram):
            notifications.notify(family, notifications.ABSENCE, "Absentie", "absence_receipt",
                                 line="De absentie van {child} is doorgegeven",
                                 path="/absentie/", child=child.first_name, student=child)
        board_admin = make_board_admin(name="ICT Stichting")
        board.appoint_admin(school_b, "directie-b@example.org", "Directie Beta", by=board_admin)
        db.session.commit()
        expected = _owned_rows(school_b.id)
        people_of_b = set(db.session.scalars(text(school_backup.USERS),
                                             {"school": school_b.id}))
        lines = {i.text: i.school_id for i in db.session.scalars(
            select(NotificationItem).where(NotificationItem.user_id == family.id))}
        assert sorted(lines.values()) == sorted([school_b.id] * 2 + [made.anna.school_id] * 2)
        of_b = {text for text, school in lines.items() if school == school_b.id}
        assert len(of_b) == 2 and "De absentie van Bramwell is doorgegeven" in of_b
        db.session.remove()
    snapshot = _snapshot_of(media_app, school_b.id, tmp_path / "backups")

    target = empty_instance()
    restored = _restore(target, snapshot)
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        clock.set_now(day + timedelta(hours=20))
        # Every row of the school as it was; a board admin's account only names them.
        rows = _owned_rows()
        name_only = {id_: {**row, **school_backup.NAME_ONLY}
                     for id_, row in expected["app_user"].items() if row["role"] == "board"}
        assert name_only and all(row["role"] != "board" for row in expected["app_user"].values()
                                 if row["id"] in people_of_b)
        assert name_only and rows["app_user"] == expected["app_user"] | name_only
        for table, restored_rows in rows.items():
            if table != "app_user":
                assert restored_rows == expected[table], table

        # The digest lines: B's, the one already mailed marked so; the day's digest too.
        items = db.session.scalars(select(NotificationItem)).all()
        assert {i.text for i in items} == of_b
        assert {i.text for i in items if i.digest_id is None} == {
            "De absentie van Bramwell is doorgegeven"}
        assert db.session.scalars(select(NotificationDigest.day)).all() == [day.date()]
        # Nothing of the source's mail queue (its sender delivers it): no mail twice.
        assert db.session.scalar(select(func.count(OutboxMail.id))) == 0
        clock.set_now(day + timedelta(days=1, hours=7))
        assert notifications.send_digests() == 1
        (digest,) = db.session.scalars(select(OutboxMail)).all()
        assert digest.recipient == "gezin@example.org"
        assert "De absentie van Bramwell is doorgegeven" in digest.body_text
        assert "Annabel" not in digest.body_text and "Beta" not in digest.body_text

        # What the board admin did is still theirs, by their account.
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == ROLE_CHANGE)).all()
        actor = db.session.get(User, event.actor_id)
        assert actor is not None and actor.email == "bestuur@example.org"
        invitation = db.session.scalar(select(Invitation).join(
            User, User.id == Invitation.user_id).where(User.email == "directie-b@example.org"))
        assert invitation.invited_by.email == "bestuur@example.org"
        assert not actor.active and actor.password_hash is None
        db.session.remove()
    assert log_in(target.test_client(), "bestuur@example.org").status_code != 303


def _history_with_former_people(school_b: School | None = None) -> SimpleNamespace:
    """School B (of two): its teacher and a family; and in its history people who are not
    its people any more: a former teacher (a post, a log line), a family that left (a
    message to the office), a teacher whose account was deleted (a log line). Made last,
    so their ids come right after the ids of B's people."""
    if school_b is None:
        make_group("Groep A3", year=current_year(make_school("Basisschool Alfa")))
        school_b = make_other_school("Basisschool Beta")
    group_b = make_group("Groep B6", year=current_year(school_b))
    child = make_student(group_b, first_name="Blijft")
    make_guardian(child, email="blijft@example.org", name="Familie Blijft")
    make_teacher(group_b, email="meester-b6@example.org", school=school_b)
    former = make_teacher(group_b, email="juf-oud@example.org", name="Juf Oud", school=school_b)
    gone_child = make_student(group_b, first_name="Vertrokken")
    gone = make_guardian(gone_child, email="weg@example.org", name="Familie Weg")
    deleted = make_teacher(group_b, email="verwijderd@example.org", name="Meester Weg",
                           school=school_b)
    make_post(group_b, author=former, body="Uitstapje van Juf Oud")
    audit.record(GROUP_CHANGE, actor=former, summary="Groep B6 ingedeeld",
                 school_id=school_b.id)
    audit.record(GROUP_CHANGE, actor=deleted, summary="Groep B6 hernoemd",
                 school_id=school_b.id)
    db.session.commit()
    chat.write_to_office(gone, gone_child, "Wij verhuizen")
    # They leave: the teacher's place at B, the family's child, the other's whole account.
    for user in (former, deleted):
        db.session.execute(SchoolStaff.__table__.delete().where(
            SchoolStaff.user_id == user.id))
        db.session.execute(TeacherAssignment.__table__.delete().where(
            TeacherAssignment.user_id == user.id))
    db.session.execute(Guardianship.__table__.delete().where(Guardianship.user_id == gone.id))
    ids = {former.id, gone.id, deleted.id}
    db.session.execute(User.__table__.delete().where(User.id == deleted.id))
    db.session.commit()
    return SimpleNamespace(school_b=school_b.id, ids=ids)


def _user_references() -> list[tuple[str, str]]:
    """Every (table, column) of the models that holds a user id: the foreign keys to
    app_user.id and the plain integer ones (the log's, which has no foreign keys)."""
    found = [(table.name, fk.parent.name) for table in db.metadata.sorted_tables
             for fk in table.foreign_keys if fk.column.table.name == "app_user"]
    assert ("post", "author_id") in found and ("message", "author_id") in found
    return [*found, ("audit_event", "actor_id")]


def test_a_school_snapshot_names_no_person_it_does_not_hold(media_app, tmp_path):
    """No column of a snapshot that holds a user id names an account the snapshot does not
    hold: after a restore, a new account could get that id."""
    with media_app.app_context():
        made = _history_with_former_people(_two_schools().school_b)
        references = _user_references()
        db.session.remove()
    snapshot = _snapshot_of(media_app, made.school_b, tmp_path / "backups")
    database = snapshot / "database.sqlite3"
    accounts = _column(database, "SELECT id FROM app_user")
    for table, column in references:
        named = _column(database, f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")
        assert named <= accounts, f"{table}.{column} names {sorted(named - accounts)}"
    # The former people the history names came along, name-only; the deleted one cannot.
    named_only = _column(database, "SELECT id FROM app_user WHERE active = 0 AND disabled = 1 "
                                   "AND password_hash IS NULL")
    assert len(made.ids & accounts) == 2 and made.ids & accounts <= named_only


def test_a_restored_school_gives_a_new_account_nobody_elses_history(
    media_app, empty_instance, tmp_path
):
    """A former teacher's post and log line, a departed family's message: after the
    school's restore they still say who, by name, through accounts that let nobody in and
    are nobody's staff or family; a new account is named by none of them."""
    with media_app.app_context():
        made = _history_with_former_people()
        db.session.remove()
    snapshot = _snapshot_of(media_app, made.school_b, tmp_path / "backups")

    target = empty_instance()
    restored = _restore(target, snapshot)
    assert restored.exit_code == 0, restored.output
    for email in ("juf-oud@example.org", "weg@example.org"):  # name-only: no way in
        assert log_in(target.test_client(), email).status_code != 303
    with target.app_context():
        policy.forget_school_count()
        (school,) = db.session.scalars(select(School)).all()
        new_ids = set()
        for n in range(len(made.ids) + 1):  # past every id the source's history used
            user = User(email=f"nieuw{n}@example.org", name=f"Nieuw {n}", role=Role.TEACHER)
            db.session.add(user)
            db.session.flush()
            new_ids.add(user.id)
        db.session.commit()
        assert made.ids & new_ids  # (the ids the former people had are given out again)

        events = {e.summary: e for e in db.session.scalars(select(AuditEvent))}
        posts = db.session.scalars(select(Post)).all()
        messages = db.session.scalars(select(Message)).all()
        for named in [e.actor_id for e in events.values()] + [p.author_id for p in posts] + [
                m.author_id for m in messages]:
            assert named not in new_ids
        # The history still says who.
        former = db.session.get(User, events["Groep B6 ingedeeld"].actor_id)
        assert former.name == "Juf Oud" and not former.is_active
        assert [p.author.name for p in posts] == ["Juf Oud"]
        assert [m.author.name for m in messages] == ["Familie Weg"]
        assert events["Groep B6 hernoemd"].actor_id is None  # deleted before the snapshot
        assert events["Groep B6 hernoemd"].actor_name == "Meester Weg"
        # Name-only accounts are nobody's staff or family.
        staff = set(db.session.scalars(policy.staff_of(school.id)))
        guardians = set(db.session.scalars(policy.guardians_of(school.id)))
        assert former.id not in staff and messages[0].author_id not in guardians
        assert db.session.scalar(select(User.id).where(User.email == "blijft@example.org")) in (
            guardians)
        db.session.remove()
