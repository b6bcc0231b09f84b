"""Changing a post after posting (issue 19, point 7): its groups, who is tagged (with the
consent rule, checked by the server) and, while it waits, when it goes online."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from parro import clock
from parro.extensions import db
from parro.models import NotificationItem, OutboxMail, PhotoTag, Post, PostGroup

from .factories import (
    give_consent,
    make_consent_topic,
    make_group,
    make_guardian,
    make_post,
    make_student,
    make_teacher,
)
from .feed_helpers import fresh, sign_in
from .helpers import text_of

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def w(app):
    clock.set_now(NOW)
    g3, g4, g5 = make_group("Groep 3"), make_group("Groep 4"), make_group("Groep 5")
    sem = make_student(g3, first_name="Sem", last_name="Jansen")      # consent
    lisa = make_student(g3, first_name="Lisa", last_name="de Vries")  # no consent
    tim = make_student(g3, first_name="Tim", last_name="Bakker")      # not answered
    noor = make_student(g4, first_name="Noor", last_name="Smit")      # consent, groep 4
    make_consent_topic()
    give_consent(sem)
    give_consent(noor)
    give_consent(lisa, given=False)
    teacher = make_teacher(groups=[g3, g4], name="Juf Anna", email="anna@example.org")
    other = make_teacher(g5, name="Meester Bram")
    eva = make_guardian(child=sem, name="Eva Jansen", email="eva@example.org")
    smit = make_guardian(child=noor, name="Ria Smit", email="ria@example.org")
    vries = make_guardian(child=lisa, name="Jan de Vries", email="jan@example.org")
    post = make_post(g3, author=teacher, photos=2, tagged=[sem], title="Knutselen",
                     notify=False)
    db.session.commit()
    return locals()


def _edit(client, post, **data):
    form = {"title": post.title, "body": post.body, "groepen-getoond": "1",
            "kinderen-getoond": "1", **data}
    return client.post(f"/groepen/bericht/{post.id}/bewerken", data=form)


def _tags(post) -> set[tuple[int, int]]:
    fresh()
    return {(t.attachment_id, t.student_id) for t in db.session.scalars(select(PhotoTag))}


def _groups(post) -> set[int]:
    fresh()
    return set(db.session.scalars(select(PostGroup.group_id).where(PostGroup.post_id == post.id)))


def test_the_author_adds_a_group_and_changes_the_tags(client, w):
    post, g3, g4 = w["post"], w["g3"], w["g4"]
    version = post.version
    sign_in(client, w["smit"])
    assert "Knutselen" not in client.get("/groepen/").text  # groep 4 does not see it yet
    sign_in(client, w["teacher"])
    page = text_of(client.get(f"/groepen/bericht/{post.id}/bewerken"))
    assert "Geplaatst in" in page and "Wie staan er op de foto's?" in page
    response = _edit(client, post, groups=[g3.id, g4.id], tagged=[w["noor"].id])
    assert response.status_code == 303, text_of(response)
    assert _groups(post) == {g3.id, g4.id}
    photos = [a.id for a in post.photos]
    assert _tags(post) == {(a, w["noor"].id) for a in photos}  # Sem untagged, Noor tagged
    fresh()
    assert db.session.get(Post, post.id).version != version  # every cached card is new
    sign_in(client, w["smit"])
    assert "Knutselen" in client.get("/groepen/").text


@pytest.mark.parametrize("who, message", [
    ("lisa", "Voor Lisa de Vries is er geen toestemming voor foto"),
    ("tim", "Voor Tim Bakker is er geen toestemming voor foto"),
    ("noor", "Deze kinderen zitten niet in de gekozen groepen: Noor Smit."),
])
def test_a_child_without_consent_or_outside_the_groups_cannot_be_tagged(client, w, who,
                                                                         message):
    post = w["post"]
    before = _tags(post)
    sign_in(client, w["teacher"])
    response = _edit(client, post, groups=[w["g3"].id], tagged=[w["sem"].id, w[who].id],
                     title="Anders")
    assert response.status_code == 422
    assert message in text_of(response)
    assert _tags(post) == before
    fresh()
    assert db.session.get(Post, post.id).title == "Knutselen"  # nothing changed


def test_a_tagged_child_without_consent_stays_tagged(client, w):
    """Lisa's parents said no after she was tagged: untagging would show her photo to all."""
    post = make_post(w["g3"], author=w["teacher"], photos=1, tagged=[w["sem"], w["lisa"]],
                     notify=False)
    db.session.commit()
    sign_in(client, w["teacher"])
    page = client.get(f"/groepen/bericht/{post.id}/bewerken").text
    assert f'id="tagged-{w["lisa"].id}" disabled' in page and "blijft aangevinkt" in page
    response = _edit(client, post, groups=[w["g3"].id], tagged=[])  # the browser sends none
    assert response.status_code == 303
    [photo] = post.photos
    assert {s for a, s in _tags(post) if a == photo.id} == {w["lisa"].id}
    sign_in(client, w["eva"])  # another parent still does not see the photo
    assert f"/media/{photo.key}/" not in client.get(f"/groepen/bericht/{post.id}").text


