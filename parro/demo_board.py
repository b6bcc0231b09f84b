"""A school board for the benchmark: `flask --app app demo --scale board`.

Twenty schools of 300 to 500 children in one installation (issue 22, "Board scale"): the
demo school, whose fixed logins stay as they are, topped up with parallel groups, and 19
more. Each has its own name, current school year (and two earlier ones), groups 1-8 with
some parallel groups, teachers and an admin (school_staff), families, consent topics and
answers, posts with photos, likes and read receipts, a kindgesprek per child, a letter to
the office, absence reasons and reports, calendar items, a newsletter and a conference
round per group. A few families have children at two schools (one account), and a gym
teacher works at the first two schools.

Each school's history is a twentieth of the large school's (`--scale large`), so the
whole board holds about as many posts and messages as that one school, spread over
twenty times the people; it is written with demo_scale's bulk machinery (ids chosen
here, INSERTs in chunks on one connection). `add_board(school, factor)` scales the
history per school (the people stay), for the tests.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import click
from sqlalchemy import func, select

from .absence.service import DEFAULT_REASONS
from .clock import now, today
from .demo import (
    CODE_OF_CONDUCT,
    CONSENT_TOPICS,
    FIRST_NAMES,
    LAST_NAMES,
    PARENT_NAMES,
    school_year_of,
    weekday,
)
from .demo_scale import (
    Bulk,
    _absences,
    _add_posts,
    _add_teachers,
    _chats,
    _conference_rounds,
    _earlier_years,
    _finish,
    _link_photos,
    _sample_photos,
    _user,
    stopwatch,
)
from .extensions import db
from .models import (
    APP_PHOTOS,
    AbsenceReason,
    Announcement,
    CalendarItem,
    CalendarKind,
    Consent,
    ConsentTopic,
    Conversation,
    ConversationKind,
    Group,
    Guardianship,
    Membership,
    Message,
    ReadState,
    Role,
    School,
    SchoolStaff,
    SchoolYear,
    Student,
    User,
)
from .models.calendar import CalendarItemGroup

SCHOOLS = 20
CHILDREN = (300, 500)  # per school
PER_GROUP = 25
# One school's history at factor 1: a twentieth of the large school's.
HISTORY = {"posts": 2_500, "messages": 25_000, "absences": 1_500, "years": 3}
SHARED_FAMILIES = 3  # per school: families with a child at the school before it as well
GYM_TEACHER = "vakleerkracht.gym@example.org"

NAMES = ["De Vlinder", "Het Kompas", "De Wilgen", "De Zonnewijzer", "Het Palet", "De Klimop",
         "De Springplank", "Het Anker", "De Horizon", "De Linde", "Het Baken", "De Meander",
         "De Sterrenwacht", "Het Mozaïek", "De Toermalijn", "De Wegwijzer", "Het Kleurrijk",
         "De Notenkraker", "De Fontein"]
COLOURS = ["#1f6f8b", "#7a3e9d", "#2e7d32", "#c0392b", "#b9770e", "#1a5276", "#6c3483",
           "#117864", "#a04000", "#2c3e50"]


def slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


@dataclass
class Family:
    last_name: str
    guardians: list[int]
    active: bool  # every guardian has an account: fit to share with a second school


@dataclass
class Made:
    """What one school got, for the summary and the next school's shared families."""

    school_id: int
    name: str
    groups: int = 0
    children: int = 0
    guardians: int = 0
    families: list[Family] = field(default_factory=list)
    shared: list[Family] = field(default_factory=list)


