"""A big school for the benchmark: `flask --app app demo --scale large`.

On top of the ordinary demo school (its fixed logins stay as they are) this adds
groups, children, parents and five school years of history: posts with photos,
likes, read receipts, chat messages, absence reports and a conference round per
group. `--scale large` is the school of issue 9 (40 groups, 1,000 children, about
1,800 parents, 50,000 posts, 500,000 messages); `medium` has a tenth of the
history and `small` a hundredth, for the benchmark's growth curve.

Everything is written with bulk INSERTs on one connection, with ids chosen here,
so that a large school takes a minute, not an hour. The photos are a few real
JPEGs, hard-linked under each attachment's key, so the media route serves them.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import time as clock_time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import click
from flask import current_app
from sqlalchemy import func, insert, select, text

from . import media
from .clock import now, school_tz, today
from .demo import FIRST_NAMES, LAST_NAMES, PARENT_NAMES, school_year_of, weekday
from .extensions import db
from .models import (
    APP_PHOTOS,
    AbsenceKind,
    AbsenceReason,
    AbsenceReport,
    Activity,
    ActivityKind,
    Attachment,
    Booking,
    Consent,
    ConsentTopic,
    Conversation,
    ConversationKind,
    Group,
    Guardianship,
    Like,
    Membership,
    Message,
    PhotoTag,
    Post,
    PostGroup,
    ReadReceipt,
    ReadState,
    Role,
    School,
    SchoolStaff,
    SchoolYear,
    Slot,
    Student,
    TeacherAssignment,
    User,
)
from .models.activity import activity_group

SCALES = {"small": 0.01, "medium": 0.1, "large": 1.0}
# The large school (factor 1); people shrink with the factor down to the demo's own.
FULL = {"groups": 40, "students_per_group": 25, "posts": 50_000, "messages": 500_000,
        "absences": 30_000, "years": 5}
CHUNK = 5_000

TITLES = ["Gymles", "Thema Wonen", "Schoolreis", "Kunst in de klas", "Rekenen buiten", "",
          "Voorlezen", "Excursie", "Project Water", "Sinterklaas", "Koningsspelen", ""]
BODIES = [
    "Vandaag hebben we in {group} hard gewerkt aan ons project. Kijk eens wat een mooi werk!",
    "Morgen graag een lege schoenendoos meenemen. Dank u wel!",
    "Wat was het heerlijk weer. We hebben de rekenles buiten gedaan: tellen met stoepkrijt.",
    "Denkt u aan de gymspullen voor donderdag? Sportschoenen met witte zolen graag.",
    "We zijn naar de bibliotheek geweest. Iedereen heeft een boek uitgezocht.",
]
CHAT_LINES = [
    "Goedemorgen, {child} is vandaag wat moe, hij heeft slecht geslapen.",
    "Dank u voor het laten weten, we houden het in de gaten.",
    "Mag {child} vrijdag met een vriendje mee naar huis?",
    "Dat is goed, ik geef het door.",
    "Is de gymles morgen buiten of binnen?",
    "Binnen, want het gaat regenen.",
    "{child} heeft de leesbeurt heel goed gedaan vandaag!",
    "Fijn om te horen, dank u wel 😊",
]


def scale_factor(value: str) -> float:
    """'small', 'medium', 'large' or a number (1 = large)."""
    if value in SCALES:
        return SCALES[value]
    try:
        factor = float(value)
    except ValueError:
        raise click.BadParameter(f"use {', '.join(SCALES)} or a number such as 0.5") from None
    if not 0 < factor <= 2:
        raise click.BadParameter("a factor between 0 and 2 (1 = large)")
    return factor


class Bulk:
    """Ids handed out here and rows inserted in chunks on one connection."""

    def __init__(self):
        self.conn = db.session.connection()
        self.next_ids: dict[str, int] = {}
        self.counts: dict[str, int] = defaultdict(int)

    def ids(self, model, n: int) -> range:
        table = model.__table__
        if table.name not in self.next_ids:
            top = self.conn.execute(select(func.max(table.c.id))).scalar() or 0
            self.next_ids[table.name] = top + 1
        start = self.next_ids[table.name]
        self.next_ids[table.name] += n
        return range(start, start + n)

    def insert(self, model, rows: list[dict]) -> None:
        table = getattr(model, "__table__", model)
        for i in range(0, len(rows), CHUNK):
            self.conn.execute(insert(table), rows[i:i + CHUNK])
        self.counts[table.name] += len(rows)

    def insert_new(self, model, rows: list[dict]) -> None:
        """Give `rows` the next ids of `model` (in their order) and insert them."""
        for row, i in zip(rows, self.ids(model, len(rows)), strict=True):
            row["id"] = i
        self.insert(model, rows)

    def fix_sequences(self) -> None:
        """PostgreSQL: move each id sequence past the ids chosen here."""
        if self.conn.dialect.name != "postgresql":
            return
        for name in self.next_ids:
            self.conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {name}))"
            ))


def stopwatch() -> Callable[[str], None]:
    """say(what): print `what` after the seconds since this call."""
    started = clock_time.perf_counter()

    def say(what: str) -> None:
        click.echo(f"  {clock_time.perf_counter() - started:6.1f} s  {what}")

    return say


def add_history(school: School, factor: float) -> None:
    say = stopwatch()
    rng = random.Random(9)
    bulk = Bulk()
    moment = now()

    # Everyone shares the demo password (hashing 3,000 of them would take minutes).
    password = db.session.scalar(
        select(User.password_hash).where(User.email == "admin@example.org"))

    # -- people -----------------------------------------------------------------------
    year = db.session.scalar(
        select(SchoolYear).where(SchoolYear.school_id == school.id, SchoolYear.is_current))
    per_grade = max(1, round(FULL["groups"] / 8 * factor))
    new_groups = [(f"Groep {grade}{'abcdefghij'[c]}", grade)
                  for c in range(1, per_grade) for grade in range(1, 9)]
    group_rows = [{"school_year_id": year.id, "name": name, "grade": grade}
                  for name, grade in new_groups]
    bulk.insert_new(Group, group_rows)
    _add_teachers(bulk, school.id, [g["id"] for g in group_rows],
                  [f"Leerkracht {rng.choice(LAST_NAMES)}" for _ in group_rows], password, moment)

    numbers = iter(range(50001, 10_000_000))
    student_rows, membership_rows, guardian_rows, guardianship_rows = [], [], [], []
    for g in group_rows:
        for sid in bulk.ids(Student, FULL["students_per_group"]):
            last = rng.choice(LAST_NAMES)
            student_rows.append({"id": sid, "school_id": school.id,
                                 "student_number": str(next(numbers)),
                                 "first_name": rng.choice(FIRST_NAMES), "last_name": last,
                                 "created_at": moment})
            membership_rows.append(
                {"student_id": sid, "group_id": g["id"], "school_year_id": year.id})
            for _ in range(1 if rng.random() < 0.2 else 2):
                uid = bulk.ids(User, 1)[0]
                guardian_rows.append(_user(uid, f"ouder.{uid}@example.org",
                                           f"{rng.choice(PARENT_NAMES)} {last}", Role.GUARDIAN,
                                           password, moment, active=rng.random() > 0.05))
                guardianship_rows.append({"user_id": uid, "student_id": sid, "created_at": moment})
    bulk.insert(Student, student_rows)
    bulk.insert(User, guardian_rows)
    bulk.insert_new(Membership, membership_rows)
    bulk.insert_new(Guardianship, guardianship_rows)
    topic = db.session.scalar(select(ConsentTopic).where(ConsentTopic.key == APP_PHOTOS))
    bulk.insert_new(Consent, [{"student_id": s["id"], "topic_id": topic.id,
                               "given": rng.random() < 0.9,
                               "changed_at": moment - timedelta(days=30),
                               "school_year_id": year.id} for s in student_rows])
    say(f"{len(group_rows)} groups, {len(student_rows)} children, "
        f"{len(guardian_rows)} parents added")

    # Everyone now: groups of this year, their children, teachers and parents.
    current = list(db.session.execute(
        select(Group.id, Group.name, Group.grade).where(Group.school_year_id == year.id)
        .order_by(Group.grade, Group.name)))
    pupils: dict[int, list[int]] = defaultdict(list)  # group -> students
    group_of: dict[int, int] = {}
    for student_id, group_id in db.session.execute(
            select(Membership.student_id, Membership.group_id)
            .where(Membership.school_year_id == year.id).order_by(Membership.student_id)):
        pupils[group_id].append(student_id)
        group_of[student_id] = group_id
    parents: dict[int, list[int]] = defaultdict(list)  # student -> active guardians
    for student_id, user_id in db.session.execute(
            select(Guardianship.student_id, Guardianship.user_id).join(User)
            .where(User.active).order_by(Guardianship.id)):
        parents[student_id].append(user_id)
    teachers: dict[int, list[int]] = defaultdict(list)  # group -> all its teachers, first first
    for group_id, user_id in db.session.execute(
            select(TeacherAssignment.group_id, TeacherAssignment.user_id)
            .order_by(TeacherAssignment.id)):
        teachers[group_id].append(user_id)
    consenting = set(db.session.scalars(
        select(Consent.student_id).where(Consent.topic_id == topic.id, Consent.given)))

    history = _earlier_years(bulk, school.id, year.starts_on, year.ends_on, FULL["years"],
                             current, teachers, pupils)
    say(f"{FULL['years'] - 1} earlier school years added")

    # -- posts, photos, likes, read receipts ---------------------------------------------
    samples = _sample_photos()
    post_rows, att_rows, like_rows, read_rows = _add_posts(
        bulk, rng, samples, round(FULL["posts"] * factor), history, current, teachers=teachers,
        pupils=pupils, parents=parents, consenting=consenting, photos=(0, 0, 1, 1, 2, 3, 4))
    say(f"{len(post_rows)} posts, {len(att_rows)} photos, {len(like_rows)} likes, "
        f"{len(read_rows)} read receipts")
    _link_photos(samples, [row["key"] for row in att_rows])
    say("photo files linked")

    # -- chat: a kindgesprek with history for every child that has none yet ------------
    has_chat = set(db.session.scalars(select(Conversation.student_id).where(
        Conversation.student_id.is_not(None))))
    students = [s for g in sorted(pupils) for s in pupils[g] if s not in has_chat and parents[s]]
    names = dict(db.session.execute(select(Student.id, Student.first_name)).all())
    conv_rows, msg_rows, read_state_rows = _chats(
        bulk, moment, school.id, students, round(FULL["messages"] * factor), FULL["years"],
        teachers=teachers, group_of=group_of, parents=parents, first_names=names)
    bulk.insert(Conversation, conv_rows)
    bulk.insert(Message, msg_rows)
    bulk.insert(ReadState, read_state_rows)
    say(f"{len(conv_rows)} kindgesprekken with {len(msg_rows)} messages")

    # -- absence reports on earlier school days -------------------------------------
    absences = _absences(bulk, rng, sorted(group_of), round(FULL["absences"] * factor),
                         FULL["years"], parents, list(db.session.scalars(select(AbsenceReason.id))))
    say(f"{absences} absence reports")

    # -- a conference round in every group, half of its slots booked -------------------
    with_round = set(db.session.scalars(select(activity_group.c.group_id).join(
        Activity, Activity.id == activity_group.c.activity_id).where(
        Activity.kind == ActivityKind.CONFERENCE)))
    rounds, bookings = _conference_rounds(
        bulk, moment, [gid for gid, _n, _g in current if gid not in with_round],
        teachers=teachers, pupils=pupils, parents=parents)
    say(f"{rounds} conference rounds, {bookings} bookings")
    _finish(bulk, say)


def _finish(bulk: Bulk, say: Callable[[str], None]) -> None:
    """Move the id sequences, commit and ANALYZE (the planner learns the new sizes)."""
    bulk.fix_sequences()
    db.session.commit()
    if bulk.conn.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    say("done: " + ", ".join(f"{n} {name}" for name, n in sorted(bulk.counts.items())))


def _add_teachers(bulk: Bulk, school_id: int, group_ids: list[int], names: list[str],
                  password: str, moment: datetime) -> list[dict]:
    """A teacher of the school for each group of `group_ids` (a group may come twice: a
    job-sharing pair), called by `names`. Returns the users' rows."""
    rows = [_user(i, f"leerkracht{i}@example.org", name, Role.TEACHER, password, moment)
            for i, name in zip(bulk.ids(User, len(names)), names, strict=True)]
    bulk.insert(User, rows)
    bulk.insert_new(SchoolStaff, [{"user_id": t["id"], "school_id": school_id,
                                   "created_at": moment} for t in rows])
    bulk.insert_new(TeacherAssignment, [{"user_id": t["id"], "group_id": gid}
                                        for t, gid in zip(rows, group_ids, strict=True)])
    return rows


