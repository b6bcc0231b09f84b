"""The school the chat tests share."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from parro import clock
from parro.extensions import db

from ..factories import make_group, make_guardian, make_student, make_teacher
from .chat_helpers import TUESDAY_10


@pytest.fixture
def s(app):
    """Groep 3 with Sem (two guardians, a job-sharing pair of teachers); groep 5 with Noah."""
    db.session().expire_on_commit = False
    clock.set_now(TUESDAY_10)
    group = make_group("Groep 3", grade=3)
    other_group = make_group("Groep 5", grade=5)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    noah = make_student(other_group, first_name="Noah", last_name="Dekker")
    ns = SimpleNamespace(
        group=group,
        other_group=other_group,
        sem=sem,
        noah=noah,
        eva=make_guardian(child=sem, name="Eva Jansen", email="eva@example.org"),
        peter=make_guardian(child=sem, name="Peter Jansen", email="peter@example.org"),
        mark=make_guardian(child=noah, name="Mark Dekker", email="mark@example.org"),
        anna=make_teacher(group, name="Anna de Boer", email="anna@example.org"),
        bram=make_teacher(group, name="Bram Visser", email="bram@example.org"),
        ilse=make_teacher(other_group, name="Ilse Vermeulen", email="ilse@example.org"),
    )
    db.session.commit()
    return ns