def test_removing_a_group_hides_the_post_from_it_and_a_group_is_required(client, w):
    post = make_post(w["g3"], author=w["teacher"], groups=[w["g4"]], title="Voor twee",
                     notify=False)
    db.session.commit()
    sign_in(client, w["teacher"])
    none = _edit(client, post)  # both groups unticked
    assert none.status_code == 422 and "Kies minstens één groep." in text_of(none)
    assert _groups(post) == {w["g3"].id, w["g4"].id}
    assert _edit(client, post, groups=[w["g3"].id]).status_code == 303
    sign_in(client, w["smit"])
    assert "Voor twee" not in client.get("/groepen/").text
    assert client.get(f"/groepen/bericht/{post.id}").status_code == 403


def test_another_teachers_group_is_refused(client, w):
    post = w["post"]
    sign_in(client, w["teacher"])
    response = _edit(client, post, groups=[w["g3"].id, w["g5"].id])
    assert response.status_code == 403
    assert _groups(post) == {w["g3"].id}
    sign_in(client, w["other"])
    assert _edit(client, post, groups=[w["g3"].id]).status_code == 403


def test_a_scheduled_post_can_be_moved_or_placed_now(client, w):
    later = NOW + timedelta(days=2)
    post = make_post(w["g3"], author=w["teacher"], title="Straks", publish_at=later)
    db.session.commit()
    sign_in(client, w["teacher"])
    page = text_of(client.get(f"/groepen/bericht/{post.id}/bewerken"))
    assert "Plaatsen op" in page
    past = _edit(client, post, groups=[w["g3"].id], publish_at="2027-02-01T08:00")
    assert past.status_code == 422 and "Dit tijdstip is al voorbij." in text_of(past)
    moved = _edit(client, post, groups=[w["g3"].id], publish_at="2027-03-05T07:30")
    assert moved.status_code == 303
    fresh()
    row = db.session.get(Post, post.id)
    assert row.publish_at == datetime(2027, 3, 5, 6, 30, tzinfo=UTC)  # 07:30 at school
    assert {pg.publish_at for pg in row.post_groups} == {row.publish_at}
    assert row.mailed_at is None
    assert list(db.session.scalars(select(OutboxMail))) == []
    db.session.commit()

    now = _edit(client, post, groups=[w["g3"].id], publish_at="")
    assert now.status_code == 303
    fresh()
    row = db.session.get(Post, post.id)
    assert row.publish_at == NOW and row.mailed_at == NOW
    # Told now, as a new post is: Eva by her choice for group posts (the daily overview).
    lines = [i.user_id for i in db.session.scalars(select(NotificationItem))]
    db.session.commit()
    assert w["eva"].id in lines
    sign_in(client, w["eva"])
    assert "Straks" in client.get("/groepen/").text


def test_the_moment_of_a_post_online_does_not_change(client, w):
    post = w["post"]
    sign_in(client, w["teacher"])
    page = text_of(client.get(f"/groepen/bericht/{post.id}/bewerken"))
    assert "Plaatsen op" not in page
    before = post.publish_at
    assert _edit(client, post, groups=[w["g3"].id], publish_at="2027-04-01T08:00",
                 tagged=[w["sem"].id]).status_code == 303
    fresh()
    assert db.session.get(Post, post.id).publish_at == before
