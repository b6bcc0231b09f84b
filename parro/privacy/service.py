"""Consent per child and topic: answers, their log, and what follows from withdrawing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..clock import now
from ..extensions import db
from ..models import (
    APP_PHOTOS,
    Attachment,
    Consent,
    ConsentChange,
    ConsentTopic,
    PhotoTag,
    Post,
    School,
    Student,
    User,
)
from ..notifications import notify


def topics(school_id: int | None = None) -> list[ConsentTopic]:
    query = select(ConsentTopic).order_by(ConsentTopic.position, ConsentTopic.id)
    if school_id is not None:
        query = query.where(ConsentTopic.school_id == school_id)
    return list(db.session.scalars(query))


def save_topic(topic: ConsentTopic, *, name: str, description: str | None,
               position: int | None) -> None:
    """Add a consent question, or change its wording."""
    topic.name = name.strip()
    topic.description = (description or "").strip()
    topic.position = position or 0
    db.session.add(topic)
    db.session.commit()


def answers(student_ids) -> dict[tuple[int, int], Consent]:
    """(student id, topic id) -> the current answer; missing means no answer (no consent)."""
    ids = list(student_ids)
    if not ids:
        return {}
    return {
        (c.student_id, c.topic_id): c
        for c in db.session.scalars(
            select(Consent).where(Consent.student_id.in_(ids)).options()
        )
    }


def set_consent(student: Student, topic: ConsentTopic, given: bool, by: User) -> bool:
    """Record an answer (and log it). Returns whether anything changed. Commits."""
    for attempt in range(2):
        current = db.session.scalar(
            select(Consent).where(Consent.student_id == student.id, Consent.topic_id == topic.id)
        )
        if current is not None and current.given == given:
            return False
        withdrawn = current is not None and current.given and not given
        moment = now()
        if current is None:
            db.session.add(Consent(student_id=student.id, topic_id=topic.id, given=given,
                                   changed_by_id=by.id, changed_at=moment))
        else:
            current.given, current.changed_by_id, current.changed_at = given, by.id, moment
        db.session.add(ConsentChange(student_id=student.id, topic_id=topic.id, given=given,
                                     changed_by_id=by.id, changed_at=moment))
        audit.record(
            audit.CONSENT_CHANGE, actor=by, target=student, topic_id=topic.id, given=given,
            summary=f"{student.full_name}, {topic.name}: "
                    f"{'toestemming gegeven' if given else 'geen toestemming'}",
        )
        if withdrawn and topic.key == APP_PHOTOS:
            tell_authors(student)
        try:
            db.session.commit()
            return True
        except IntegrityError:
            # The other guardian answered at the same moment: read their answer and retry.
            db.session.rollback()
            if attempt:
                raise
    return False


def tell_authors(student: Student) -> None:
    """Mail the authors of posts with photos of this child: those photos are now hidden."""
    posts = list(
        db.session.scalars(
            select(Post)
            .where(
                Post.id.in_(
                    select(Attachment.post_id)
                    .join(PhotoTag, PhotoTag.attachment_id == Attachment.id)
                    .where(PhotoTag.student_id == student.id)
                )
            )
            .order_by(Post.publish_at.desc())
        )
    )
    school = db.session.scalar(select(School).limit(1))
    by_author: dict[int, tuple[User, list[Post]]] = {}
    for post in posts:
        if post.author is not None and post.author.is_active:
            by_author.setdefault(post.author.id, (post.author, []))[1].append(post)
    for author, their_posts in by_author.values():
        notify(  # staff need to know; no choice, but their quiet hours hold
            author,
            None,
            _l("Toestemming voor foto's ingetrokken: {child}"),
            "consent_withdrawn",
            user=author,
            child=student.full_name,
            posts=their_posts,
            school_name=school.name if school else "",
        )


def app_topic(school_id: int | None = None) -> ConsentTopic | None:
    query = select(ConsentTopic).where(ConsentTopic.key == APP_PHOTOS)
    if school_id is not None:
        query = query.where(ConsentTopic.school_id == school_id)
    return db.session.scalar(query.limit(1))
