"""Factories with sensible defaults: make_guardian(child=student) and friends."""

from __future__ import annotations

import functools
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
    SchoolStaff,
    SchoolYear,
    Student,
    TeacherAssignment,
    User,
)

PASSWORD = "een lang en sterk wachtwoord"
_seq = itertools.count(1)


def make_school(name="Basisschool De Test") -> School:
    # The first by id: without an order PostgreSQL may give any (a row updated in an earlier
    # test moved in the table, so a reused slot comes first).
    school = db.session.query(School).order_by(School.id).first()
    if school is None:
        school = School(name=name, phone="010 000 00 00")
        db.session.add(school)
        db.session.flush()
    return school


def make_other_school(name="Basisschool De Ander") -> School:
    """A second school of the board, with a current year of its own (make_school() stays
    the first). Give it to make_year, make_group(year=...), make_student(school=...) and
    make_teacher/make_admin(school=...)."""
    from parro.policy import forget_school_count

    make_school()
    school = School(name=name, phone="020 000 00 00")
    db.session.add(school)
    db.session.flush()
    make_year("2026-2027", current=True, school=school)
    forget_school_count()
    return school


def current_year(school=None) -> SchoolYear:
    school = school or make_school()
    year = db.session.query(SchoolYear).filter_by(is_current=True, school_id=school.id).first()
    if year is None:
        year = make_year("2026-2027", current=True, school=school)
    return year


