"""Consent per child and topic: answers, their log, and what follows from withdrawing."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from .. import audit, policy
from ..clock import now
from ..extensions import db
from ..models import (
    APP_PHOTOS,
    Attachment,
    Consent,
    ConsentChange,
    ConsentTopic,
    Group,
    Guardianship,
    Membership,
    PhotoTag,
    Post,
    SchoolYear,
    Student,
    User,
)
from ..notifications import notify
from ..sql import USER_ID, prebuilt


def topics(school_id: int | None = None) -> list[ConsentTopic]:
    """One school's consent questions (None: every school's, the whole installation's)."""
    query = select(ConsentTopic).order_by(ConsentTopic.position, ConsentTopic.id)
    if school_id is not None:
        query = query.where(ConsentTopic.school_id == school_id)
    return list(db.session.scalars(query))


def topics_of_schools(school_ids) -> dict[int, list[ConsentTopic]]:
    """Each of these schools' consent questions, in one query."""
    ids = sorted(set(school_ids))
    result: dict[int, list[ConsentTopic]] = {i: [] for i in ids}
    if ids:
        for topic in db.session.scalars(
                select(ConsentTopic).where(ConsentTopic.school_id.in_(ids))
                .order_by(ConsentTopic.position, ConsentTopic.id)):
            result[topic.school_id].append(topic)
    return result


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
        for c in db.session.scalars(select(Consent).where(Consent.student_id.in_(ids)))
    }


def year_answers(given: dict[tuple[int, int], Consent],
                 year_id: int | None) -> dict[tuple[int, int], Consent]:
    """Of the answers `given` (from answers()), those given (or confirmed) in this year."""
    return {key: c for key, c in given.items()
            if year_id is not None and c.school_year_id == year_id}


@dataclass
class ChildQuestions:
    """A guardian's child with a group this year, and the topics still open for it."""

    student: Student
    group: Group  # this year's, at the child's own school
    topics: list[ConsentTopic]  # the child's own school's questions
    open_topics: list[ConsentTopic]
    # This year's answers by topic id, and last year's (a hint; never ticked beforehand).
    current: dict[int, bool]
    earlier: dict[int, bool]


def questions_for(user: User) -> list[ChildQuestions]:
    """Per child of `user` in a group this year: what is answered this year and what is open,
    of the questions of the child's own school (a family may have children at two)."""
    children = [(s, g) for s, g in policy.family(user) if g is not None]
    by_school = topics_of_schools(s.school_id for s, _g in children)
    children = [(s, g) for s, g in children if by_school[s.school_id]]
    if not children:
        return []
    given = answers(s.id for s, _g in children)
    result = []
    for student, group in children:
        current, earlier = {}, {}
        school_topics = by_school[student.school_id]
        for topic in school_topics:
            answer = given.get((student.id, topic.id))
            if answer is None:
                continue
            if answer.school_year_id == group.school_year_id:
                current[topic.id] = answer.given
            else:
                earlier[topic.id] = answer.given
        result.append(ChildQuestions(
            student, group, school_topics, [t for t in school_topics if t.id not in current],
            current, earlier))
    return result


def has_open_questions(user: User) -> bool:
    """Whether the yearly round still asks `user` something (one query for a guardian, once
    per request: the feed's index asks, and so does the card above its posts)."""
    if not user.is_authenticated or not user.is_guardian:
        return False
    return policy.per_request(f"consent_open_{user.id}", lambda: bool(db.session.scalar(
        _open_statement(), {"user_id": user.id})))


@prebuilt
def _open_statement():
    """A child of the guardian, in a group this year at its own school, with a question of
    that school not answered this year."""
    answered = (
        select(Consent.id)
        .where(Consent.student_id == Membership.student_id,
               Consent.topic_id == ConsentTopic.id,
               Consent.school_year_id == Membership.school_year_id)
        .exists()
    )
    return (
        select(Membership.student_id)
        .join(Guardianship, Guardianship.student_id == Membership.student_id)
        .join(SchoolYear, and_(SchoolYear.id == Membership.school_year_id,
                               SchoolYear.is_current))
        .join(ConsentTopic, ConsentTopic.school_id == SchoolYear.school_id)
        .where(Guardianship.user_id == USER_ID, ~answered)
        .limit(1)
    )


def _record(student: Student, topic: ConsentTopic, given: bool, by: User, year_id,
            current: Consent | None, moment) -> bool:
    """Write one answer and its log line (no commit). False when nothing is new."""
    if current is not None and current.given == given and current.school_year_id == year_id:
        return False
    withdrawn = current is not None and current.given and not given
    if current is None:
        db.session.add(Consent(student_id=student.id, topic_id=topic.id, given=given,
                               changed_by_id=by.id, changed_at=moment, school_year_id=year_id))
    else:
        current.given, current.changed_by_id, current.changed_at = given, by.id, moment
        current.school_year_id = year_id
    db.session.add(ConsentChange(student_id=student.id, topic_id=topic.id, given=given,
                                 changed_by_id=by.id, changed_at=moment))
    audit.record(
        audit.CONSENT_CHANGE, actor=by, target=student, topic_id=topic.id, given=given,
        summary=f"{student.full_name}, {topic.name}: "
                f"{'toestemming gegeven' if given else 'geen toestemming'}",
    )
    if withdrawn and topic.key == APP_PHOTOS:
        tell_authors(student)
    return True


