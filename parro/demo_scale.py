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
from datetime import date, datetime, time, timedelta

import click
from flask import current_app
from sqlalchemy import func, insert, select, text

from . import media
from .clock import now, school_tz, today
from .demo import FIRST_NAMES, LAST_NAMES, PARENT_NAMES, school_year_of
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


def add_history(school: School, factor: float) -> None:
    started = clock_time.perf_counter()
    rng = random.Random(9)
    bulk = Bulk()
    moment = now()
    def say(what: str) -> None:
        click.echo(f"  {clock_time.perf_counter() - started:6.1f} s  {what}")

    # Everyone shares the demo password (hashing 3,000 of them would take minutes).
    password = db.session.scalar(
        select(User.password_hash).where(User.email == "admin@example.org"))

    # -- people -----------------------------------------------------------------------
    year = db.session.scalar(
        select(SchoolYear).where(SchoolYear.school_id == school.id, SchoolYear.is_current))
    per_grade = max(1, round(FULL["groups"] / 8 * factor))
    new_groups = [(f"Groep {grade}{'abcdefghij'[c]}", grade)
                  for c in range(1, per_grade) for grade in range(1, 9)]
    group_rows = [{"id": i, "school_year_id": year.id, "name": name, "grade": grade}
                  for i, (name, grade)
                  in zip(bulk.ids(Group, len(new_groups)), new_groups, strict=True)]
    bulk.insert(Group, group_rows)
    teacher_rows = [
        _user(i, f"leerkracht{i}@example.org", f"Leerkracht {rng.choice(LAST_NAMES)}",
              Role.TEACHER, password, moment)
        for i in bulk.ids(User, len(group_rows))
    ]
    bulk.insert(User, teacher_rows)
    bulk.insert(SchoolStaff, [
        {"id": i, "user_id": t["id"], "school_id": school.id, "created_at": moment}
        for i, t in zip(bulk.ids(SchoolStaff, len(teacher_rows)), teacher_rows, strict=True)
    ])
    bulk.insert(TeacherAssignment, [
        {"id": i, "user_id": t["id"], "group_id": g["id"]}
        for i, t, g in zip(bulk.ids(TeacherAssignment, len(group_rows)), teacher_rows, group_rows,
                           strict=True)
    ])

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
    consent_rows = [{"id": i, "student_id": s["id"], "topic_id": topic.id,
                     "given": rng.random() < 0.9, "changed_at": moment - timedelta(days=30),
                     "school_year_id": year.id}
                    for i, s
                    in zip(bulk.ids(Consent, len(student_rows)), student_rows, strict=True)]
    bulk.insert(Consent, consent_rows)
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
    teacher_of: dict[int, int] = {}  # group -> its first teacher
    teachers: dict[int, list[int]] = defaultdict(list)  # group -> all its teachers
    for group_id, user_id in db.session.execute(
            select(TeacherAssignment.group_id, TeacherAssignment.user_id)
            .order_by(TeacherAssignment.id)):
        teacher_of.setdefault(group_id, user_id)
        teachers[group_id].append(user_id)
    consenting = set(db.session.scalars(
        select(Consent.student_id).where(Consent.topic_id == topic.id, Consent.given)))

    # -- earlier school years: the same children, a grade lower each year back ----------
    start_year = year.starts_on.year
    history = [(year.id, year.starts_on, min(today() - timedelta(days=1), year.ends_on),
                {gid: gid for gid, _n, _g in current})]
    for back in range(1, FULL["years"]):
        name, starts, ends = school_year_of(date(start_year - back, 9, 1))
        (old_year_id,) = bulk.ids(SchoolYear, 1)
        bulk.insert(SchoolYear, [{"id": old_year_id, "school_id": school.id, "name": name,
                                  "starts_on": starts, "ends_on": ends, "is_current": False}])
        old = _earlier_groups(bulk, old_year_id, back, current, teachers, pupils)
        history.append((old_year_id, starts, ends, {ogid: gid for gid, ogid in old.items()}))
    say(f"{FULL['years'] - 1} earlier school years added")

    # -- posts, photos, likes, read receipts ---------------------------------------------
    samples = _sample_photos()
    all_groups = [(ogid, gid, starts, ends)
                  for _y, starts, ends, m in history for ogid, gid in m.items()]
    n_posts = round(FULL["posts"] * factor)
    group_names = {gid: name for gid, name, _g in current}
    post_rows, att_rows, like_rows, read_rows = _add_posts(
        bulk, rng, samples, n_posts, all_groups, teachers=teachers, names=group_names,
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
    n_messages = round(FULL["messages"] * factor)
    conv_rows, msg_rows, read_state_rows = [], [], []
    conv_ids = bulk.ids(Conversation, len(students))
    msg_ids = iter(bulk.ids(Message, n_messages))
    first = moment - timedelta(days=365 * FULL["years"])
    for k, (conv_id, sid) in enumerate(zip(conv_ids, students, strict=True)):
        count = n_messages // len(students) + (1 if k < n_messages % len(students) else 0)
        people = [teacher_of[group_of[sid]], *parents[sid]]
        step = (moment - timedelta(hours=1) - first) / max(1, count)
        last_id, at = 0, first
        for r in range(1, count + 1):
            last_id = next(msg_ids)
            at = first + step * r
            msg_rows.append({
                "id": last_id, "conversation_id": conv_id, "author_id": people[r % len(people)],
                "body": CHAT_LINES[r % len(CHAT_LINES)].format(child=names[sid]),
                "created_at": at, "revision": r,
            })
        conv_rows.append({"id": conv_id, "kind": ConversationKind.CHILD, "student_id": sid,
                          "school_id": school.id,
                          "title": "", "created_at": first, "revision": count,
                          "last_message_id": last_id, "last_message_at": at if count else None})
        # Everyone has read it all: the benchmark's polls and pages find nothing new.
        for uid in {*teachers[group_of[sid]], *parents[sid]}:
            read_state_rows.append({"conversation_id": conv_id, "user_id": uid,
                                    "last_read_message_id": last_id,
                                    "notified_message_id": last_id, "updated_at": moment})
    bulk.insert(Conversation, conv_rows)
    bulk.insert(Message, msg_rows)
    bulk.insert(ReadState, read_state_rows)
    say(f"{len(conv_rows)} kindgesprekken with {len(msg_rows)} messages")

    # -- absence reports on earlier school days -------------------------------------
    reasons = list(db.session.scalars(select(AbsenceReason.id)))
    everyone = sorted(group_of)
    seen, absence_rows = set(), []
    for _ in range(round(FULL["absences"] * factor)):
        sid = rng.choice(everyone)
        day = today() - timedelta(days=rng.randint(1, 365 * FULL["years"]))
        if day.weekday() >= 5 or (sid, day) in seen or not parents[sid]:
            continue
        seen.add((sid, day))
        sick = rng.random() < 0.8
        at = datetime.combine(day, time(7, rng.randint(0, 59)), tzinfo=school_tz())
        absence_rows.append({
            "student_id": sid, "kind": AbsenceKind.SICK if sick else AbsenceKind.APPOINTMENT,
            "day": day, "starts_at": None if sick else time(10, 0),
            "ends_at": None if sick else time(11, 0),
            "reason_id": None if sick else rng.choice(reasons), "note": "",
            "reported_by_id": parents[sid][0], "reported_at": at, "after_cutoff": False,
        })
    bulk.insert_new(AbsenceReport, absence_rows)
    say(f"{len(absence_rows)} absence reports")

    # -- a conference round in every group, half of its slots booked -------------------
    with_round = set(db.session.scalars(select(activity_group.c.group_id).join(
        Activity, Activity.id == activity_group.c.activity_id).where(
        Activity.kind == ActivityKind.CONFERENCE)))
    talk_day = today() + timedelta(days=10)
    while talk_day.weekday() >= 5:
        talk_day += timedelta(days=1)
    start = datetime.combine(talk_day, time(14, 0), tzinfo=school_tz())
    rounds = [gid for gid, _n, _g in current if gid not in with_round]
    activity_rows, slot_rows, booking_rows = [], [], []
    for aid, gid in zip(bulk.ids(Activity, len(rounds)), rounds, strict=True):
        activity_rows.append({
            "id": aid, "kind": ActivityKind.CONFERENCE, "title": "Oudergesprekken",
            "description": "Tien minuten over hoe het met uw kind gaat.", "location": "",
            "created_by_id": teacher_of[gid], "created_at": moment - timedelta(days=3),
            "opens_at": moment - timedelta(days=2), "deadline": start - timedelta(days=2),
            "early_days": 3, "slot_minutes": 10, "starts_at": start,
            "ends_at": start + timedelta(minutes=180),
        })
        families = [s for s in pupils[gid] if parents[s]]
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
    bulk.insert(activity_group, [{"activity_id": a["id"], "group_id": g}
                                 for a, g in zip(activity_rows, rounds, strict=True)])
    bulk.insert(Slot, slot_rows)
    bulk.insert_new(Booking, booking_rows)
    say(f"{len(activity_rows)} conference rounds, {len(booking_rows)} bookings")

    bulk.fix_sequences()
    db.session.commit()
    if bulk.conn.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    say("done: " + ", ".join(f"{n} {name}" for name, n in sorted(bulk.counts.items())))


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
    bulk.insert(TeacherAssignment, [
        {"id": i, "user_id": teachers[gid][0], "group_id": old[gid]}
        for i, gid in zip(bulk.ids(TeacherAssignment, len(old)), old, strict=True)])
    members = [(sid, old[gid]) for gid in old for sid in pupils[gid]]
    bulk.insert(Membership, [
        {"id": i, "student_id": sid, "group_id": ogid, "school_year_id": year_id}
        for i, (sid, ogid) in zip(bulk.ids(Membership, len(members)), members, strict=True)])
    return old


def _add_posts(bulk: Bulk, rng: random.Random, samples, n_posts: int, targets, *,
               teachers: dict[int, list[int]], names: dict[int, str], pupils: dict[int, list[int]],
               parents: dict[int, list[int]], consenting: set[int], photos: tuple[int, ...]):
    """`n_posts` posts spread over `targets` ((group then, group now, from, to)), by the
    group's first teacher, with `photos` choices of photo counts, likes and read
    receipts of the group's families. Returns the rows of posts, photos, likes and reads."""
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