def add_board(demo: School, factor: float = 1.0, schools: int = SCHOOLS,
              children: tuple[int, int] = CHILDREN) -> list[Made]:
    """The demo school topped up to 300-500 children, and `schools` - 1 more of as many
    (`children` makes a smaller board for the tests; the demo school gets two parallel
    groups at least)."""
    say = stopwatch()
    rng = random.Random(22)
    bulk = Bulk()
    moment = now()
    password = db.session.scalar(
        select(User.password_hash).where(User.email == "admin@example.org"))
    samples = _sample_photos()
    seeder = _Seeder(bulk, rng, moment, password, samples, factor, children)
    made: list[Made] = []
    for n in range(schools):
        previous = made[-1].families if made else []
        made.append(seeder.school(demo if n == 0 else None, NAMES[(n - 1) % len(NAMES)],
                                  COLOURS[n % len(COLOURS)], previous))
        m = made[-1]
        say(f"{m.name}: {m.groups} groups, {m.children} children, {m.guardians} new parents")

    # A gym teacher who works at the first two schools (switches between them).
    (gym,) = bulk.ids(User, 1)
    bulk.insert(User, [_user(gym, GYM_TEACHER, "Vakleerkracht gym Sanne Koster", Role.TEACHER,
                             password, moment)])
    bulk.insert_new(SchoolStaff, [{"user_id": gym, "school_id": m.school_id,
                                   "created_at": moment} for m in made[:2]])

    _link_photos(samples, seeder.photo_keys)
    say("photo files linked")
    _finish(bulk, say)
    from .policy import forget_school_count

    forget_school_count()
    return made


def print_board_logins(made: list[Made]) -> None:
    """The board's extra logins (password as the demo's)."""
    admins = db.session.execute(
        select(User.email, SchoolStaff.school_id).join(SchoolStaff)
        .where(User.role == Role.ADMIN, SchoolStaff.school_id == made[1].school_id)).first()
    click.echo(f"Board: {len(made)} schools, {sum(m.children for m in made)} children "
               "(the demo school is the first). More logins:")
    if admins:
        click.echo(f"  {admins.email:<28} admin of {made[1].name}")
    click.echo(f"  {GYM_TEACHER:<28} teacher at {made[0].name} and {made[1].name}")
    if made[1].shared:
        email = db.session.scalar(select(User.email).where(
            User.id == made[1].shared[0].guardians[0]))
        click.echo(f"  {email:<28} guardian with children at {made[0].name} and {made[1].name}")


