"""Likes (a toggle; names for the author only) and read receipts per family."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from parro import clock
from parro.extensions import db
from parro.models import Like, ReadReceipt

from .factories import make_admin, make_group, make_guardian, make_post, make_student, make_teacher
from .feed_helpers import fresh, reader, sign_in
from .helpers import count_queries, text_of

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def school(app):
    clock.set_now(NOW)
    group = make_group("Groep 3")
    other = make_group("Groep 5", grade=5)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    tim = make_student(group, first_name="Tim", last_name="Jansen")  # Sem's brother
    lisa = make_student(group, first_name="Lisa", last_name="Bakker")
    mo = make_student(group, first_name="Mo", last_name="Amrani")
    make_student(group, first_name="Zonder", last_name="Ouders")  # no guardian linked
    teacher = make_teacher(group, name="Anna de Boer")
    world = {
        "group": group,
        "teacher": teacher,
        "colleague": make_teacher(group, name="Bram Visser"),
        "jansen": make_guardian(children=[sem, tim], name="Eva Jansen"),
        "bakker_mum": make_guardian(child=lisa, name="Ilse Bakker"),
        "bakker_dad": make_guardian(child=lisa, name="Kees Bakker"),
        "amrani": make_guardian(child=mo, name="Fatma Amrani"),
        "stranger": make_guardian(child=make_student(other), name="Piet Vreemd"),
        "admin": make_admin(),
        "post": make_post(group, author=teacher, title="Uitje",
                          publish_at=NOW - timedelta(hours=1)),
    }
    db.session.commit()
    return world


def like_url(post):
    return f"/groepen/bericht/{post.id}/vind-ik-leuk"


def likes() -> list[tuple[int, int]]:
    fresh()
    return [tuple(row) for row in db.session.execute(select(Like.post_id, Like.user_id))]


def test_guardian_likes_and_unlikes_with_a_plain_form(client, school):
    post = school["post"]
    sign_in(client, school["jansen"])
    response = client.post(like_url(post), data={"next": "/groepen/?x=1"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/groepen/?x=1#post-{post.id}"
    assert likes() == [(post.id, school["jansen"].id)]
    response = client.post(like_url(post), data={"next": "https://evil.example/"})
    assert response.headers["Location"] == f"/groepen/bericht/{post.id}#post-{post.id}"
    assert likes() == []


def test_htmx_like_swaps_just_the_button(client, school):
    post = school["post"]
    sign_in(client, school["amrani"])
    response = client.post(like_url(post), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form method="post" action="/groepen/bericht/')
    assert 'aria-pressed="true"' in html and '<span class="like-count">1</span>' in html
    assert "<html" not in html
    response = client.post(like_url(post), headers={"HX-Request": "true"})
    assert 'aria-pressed="false"' in response.get_data(as_text=True)
    assert likes() == []


def test_htmx_like_says_what_happened_in_the_status_region(client, school):
    post = school["post"]
    sign_in(client, school["amrani"])
    response = client.post(like_url(post), headers={"HX-Request": "true"})
    assert json.loads(response.headers["HX-Trigger"]) == {
        "parro:flash": {"messages": [["success", "U vindt dit bericht leuk."]]}}
    page = client.get("/groepen/").get_data(as_text=True)
    assert "U vindt dit bericht leuk." not in page  # said once, not again on the next page
    assert '<div id="flashes" class="flashes" role="status"></div>' in page


def test_a_poll_does_not_take_the_message_meant_for_the_next_page(client, school):
    post = school["post"]
    sign_in(client, school["amrani"])
    client.post(like_url(post))  # plain form: flash, then 303 to the post
    poll = client.get("/gesprekken/ongelezen?n=99", headers={"HX-Request": "true"})
    assert "HX-Trigger" not in poll.headers
    assert "U vindt dit bericht leuk." in text_of(client.get(f"/groepen/bericht/{post.id}"))


def test_others_see_the_count_the_author_sees_the_names(client, school):
    post = school["post"]
    for who in ("jansen", "bakker_mum"):
        sign_in(client, school[who])
        client.post(like_url(post))
    sign_in(client, school["amrani"])
    text = text_of(client.get("/groepen/"))
    assert "Vind ik leuk 2" in text
    assert "Eva Jansen" not in text and "Ilse Bakker" not in text
    sign_in(client, school["teacher"])
    text = text_of(client.get("/groepen/"))
    assert "Leuk gevonden door: Eva Jansen, Ilse Bakker" in text


def test_liking_what_one_cannot_see_is_forbidden(client, school):
    post = school["post"]
    later = make_post(school["group"], author=school["teacher"], publish_at=NOW + timedelta(days=1))
    db.session.commit()
    sign_in(client, school["stranger"])
    assert client.post(like_url(post)).status_code == 403
    sign_in(client, school["jansen"])
    assert client.post(like_url(later)).status_code == 403  # scheduled, not yet visible
    assert client.post("/groepen/bericht/999999/vind-ik-leuk").status_code == 404
    sign_in(client, school["admin"])
    assert client.post(like_url(post)).status_code == 403
    assert likes() == []


def test_one_like_per_person_is_a_database_rule(app, school):
    from sqlalchemy.exc import IntegrityError

    db.session.add(Like(post_id=school["post"].id, user_id=school["jansen"].id))
    db.session.commit()
    db.session.add(Like(post_id=school["post"].id, user_id=school["jansen"].id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_read_by_families_counts_brothers_once_and_either_parent(client, school):
    post = school["post"]
    sign_in(client, school["teacher"])
    page = client.get(f"/groepen/bericht/{post.id}")
    # Families: Jansen (Sem and Tim), Bakker (two parents), Amrani. The child
    # without a linked guardian is no family in the app.
    assert "gelezen door 0 van 3 gezinnen" in text_of(page)

    sign_in(client, school["bakker_dad"])
    response = client.get("/groepen/")
    assert "Nieuw" in text_of(response)
    assert "Nieuw" not in text_of(client.get("/groepen/"))  # seen now
    sign_in(client, school["jansen"])
    client.get(f"/groepen/{school['group'].id}")

    sign_in(client, school["teacher"])
    text = text_of(client.get(f"/groepen/bericht/{post.id}"))
    assert "gelezen door 2 van 3 gezinnen" in text
    assert "Deze gezinnen hebben het bericht nog niet gezien: Mo Amrani" in text
    assert "Sem Jansen" not in text.split("nog niet gezien")[1]
    # The job-sharing colleague sees it too; guardians do not.
    sign_in(client, school["colleague"])
    assert "gelezen door 2 van 3 gezinnen" in text_of(client.get("/groepen/"))
    sign_in(client, school["amrani"])
    assert "gezinnen" not in text_of(client.get(f"/groepen/bericht/{post.id}"))


def test_staff_views_are_not_read_receipts(client, school):
    for who in ("teacher", "admin"):
        sign_in(client, school[who])
        client.get("/groepen/")
    fresh()
    assert db.session.scalar(select(func.count()).select_from(ReadReceipt)) == 0


def test_receipts_are_written_in_one_statement_per_page(client, school):
    for i in range(5):
        make_post(school["group"], author=school["teacher"], publish_at=NOW - timedelta(minutes=i))
    db.session.commit()
    sign_in(client, school["amrani"])
    with count_queries(client.application) as queries:
        client.get("/groepen/")
    inserts = [s for s in queries.statements if s.startswith("INSERT INTO read_receipt")]
    assert len(inserts) == 1
    fresh()
    assert db.session.scalar(select(func.count()).select_from(ReadReceipt)) == 6
    with count_queries(client.application) as queries:
        client.get("/groepen/")  # everything seen already: no write at all
    assert not [s for s in queries.statements if s.startswith("INSERT")]