def make_year(name="2026-2027", current=False, starts_on=None, ends_on=None,
              school=None) -> SchoolYear:
    first = int(name[:4])
    year = SchoolYear(
        school=school or make_school(),
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


def make_student(group=None, first_name=None, last_name="Tester", number=None,
                 school=None) -> Student:
    n = next(_seq)
    student = Student(
        school=school or (group.year.school if group is not None else make_school()),
        student_number=number or f"S{n:05d}",
        first_name=first_name or f"Kind{n}",
        last_name=last_name,
    )
    db.session.add(student)
    if group is not None:
        db.session.add(Membership(student=student, group=group, year=group.year))
    db.session.flush()
    return student


# The secret of the board admins' authenticator app (make_user's two_factor).
BOARD_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def make_user(role=Role.GUARDIAN, email=None, name=None, password=PASSWORD, active=True,
              locale="nl", school=None, two_factor=None) -> User:
    """A user; staff work at `school` (by default the first). `two_factor`: with two-factor
    login set up (BOARD_TOTP_SECRET); by default a board admin has it, who cannot work
    without it, and nobody else."""
    n = next(_seq)
    if two_factor is None:
        two_factor = role == Role.BOARD and active
    user = User(
        email=email or f"{role.value}{n}@example.org",
        name=name or f"{role.value.title()} {n}",
        role=role,
        password_hash=hash_password(password) if password else None,
        active=active,
        activated_at=now() if active else None,
        locale=locale,
        totp_secret=BOARD_TOTP_SECRET if two_factor else None,
        totp_enabled_at=now() if two_factor else None,
    )
    db.session.add(user)
    db.session.flush()
    if role in (Role.ADMIN, Role.TEACHER):
        db.session.add(SchoolStaff(user_id=user.id, school_id=(school or make_school()).id))
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


def also_works_at(school, user, groups=()) -> User:
    """Staff member `user` works at `school` too, teaching `groups` there."""
    db.session.add(SchoolStaff(user_id=user.id, school_id=school.id))
    for g in groups:
        db.session.add(TeacherAssignment(user=user, group=g))
    db.session.flush()
    return user


def make_board_admin(email="bestuur@example.org", name="Bestuursbureau", **kw) -> User:
    """The school board's admin (Role.BOARD): runs the board's pages, no school's staff."""
    return make_user(Role.BOARD, email=email, name=name, **kw)


# -- absence --------------------------------------------------------------------


def make_reason(name=None, active=True, school=None):
    from parro.models import AbsenceReason

    reason = AbsenceReason(school_id=(school or make_school()).id,
                           name=name or f"Reden {next(_seq)}", position=next(_seq), active=active)
    db.session.add(reason)
    db.session.flush()
    return reason


def make_absence(student, day=None, by=None, reason=None, starts_at=None, ends_at=None,
                 note="", **kw):
    """A sick report (no reason given) or an appointment (reason or times given)."""
    from datetime import time

    from parro.clock import today
    from parro.models import AbsenceKind, AbsenceReport

    appointment = reason is not None or starts_at is not None
    report = AbsenceReport(
        student=student,
        kind=AbsenceKind.APPOINTMENT if appointment else AbsenceKind.SICK,
        day=day or today(),
        starts_at=(starts_at or time(10, 0)) if appointment else None,
        ends_at=(ends_at or time(11, 30)) if appointment else None,
        reason=(reason or make_reason()) if appointment else None,
        note=note,
        reported_by=by,
        **kw,
    )
    db.session.add(report)
    db.session.flush()
    return report


def make_calendar_item(starts_on, ends_on=None, title="Sportdag", kind=None, groups=(),
                       starts_at=None, ends_at=None, school=None, **fields):
    """A jaarkalender item; for the whole school (the first by default) unless `groups`
    are given."""
    from parro.models import CalendarItem, CalendarKind

    item = CalendarItem(
        school_id=(school or make_school()).id, kind=kind or CalendarKind.EVENT, title=title,
        starts_on=starts_on, ends_on=ends_on or starts_on, starts_at=starts_at,
        ends_at=ends_at, **fields,
    )
    item.groups = list(groups)
    db.session.add(item)
    db.session.flush()
    return item


def make_holiday(starts_on, ends_on=None, name="Vakantie", groups=()):
    """A day or days without school: a study day when the name says so, else a holiday."""
    from parro.models import CalendarKind

    kind = CalendarKind.STUDY_DAY if "studiedag" in name.lower() else CalendarKind.HOLIDAY
    return make_calendar_item(starts_on, ends_on, title=name, kind=kind, groups=groups)


# -- activities (activiteiten) ------------------------------------------------------


def _local(day, at):
    from datetime import datetime as _dt

    from parro.clock import school_tz

    return _dt.combine(day, at, tzinfo=school_tz())


def make_activity(kind, groups, title=None, deadline=None, opens_at=None, teacher=None, **fields):
    from datetime import time as _time

    from parro.models import Activity

    activity = Activity(
        kind=kind,
        title=title or f"Activiteit {next(_seq)}",
        deadline=deadline or _local(date(2027, 3, 8), _time(23, 59)),
        opens_at=opens_at,
        created_by_id=teacher.id if teacher else None,
        **fields,
    )
    activity.groups = list(groups)
    db.session.add(activity)
    db.session.flush()
    return activity


def make_conference(group=None, groups=(), day=date(2027, 3, 10), start=None, count=6,
                    minutes=10, **kw):
    """A conference round of `count` slots from `start` (14:00) on `day`, 10 minutes each."""
    from datetime import time as _time
    from datetime import timedelta as _td

    from parro.models import ActivityKind, Slot

    first = _local(day, start or _time(14, 0))
    activity = make_activity(
        ActivityKind.CONFERENCE, ([group] if group else []) + list(groups),
        title=kw.pop("title", "Oudergesprekken"), slot_minutes=minutes,
        location=kw.pop("location", "Lokaal 3"), **kw,
    )
    activity.slots = [
        Slot(starts_at=first + _td(minutes=i * minutes),
             ends_at=first + _td(minutes=(i + 1) * minutes))
        for i in range(count)
    ]
    activity.starts_at = activity.slots[0].starts_at
    activity.ends_at = activity.slots[-1].ends_at
    db.session.flush()
    return activity


def make_volunteer(group=None, groups=(), shifts=(("Begeleiders excursie Naturalis", 4),), **kw):
    from datetime import time as _time

    from parro.models import ActivityKind, Shift

    activity = make_activity(ActivityKind.VOLUNTEER, ([group] if group else []) + list(groups),
                             **kw)
    activity.shifts = [
        Shift(position=i, title=t, places=p, starts_at=_local(date(2027, 3, 12), _time(9, 0)),
              ends_at=_local(date(2027, 3, 12), _time(15, 0)))
        for i, (t, p) in enumerate(shifts)
    ]
    db.session.flush()
    return activity


def make_materials(group=None, groups=(), items=(("lege wc-rollen", 10),), **kw):
    from parro.models import ActivityKind, Item

    activity = make_activity(ActivityKind.MATERIALS, ([group] if group else []) + list(groups),
                             **kw)
    activity.items = [Item(position=i, name=n, needed=q) for i, (n, q) in enumerate(items)]
    db.session.flush()
    return activity


def make_invitation(group=None, groups=(), day=date(2027, 3, 20), **kw):
    from datetime import time as _time

    from parro.models import ActivityKind

    return make_activity(
        ActivityKind.INVITATION, ([group] if group else []) + list(groups),
        starts_at=_local(day, _time(19, 0)), ends_at=_local(day, _time(21, 0)),
        location=kw.pop("location", "Aula"), **kw,
    )


# -- gesprekken -----------------------------------------------------------------


def make_chat(creator, guardians, title="Schoolreis") -> Conversation:  # noqa: F821
    """A chat a staff member started with chosen guardians."""
    from parro.chat import service

    conversation = service.start_chat(creator, title, list(guardians))
    db.session.flush()
    return conversation


def make_kindgesprek(student) -> Conversation:  # noqa: F821
    from parro.models import Conversation, ConversationKind

    conversation = Conversation(kind=ConversationKind.CHILD, student=student,
                                school_id=student.school_id)
    db.session.add(conversation)
    db.session.flush()
    return conversation


def make_message(conversation, author, body="Hallo") -> Message:  # noqa: F821
    from parro.chat import service

    message = service.post_message(conversation, author, body)
    db.session.flush()
    return message


# -- group feed (issue 3) -------------------------------------------------------


def photo_bytes(width=64, height=48, colour=(200, 120, 40), fmt="JPEG", **save) -> bytes:
    """A small generated photo, as a camera would upload it."""
    import io

    from PIL import Image

    if fmt == "HEIF":  # Pillow writes HEIF once pillow-heif is registered, as parro does
        from pillow_heif import register_heif_opener

        register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, fmt, **save)
    return buffer.getvalue()


