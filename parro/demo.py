"""The demo school: a fictional primary school to click through.

Later features add their demo content here, to the same school. The fixed
logins below stay stable; tests and the README rely on them.
"""

from __future__ import annotations

import random
from datetime import date

import click
from flask import current_app

from .auth.passwords import hash_password
from .clock import now, today
from .extensions import db
from .models import (
    Group,
    Guardianship,
    Membership,
    Role,
    School,
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

FIRST_NAMES = (
    "Emma Julia Mila Tess Sophie Zoë Sara Nora Yara Eva Liv Saar Noor Lauren Fenna Olivia "
    "Anna Lina Nina Roos Fleur Isa Sanne Maud Hanna Daan Sem Lucas Levi Finn Milan Bram "
    "Luuk Noud Jesse Thijs Mees Ruben Adam Jayden Mohamed Amir Sven Stijn Gijs Teun Ties "
    "Cas Olivier Hugo Siem Jens"
).split()
LAST_NAMES = (
    "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|de Boer|"
    "Mulder|de Groot|Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|Smits|"
    "de Graaf|van der Meer|van der Linden|Kok|Jacobs|de Haan|Vermeulen|van den Heuvel|"
    "van der Veen|van den Broek|de Bruijn|de Bruin|van der Heijden|Schouten|van Beek|Willems|"
    "van Vliet|van de Ven|Hoekstra|Maas|Verhoeven|Koster|van Dam|van der Wal|Prins|Blom|"
    "Huisman|Peeters|El Idrissi|Yilmaz|Öztürk|Nguyen|Şahin|Bouzid"
).split("|")
PARENT_NAMES = "Eva Mark Sanne Tom Linda Peter Fatma Ahmed Anouk Jeroen Mirjam Kees Ilse Rik".split()


def school_year_of(day: date) -> tuple[str, date, date]:
    start_year = day.year if day.month >= 8 else day.year - 1
    return (
        f"{start_year}-{start_year + 1}",
        date(start_year, 8, 1),
        date(start_year + 1, 7, 31),
    )


def create_demo() -> School:
    """Create the demo school in an empty database."""
    rng = random.Random(2026)
    pw = hash_password(PASSWORD)
    moment = now()

    def user(email, name, role, active=True):
        u = User(email=email, name=name, role=role, password_hash=pw if active else None,
                 active=active, activated_at=moment if active else None)
        db.session.add(u)
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
    add_feed_demo(school)
    return school


def print_logins() -> None:
    click.echo("")
    click.echo("parro demo — http://127.0.0.1:5000  (password for all: %s)" % PASSWORD)
    for email, name, what in LOGINS:
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


def add_feed_demo(school: School) -> None:
    """Three weeks of group posts with generated photos, likes, consent and a newsletter.

    Photos are drawn with Pillow (no downloads) and go through the real upload
    pipeline, small enough to keep the demo command quick. Consent is mixed: most
    children have consent for photos in the app, some not, some never answered;
    only children with consent are tagged.
    """
    import io
    from datetime import datetime, time, timedelta

    from PIL import Image, ImageDraw
    from sqlalchemy import select
    from werkzeug.datastructures import FileStorage

    from . import media
    from .clock import school_tz
    from .feed import service
    from .models import (
        APP_PHOTOS,
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
        for i, (name, text, key) in enumerate([
            ("Foto's in de app", "Foto's en filmpjes in parro, alleen te zien voor de ouders "
             "van de groep.", APP_PHOTOS),
            ("Foto's op de website", "Foto's op de openbare website van de school.", None),
            ("Foto's in de nieuwsbrief", "Foto's in de nieuwsbrief die naar alle ouders gaat.",
             None),
            ("Social media", "Foto's op de Facebook- en Instagrampagina van de school.", None),
        ])
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
            if fixed and topic.key == APP_PHOTOS:
                given = True
            elif roll < 0.15:
                continue  # never answered: no consent
            else:
                given = roll < (0.9 if topic.key == APP_PHOTOS else 0.6)
            when = moment - timedelta(days=rng.randint(20, 60), minutes=rng.randint(0, 600))
            by = first_guardian.get(student.id)
            db.session.add(Consent(student_id=student.id, topic_id=topic.id, given=given,
                                   changed_by_id=by, changed_at=when))
            db.session.add(ConsentChange(student_id=student.id, topic_id=topic.id, given=given,
                                         changed_by_id=by, changed_at=when))
            if given and topic.key == APP_PHOTOS:
                consented.add(student.id)
    db.session.commit()

    # -- posts with photos ------------------------------------------------------
    def picture(seed: int) -> bytes:
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
    assignments = {
        ta.group_id: ta.user for ta in db.session.scalars(
            select(TeacherAssignment).order_by(TeacherAssignment.id))
    }
    members = {}
    for m in db.session.scalars(select(Membership)):
        members.setdefault(m.group_id, []).append(m.student_id)
    guardians_by_group = {}
    for gs in db.session.scalars(select(Guardianship)):
        for group_id, ids in members.items():
            if gs.student_id in ids:
                guardians_by_group.setdefault(group_id, set()).add(gs.user_id)

    seed = 0
    for group in groups:
        teachers = [ta.user for ta in group.teacher_assignments] or [assignments[group.id]]
        for n, (days, title, body, photos) in enumerate(FEED_POSTS):
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
            )
            post.mailed_at = post.publish_at if post.important else None
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


FEED_POSTS = [  # (days ago, title, text, number of photos)
    (20, "Welkom terug!", "Wat fijn dat iedereen er weer is. We zijn deze week gestart met het "
     "thema 'Wonen'. In {group} bouwen we de komende weken een eigen straat.", 2),
    (16, "Bibliotheekbezoek", "Vandaag zijn we naar de bibliotheek geweest. Iedereen heeft een "
     "boek uitgezocht. Wilt u thuis ook samen lezen? Tips staan op "
     "https://www.example.org/lezen", 0),
    (12, "Studiedag vrijdag", "Let op: vrijdag is er een studiedag. Alle kinderen zijn die "
     "dag vrij.\n"
     "De BSO is gewoon open.", 0),
    (8, "Kunst in de klas", "Vandaag hebben we geschilderd met waterverf. Kijk eens wat een "
     "mooie kunstwerken!", 4),
    (4, "Buiten spelen", "Wat was het heerlijk weer vandaag. We hebben de rekenles buiten "
     "gedaan: tellen met stoepkrijt.", 3),
    (1, "", "Morgen graag een lege schoenendoos meenemen voor ons knutselproject. Dank u wel!", 0),
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
