"""Important posts by mail at once; scheduled posts visible and mailed at their time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from parro import clock
from parro.extensions import db
from parro.feed.publishing import publish_due
from parro.models import OutboxMail, Post

from .factories import make_group, make_guardian, make_post, make_student, make_teacher
from .feed_helpers import fresh, reader, sign_in
from .helpers import text_of

__all__ = ["reader"]

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam


@pytest.fixture
def school(app, reader):
    clock.set_now(NOW)
    g3 = make_group("Groep 3")
    g4 = make_group("Groep 4", grade=4)
    sem, tim = make_student(g3, first_name="Sem"), make_student(g3, first_name="Tim")
    lotte = make_student(g4, first_name="Lotte")
    world = {
        "g3": g3,
        "g4": g4,
        "teacher": make_teacher(groups=[g3, g4], name="Anna de Boer"),
        "jansen": make_guardian(children=[sem, tim, lotte], email="jansen@example.org"),
        "english": make_guardian(child=sem, email="dad@example.org", locale="en"),
        "pending": make_guardian(child=tim, email="pending@example.org", active=False),
        "other": make_guardian(child=make_student(make_group("Groep 8", grade=8)),
                               email="other@example.org"),
    }
    db.session.commit()
    return world


def outbox() -> list[OutboxMail]:
    fresh()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.recipient)))


def new_post(client, group, **data):
    data.setdefault("groups", [str(group.id)])
    return client.post(f"/groepen/{group.id}/nieuw", data=data, content_type="multipart/form-data")


def test_important_post_is_mailed_at_once_to_every_guardian_once(client, school):
    sign_in(client, school["teacher"])
    response = new_post(client, school["g3"], title="Morgen vrij",
                        body="De school is morgen dicht.",
                        important="y", groups=[str(school["g3"].id), str(school["g4"].id)])
    assert response.status_code == 303
    mails = outbox()
    # Jansen has three children in the two groups: one mail. Not the guardian who
    # has not activated the account, not the family of another group.
    assert [m.recipient for m in mails] == ["dad@example.org", "jansen@example.org"]
    dad, jansen = mails
    assert jansen.subject == "Belangrijk bericht: Morgen vrij"
    assert "De school is morgen dicht." in jansen.body_text
    assert ("Anna de Boer heeft een belangrijk bericht geplaatst voor Groep 3, Groep 4"
            in jansen.body_text)
    post = db.session.scalar(select(Post))
    assert f"http://parro.test/groepen/bericht/{post.id}" in jansen.body_text
    assert post.mailed_at == NOW


def test_ordinary_posts_are_not_mailed(client, school):
    sign_in(client, school["teacher"])
    assert new_post(client, school["g3"], body="Gewoon een bericht").status_code == 303
    assert outbox() == []


def test_scheduled_important_post_is_mailed_at_its_time_once(client, school, app):
    sign_in(client, school["teacher"])
    response = new_post(client, school["g3"], title="Schoolreis", body="Vergeet de lunch niet",
                        important="y", publish_at="2027-03-11T07:30")
    assert response.status_code == 303
    assert "Uw bericht is ingepland." in text_of(client.get(response.headers["Location"]))
    fresh()
    post = db.session.scalar(select(Post))
    assert post.publish_at == datetime(2027, 3, 11, 6, 30, tzinfo=UTC)  # CET
    assert outbox() == [] and publish_due() == 0

    clock.set_now(datetime(2027, 3, 11, 6, 30, tzinfo=UTC))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["feed", "publish"])
    assert result.exit_code == 0 and "1 scheduled post(s) mailed" in result.output
    assert [m.recipient for m in outbox()] == ["dad@example.org", "jansen@example.org"]
    assert publish_due() == 0  # never twice
    assert len(outbox()) == 2


def test_a_scheduled_time_in_the_past_is_refused(client, school):
    sign_in(client, school["teacher"])
    response = new_post(client, school["g3"], body="Te laat", publish_at="2027-03-10T09:59")
    assert response.status_code == 422
    assert "Dit tijdstip is al voorbij." in text_of(response)
    fresh()
    assert db.session.scalar(select(Post)) is None


def test_guardians_see_the_scheduled_post_at_its_time(client, school):
    make_post(school["g3"], author=school["teacher"], title="Straks",
              publish_at=NOW + timedelta(minutes=5))
    db.session.commit()
    sign_in(client, school["jansen"])
    assert "Straks" not in text_of(client.get("/groepen/"))
    post = db.session.scalar(select(Post))
    assert client.get(f"/groepen/bericht/{post.id}").status_code == 403
    clock.set_now(NOW + timedelta(minutes=5))
    assert "Straks" in text_of(client.get("/groepen/"))
    assert client.get(f"/groepen/bericht/{post.id}").status_code == 200


def test_publishing_works_outside_any_request(app):
    """As from cron or the publisher thread: no request, no user."""
    clock.set_now(NOW)
    group = make_group("Groep 3")
    make_guardian(child=make_student(group), email="ouder@example.org")
    make_post(group, author=make_teacher(group), title="Later belangrijk", important=True,
              publish_at=NOW + timedelta(minutes=1))
    db.session.commit()
    clock.set_now(NOW + timedelta(minutes=1))
    result = app.test_cli_runner().invoke(args=["feed", "publish"])
    assert result.exit_code == 0, result.output
    assert "1 scheduled post(s) mailed" in result.output
    db.session.expire_all()
    [mail] = db.session.scalars(select(OutboxMail)).all()
    assert mail.recipient == "ouder@example.org" and "Later belangrijk" in mail.subject
    db.session.rollback()
