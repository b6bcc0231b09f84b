"""A small school with one person of every role, for tests that compare roles.

Groep A holds `student` (child of `guardian`, taught by `teacher`); groep B holds
`other_student` (child of `guardian_other`, taught by `teacher_other`).

build_world() builds it in the first school; build_world(school, OTHER) builds the same
world in another school of the board, with names of its own (OTHER: words that appear
nowhere in the first school's world, so a page that shows one has leaked it). `board` is
the school board's admin, one for the installation, who runs the board's pages and sees
nothing of a school's own.

two_schools() is the smaller world of the tests of what each school of a board decides
for itself: one group at each school, a family with a child at each.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from flask import g

from parro.extensions import db

from .factories import (
    also_works_at,
    current_year,
    make_admin,
    make_board_admin,
    make_group,
    make_guardian,
    make_other_school,
    make_post,
    make_school,
    make_student,
    make_teacher,
)

ROLES = ("anonymous", "board", "guardian_other", "guardian", "teacher_other", "teacher", "admin")


@dataclass(frozen=True)
class Names:
    """The names a world's people and groups get (None: the factories' own)."""

    domain: str
    group: str
    other_group: str
    student: tuple[str, str]
    other_student: tuple[str, str]
    guardian: str | None = None
    guardian_other: str | None = None
    teacher: str | None = None
    teacher_other: str | None = None
    admin: str | None = None


FIRST = Names("example.org", "Groep 3", "Groep 5", ("Sem", "Jansen"), ("Noah", "Dekker"))
# The second school's world: every name a word that occurs nowhere else.
OTHER = Names(
    "wilgenhof.example.org", "Groep 3 Kwikstaart", "Groep 5 Roodborstje",
    ("Fenna", "Vlierboom"), ("Jip", "Hazelaar"),
    guardian="Ouder Brandnetel", guardian_other="Ouder Dovenetel",
    teacher="Juf Zuringblad", teacher_other="Meester Paardebloem", admin="Directeur Klaproos",
)


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
    board: object = None  # the school board's admin (Role.BOARD): no school's staff
    school: object = None
    names: Names = FIRST

    def user(self, role: str):
        return None if role == "anonymous" else getattr(self, role)

    def email(self, local: str) -> str:
        """An address of this world's own (two worlds never share one)."""
        return f"{local}@{self.names.domain}"


def build_world(school=None, names: Names = FIRST) -> World:
    """The world in `school` (the first school by default)."""
    school = school or make_school()
    year = current_year(school)
    group = make_group(names.group, grade=3, year=year)
    other_group = make_group(names.other_group, grade=5, year=year)
    student = make_student(group, first_name=names.student[0], last_name=names.student[1])
    other_student = make_student(other_group, first_name=names.other_student[0],
                                 last_name=names.other_student[1])

    def email(local):
        return f"{local}@{names.domain}"

    world = World(
        group=group,
        other_group=other_group,
        student=student,
        other_student=other_student,
        guardian=make_guardian(child=student, email=email("guardian"), name=names.guardian),
        guardian_other=make_guardian(child=other_student, email=email("other.guardian"),
                                     name=names.guardian_other),
        teacher=make_teacher(group, email=email("teacher"), name=names.teacher, school=school),
        teacher_other=make_teacher(other_group, email=email("other.teacher"),
                                   name=names.teacher_other, school=school),
        admin=make_admin(email=email("admin"), name=names.admin, school=school),
        board=_board_admin(),
        school=school,
        names=names,
    )
    db.session.commit()
    return world


def _board_admin():
    """The board's admin: one for the installation, whichever school's world asks."""
    from sqlalchemy import select

    from parro.models import Role, User

    user = db.session.scalar(select(User).where(User.role == Role.BOARD).order_by(User.id))
    return user or make_board_admin(email="board@example.org")


def two_schools() -> dict:
    """Two schools of one board, A (Basisschool De Test) and B (Basisschool De Ander):
    groep 3a at A and 5b at B, the family de Wit with Sem at A and Lotte at B, A's admin
    and teacher (Juf Anna), B's teacher (Meester Bas), a gym teacher (Gymjuf Gea) with a
    group at each school, and a post in each group. Not committed: add to it first."""
    a = make_school()
    b = make_other_school()
    a3 = make_group("Groep 3a", grade=3)
    b5 = make_group("Groep 5b", grade=5, year=current_year(b))
    sem = make_student(a3, first_name="Sem")
    lotte = make_student(b5, first_name="Lotte")
    world = {
        "a": a, "b": b, "a3": a3, "b5": b5, "sem": sem, "lotte": lotte,
        "family": make_guardian(children=[sem, lotte], name="Familie de Wit"),
        "admin_a": make_admin(name="Admin A"),
        "teacher_a": make_teacher(a3, name="Juf Anna"),
        "teacher_b": make_teacher(b5, name="Meester Bas", school=b),
        "gym": also_works_at(b, make_teacher(a3, name="Gymjuf Gea"), groups=[b5]),
    }
    make_post(a3, author=world["teacher_a"], title="Nieuws uit groep 3a")
    make_post(b5, author=world["teacher_b"], title="Nieuws uit groep 5b")
    return world


@contextmanager
def in_school(app, school):
    """A request context whose current school is `school`, for making what belongs to the
    school its maker works in (a group chat). It shares the test's app context, and with
    it `g`: what the block left there is taken away after it."""
    known = set(vars(g))
    with app.test_request_context():
        g.school = school
        try:
            yield
        finally:
            for name in set(vars(g)) - known:
                delattr(g, name)
