"""Factories with sensible defaults: make_guardian(child=student) and friends."""

from __future__ import annotations

import itertools
from datetime import date

from parro.auth.passwords import hash_password
from parro.clock import now
from parro.extensions import db
from parro.models import (
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

PASSWORD = "een lang en sterk wachtwoord"
_seq = itertools.count(1)


def make_school(name="Basisschool De Test") -> School:
    school = db.session.query(School).first()
    if school is None:
        school = School(name=name, phone="010 000 00 00")
        db.session.add(school)
        db.session.flush()
    return school


def current_year() -> SchoolYear:
    year = db.session.query(SchoolYear).filter_by(is_current=True).first()
    if year is None:
        year = make_year("2026-2027", current=True)
    return year


def make_year(name="2026-2027", current=False, starts_on=None, ends_on=None) -> SchoolYear:
    first = int(name[:4])
    year = SchoolYear(
        school=make_school(),
        name=name,
        starts_on=starts_on or date(first, 8, 1),
        ends_on=ends_on or date(first + 1, 7, 31),
        is_current=current,
    )
    db.session.add(year)
    db.session.flush()
    return year


def make_group(name=None, grade=3, year=None) -> Group:
    n = next(_seq)
    group = Group(year=year or current_year(), name=name or f"Groep {grade} ({n})", grade=grade)
    db.session.add(group)
    db.session.flush()
    return group


def make_student(group=None, first_name=None, last_name="Tester", number=None) -> Student:
    n = next(_seq)
    student = Student(
        school=make_school(),
        student_number=number or f"S{n:05d}",
        first_name=first_name or f"Kind{n}",
        last_name=last_name,
    )
    db.session.add(student)
    if group is not None:
        db.session.add(Membership(student=student, group=group, year=group.year))
    db.session.flush()
    return student


def make_user(role=Role.GUARDIAN, email=None, name=None, password=PASSWORD, active=True,
              locale="nl") -> User:
    n = next(_seq)
    user = User(
        email=email or f"{role.value}{n}@example.org",
        name=name or f"{role.value.title()} {n}",
        role=role,
        password_hash=hash_password(password) if password else None,
        active=active,
        activated_at=now() if active else None,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_admin(**kw) -> User:
    return make_user(Role.ADMIN, **kw)


def make_teacher(group=None, groups=(), **kw) -> User:
    teacher = make_user(Role.TEACHER, **kw)
    for g in ([group] if group else []) + list(groups):
        db.session.add(TeacherAssignment(user=teacher, group=g))
    db.session.flush()
    return teacher


def make_guardian(child=None, children=(), **kw) -> User:
    guardian = make_user(Role.GUARDIAN, **kw)
    for c in ([child] if child else []) + list(children):
        db.session.add(Guardianship(user=guardian, student=c))
    db.session.flush()
    return guardian


# -- group feed (issue 3) -------------------------------------------------------


def photo_bytes(width=64, height=48, colour=(200, 120, 40), fmt="JPEG", **save) -> bytes:
    """A small generated photo, as a camera would upload it."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, fmt, **save)
    return buffer.getvalue()


def stage_files(*files):
    """Run (name, bytes) pairs through the upload pipeline, as a post would."""
    import io

    from flask import current_app
    from werkzeug.datastructures import FileStorage

    from parro import media

    limits = media.Limits.from_config(current_app.config)
    uploads = [FileStorage(io.BytesIO(data), name) for name, data in files]
    checked, errors = media.check(uploads, limits)
    assert not errors, errors
    return media.process(checked, limits)


def make_post(group=None, author=None, groups=(), photos=0, files=(), tagged=(), **fields):
    """A published post (publish_at=... for another moment), photos made by Pillow."""
    from parro.feed import service

    groups = ([group] if group else []) + list(groups)
    if author is None:
        author = make_teacher(groups=groups)
    staged = stage_files(
        *[(f"foto{i + 1}.jpg", photo_bytes(colour=(40 * i % 255, 100, 150)))
          for i in range(photos)],
        *files,
    )
    fields.setdefault("body", "Vandaag in de klas.")
    return service.create_post(author, groups, staged=staged,
                               tagged_ids=[s.id for s in tagged], **fields)


def make_announcement(groups=(), title="Studiedag", days=14, **fields):
    """A school-wide announcement, pinned from today for `days` days (all groups by default)."""
    from datetime import timedelta

    from parro.clock import today
    from parro.models import Announcement, AnnouncementGroup

    announcement = Announcement(
        title=title,
        body=fields.pop("body", "Op vrijdag zijn alle kinderen vrij."),
        all_groups=not groups,
        starts_on=fields.pop("starts_on", today()),
        ends_on=fields.pop("ends_on", today() + timedelta(days=days)),
        announcement_groups=[AnnouncementGroup(group_id=g.id) for g in groups],
        **fields,
    )
    db.session.add(announcement)
    db.session.flush()
    return announcement


def make_consent_topic(name="Foto's in de app", app_photos=True, **fields):
    """A consent question; by default the one that decides photos in the app."""
    from parro.models import APP_PHOTOS, ConsentTopic

    topic = ConsentTopic(school_id=make_school().id, name=name,
                         key=APP_PHOTOS if app_photos else None, **fields)
    db.session.add(topic)
    db.session.flush()
    return topic


def give_consent(student, topic=None, given=True, by=None):
    """The current answer for a child (without the log a guardian's answer also writes)."""
    from parro.models import APP_PHOTOS, Consent, ConsentTopic

    if topic is None:
        topic = db.session.query(ConsentTopic).filter_by(key=APP_PHOTOS).first() \
            or make_consent_topic()
    consent = Consent(student_id=student.id, topic_id=topic.id, given=given,
                      changed_by_id=by.id if by else None)
    db.session.add(consent)
    db.session.flush()
    return consent
