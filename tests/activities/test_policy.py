"""policy.can_* for activities, asked directly."""

from __future__ import annotations

import pytest
from flask import g

from parro import policy
from parro.extensions import db
from parro.models import Booking

from ..factories import (
    make_admin,
    make_conference,
    make_group,
    make_guardian,
    make_student,
    make_teacher,
    make_year,
)


@pytest.fixture
def world(app):
    groep3 = make_group("Groep 3", grade=3)
    groep5 = make_group("Groep 5", grade=5)
    sem = make_student(groep3, first_name="Sem")
    noah = make_student(groep5, first_name="Noah")
    w = {
        "groep3": groep3, "groep5": groep5, "sem": sem, "noah": noah,
        "anna": make_teacher(groep3), "ilse": make_teacher(groep5), "admin": make_admin(),
        "eva": make_guardian(child=sem), "tom": make_guardian(child=sem),
        "mark": make_guardian(child=noah),
        "round": make_conference(groep3),
    }
    db.session.commit()
    return w


def fresh():
    """Policy answers are cached per request; a test asks as a new request would."""
    for key in list(g):
        g.pop(key)


def test_who_manages_and_who_sees_a_round(world):
    r = world["round"]
    assert policy.can_manage_activity(world["anna"], r)
    assert policy.can_manage_activity(world["admin"], r)
    assert not policy.can_manage_activity(world["ilse"], r)
    assert not policy.can_manage_activity(world["eva"], r)
    assert policy.can_see_activity(world["eva"], r)
    assert not policy.can_see_activity(world["mark"], r)
    assert not policy.can_see_activity(world["ilse"], r)


def test_who_may_create_for_which_group(world):
    assert policy.can_create_activity(world["anna"])
    assert not policy.can_create_activity(world["eva"])
    assert policy.can_create_activity_for(world["anna"], world["groep3"])
    assert not policy.can_create_activity_for(world["anna"], world["groep5"])
    assert policy.can_create_activity_for(world["admin"], world["groep5"])
    old = make_group("Groep 2", grade=2, year=make_year("2025-2026"))
    assert not policy.can_create_activity_for(world["admin"], old)


def test_who_may_book_for_which_child(world):
    slot = world["round"].slots[0]
    assert policy.can_book(world["eva"], slot, world["sem"])
    assert policy.can_book(world["anna"], slot, world["sem"])
    assert not policy.can_book(world["mark"], slot, world["sem"])
    assert not policy.can_book(world["mark"], slot, world["noah"])  # not in the round's group
    assert not policy.can_book(world["ilse"], slot, world["sem"])


def test_a_separate_booking_belongs_to_one_guardian(world):
    shared = Booking(slot=world["round"].slots[0], student=world["sem"])
    db.session.add(shared)
    db.session.flush()
    assert policy.can_change_booking(world["eva"], shared)
    assert policy.can_change_booking(world["tom"], shared)
    own = Booking(slot=world["round"].slots[1], student=world["sem"], guardian_id=world["eva"].id)
    db.session.add(own)
    db.session.flush()
    assert policy.can_change_booking(world["eva"], own)
    assert not policy.can_change_booking(world["tom"], own)
    assert policy.can_change_booking(world["anna"], own)
    assert not policy.can_change_booking(world["mark"], shared)


def test_after_the_rollover_last_years_activities_are_gone(world):
    """Sem moves up to groep 4 of a new year: groep 3's round is no longer his family's."""
    from parro.models import Membership, SchoolYear

    old_year = db.session.get(SchoolYear, world["groep3"].school_year_id)
    old_year.is_current = False
    db.session.flush()
    new_year = make_year("2027-2028", current=True)
    groep4 = make_group("Groep 4", grade=4, year=new_year)
    db.session.add(Membership(student=world["sem"], group=groep4, year=new_year))
    db.session.commit()
    fresh()
    r = world["round"]
    assert not policy.can_see_activity(world["eva"], r)
    assert not policy.can_book(world["eva"], r.slots[0], world["sem"])
    assert not policy.can_manage_activity(world["anna"], r)
    assert policy.can_manage_activity(world["admin"], r)
