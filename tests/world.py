"""A small school with one person of every role, for tests that compare roles.

Groep A holds `student` (child of `guardian`, taught by `teacher`); groep B holds
`other_student` (child of `guardian_other`, taught by `teacher_other`). `board` is the
school board's admin, who runs the board's pages and sees nothing of a school's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from parro.extensions import db
from parro.models import Role

from .factories import (
    make_admin,
    make_group,
    make_guardian,
    make_student,
    make_teacher,
    make_user,
)

ROLES = ("anonymous", "board", "guardian_other", "guardian", "teacher_other", "teacher", "admin")


@dataclass
class World:
    group: object
    other_group: object
    student: object
    other_student: object
    guardian: object
    guardian_other: object
    teacher: object
    teacher_other: object
    admin: object
    board: object  # the school board's admin (Role.BOARD): no school's staff

    def user(self, role: str):
        return None if role == "anonymous" else getattr(self, role)


def build_world() -> World:
    group = make_group("Groep 3", grade=3)
    other_group = make_group("Groep 5", grade=5)
    student = make_student(group, first_name="Sem", last_name="Jansen")
    other_student = make_student(other_group, first_name="Noah", last_name="Dekker")
    world = World(
        group=group,
        other_group=other_group,
        student=student,
        other_student=other_student,
        guardian=make_guardian(child=student, email="guardian@example.org"),
        guardian_other=make_guardian(child=other_student, email="other.guardian@example.org"),
        teacher=make_teacher(group, email="teacher@example.org"),
        teacher_other=make_teacher(other_group, email="other.teacher@example.org"),
        admin=make_admin(email="admin@example.org"),
        board=make_user(Role.BOARD, email="board@example.org"),
    )
    db.session.commit()
    return world