def _earlier_years(bulk: Bulk, school_id: int, starts: date, ends: date, years: int, groups,
                   teachers: dict[int, list[int]], pupils: dict[int, list[int]]) -> list:
    """This school year (up to yesterday) and `years` - 1 before it (`starts`, `ends`: this
    one's), the `groups` (id, name, grade) in them with the same children a grade lower
    each year back. Returns [(from, to, {group then: group now})]."""
    history = [(starts, min(today() - timedelta(days=1), ends),
                {gid: gid for gid, _n, _g in groups})]
    for back in range(1, years):
        name, old_starts, old_ends = school_year_of(date(starts.year - back, 9, 1))
        old_year_id = db.session.scalar(select(SchoolYear.id).where(
            SchoolYear.school_id == school_id, SchoolYear.name == name))
        if old_year_id is None:
            (old_year_id,) = bulk.ids(SchoolYear, 1)
            bulk.insert(SchoolYear, [{"id": old_year_id, "school_id": school_id, "name": name,
                                      "starts_on": old_starts, "ends_on": old_ends,
                                      "is_current": False}])
        old = _earlier_groups(bulk, old_year_id, back, groups, teachers, pupils)
        history.append((old_starts, old_ends, {ogid: gid for gid, ogid in old.items()}))
    return history


