"""The feed's decisions in parro/policy.py, role by role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parro import clock, policy
from parro.extensions import db

from .factories import (
    give_consent,
    make_announcement,
    make_post,
    make_year,
)
from .feed_helpers import reader
from .world import ROLES, build_world

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(app):
    clock.set_now(NOW)
    return build_world()


def allowed(world, decide) -> set[str]:
    """The roles for which decide(user) holds (a fresh request cache for each)."""
    from flask import g

    result = set()
    for role in ROLES:
        for key in list(g):
            g.pop(key)
        user = world.user(role)
        if user is None:
            from parro.security import Anonymous

            user = Anonymous()
        if decide(user):
            result.add(role)
    return result


def test_posts(world):
    post = make_post(world.group, author=world.teacher)
    later = make_post(world.group, author=world.teacher, publish_at=NOW + timedelta(hours=1))
    db.session.commit()
    assert allowed(world, lambda u: policy.can_see_post(u, post)) == {
        "guardian", "teacher", "admin"}
    assert allowed(world, lambda u: policy.can_see_post(u, later)) == {"teacher", "admin"}
    assert allowed(world, lambda u: policy.can_like(u, post)) == {"guardian", "teacher"}
    assert allowed(world, lambda u: policy.can_like(u, later)) == set()
    assert allowed(world, lambda u: policy.can_edit_post(u, post)) == {"teacher"}
    assert allowed(world, lambda u: policy.can_delete_post(u, post)) == {"teacher", "admin"}
    assert allowed(world, lambda u: policy.post_rights(u, post).stats) == {"teacher", "admin"}
    assert allowed(world, lambda u: policy.can_post_in_group(u, world.group)) == {"teacher"}


def test_announcements(world):
    everyone = make_announcement()
    group_a = make_announcement(groups=[world.group])
    future = make_announcement(starts_on=clock.today() + timedelta(days=1))
    db.session.commit()
    of_the_school = set(ROLES) - {"anonymous", "board"}  # the board's admin is of none
    assert allowed(world, lambda u: policy.can_see_announcement(u, everyone)) == of_the_school
    assert allowed(world, lambda u: policy.can_see_announcement(u, group_a)) == {
        "guardian", "teacher", "admin"}
    assert allowed(world, lambda u: policy.can_see_announcement(u, future)) == {"admin"}
    assert allowed(world, policy.can_announce) == {"admin"}


def test_last_years_families_see_no_announcements(world):
    announcement = make_announcement()
    from parro.models import SchoolYear

    db.session.query(SchoolYear).update({"is_current": False})
    make_year("2027-2028", current=True)
    db.session.commit()
    assert allowed(world, lambda u: policy.can_see_announcement(u, announcement)) == {"admin"}


def test_photos_of_a_child_without_consent(world):
    post = make_post(world.group, author=world.teacher, photos=1, tagged=[world.student])
    [photo] = post.photos
    db.session.commit()
    # No answer means no consent: only the child's own family and staff see the photo.
    assert allowed(world, lambda u: policy.can_see_post_attachment(u, photo)) == {
        "guardian", "teacher", "admin"}
    from .factories import make_guardian, make_student

    classmate = make_guardian(child=make_student(world.group))
    db.session.commit()
    assert policy.hidden_photo_ids(classmate, [photo]) == {photo.id}
    assert not policy.can_see_post_attachment(classmate, photo)
    give_consent(world.student)
    db.session.commit()
    from flask import g

    for key in list(g):
        g.pop(key)
    assert policy.hidden_photo_ids(classmate, [photo]) == set()
    assert policy.can_see_post_attachment(classmate, photo)
    assert policy.unconsented_photo_ids([photo]) == set()


def test_consent(world):
    assert allowed(world, lambda u: policy.can_set_consent(u, world.student)) == {"guardian"}
    assert allowed(world, lambda u: policy.can_view_consent(u, world.student)) == {
        "guardian", "teacher", "admin"}
    assert allowed(world, lambda u: policy.can_see_consent_overview(u, world.group)) == {
        "teacher", "admin"}
    assert allowed(world, policy.can_manage_consent_topics) == {"admin"}