def set_answers(choices: dict[tuple[int, int], bool], by: User) -> int:
    """Record answers, (student id, topic id) -> given, for this school year, in one
    transaction; an unchanged answer of an earlier year is confirmed for this one.
    Returns how many were new. Commits. Each child's answer is for its own school's current
    year, on its own school's questions (the views offer no other)."""
    if not choices:
        return 0
    by_id = {t.id: t for t in topics()}
    student_ids = {sid for sid, _tid in choices}
    students = {s.id: s for s in db.session.scalars(
        select(Student).where(Student.id.in_(student_ids)))}
    choices = {(sid, tid): value for (sid, tid), value in choices.items()
               if by_id[tid].school_id == students[sid].school_id}
    year_of = {}
    for school_id in {s.school_id for s in students.values()}:
        year = policy.current_year_of(school_id)
        year_of[school_id] = year.id if year else None
    for attempt in range(2):
        given_now = answers(student_ids)
        moment = now()
        changed = sum(
            _record(students[sid], by_id[tid], value, by, year_of[students[sid].school_id],
                    given_now.get((sid, tid)), moment)
            for (sid, tid), value in sorted(choices.items())
        )
        if not changed:
            db.session.rollback()
            return 0
        try:
            db.session.commit()
            return changed
        except IntegrityError:
            # The other guardian answered at the same moment: read their answer and retry.
            db.session.rollback()
            if attempt:
                raise
    return 0


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
    school = student.school
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
            school=school,
        )


def app_topic(school_id: int | None = None) -> ConsentTopic | None:
    query = select(ConsentTopic).where(ConsentTopic.key == APP_PHOTOS)
    if school_id is not None:
        query = query.where(ConsentTopic.school_id == school_id)
    return db.session.scalar(query.limit(1))


@dataclass
class GroupRound:
    """One group in the yearly consent round: how many children are fully answered."""

    group: Group
    students: list[Student]
    open_students: list[Student]

    @property
    def answered(self) -> int:
        return len(self.students) - len(self.open_students)


def round_overview() -> list[GroupRound]:
    """Every group of this school year, with the children whose questions are still open."""
    year = policy.current_year()
    all_topics = topics(policy.current_school_id())
    if year is None:
        return []
    groups = list(db.session.scalars(
        select(Group).where(Group.school_year_id == year.id).order_by(Group.grade, Group.name)))
    members: dict[int, list[Student]] = {g.id: [] for g in groups}
    for group_id, student in db.session.execute(
        select(Membership.group_id, Student)
        .join(Student, Student.id == Membership.student_id)
        .where(Membership.school_year_id == year.id)
        .order_by(Student.first_name, Student.last_name, Student.id)
    ):
        members.setdefault(group_id, []).append(student)
    answered = dict(db.session.execute(
        select(Consent.student_id, func.count(Consent.id))
        .where(Consent.school_year_id == year.id,
               Consent.topic_id.in_([t.id for t in all_topics]))
        .group_by(Consent.student_id)
    ).all())
    return [
        GroupRound(g, members[g.id],
                   [s for s in members[g.id] if answered.get(s.id, 0) < len(all_topics)])
        for g in groups
    ]


def remind(rounds: list[GroupRound]) -> int:
    """Mail every guardian with an account of a child with open questions in these groups,
    once, naming their children. Returns the number of mails. Commits."""
    year = policy.current_year()
    open_ids = {s.id for r in rounds for s in r.open_students}
    if year is None or not open_ids:
        return 0
    children: dict[int, list[Student]] = {}
    guardians: dict[int, User] = {}
    for user, student in db.session.execute(
        select(User, Student)
        .join(Guardianship, Guardianship.user_id == User.id)
        .join(Student, Student.id == Guardianship.student_id)
        .where(Guardianship.student_id.in_(open_ids), User.active.is_(True),
               User.disabled.is_(False))
        .order_by(User.id, Student.first_name)
    ):
        guardians[user.id] = user
        children.setdefault(user.id, []).append(student)
    for user_id, user in guardians.items():
        names = [s.first_name for s in children[user_id]]
        notify(  # the school asks; no choice, like the other mail the school must send
            user, None, _l("Privacyvoorkeuren voor schooljaar {year}: graag uw antwoord"),
            "consent_reminder", name=user.display_name, year=year.name, children=names,
        )
    db.session.commit()
    return len(guardians)