@functools.cache
def pdf_bytes(**info: str) -> bytes:
    """A one-page PDF, with document information (Author=..., Creator=...) as given."""
    import io

    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    for key, value in info.items():
        pdf.docinfo[f"/{key}"] = value
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def require_ffmpeg() -> None:
    """Skip the test without Debian's ffmpeg (CI, which installs it, fails instead)."""
    import os
    import shutil

    import pytest

    if shutil.which("ffmpeg") is None:
        if os.environ.get("CI"):
            pytest.fail("ffmpeg is not installed; CI needs it for the video tests")
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")


@functools.cache
def mp4_bytes(*options: str) -> bytes:
    """A one-second MP4 with pictures and sound, made by ffmpeg (options go to its output).

    Without ffmpeg the test is skipped (CI, which installs it, fails instead): parro
    needs ffmpeg for videos too.
    """
    import subprocess
    import tempfile
    from pathlib import Path

    require_ffmpeg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "film.mp4"
        subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
             "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
             "-f", "lavfi", "-i", "sine=duration=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
             "-c:a", "aac", *options, str(out)],
            check=True, capture_output=True)
        return out.read_bytes()


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


def make_announcement(groups=(), title="Studiedag", days=14, school=None, **fields):
    """A school-wide announcement, pinned from today for `days` days (all groups by default);
    of the groups' school, else of `school` (the first by default)."""
    from datetime import timedelta

    from parro.clock import today
    from parro.models import Announcement, AnnouncementGroup

    announcement = Announcement(
        school_id=(school or (groups[0].year.school if groups else make_school())).id,
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


def make_consent_topic(name="Foto's in de app", app_photos=True, school=None, **fields):
    """A consent question of `school` (the first by default); by default the one that
    decides photos in the app."""
    from parro.models import APP_PHOTOS, ConsentTopic

    school = school or make_school()
    if app_photos:  # there is one such topic per school
        existing = db.session.query(ConsentTopic).filter_by(
            key=APP_PHOTOS, school_id=school.id).first()
        if existing is not None:
            return existing
    topic = ConsentTopic(school_id=school.id, name=name,
                         key=APP_PHOTOS if app_photos else None, **fields)
    db.session.add(topic)
    db.session.flush()
    return topic


def give_consent(student, topic=None, given=True, by=None):
    """This school year's answer for a child (without the log a guardian's answer writes)."""
    from parro.models import APP_PHOTOS, Consent, ConsentTopic

    if topic is None:
        topic = db.session.query(ConsentTopic).filter_by(key=APP_PHOTOS).first() \
            or make_consent_topic()
    consent = Consent(student_id=student.id, topic_id=topic.id, given=given,
                      changed_by_id=by.id if by else None, school_year_id=current_year().id)
    db.session.add(consent)
    db.session.flush()
    return consent


def make_logo(school, size=(120, 60), colour=(200, 30, 30)) -> None:
    """Give `school` a logo as an upload leaves it: a JPEG display size, a key and digest."""
    import io

    from PIL import Image

    from parro import media

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=95)
    key = media.new_key()
    path = media.path_for(key, "display")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    school.logo_key, school.logo_digest = key, media.digest([buffer.getvalue()])
    db.session.flush()
