"""`flask demo --scale`: the benchmark's big school, written in bulk, works like any other."""

from __future__ import annotations

import click
import pytest
from sqlalchemy import func, select

from parro import policy
from parro.chat import service as chat
from parro.demo import create_demo
from parro.demo_scale import add_history, scale_factor
from parro.extensions import db
from parro.models import (
    Attachment,
    Conversation,
    Message,
    Post,
    PostGroup,
    SchoolYear,
    User,
)

from .helpers import login_as


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_scale_names_and_factors():
    assert scale_factor("large") == 1.0
    assert scale_factor("small") == 0.01
    assert scale_factor("0.5") == 0.5
    for bad in ("huge", "0", "-1", "5"):
        with pytest.raises(click.BadParameter):
            scale_factor(bad)


def test_scaled_demo_has_five_years_of_history_that_the_app_serves(app, make_client, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    client = make_client(MEDIA_PATH=app.config["MEDIA_PATH"])
    school = create_demo()
    posts_before, messages_before = count(Post), count(Message)
    add_history(school, 0.004)  # 200 posts, 2,000 messages

    assert count(SchoolYear) == 5
    assert count(Post) == posts_before + 200
    assert count(Message) == messages_before + 2000
    # Every child of this year has a kindgesprek; the counters match the messages.
    for conversation in db.session.scalars(select(Conversation)):
        newest = db.session.scalar(select(func.max(Message.id)).where(
            Message.conversation_id == conversation.id))
        assert conversation.last_message_id == (newest or 0)

    # The fixed login still works and sees a feed with the bulk photos, which are served.
    jansen = db.session.scalar(select(User).where(User.email == "ouder.jansen@example.org"))
    groups = policy.visible_group_ids(jansen)
    photo = db.session.scalar(
        select(Attachment).join(PostGroup, PostGroup.post_id == Attachment.post_id)
        .where(PostGroup.group_id.in_(groups), Attachment.post_id > posts_before)
        .order_by(Attachment.id.desc()).limit(1))
    login_as(client, jansen)
    assert client.get("/groepen/").status_code == 200
    response = client.get(f"/media/{photo.key}/klein")
    assert response.status_code == 200
    assert response.data[:2] == b"\xff\xd8"  # a JPEG

    # Ids handed out in bulk leave the database's own sequences usable.
    db.session.add(Post(author_id=jansen.id, body="Nog een bericht"))
    db.session.commit()


def test_membership_from_the_users_side_matches_the_membership_clause(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    add_history(create_demo(), 0.002)
    for user in db.session.scalars(select(User).order_by(User.id)):
        found = set(db.session.scalars(policy.member_conversation_ids(user.id)))
        expected = set(db.session.scalars(
            select(Conversation.id).where(policy.conversation_member_clause(user.id))))
        assert found == expected, user.email
    # And the unread count built on it still counts only the user's conversations.
    bram = db.session.scalar(select(User).where(User.email == "meester.bram@example.org"))
    total = db.session.scalar(select(chat.unread_count(bram.role)), {"user_id": bram.id})
    assert total == sum(chat.unread_counts(bram).values()) > 0