class _Seeder:
    def __init__(self, bulk: Bulk, rng: random.Random, moment: datetime, password: str,
                 samples: list[dict], factor: float, children: tuple[int, int]):
        self.bulk, self.rng, self.moment, self.password = bulk, rng, moment, password
        self.samples, self.factor, self.children = samples, factor, children
        self.photo_keys: list[str] = []

    # -- the school and its people ------------------------------------------------------

    def school(self, existing: School | None, name: str, colour: str,
               previous: list[Family]) -> Made:
        bulk, rng, moment = self.bulk, self.rng, self.moment
        target = rng.randint(*self.children)
        year_name, starts, ends = school_year_of(today())
        if existing is not None:  # the demo school: parallel groups on top of its own
            school_id, name = existing.id, existing.name
            year = db.session.scalar(select(SchoolYear).where(
                SchoolYear.school_id == school_id, SchoolYear.is_current))
            year_id, starts, ends = year.id, year.starts_on, year.ends_on
            have = db.session.scalar(select(func.count()).select_from(Membership)
                                     .where(Membership.school_year_id == year_id))
            per_grade = Counter(db.session.scalars(
                select(Group.grade).where(Group.school_year_id == year_id)))
            new_children = max(2 * PER_GROUP, target - have)
            admin_id = db.session.scalar(select(User.id).where(User.email == "admin@example.org"))
            grades_needed: list[int] = []
        else:
            name = f"Basisschool {name}"
            (school_id,) = bulk.ids(School, 1)
            bulk.insert(School, [{
                "id": school_id, "name": name, "phone": f"0{rng.randint(10, 99)} "
                f"{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                "email": f"administratie.{slug(name[12:])}@example.org", "colour": colour,
                "leave_info": "Verlof vraagt u aan bij de directie.",
                "code_of_conduct": CODE_OF_CONDUCT}])
            (year_id,) = bulk.ids(SchoolYear, 1)
            bulk.insert(SchoolYear, [{"id": year_id, "school_id": school_id, "name": year_name,
                                      "starts_on": starts, "ends_on": ends, "is_current": True}])
            per_grade, have = Counter(), 0
            new_children = target
            (admin_id,) = bulk.ids(User, 1)
            bulk.insert(User, [_user(admin_id, f"admin.{slug(name[12:])}@example.org",
                                     f"Administratie {name[12:]}", Role.ADMIN, self.password,
                                     moment)])
            bulk.insert_new(SchoolStaff, [{"user_id": admin_id, "school_id": school_id,
                                           "created_at": moment}])
            grades_needed = list(range(1, 9))
        made = Made(school_id, name)
        s = _School(school_id, year_id, starts, ends, admin_id)

        # Groups: every grade at least once in a new school, the rest parallel groups.
        n_groups = max(len(grades_needed), round(new_children / PER_GROUP))
        order = rng.sample(range(1, 9), 8)
        grades = grades_needed + [order[i % 8] for i in range(n_groups - len(grades_needed))]
        total = per_grade + Counter(grades)
        rows = []
        for grade, gid in zip(sorted(grades), bulk.ids(Group, len(grades)), strict=True):
            index = per_grade[grade]
            per_grade[grade] += 1
            label = f"Groep {grade}" if total[grade] == 1 else f"Groep {grade}{'abcdefgh'[index]}"
            rows.append({"id": gid, "school_year_id": year_id, "name": label, "grade": grade})
        bulk.insert(Group, rows)
        s.groups = [(r["id"], r["name"], r["grade"]) for r in rows]
        made.groups = len(rows)

        # Teachers: one per group, every fifth group a job-sharing pair.
        teacher_groups = [gid for n, (gid, _name, _grade) in enumerate(s.groups)
                 for _k in range(2 if n % 5 == 4 else 1)]
        teacher_rows = _add_teachers(
            bulk, school_id, teacher_groups,
            [f"{rng.choice(PARENT_NAMES)} {rng.choice(LAST_NAMES)}" for _ in teacher_groups],
            self.password, moment)
        for t, gid in zip(teacher_rows, teacher_groups, strict=True):
            s.teachers[gid].append(t["id"])

        # Children in families of one to three; the first few families are those of the
        # school before, who have a child there too (the same accounts).
        seats = [gid for n, (gid, _l, _g) in enumerate(s.groups)
                 for _ in range(new_children // len(s.groups)
                                + (1 if n < new_children % len(s.groups) else 0))]
        rng.shuffle(seats)
        shared = iter([f for f in previous if f.active][:SHARED_FAMILIES])
        numbers = iter(range(50001, 10_000_000))
        student_rows, membership_rows, user_rows, guardianship_rows = [], [], [], []
        while seats:
            size = min(len(seats), rng.choice((1, 1, 1, 2, 2, 3)))
            family = next(shared, None)
            if family is not None:
                made.shared.append(family)
            else:
                last = rng.choice(LAST_NAMES)
                ids, active = [], True
                for uid in bulk.ids(User, 1 if rng.random() < 0.2 else 2):
                    on = rng.random() > 0.05
                    active = active and on
                    user_rows.append(_user(uid, f"ouder.{uid}@example.org",
                                           f"{rng.choice(PARENT_NAMES)} {last}", Role.GUARDIAN,
                                           self.password, moment, active=on))
                    ids.append(uid)
                    if on:
                        s.active.add(uid)
                family = Family(last, ids, active)
                made.families.append(family)
            for gid in seats[:size]:
                (sid,) = bulk.ids(Student, 1)
                first = rng.choice(FIRST_NAMES)
                student_rows.append({"id": sid, "school_id": school_id,
                                     "student_number": str(next(numbers)), "first_name": first,
                                     "last_name": family.last_name, "created_at": moment})
                membership_rows.append(
                    {"student_id": sid, "group_id": gid, "school_year_id": year_id})
                s.pupils[gid].append(sid)
                s.group_of[sid] = gid
                s.first_names[sid] = first
                for uid in family.guardians:
                    guardianship_rows.append(
                        {"user_id": uid, "student_id": sid, "created_at": moment})
            del seats[:size]
        s.active.update(uid for f in made.shared for uid in f.guardians)
        bulk.insert(Student, student_rows)
        bulk.insert(User, user_rows)
        bulk.insert_new(Membership, membership_rows)
        bulk.insert_new(Guardianship, guardianship_rows)
        for g in guardianship_rows:
            if g["user_id"] in s.active:
                s.parents[g["student_id"]].append(g["user_id"])
        made.children, made.guardians = have + len(student_rows), len(user_rows)

        self.consents(s, student_rows)
        self.posts(s)
        self.chats(s)
        self.absences(s)
        # A conference round in every group, half of its slots booked.
        _conference_rounds(bulk, moment, [gid for gid, _n, _g in s.groups],
                           teachers=s.teachers, pupils=s.pupils, parents=s.parents)
        if existing is None:  # the demo school has its own calendar and newsletter
            self.calendar_and_news(s)
        return made

    def consents(self, s: _School, students: list[dict]) -> None:
        bulk, rng = self.bulk, self.rng
        topics = dict(db.session.execute(select(ConsentTopic.id, ConsentTopic.key).where(
            ConsentTopic.school_id == s.school_id)).all())
        if not topics:
            rows = [{"school_id": s.school_id, "name": topic, "description": what,
                     "position": n, "key": key, "created_at": self.moment}
                    for n, (topic, what, key) in enumerate(CONSENT_TOPICS[:2])]
            bulk.insert_new(ConsentTopic, rows)
            topics = {r["id"]: r["key"] for r in rows}
        # Every family has answered this year (no yearly round stands before their feed).
        consent_rows = []
        for student in students:
            for topic_id, key in topics.items():
                roll = rng.random()
                given = roll < (0.9 if key == APP_PHOTOS else 0.6)
                consent_rows.append({"student_id": student["id"], "topic_id": topic_id,
                                     "given": given, "changed_at": self.moment - timedelta(days=30),
                                     "school_year_id": s.year_id})
                if given and key == APP_PHOTOS:
                    s.consenting.add(student["id"])
        bulk.insert_new(Consent, consent_rows)

    # -- what happened in it ------------------------------------------------------------

    def posts(self, s: _School) -> None:
        """Posts in this year's groups and, with the same children a grade lower, in the
        groups of the years before."""
        history = _earlier_years(self.bulk, s.school_id, s.starts, s.ends, HISTORY["years"],
                                 s.groups, s.teachers, s.pupils)
        _posts, att_rows, _likes, _reads = _add_posts(
            self.bulk, self.rng, self.samples, max(1, round(HISTORY["posts"] * self.factor)),
            history, s.groups, teachers=s.teachers, pupils=s.pupils, parents=s.parents,
            consenting=s.consenting, photos=(0, 0, 1, 1, 2, 3))
        self.photo_keys += [row["key"] for row in att_rows]

    def chats(self, s: _School) -> None:
        """A kindgesprek with history for every child with a parent, one letter to the office."""
        bulk = self.bulk
        students = [sid for gid, _n, _g in s.groups for sid in s.pupils[gid] if s.parents[sid]]
        conv_rows, msg_rows, read_rows = _chats(
            bulk, self.moment, s.school_id, students, round(HISTORY["messages"] * self.factor),
            HISTORY["years"], teachers=s.teachers, group_of=s.group_of, parents=s.parents,
            first_names=s.first_names)
        # A family writes to the office about their move; the office answers.
        if students:
            parent = s.parents[students[-1]][0]
            (office,) = bulk.ids(Conversation, 1)
            at = self.moment - timedelta(days=2)
            asked, answered = bulk.ids(Message, 2)
            conv_rows.append({
                "id": office, "kind": ConversationKind.OFFICE, "student_id": None,
                "school_id": s.school_id, "created_by_id": parent, "title": "",
                "office_key": Conversation.office_key_for(parent, None, s.school_id),
                "created_at": at, "revision": 2, "last_message_id": answered,
                "last_message_at": at + timedelta(hours=2)})
            msg_rows += [
                {"id": asked, "conversation_id": office, "author_id": parent, "revision": 1,
                 "body": "Goedemiddag, wij zijn verhuisd. Moet ik een formulier invullen?",
                 "created_at": at},
                {"id": answered, "conversation_id": office, "author_id": s.admin_id,
                 "revision": 2, "body": "Dank u wel, we hebben het adres aangepast.",
                 "created_at": at + timedelta(hours=2)}]
            read_rows += [{"conversation_id": office, "user_id": uid,
                           "last_read_message_id": answered, "notified_message_id": answered,
                           "updated_at": self.moment} for uid in (parent, s.admin_id)]
        bulk.insert(Conversation, conv_rows)
        bulk.insert(Message, msg_rows)
        bulk.insert(ReadState, read_rows)

    def absences(self, s: _School) -> None:
        bulk = self.bulk
        reasons = list(db.session.scalars(select(AbsenceReason.id).where(
            AbsenceReason.school_id == s.school_id)))
        if not reasons:
            reasons = list(bulk.ids(AbsenceReason, len(DEFAULT_REASONS)))
            bulk.insert(AbsenceReason, [
                {"id": i, "school_id": s.school_id, "name": name, "position": n, "active": True}
                for n, (i, name) in enumerate(zip(reasons, DEFAULT_REASONS, strict=True))])
        _absences(bulk, self.rng, [sid for sid in sorted(s.group_of) if s.parents[sid]],
                  round(HISTORY["absences"] * self.factor), HISTORY["years"], s.parents, reasons)

    def calendar_and_news(self, s: _School) -> None:
        """A study day, a holiday week and a sports day for the upper groups; a newsletter."""
        bulk = self.bulk
        monday = today() + timedelta(days=35 - today().weekday())
        study, holiday, sports = bulk.ids(CalendarItem, 3)
        base = {"school_id": s.school_id, "description": "", "location": "", "starts_at": None,
                "ends_at": None, "created_at": self.moment}
        bulk.insert(CalendarItem, [
            base | {"id": study, "kind": CalendarKind.STUDY_DAY, "title": "Studiedag",
                    "starts_on": weekday(17), "ends_on": weekday(17)},
            base | {"id": holiday, "kind": CalendarKind.HOLIDAY, "title": "Vakantie",
                    "starts_on": monday, "ends_on": monday + timedelta(days=4)},
            base | {"id": sports, "kind": CalendarKind.EVENT, "title": "Sportdag",
                    "starts_on": weekday(6), "ends_on": weekday(6), "starts_at": time(8, 30),
                    "ends_at": time(14, 0), "location": "Sportpark"},
        ])
        bulk.insert(CalendarItemGroup, [{"item_id": sports, "group_id": gid}
                                        for gid, _n, grade in s.groups if grade >= 5])
        bulk.insert(Announcement, [{
            "id": bulk.ids(Announcement, 1)[0], "school_id": s.school_id,
            "author_id": s.admin_id, "title": "Nieuwsbrief van deze maand",
            "body": "De nieuwe nieuwsbrief staat klaar. Veel leesplezier!", "all_groups": True,
            "starts_on": today() - timedelta(days=2), "ends_on": today() + timedelta(days=12),
            "created_at": self.moment}])


@dataclass
class _School:
    school_id: int
    year_id: int
    starts: date
    ends: date
    admin_id: int
    groups: list[tuple[int, str, int]] = field(default_factory=list)  # (id, name, grade)
    teachers: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    pupils: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    group_of: dict[int, int] = field(default_factory=dict)
    first_names: dict[int, str] = field(default_factory=dict)
    parents: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # active
    active: set[int] = field(default_factory=set)
    consenting: set[int] = field(default_factory=set)
