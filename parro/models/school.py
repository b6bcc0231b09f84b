"""The school's structure: years, groups, students and who belongs where."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..database import UTCDateTime, Versioned
from ..extensions import db
from .columns import UserId, unique_where


class School(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    colour: Mapped[str] = mapped_column(String(7), default="#1f6f8b")
    # Shown on the absence form: how to request leave (verlof), text or a link.
    leave_info: Mapped[str] = mapped_column(Text, default="")
    code_of_conduct: Mapped[str] = mapped_column(Text, default="")
    # Staff must log in with a code from an authenticator app as well.
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    # Staff sign in only with the school's own account (when OpenID Connect is set up).
    require_school_account: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the office (administratie) reads parents' messages: ISO weekdays ("12345") and
    # hours, shown to a guardian writing to the office like a teacher's availability.
    office_weekdays: Mapped[str] = mapped_column(String(7), default="12345",
                                                 server_default="12345")
    office_opens_at: Mapped[time] = mapped_column(Time, default=time(8, 30),
                                                  server_default="08:30:00")
    office_closes_at: Mapped[time] = mapped_column(Time, default=time(16, 0),
                                                   server_default="16:00:00")
    # Parents may save the group's photos for private use ("opslaan" in the photo viewer).
    photo_download: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Sick reports after this time reach the teacher perhaps only after lessons; None: the
    # installation's ABSENCE_SICK_CUTOFF (absence.service.sick_cutoff).
    sick_cutoff: Mapped[time | None] = mapped_column(Time, nullable=True)
    # The working days and hours of staff who set none of their own (chat.availability);
    # each None: the installation's CHAT_DEFAULT_WEEKDAYS / _START / _END.
    chat_weekdays: Mapped[str | None] = mapped_column(String(7), nullable=True)
    chat_starts_at: Mapped[time | None] = mapped_column(Time, nullable=True)
    chat_ends_at: Mapped[time | None] = mapped_column(Time, nullable=True)
    # The school's logo, stored like a photo (media key; its 256 px "display" JPEG is shown,
    # public like the name and colour); logo_digest is its URL's v (pipeline.digest).
    logo_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    logo_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)

    years: Mapped[list[SchoolYear]] = relationship(back_populates="school")


# No two schools share a name, whatever the capitals (admin.service.check_school_name says
# so first, in Dutch; this refuses the second of two admins adding the same name at once).
Index("uq_school_name", func.lower(School.name), unique=True)


class SchoolYear(db.Model):
    __table_args__ = (
        UniqueConstraint("school_id", "name"),
        # At most one current year per school.
        unique_where("uq_school_year_current", "school_id", where="is_current"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    name: Mapped[str] = mapped_column(String(20))  # "2026-2027"
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)

    school: Mapped[School] = relationship(back_populates="years")
    groups: Mapped[list[Group]] = relationship(
        back_populates="year", order_by="Group.grade, Group.name"
    )


class Group(Versioned, db.Model):
    __tablename__ = "school_group"  # "group" is a reserved word in SQL
    __table_args__ = (UniqueConstraint("school_year_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_year_id: Mapped[int] = mapped_column(ForeignKey("school_year.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))  # "Groep 3", "Groep 5/6"
    grade: Mapped[int | None] = mapped_column(Integer)  # 1..8; moved up at rollover

    @staticmethod
    def school_order(group) -> tuple:
        """Sort key: groups as the school lists them, by grade, then name (also the feed's rows)."""
        return (group.grade or 0, group.name)

    year: Mapped[SchoolYear] = relationship(back_populates="groups")
    memberships: Mapped[list[Membership]] = relationship(back_populates="group")
    teacher_assignments: Mapped[list[TeacherAssignment]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Student(db.Model):
    __table_args__ = (UniqueConstraint("school_id", "student_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    # The key of the student administration system; imports match on it.
    student_number: Mapped[str] = mapped_column(String(40))
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(120))  # with tussenvoegsel: "de Vries"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    school: Mapped[School] = relationship()
    memberships: Mapped[list[Membership]] = relationship(back_populates="student")
    guardianships: Mapped[list[Guardianship]] = relationship(  # noqa: F821
        back_populates="student", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __str__(self) -> str:
        return self.full_name


class Membership(db.Model):
    """A student in a group for one school year; last year's rows are the archive."""

    __table_args__ = (UniqueConstraint("student_id", "school_year_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("school_group.id"), index=True)
    # Denormalised from the group so the database can hold "one group per year".
    school_year_id: Mapped[int] = mapped_column(ForeignKey("school_year.id"))

    student: Mapped[Student] = relationship(back_populates="memberships")
    group: Mapped[Group] = relationship(back_populates="memberships")
    year: Mapped[SchoolYear] = relationship()


class SchoolStaff(db.Model):
    """A staff member (admin or teacher) works at this school.

    A board's staff may work at several (a gym teacher); their role (User.role) is the
    same at each. Admin rights and a teacher's groups are those of the school the
    browser has chosen (UserSession.school_id, policy.current_school()).
    """

    __table_args__ = (UniqueConstraint("user_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[UserId]
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    school: Mapped[School] = relationship()
    user: Mapped[User] = relationship()  # noqa: F821


class TeacherAssignment(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[UserId]
    group_id: Mapped[int] = mapped_column(ForeignKey("school_group.id"), index=True)

    user: Mapped[User] = relationship(back_populates="teacher_assignments")  # noqa: F821
    group: Mapped[Group] = relationship(back_populates="teacher_assignments")
