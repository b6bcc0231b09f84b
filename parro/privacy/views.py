"""Privacy preferences: topics (admin), answers per child (guardians), overviews (teachers)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import policy
from ..extensions import db
from ..models import APP_PHOTOS, ConsentChange, ConsentTopic, Group, Membership, Student
from ..policy import current_school
from . import bp, service
from .forms import NO, YES, TopicForm, consent_form


@bp.route("/onderwerpen", methods=["GET", "POST"])
@login_required
def topics():
    """List the consent questions and add one."""
    policy.require(policy.can_manage_consent_topics(current_user))
    school = current_school()
    form = TopicForm()
    has_app_topic = service.app_topic() is not None
    if form.validate_on_submit():
        service.save_topic(ConsentTopic(
            school_id=school.id,
            key=APP_PHOTOS if form.app_photos.data and not has_app_topic else None,
        ), name=form.name.data, description=form.description.data, position=form.position.data)
        flash(_("De vraag is toegevoegd."), "success")
        return redirect(url_for("privacy.topics"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("privacy/topics.html", topics=service.topics(), form=form,
                           has_app_topic=has_app_topic), status


@bp.route("/onderwerpen/<int:topic_id>", methods=["GET", "POST"])
@login_required
def edit_topic(topic_id: int):
    """Change the wording of a consent question."""
    policy.require(policy.can_manage_consent_topics(current_user))
    topic = db.get_or_404(ConsentTopic, topic_id)
    form = TopicForm(obj=topic)
    if form.validate_on_submit():
        service.save_topic(topic, name=form.name.data, description=form.description.data,
                           position=form.position.data)
        flash(_("De vraag is aangepast."), "success")
        return redirect(url_for("privacy.topics"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("privacy/topic.html", topic=topic, form=form), status


@bp.route("/kind/<int:student_id>", methods=["GET", "POST"])
@login_required
def child(student_id: int):
    """Show and change a child's privacy preferences."""
    student = db.get_or_404(Student, student_id)
    policy.require(policy.can_view_consent(current_user, student))
    topics = service.topics()
    answers = service.answers([student.id])
    current = {t.id: answers[(student.id, t.id)].given if (student.id, t.id) in answers else None
               for t in topics}
    may_change = policy.can_set_consent(current_user, student)
    form = consent_form(topics, current)
    if form.is_submitted():
        policy.require(may_change)
    if form.validate_on_submit():
        changed = 0
        for topic in topics:
            value = getattr(form, f"topic_{topic.id}").data
            if value in (YES, NO):
                changed += service.set_consent(student, topic, value == YES, current_user)
        flash(_("Uw keuzes zijn opgeslagen.") if changed else _("Er is niets veranderd."),
              "success")
        return redirect(url_for("privacy.child", student_id=student.id), 303)
    history = list(
        db.session.scalars(
            select(ConsentChange)
            .options(joinedload(ConsentChange.topic), joinedload(ConsentChange.changed_by))
            .where(ConsentChange.student_id == student.id)
            .order_by(ConsentChange.changed_at.desc(), ConsentChange.id.desc())
            .limit(50)
        )
    )
    status = 422 if form.is_submitted() else 200
    return render_template(
        "privacy/child.html", student=student, topics=topics, answers=answers, form=form,
        may_change=may_change, history=history,
    ), status


@bp.route("/groep/<int:group_id>")
@login_required
def group(group_id: int):
    """Show the privacy preferences of every child in a group."""
    group = db.get_or_404(Group, group_id)
    policy.require(policy.can_see_consent_overview(current_user, group))
    students = list(
        db.session.scalars(
            select(Student)
            .join(Membership)
            .where(Membership.group_id == group.id)
            .order_by(Student.first_name, Student.last_name)
        )
    )
    return render_template(
        "privacy/group.html", group=group, students=students, topics=service.topics(),
        answers=service.answers(s.id for s in students),
    )