def _earlier_groups(bulk: Bulk, year_id: int, back: int, current,
                    teachers: dict[int, list[int]], pupils: dict[int, list[int]]) -> dict[int, int]:
    """The `current` groups (id, name, grade) `back` years ago, in the school year `year_id`:
    the same children and first teacher, a grade lower. Returns {group now: group then}."""
    old = {}
    rows = []
    for (gid, gname, grade), i in zip(current, bulk.ids(Group, len(current)), strict=True):
        if grade - back >= 1:
            old[gid] = i
            rows.append({"id": i, "school_year_id": year_id, "grade": grade - back,
                         "name": gname.replace(str(grade), str(grade - back), 1)})
    bulk.insert(Group, rows)
    bulk.insert_new(TeacherAssignment, [{"user_id": teachers[gid][0], "group_id": old[gid]}
                                        for gid in old])
    bulk.insert_new(Membership, [
        {"student_id": sid, "group_id": old[gid], "school_year_id": year_id}
        for gid in old for sid in pupils[gid]])
    return old


def _add_posts(bulk: Bulk, rng: random.Random, samples, n_posts: int, history, groups, *,
               teachers: dict[int, list[int]], pupils: dict[int, list[int]],
               parents: dict[int, list[int]], consenting: set[int], photos: tuple[int, ...]):
    """`n_posts` posts spread over the groups of the years of `history` (_earlier_years()),
    by the group's first teacher, with `photos` choices of photo counts, likes and read
    receipts of the group's families; `groups`: this year's (id, name, grade). Returns the
    rows of posts, photos, likes and reads."""
    targets = [(ogid, gid, starts, ends) for starts, ends, m in history for ogid, gid in m.items()]
    names = {gid: name for gid, name, _g in groups}
    post_rows, pg_rows, att_rows, tag_rows, like_rows, read_rows = [], [], [], [], [], []
    for n, post_id in enumerate(bulk.ids(Post, n_posts)):
        ogid, gid, starts, ends = targets[n % len(targets)]
        day = starts + timedelta(days=rng.randrange(max(1, (ends - starts).days)))
        published = datetime.combine(day, time(rng.randint(8, 16), rng.randint(0, 59)),
                                     tzinfo=school_tz())
        post_rows.append({
            "id": post_id, "author_id": teachers[gid][0], "title": rng.choice(TITLES),
            "body": rng.choice(BODIES).format(group=names[gid]),
            "important": rng.random() < 0.03,
            "created_at": published, "publish_at": published, "mailed_at": published,
        })
        pg_rows.append({"post_id": post_id, "group_id": ogid, "publish_at": published})
        tagged = [s for s in pupils[gid] if s in consenting]
        for position in range(rng.choice(photos)):
            key = media.new_key()
            sample = samples[position % len(samples)]
            att_rows.append({
                "post_id": post_id, "key": key, "kind": media.PHOTO,
                "filename": f"IMG_{post_id}{position}.jpg", "content_type": "image/jpeg",
                "size": sample["size"], "width": 960, "height": 720, "digest": sample["digest"],
                "position": position, "has_original": False, "created_at": published,
            })
            if position == 0 and tagged:
                tag_rows.append((len(att_rows) - 1, rng.choice(tagged)))
        families = sorted({p for s in pupils[gid] for p in parents[s]})
        for uid in rng.sample(families, k=min(len(families), rng.randint(0, 12))):
            like_rows.append({"post_id": post_id, "user_id": uid, "created_at": published})
        for uid in rng.sample(families, k=int(len(families) * rng.uniform(0.2, 0.6))):
            read_rows.append({"post_id": post_id, "user_id": uid, "read_at": published})
    bulk.insert(Post, post_rows)
    bulk.insert_new(PostGroup, pg_rows)
    bulk.insert_new(Attachment, att_rows)
    bulk.insert(PhotoTag, [{"id": i, "attachment_id": att_rows[a]["id"], "student_id": s}
                           for i, (a, s)
                           in zip(bulk.ids(PhotoTag, len(tag_rows)), tag_rows, strict=True)])
    bulk.insert_new(Like, like_rows)
    bulk.insert_new(ReadReceipt, read_rows)
    return post_rows, att_rows, like_rows, read_rows


