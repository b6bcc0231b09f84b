"""The demo school: a fictional primary school to click through.

Later features add their demo content here, to the same school. The fixed
logins below stay stable; tests and the README rely on them.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import click
from flask import current_app

from .auth.passwords import hash_password
from .clock import now, today
from .extensions import db
from .models import (
    APP_PHOTOS,
    Group,
    Guardianship,
    Membership,
    Role,
    School,
    SchoolStaff,
    SchoolYear,
    Student,
    TeacherAssignment,
    User,
)

PASSWORD = "demo-wachtwoord"

LOGINS = [
    ("admin@example.org", "Administratie", "admin"),
    ("juf.anna@example.org", "Anna de Boer", "teacher, groep 3 (with Bram)"),
    ("meester.bram@example.org", "Bram Visser", "teacher, groep 3 (with Anna)"),
    ("ouder.jansen@example.org", "Eva Jansen", "guardian: Sem (groep 3), Lotte (groep 6)"),
    ("ouder.dekker@example.org", "Mark Dekker", "guardian: Noah (groep 5)"),
]

# Teachers per grade; two names is a job-sharing pair.
TEACHERS = {
    1: [("juf.ellen", "Ellen Smit"), ("juf.fatima", "Fatima El Amrani")],
    2: [("juf.greet", "Greet Mulder")],
    3: [("juf.anna", "Anna de Boer"), ("meester.bram", "Bram Visser")],
    4: [("meester.hans", "Hans Bos")],
    5: [("juf.ilse", "Ilse Vermeulen")],
    6: [("meester.joost", "Joost de Graaf"), ("juf.karin", "Karin Peters")],
    7: [("meester.lars", "Lars van Dijk")],
    8: [("juf.marit", "Marit Hoekstra")],
}

FIRST_NAMES = [
    "Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara", "Eva", "Liv", "Saar",
    "Noor", "Lauren", "Fenna", "Olivia", "Anna", "Lina", "Nina", "Roos", "Fleur", "Isa", "Sanne",
    "Maud", "Hanna", "Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Bram", "Luuk", "Noud",
    "Jesse", "Thijs", "Mees", "Ruben", "Adam", "Jayden", "Mohamed", "Amir", "Sven", "Stijn",
    "Gijs", "Teun", "Ties", "Cas", "Olivier", "Hugo", "Siem", "Jens",
]
LAST_NAMES = [
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
    "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
    "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer",
    "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen", "van den Heuvel", "van der Veen",
    "van den Broek", "de Bruijn", "de Bruin", "van der Heijden", "Schouten", "van Beek", "Willems",
    "van Vliet", "van de Ven", "Hoekstra", "Maas", "Verhoeven", "Koster", "van Dam", "van der Wal",
    "Prins", "Blom", "Huisman", "Peeters", "El Idrissi", "Yilmaz", "Öztürk", "Nguyen", "Şahin",
    "Bouzid",
]
# The demo school's consent topics (name, description, key); the board's other schools
# ask the first two.
CONSENT_TOPICS = [
    ("Foto's in de app", "Foto's en filmpjes in parro, alleen te zien voor de ouders "
     "van de groep.", APP_PHOTOS),
    ("Foto's op de website", "Foto's op de openbare website van de school.", None),
    ("Foto's in de nieuwsbrief", "Foto's in de nieuwsbrief die naar alle ouders gaat.", None),
    ("Social media", "Foto's op de Facebook- en Instagrampagina van de school.", None),
]
PARENT_NAMES = [
    "Eva", "Mark", "Sanne", "Tom", "Linda", "Peter", "Fatma", "Ahmed", "Anouk", "Jeroen", "Mirjam",
    "Kees", "Ilse", "Rik",
]


def school_year_of(day: date) -> tuple[str, date, date]:
    start_year = day.year if day.month >= 8 else day.year - 1
    return (
        f"{start_year}-{start_year + 1}",
        date(start_year, 8, 1),
        date(start_year + 1, 7, 31),
    )


def daytime(days_ago: int, hours: int = 0, minutes: int = 0) -> datetime:
    """A moment `days_ago` days ago during school hours: 16:00 less `hours` and `minutes`,
    so that what the demo says was written is written by day (never in the future)."""
    from .clock import school_tz

    moment = datetime.combine(today() - timedelta(days=days_ago), time(16, 0),
                              tzinfo=school_tz()) - timedelta(hours=hours, minutes=minutes)
    return min(moment, now() - timedelta(minutes=1))


def weekday(after: int) -> date:
    """The first day from Monday to Friday `after` days from today or later."""
    day = today() + timedelta(days=after)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def create_demo() -> School:
    """Create the demo school in an empty database."""
    rng = random.Random(2026)
    pw = hash_password(PASSWORD)
    moment = now()

    def user(email, name, role, active=True):
        u = User(email=email, name=name, role=role, password_hash=pw if active else None,
                 active=active, activated_at=moment if active else None)
        db.session.add(u)
        if role != Role.GUARDIAN:
            db.session.add(SchoolStaff(user=u, school=school))
        return u

    school = School(
        name="Basisschool De Regenboog",
        phone="010 123 45 67",
        email="administratie@example.org",
        leave_info=(
            "Verlof vraagt u aan bij de directie, met het formulier op de website van de school."
        ),
        code_of_conduct=CODE_OF_CONDUCT,
    )
    name, starts, ends = school_year_of(today())
    year = SchoolYear(school=school, name=name, starts_on=starts, ends_on=ends, is_current=True)
    db.session.add_all([school, year])

    user("admin@example.org", "Administratie", Role.ADMIN)
    groups: dict[int, Group] = {}
    for grade in range(1, 9):
        groups[grade] = Group(year=year, name=f"Groep {grade}", grade=grade)
        for login, tname in TEACHERS[grade]:
            t = user(f"{login}@example.org", tname, Role.TEACHER)
            db.session.add(TeacherAssignment(user=t, group=groups[grade]))

    numbers = iter(range(10001, 20000))

    def student(first, last, grade):
        s = Student(school=school, student_number=str(next(numbers)), first_name=first,
                    last_name=last)
        db.session.add(s)
        db.session.add(Membership(student=s, group=groups[grade], year=year))
        return s

    # The fixed families first.
    jansen = user("ouder.jansen@example.org", "Eva Jansen", Role.GUARDIAN)
    dekker = user("ouder.dekker@example.org", "Mark Dekker", Role.GUARDIAN)
    for first, grade in (("Sem", 3), ("Lotte", 6)):
        db.session.add(Guardianship(user=jansen, student=student(first, "Jansen", grade)))
    db.session.add(Guardianship(user=dekker, student=student("Noah", "Dekker", 5)))

    # Then families with one to three children spread over the groups.
    counts = {g: 0 for g in groups}
    counts[3] += 1
    counts[6] += 1
    counts[5] += 1
    family = 0
    while min(counts.values()) < 24:
        family += 1
        last = rng.choice(LAST_NAMES)
        open_grades = [g for g, c in counts.items() if c < 26]
        kids = rng.sample(open_grades, k=min(len(open_grades), rng.choice([1, 1, 2, 2, 3])))
        parents = []
        for p in range(rng.choice([1, 2, 2])):
            # About one in ten has not accepted the invitation yet.
            active = rng.random() > 0.1
            parents.append(
                user(f"ouder{family}{'ab'[p]}@example.org",
                     f"{rng.choice(PARENT_NAMES)} {last}", Role.GUARDIAN, active)
            )
        for grade in kids:
            s = student(rng.choice(FIRST_NAMES), last, grade)
            counts[grade] += 1
            for parent in parents:
                db.session.add(Guardianship(user=parent, student=s))
    db.session.commit()
    add_calendar_demo(school)
    add_absence_demo(school)
    add_activities_demo(school)
    add_chat_demo(school)
    add_feed_demo(school)
    return school


def print_logins() -> None:
    click.echo("")
    click.echo(f"parro demo — http://127.0.0.1:5000  (password for all: {PASSWORD})")
    for email, _name, what in LOGINS:
        click.echo(f"  {email:<28} {what}")
    click.echo("")


CODE_OF_CONDUCT = """\
Wij gaan in parro positief en respectvol met elkaar om. Schelden, discrimineren, \
bedreigen en seksueel getinte communicatie zijn niet toegestaan.
Foto's en filmpjes uit parro deelt u niet met anderen: geen screenshots, niets op \
sociale media. Alle rechten van tekst en beeld liggen bij de school.
parro is niet bedoeld voor gesprekken over de ontwikkeling van uw kind: die voeren \
we graag persoonlijk of telefonisch.
Leerkrachten lezen berichten op hun werkdagen tussen 8.00 en 16.30 uur, niet tijdens de lessen."""


HOLIDAY_NAMES = {10: "Herfstvakantie", 12: "Kerstvakantie", 1: "Kerstvakantie",
                 2: "Voorjaarsvakantie", 3: "Voorjaarsvakantie", 4: "Meivakantie",
                 5: "Meivakantie", 7: "Zomervakantie", 8: "Zomervakantie"}


def add_calendar_demo(school: School) -> None:
    """The jaarkalender's next weeks: a study day, a holiday week, a sports day for the
    upper groups, a school trip for groep 3 and an afternoon show for everyone."""
    from .models import CalendarItem, CalendarKind

    groups = {g.grade: g for g in school.years[0].groups}
    monday = today() + timedelta(days=35 - today().weekday())
    holiday = HOLIDAY_NAMES.get(monday.month, "Vakantie")
    items = [
        CalendarItem(kind=CalendarKind.STUDY_DAY, title="Studiedag", starts_on=weekday(17),
                     ends_on=weekday(17),
                     description="Het team werkt aan het nieuwe rekenonderwijs. De kinderen "
                                 "zijn vrij; de BSO is open."),
        CalendarItem(kind=CalendarKind.HOLIDAY, title=holiday, starts_on=monday,
                     ends_on=monday + timedelta(days=4)),
        CalendarItem(kind=CalendarKind.EVENT, title="Sportdag", starts_on=weekday(6),
                     ends_on=weekday(6), starts_at=time(8, 30), ends_at=time(14, 0),
                     location="Sportpark De Bonte Wever",
                     description="Sportkleding en een lunchpakket mee!"),
        CalendarItem(kind=CalendarKind.EVENT, title="Schoolreis", starts_on=weekday(20),
                     ends_on=weekday(20), starts_at=time(8, 45), ends_at=time(15, 30),
                     location="Efteling"),
        CalendarItem(kind=CalendarKind.EVENT, title="Open podium", starts_on=weekday(3),
                     ends_on=weekday(3), starts_at=time(14, 0), ends_at=time(15, 0),
                     location="Aula"),
    ]
    items[2].groups = [groups[grade] for grade in (5, 6, 7, 8)]
    items[3].groups = [groups[3], groups[4]]
    for item in items:
        item.school_id = school.id
        db.session.add(item)
    db.session.commit()


def add_absence_demo(school: School) -> None:
    """Absences in groep 3: sick today (on a school day), appointments today and next school day.

    Sem Jansen is left free to report sick in the demo; his mother has an appointment
    for him on the next school day, which she can still withdraw.
    """
    from sqlalchemy import select

    from .absence import service
    from .calendar.days import is_school_day, next_school_day
    from .clock import local_now, school_tz
    from .models import AbsenceKind, AbsenceReason, AbsenceReport

    service.ensure_default_reasons(school)
    reasons = {r.name: r for r in db.session.scalars(
        select(AbsenceReason).where(AbsenceReason.school_id == school.id))}
    group = db.session.scalar(
        select(Group).join(SchoolYear).where(SchoolYear.school_id == school.id, Group.grade == 3)
    )
    pupils = list(
        db.session.scalars(
            select(Student)
            .join(Membership)
            .where(Membership.group_id == group.id, Student.first_name != "Sem")
            .order_by(Student.id)
        )
    )
    sem = db.session.scalar(select(Student).where(Student.first_name == "Sem"))

    def guardian_of(student):
        return db.session.scalar(
            select(User).join(Guardianship).where(Guardianship.student_id == student.id)
        )

    def at(day, hh, mm):
        moment = datetime.combine(day, time(hh, mm), tzinfo=school_tz())
        return min(moment, local_now())

    day = today()
    following = next_school_day(day)
    yesterday = day - timedelta(days=1)
    rows = []
    if is_school_day(day):
        for pupil, when in ((pupils[0], (7, 42)), (pupils[1], (8, 5))):
            rows.append(AbsenceReport(student=pupil, kind=AbsenceKind.SICK, day=day,
                                      reported_at=at(day, *when)))
        rows.append(AbsenceReport(
            student=pupils[2], kind=AbsenceKind.APPOINTMENT, day=day, starts_at=time(10, 30),
            ends_at=time(11, 45), reason=reasons["Orthodontist"],
            reported_at=at(yesterday, 19, 10), note="Hij komt na de afspraak terug op school.",
        ))
    rows.append(AbsenceReport(
        student=pupils[3], kind=AbsenceKind.APPOINTMENT, day=following, starts_at=time(8, 30),
        ends_at=time(9, 30), reason=reasons["Tandarts"], reported_at=at(day, 7, 15),
    ))
    rows.append(AbsenceReport(
        student=sem, kind=AbsenceKind.APPOINTMENT, day=following, starts_at=time(13, 0),
        ends_at=time(14, 30), reason=reasons["Huisarts"], reported_at=at(day, 7, 20),
    ))
    for row in rows:
        row.reported_by = guardian_of(row.student)
        row.after_cutoff = row.kind == AbsenceKind.SICK and row.reported_at.astimezone(
            school_tz()).time() >= service.sick_cutoff(row.student)
        db.session.add(row)


def add_activities_demo(school: School) -> None:
    """Conference rounds for groep 3 and 6, a volunteer call, a materials list, an invitation.

    ouder.jansen has booked Sem's talk; Lotte's round in groep 6 is open, so the
    free slots next to Sem's talk are highlighted there.
    """
    from .activities.common import local
    from .models import (
        Activity,
        ActivityKind,
        Answer,
        Booking,
        Item,
        Pledge,
        Response,
        Shift,
        SignUp,
        Slot,
    )

    rng = random.Random(5)
    moment = now()

    def by_email(email: str) -> User:
        return db.session.query(User).filter_by(email=email).one()

    def group(grade: int) -> Group:
        return next(g for g in school.years[0].groups if g.grade == grade)

    def pupils(grade: int) -> list[Student]:
        return [m.student for m in group(grade).memberships]

    def activity(kind, grade, author, **fields) -> Activity:
        # Announced on different days of the past week, so the feed shows them
        # between the posts instead of stacked at the top.
        fields.setdefault("created_at", daytime(rng.randint(1, 6), rng.randint(0, 8)))
        a = Activity(kind=kind, created_by_id=by_email(author).id, **fields)
        a.groups = [group(grade)]
        db.session.add(a)
        return a

    talk_day = weekday(10)
    deadline = local(talk_day - timedelta(days=2), time(23, 59))

    def conference(grade, author, title):
        a = activity(
            ActivityKind.CONFERENCE, grade, author, title=title, location=f"Lokaal groep {grade}",
            description="Tien minuten over hoe het met uw kind gaat. Komt u samen? Dat kan.",
            opens_at=moment - timedelta(days=2), deadline=deadline, early_days=3,
            slot_minutes=10,
        )
        start = local(talk_day, time(14, 0))
        a.slots = [Slot(starts_at=start + timedelta(minutes=10 * i),
                        ends_at=start + timedelta(minutes=10 * (i + 1)),
                        blocked=i in (9, 10))  # the teacher's tea break, 15:30-15:50
                   for i in range(18)]
        a.starts_at, a.ends_at = a.slots[0].starts_at, a.slots[-1].ends_at
        return a

    groep3 = conference(3, "juf.anna@example.org", "Oudergesprekken groep 3")
    conference(6, "meester.joost@example.org", "Oudergesprekken groep 6")
    jansen = by_email("ouder.jansen@example.org")
    sem = next(s for s in pupils(3) if s.first_name == "Sem" and s.last_name == "Jansen")
    db.session.add(Booking(slot=groep3.slots[3], student=sem, booked_by_id=jansen.id))  # 14:30
    others = [s for s in pupils(3) if s is not sem and any(g.user.active for g in s.guardianships)]
    free = [s for i, s in enumerate(groep3.slots) if not s.blocked and i != 3]
    for child, slot in zip(rng.sample(others, 8), rng.sample(free, 8), strict=True):
        parent = next(g.user for g in child.guardianships if g.user.active)
        db.session.add(Booking(slot=slot, student=child, booked_by_id=parent.id))

    trip = weekday(17)
    excursion = activity(
        ActivityKind.VOLUNTEER, 3, "meester.bram@example.org", title="Excursie Naturalis",
        description="We gaan met de bus naar Naturalis in Leiden. Wie rijdt mee als begeleider?",
        location="Naturalis, Leiden", deadline=local(trip - timedelta(days=3), time(12, 0)),
        starts_at=local(trip, time(8, 45)),
    )
    excursion.shifts = [
        Shift(position=0, title="Begeleiders in de bus en het museum", places=4,
              starts_at=local(trip, time(8, 45)), ends_at=local(trip, time(14, 30))),
        Shift(position=1, title="Lunchpakketten klaarzetten", places=2,
              starts_at=local(trip, time(8, 0)), ends_at=local(trip, time(8, 45))),
    ]
    helper = next(g.user for g in others[0].guardianships if g.user.active)
    db.session.add(SignUp(shift=excursion.shifts[0], user=helper))
    excursion.shifts[0].taken = 1

    crafts = activity(
        ActivityKind.MATERIALS, 3, "juf.anna@example.org", title="Knutselspullen",
        description="We gaan knutselen. Wilt u bewaren en meegeven wat hieronder staat?",
        deadline=local(weekday(12), time(8, 30)),
    )
    crafts.items = [Item(position=0, name="lege wc-rollen", needed=10),
                    Item(position=1, name="eierdozen", needed=6),
                    Item(position=2, name="oude kranten", needed=5)]
    db.session.add(Pledge(item=crafts.items[0], user=helper, quantity=4))
    crafts.items[0].pledged = 4

    show_day = weekday(24)
    musical = activity(
        ActivityKind.INVITATION, 3, "juf.anna@example.org", title="Voorstelling groep 3",
        description="Groep 3 speelt een voorstelling in de aula. U bent van harte welkom!",
        location="Aula", starts_at=local(show_day, time(14, 0)),
        ends_at=local(show_day, time(15, 0)),
        deadline=local(show_day - timedelta(days=3), time(23, 59)),
    )
    for child in others[:6]:
        answer = rng.choice(list(Answer))
        db.session.add(Response(activity=musical, student=child, answer=answer,
                                people=0 if answer == Answer.NO else rng.choice([1, 2, 2, 3])))


def add_chat_demo(school: School) -> None:
    """Kindgesprekken with some history, a chat started by a teacher, and availability.

    Bram works Wednesday to Friday and Karin has switched chat off, so the
    "not available" notice shows for ouder.jansen whatever the time.
    """
    from sqlalchemy import select

    from .chat import service
    from .models import Availability, Conversation, ConversationKind

    def person(login):
        return db.session.scalar(select(User).where(User.email == f"{login}@example.org"))

    def child(first, last):
        return db.session.scalar(
            select(Student).where(Student.first_name == first, Student.last_name == last)
        )

    anna, bram = person("juf.anna"), person("meester.bram")
    joost, karin, ilse = person("meester.joost"), person("juf.karin"), person("juf.ilse")
    jansen, dekker = person("ouder.jansen"), person("ouder.dekker")
    db.session.add_all([
        Availability(user=bram, weekdays="345", starts_at=time(8, 0), ends_at=time(16, 30)),
        Availability(user=joost, weekdays="1234", starts_at=time(8, 0), ends_at=time(16, 30)),
        Availability(
            user=karin, weekdays="45", starts_at=time(8, 0), ends_at=time(16, 30), chat_off=True,
            off_message="Ik ben met zwangerschapsverlof. Meester Joost leest de berichten van "
            "groep 6.",
        ),
    ])

    def say(conversation, author, text, days=0, hours=0, minutes=0, edited=False):
        message = service.post_message(conversation, author, text)
        message.created_at = daytime(days, hours, minutes)
        conversation.last_message_at = message.created_at
        if edited:
            message.edited_at = message.created_at + timedelta(minutes=3)
        return message

    def kindgesprek(student):
        conversation = Conversation(kind=ConversationKind.CHILD, student=student,
                                    school_id=student.school_id)
        db.session.add(conversation)
        db.session.flush()
        return conversation

    sem = kindgesprek(child("Sem", "Jansen"))
    say(sem, jansen, "Goedemorgen juf Anna, Sem heeft vannacht slecht geslapen. Hij is "
        "misschien wat moe vandaag.", days=6, hours=2)
    say(sem, anna, "Dank u voor het laten weten! We houden hem in de gaten en doen het "
        "vandaag rustig aan.", days=6, hours=1)
    say(sem, jansen, "Sem vertelde dat hij vandaag een 10 had voor zijn leesbeurt 😊",
        days=3, hours=5)
    read = say(sem, bram, "Klopt! Hij las heel mooi voor, over zijn konijn. Hier nog het "
        "leesrooster voor de komende weken: https://example.org/leesrooster", days=3, hours=4,
        edited=True)
    service.mark_read(sem.id, anna.id, read.id)  # Anna saw it; the next question is new
    say(sem, jansen, "Morgen haalt opa Sem om 14:00 uur op voor de tandarts. Is dat goed?",
        days=1, hours=2)

    lotte = kindgesprek(child("Lotte", "Jansen"))
    say(lotte, joost, "Lotte heeft haar gymtas op school laten liggen. Ze kan hem morgen "
        "meenemen.", days=2, hours=3)
    say(lotte, jansen, "Dank u wel, ik zal het haar zeggen!", days=2, hours=1)

    noah = kindgesprek(child("Noah", "Dekker"))
    say(noah, dekker, "Noah mag vrijdag na school met Daan mee naar huis.", days=1, hours=4)
    say(noah, ilse, "Fijn dat u het laat weten, ik geef het door aan Noah.", days=1, hours=3)

    groep3 = anna.teacher_assignments[0].group
    parents = list(
        db.session.scalars(
            select(User)
            .join(Guardianship, Guardianship.user_id == User.id)
            .join(Membership, Membership.student_id == Guardianship.student_id)
            .where(Membership.group_id == groep3.id, User.active, User.id != jansen.id)
            .order_by(User.id)
            .limit(2)
        )
    )
    chat = service.start_chat(anna, "Schoolreis groep 3: rijders gezocht", [jansen, *parents])
    say(chat, anna, "Beste ouders, voor de schoolreis naar de Efteling op 12 juni zoeken we "
        "nog drie rijders. Wie kan er rijden?", days=4, hours=6)
    if parents:
        say(chat, parents[0], "Ik kan rijden, ik heb plek voor 3 kinderen.", days=4, hours=4)
        # An open report, so the office finds something under Beheer → Gemelde berichten.
        from . import audit
        from .models import Report

        rude = say(chat, parents[0], "Als de familie van Daan weer te laat is, rijd ik niet. "
                   "Die lui kunnen ook nooit op tijd komen.", days=4, hours=3)
        report = Report(reporter=jansen, message=rude,
                        reason="Dit gaat over een ander gezin; dat hoort niet in de groepsapp.")
        db.session.add(report)
        db.session.flush()
        audit.record(audit.MODERATION, actor=jansen, target=report,
                     summary="Melding van een chatbericht (demo)", message_id=rude.id)
    say(chat, jansen, "Ik kan ook, met 4 plekken.", days=4, hours=2)
    say(chat, anna, "Super, dank jullie wel! Dan hebben we er nog één nodig.", days=3, hours=8)

    # A parent writes to the office about the family; the office answers as itself.
    office = Conversation(kind=ConversationKind.OFFICE, created_by=jansen, school_id=school.id,
                          office_key=Conversation.office_key_for(jansen.id, None, school.id))
    db.session.add(office)
    db.session.flush()
    say(office, jansen, "Goedemiddag, wij zijn verhuisd. Ons nieuwe adres is Lindelaan 12, "
        "3311 AB Dordrecht. Moet ik nog een formulier invullen?", days=2, hours=5)
    say(office, person("admin"), "Dank u wel, we hebben het adres aangepast. Een formulier "
        "is niet nodig.", days=2, hours=3)
    db.session.commit()


def add_feed_demo(school: School) -> None:
    """Three weeks of group posts with generated photos, likes, consent and a newsletter.

    Photos are drawn with Pillow (no downloads) and go through the real upload
    pipeline, small enough to keep the demo command quick. Consent is mixed: most
    children have consent for photos in the app, some not, some never answered;
    only children with consent are tagged.
    """
    import io

    from PIL import Image, ImageDraw
    from sqlalchemy import select
    from werkzeug.datastructures import FileStorage

    from . import media
    from .clock import school_tz
    from .feed import service
    from .models import (
        Announcement,
        Consent,
        ConsentChange,
        ConsentTopic,
        Like,
        ReadReceipt,
    )

    rng = random.Random(3)
    moment = now()
    limits = media.Limits.from_config(current_app.config)

    # -- consent ---------------------------------------------------------------
    topics = [
        ConsentTopic(school_id=school.id, name=name, description=text, position=i, key=key)
        for i, (name, text, key) in enumerate(CONSENT_TOPICS)
    ]
    db.session.add_all(topics)
    db.session.flush()
    students = list(db.session.scalars(select(Student).order_by(Student.id)))
    first_guardian = {
        gs.student_id: gs.user_id
        for gs in db.session.scalars(select(Guardianship).order_by(Guardianship.id.desc()))
    }
    consented: set[int] = set()
    for student in students:
        fixed = student.first_name in ("Sem", "Lotte", "Noah") and student.last_name in (
            "Jansen", "Dekker")
        for topic in topics:
            roll = rng.random()
            if fixed:  # the demo's own families answered everything this year
                given = topic.key == APP_PHOTOS or roll < 0.6
            elif roll < 0.15:
                continue  # never answered: no consent
            else:
                given = roll < (0.9 if topic.key == APP_PHOTOS else 0.6)
            when = daytime(rng.randint(20, 60), rng.randint(0, 8), rng.randint(0, 59))
            by = first_guardian.get(student.id)
            db.session.add(Consent(student_id=student.id, topic_id=topic.id, given=given,
                                   changed_by_id=by, changed_at=when,
                                   school_year_id=school.years[0].id))
            db.session.add(ConsentChange(student_id=student.id, topic_id=topic.id, given=given,
                                         changed_by_id=by, changed_at=when))
            if given and topic.key == APP_PHOTOS:
                consented.add(student.id)
    db.session.commit()

    # -- posts with photos ------------------------------------------------------
    def staged_files(files):
        uploads = [FileStorage(io.BytesIO(data), name) for name, data in files]
        checked, errors = media.check(uploads, limits)
        assert not errors, errors
        return media.process(checked, limits)

    groups = list(
        db.session.scalars(
            select(Group).join(SchoolYear).where(SchoolYear.is_current).order_by(Group.grade)
        )
    )
    members = {}
    for m in db.session.scalars(select(Membership)):
        members.setdefault(m.group_id, []).append(m.student_id)
    guardians_by_group = {}
    for group_id, user_id in db.session.execute(
            select(Membership.group_id, Guardianship.user_id)
            .join(Guardianship, Guardianship.student_id == Membership.student_id)):
        guardians_by_group.setdefault(group_id, set()).add(user_id)

    seed = 0
    for group in groups:
        teachers = [ta.user for ta in group.teacher_assignments]
        for n, (days, *variants) in enumerate(FEED_POSTS):
            title, body, photos = variants[group.grade % 2]
            seed += 1
            author = teachers[n % len(teachers)]
            files = [(f"IMG_{seed:03d}{k}.jpg", picture(seed * 10 + k))
                     for k in range(photos)]
            tagged = [sid for sid in members.get(group.id, []) if sid in consented][: 2 + n % 3]
            post = service.create_post(
                author, [group],
                title=title,
                body=body.format(group=group.name),
                important=n == 2,
                publish_at=min(moment, datetime.combine(
                    today() - timedelta(days=days), time(12 + n % 4, rng.randint(0, 59)),
                    tzinfo=school_tz())),
                staged=staged_files(files),
                tagged_ids=tagged if photos else [],
                notify=False,  # old news: no mail about it
            )
            parents = sorted(guardians_by_group.get(group.id, ()))
            for user_id in rng.sample(parents, k=min(len(parents), rng.randint(3, 14))):
                db.session.add(Like(post_id=post.id, user_id=user_id, created_at=moment))
            for user_id in rng.sample(parents, k=int(len(parents) * rng.uniform(0.5, 0.9))):
                db.session.add(ReadReceipt(post_id=post.id, user_id=user_id, read_at=moment))
            db.session.commit()
    # A scheduled post in groep 3, visible to the teachers only until tomorrow.
    group3 = next(g for g in groups if g.grade == 3)
    service.create_post(
        group3.teacher_assignments[0].user, [group3],
        title="Morgen: gymles buiten",
        body="Morgen is de gymles buiten op het grasveld. Geef uw kind sportschoenen mee.",
        publish_at=moment + timedelta(days=1),
    )

    # -- the newsletter -----------------------------------------------------------
    page = Image.new("RGB", (595, 842), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, 595, 110), fill=(31, 111, 139))
    draw.text((40, 35), f"Nieuwsbrief {school.name}", fill="white", font_size=30)
    for i, line in enumerate(NEWSLETTER_LINES):
        draw.text((40, 150 + i * 34), line, fill=(30, 30, 30), font_size=20)
    pdf = io.BytesIO()
    page.save(pdf, "PDF", resolution=72)
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).limit(1))
    staged = staged_files([("Nieuwsbrief.pdf", pdf.getvalue())])
    db.session.add(Announcement(
        school_id=school.id,
        author=admin,
        title="Nieuwsbrief van deze maand",
        body="De nieuwe nieuwsbrief staat klaar, met de data van de schoolreis en de "
             "ouderavond. Veel leesplezier!",
        all_groups=True,
        starts_on=today() - timedelta(days=2),
        ends_on=today() + timedelta(days=12),
        attachments=service.attachments_from(staged),
    ))
    service.commit_with_files(staged)


def picture(seed: int) -> bytes:
    """A drawn school photo (children on a field under the sun) as a 960 x 720 JPEG."""
    import io

    from PIL import Image, ImageDraw

    r = random.Random(seed)
    sky = (r.randint(90, 160), r.randint(160, 210), 235)
    image = Image.new("RGB", (960, 720), sky)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 470, 960, 720), fill=(r.randint(60, 110), r.randint(150, 190), 70))
    draw.ellipse((760, 60, 880, 180), fill=(255, 214, 70))
    for _ in range(5):
        x, y = r.randint(40, 860), r.randint(380, 560)
        colour = (r.randint(120, 255), r.randint(60, 200), r.randint(60, 220))
        draw.rounded_rectangle((x, y - 160, x + 70, y), radius=25, fill=colour)
        draw.ellipse((x + 5, y - 220, x + 65, y - 160), fill=(240, 200, 170))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


# (days ago, one post for even grades, one for odd ones: title, text, number of photos),
# so a family with children in two groups sees two different stories.
FEED_POSTS = [
    (20, ("Welkom terug!", "Wat fijn dat iedereen er weer is. We zijn deze week gestart met "
          "het thema 'Wonen'. In {group} bouwen we de komende weken een eigen straat.", 2),
         ("Een goede start", "De eerste weken zitten erop! De kinderen van {group} hebben samen "
          "de klassenregels gemaakt. Ze hangen nu naast de deur.", 2)),
    (16, ("Bibliotheekbezoek", "Vandaag zijn we naar de bibliotheek geweest. Iedereen heeft een "
          "boek uitgezocht. Wilt u thuis ook samen lezen? Tips staan op "
          "https://www.example.org/lezen", 0),
         ("Gym op dinsdag en vrijdag", "Vanaf nu heeft {group} gym op dinsdag en vrijdag. Wilt u "
          "gymkleding en gymschoenen meegeven? Zet de naam erin, dan raakt er niets kwijt.", 0)),
    (12, ("Studiedag vrijdag", "Let op: vrijdag is er een studiedag. Alle kinderen zijn die "
          "dag vrij.\n"
          "De BSO is gewoon open.", 0),
         ("Luizencontrole woensdag", "Woensdag is er weer luizencontrole. Wilt u uw kind die dag "
          "zonder vlechten of gel naar school laten gaan? Dank u wel!", 0)),
    (8, ("Kunst in de klas", "Vandaag hebben we geschilderd met waterverf. Kijk eens wat een "
         "mooie kunstwerken!", 4),
        ("Herfstwandeling", "We zijn met {group} het bos in geweest. De kinderen hebben kastanjes, "
         "eikels en mooie bladeren verzameld voor de seizoenstafel.", 4)),
    (4, ("Buiten spelen", "Wat was het heerlijk weer vandaag. We hebben de rekenles buiten "
         "gedaan: tellen met stoepkrijt.", 3),
        ("Proefjes met water", "Wat drijft er en wat zinkt er? De kinderen deden hun eigen "
         "proefjes en schreven op wat ze zagen. Kijk eens hoe serieus ze bezig waren!", 3)),
    (1, ("Onze straat is af!", "Na drie weken bouwen is de straat van {group} klaar, met een "
         "bakker, een school en zelfs een brandweerkazerne. Komt u vrijdag na schooltijd kijken?",
         2),
        ("Voorlezen in de kring", "Vandaag lazen de kinderen elkaar voor in de kring. Morgen "
         "graag een lege schoenendoos meenemen voor ons knutselproject. Dank u wel!", 2)),
]

NEWSLETTER_LINES = [
    "In deze nieuwsbrief:",
    "- De schoolreis: dinsdag 14 mei naar het Openluchtmuseum",
    "- Ouderavond: donderdag 23 mei om 19.30 uur",
    "- Nieuwe hulpouders gezocht voor de bibliotheek",
    "- Luizencontrole na iedere vakantie",
    "",
    "Met vriendelijke groet,",
    "het team van de school",
]
