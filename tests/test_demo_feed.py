"""The demo school gets a feed: posts with generated photos, likes, consent, a newsletter."""

from __future__ import annotations

from sqlalchemy import func, select

from parro import media
from parro.demo import create_demo
from parro.extensions import db
from parro.models import (
    APP_PHOTOS,
    Announcement,
    Attachment,
    Consent,
    ConsentTopic,
    Like,
    PhotoTag,
    Post,
)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_has_a_feed_with_photos_likes_consent_and_a_newsletter(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    create_demo()
    assert count(Post) >= 8 * 6
    photos = list(db.session.scalars(select(Attachment).where(Attachment.kind == "photo")))
    assert len(photos) >= 8 * 9
    assert all(media.path_for(p.key, "thumb").is_file() for p in photos)
    assert count(Like) > 100
    topics = db.session.scalars(select(ConsentTopic).order_by(ConsentTopic.position))
    assert [t.name for t in topics] == [
        "Foto's in de app", "Foto's op de website", "Foto's in de nieuwsbrief", "Social media"]
    app_topic = db.session.scalar(select(ConsentTopic).where(ConsentTopic.key == APP_PHOTOS))
    given = count(Consent, Consent.topic_id == app_topic.id, Consent.given.is_(True))
    refused = count(Consent, Consent.topic_id == app_topic.id, Consent.given.is_(False))
    assert given > 100 and refused > 0
    # Only children with consent are tagged.
    tagged = set(db.session.scalars(select(PhotoTag.student_id)))
    allowed = set(db.session.scalars(select(Consent.student_id).where(
        Consent.topic_id == app_topic.id, Consent.given.is_(True))))
    assert tagged and tagged <= allowed
    [newsletter] = db.session.scalars(select(Announcement)).all()
    [pdf] = newsletter.attachments
    assert media.path_for(pdf.key, "file").read_bytes().startswith(b"%PDF-")
    db.session.rollback()


def test_demo_messages_are_written_by_day(app, tmp_path):
    """Chat messages and consent answers of the demo at daytime hours, not at night."""
    from datetime import UTC, datetime

    from parro import clock
    from parro.models import ConsentChange, Message

    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    clock.set_now(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))  # a Tuesday, 10:00 at school
    create_demo()
    moments = list(db.session.scalars(select(Message.created_at)))
    moments += list(db.session.scalars(select(ConsentChange.changed_at)))
    assert len(moments) > 100
    hours = {m.astimezone(clock.school_tz()).hour for m in moments}
    assert min(hours) >= 7 and max(hours) <= 21, sorted(hours)