def _chats(bulk: Bulk, moment: datetime, school_id: int, students: list[int], n_messages: int,
           years: int, *, teachers: dict[int, list[int]], group_of: dict[int, int],
           parents: dict[int, list[int]], first_names: dict[int, str]):
    """A kindgesprek for each of `students`, `n_messages` over them all in `years` years
    between the group's first teacher and the parents. Returns the rows (not inserted) of
    the conversations, the messages and the read states."""
    conv_rows, msg_rows, read_rows = [], [], []
    msg_ids = iter(bulk.ids(Message, n_messages))
    first = moment - timedelta(days=365 * years)
    for k, (conv_id, sid) in enumerate(zip(bulk.ids(Conversation, len(students)), students,
                                           strict=True)):
        count = n_messages // len(students) + (1 if k < n_messages % len(students) else 0)
        gid = group_of[sid]
        people = [teachers[gid][0], *parents[sid]]
        step = (moment - timedelta(hours=1) - first) / max(1, count)
        last_id, at = 0, first
        for r in range(1, count + 1):
            last_id, at = next(msg_ids), first + step * r
            msg_rows.append({
                "id": last_id, "conversation_id": conv_id, "author_id": people[r % len(people)],
                "body": CHAT_LINES[r % len(CHAT_LINES)].format(child=first_names[sid]),
                "created_at": at, "revision": r,
            })
        conv_rows.append({"id": conv_id, "kind": ConversationKind.CHILD, "student_id": sid,
                          "school_id": school_id, "title": "", "created_at": first,
                          "revision": count, "last_message_id": last_id,
                          "last_message_at": at if count else None})
        # Everyone has read it all: the benchmark's polls and pages find nothing new.
        for uid in {*teachers[gid], *parents[sid]}:
            read_rows.append({"conversation_id": conv_id, "user_id": uid,
                              "last_read_message_id": last_id,
                              "notified_message_id": last_id, "updated_at": moment})
    return conv_rows, msg_rows, read_rows


def _absences(bulk: Bulk, rng: random.Random, everyone: list[int], tries: int, years: int,
              parents: dict[int, list[int]], reasons: list[int]) -> int:
    """Absence reports on school days of the last `years` years: `tries` draws from
    `everyone`, a child without a parent or a day drawn twice skipped. Returns how many."""
    seen, rows = set(), []
    for _ in range(tries if everyone else 0):
        sid = rng.choice(everyone)
        day = today() - timedelta(days=rng.randint(1, 365 * years))
        if day.weekday() >= 5 or (sid, day) in seen or not parents[sid]:
            continue
        seen.add((sid, day))
        sick = rng.random() < 0.8
        rows.append({
            "student_id": sid, "kind": AbsenceKind.SICK if sick else AbsenceKind.APPOINTMENT,
            "day": day, "starts_at": None if sick else time(10, 0),
            "ends_at": None if sick else time(11, 0),
            "reason_id": None if sick else rng.choice(reasons), "note": "",
            "reported_by_id": parents[sid][0],
            "reported_at": datetime.combine(day, time(7, rng.randint(0, 59)), tzinfo=school_tz()),
            "after_cutoff": False,
        })
    bulk.insert_new(AbsenceReport, rows)
    return len(rows)


def _conference_rounds(bulk: Bulk, moment: datetime, gids: list[int], *,
                       teachers: dict[int, list[int]], pupils: dict[int, list[int]],
                       parents: dict[int, list[int]]) -> tuple[int, int]:
    """A conference round in each group of `gids` by its first teacher, on the first weekday
    ten days from now, half of its slots booked. Returns (rounds, bookings)."""
    start = datetime.combine(weekday(10), time(14, 0), tzinfo=school_tz())
    activity_rows, slot_rows, booking_rows = [], [], []
    for aid, gid in zip(bulk.ids(Activity, len(gids)), gids, strict=True):
        activity_rows.append({
            "id": aid, "kind": ActivityKind.CONFERENCE, "title": "Oudergesprekken",
            "description": "Tien minuten over hoe het met uw kind gaat.", "location": "",
            "created_by_id": teachers[gid][0], "created_at": moment - timedelta(days=3),
            "opens_at": moment - timedelta(days=2), "deadline": start - timedelta(days=2),
            "early_days": 3, "slot_minutes": 10, "starts_at": start,
            "ends_at": start + timedelta(minutes=180),
        })
        families = [sid for sid in pupils[gid] if parents[sid]]
        for n, slot_id in enumerate(bulk.ids(Slot, 18)):
            slot_rows.append({"id": slot_id, "activity_id": aid,
                              "starts_at": start + timedelta(minutes=10 * n),
                              "ends_at": start + timedelta(minutes=10 * (n + 1)), "blocked": False})
            if n % 2 == 0 and n // 2 < len(families):
                sid = families[n // 2]
                booking_rows.append({"activity_id": aid, "slot_id": slot_id, "student_id": sid,
                                     "booked_by_id": parents[sid][0], "created_at": moment,
                                     "updated_at": moment, "sequence": 0})
    bulk.insert(Activity, activity_rows)
    bulk.insert(activity_group, [{"activity_id": a["id"], "group_id": gid}
                                 for a, gid in zip(activity_rows, gids, strict=True)])
    bulk.insert(Slot, slot_rows)
    bulk.insert_new(Booking, booking_rows)
    return len(activity_rows), len(booking_rows)


def _user(uid, email, name, role, password, moment, active=True) -> dict:
    return {"id": uid, "email": email, "name": name, "role": role, "locale": "nl",
            "password_hash": password if active else None, "active": active, "disabled": False,
            "created_at": moment, "activated_at": moment if active else None}


def _sample_photos() -> list[dict]:
    """A few real photos that every photo record shares, stored as the upload pipeline
    stores them: {"files": {variant: bytes}, "size": of the display size, "digest": ...}."""
    from PIL import Image

    from .demo import picture
    from .media import photos

    cfg = current_app.config
    samples = []
    for seed in range(4):
        display = Image.open(io.BytesIO(picture(seed))).convert("RGB")
        files = {}
        for variant, image in photos.stored_sizes(display, cfg["MEDIA_THUMB_SIZE"]):
            out = io.BytesIO()
            photos.save(image, out, variant, cfg["MEDIA_JPEG_QUALITY"], cfg["MEDIA_WEBP_QUALITY"])
            files[variant] = out.getvalue()
        samples.append({"files": files, "size": len(files["display"]),
                        "digest": media.digest(files.values())})
    return samples


def _link_photos(samples, keys: list[str]) -> None:
    """Hard-link the sample files under every key (copied where links are impossible)."""
    root = media.root()
    sources = []
    for n, sample in enumerate(samples):
        variants = []
        for variant, data in sample["files"].items():
            path = root / "samples" / f"{n}.{media.SUFFIXES[variant]}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            variants.append((variant, path))
        sources.append(variants)
    made = set()
    for n, key in enumerate(keys):
        for variant, source in sources[n % len(sources)]:
            target = media.path_for(key, variant)
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
