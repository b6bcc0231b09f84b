"""Privacy preferences: topics (admin), answers per child (guardians), overviews (teachers)."""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import policy
from ..extensions import db
from ..forms import form_status
from ..models import APP_PHOTOS, ConsentChange, ConsentTopic, Group, Membership, Student
from ..policy import current_school
from . import bp, service
from .forms import NO, YES, ReminderForm, TopicForm, consent_form, field_name, round_form


@bp.route("/onderwerpen", methods=["GET", "POST"])
@login_required
def topics():
    """List the consent questions and add one."""
    policy.require(policy.can_manage_consent_topics(current_user))
    school = current_school()
    form = TopicForm()
    has_app_topic = service.app_topic(school.id) is not None
    if form.validate_on_submit():
        service.save_topic(ConsentTopic(
            school_id=school.id,
            key=APP_PHOTOS if form.app_photos.data and not has_app_topic else None,
        ), name=form.name.data, description=form.description.data, position=form.position.data)
        flash(_("De vraag is toegevoegd."), "success")
        return redirect(url_for("privacy.topics"), 303)
    return render_template("privacy/topics.html", topics=service.topics(school.id), form=form,
                           has_app_topic=has_app_topic), form_status()


@bp.route("/onderwerpen/<int:topic_id>", methods=["GET", "POST"])
@login_required
def edit_topic(topic_id: int):
    """Change the wording of a consent question."""
    policy.require(policy.can_manage_consent_topics(current_user))
    topic = db.get_or_404(ConsentTopic, topic_id)
    policy.require(policy.can_manage_consent_topic(current_user, topic))
    form = TopicForm(obj=topic)
    if form.validate_on_submit():
        service.save_topic(topic, name=form.name.data, description=form.description.data,
                           position=form.position.data)
        flash(_("De vraag is aangepast."), "success")
        return redirect(url_for("privacy.topics"), 303)
    return render_template("privacy/topic.html", topic=topic, form=form), form_status()


@bp.route("/kind/<int:student_id>", methods=["GET", "POST"])
@login_required
def child(student_id: int):
    """Show and change a child's privacy preferences."""
    student = db.get_or_404(Student, student_id)
    policy.require(policy.can_view_consent(current_user, student))
    topics = service.topics(student.school_id)  # the child's own school's questions
    answers = service.answers([student.id])
    year = policy.current_year_of(student.school_id)
    this_year = service.year_answers(answers, year.id if year else None)
    current = {t.id: this_year[(student.id, t.id)].given if (student.id, t.id) in this_year
               else None for t in topics}
    may_change = policy.can_set_consent(current_user, student)
    form = consent_form(topics, current)
    if form.is_submitted():
        policy.require(may_change)
    if form.validate_on_submit():
        changed = service.set_answers({
            (student.id, topic.id): value == YES
            for topic in topics
            if (value := getattr(form, f"topic_{topic.id}").data) in (YES, NO)
        }, current_user)
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
    return render_template(
        "privacy/child.html", student=student, topics=topics, answers=answers, form=form,
        may_change=may_change, history=history, year_id=year.id if year else None,
    ), form_status()


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
    year = policy.current_year_of(group.year.school_id)
    return render_template(
        "privacy/group.html", group=group, students=students,
        topics=service.topics(group.year.school_id),
        answers=service.answers(s.id for s in students), year_id=year.id if year else None,
        may_run_round=policy.can_run_consent_round(current_user),
    )


_FIELD = re.compile(r"c_(\d+)_(\d+)")


@bp.app_context_processor
def _round_card():
    """`consent_open()` for the feed's first page: whether this year's questions wait."""

    def consent_open() -> bool:
        return service.has_open_questions(current_user._get_current_object())

    return {"consent_open": consent_open}


@bp.route("/keuzes", methods=["GET", "POST"])
@login_required
def mine():
    """Ask a guardian every privacy question for each child, for this school year."""
    policy.require(policy.can_answer_consent(current_user))
    welcome = request.args.get("welkom") == "1"
    # The yearly round: the feed sends a guardian here until this year's questions are answered.
    yearly = not welcome and request.args.get("ronde") == "1"
    questions = service.questions_for(current_user)
    if (welcome or yearly) and not any(q.open_topics for q in questions):
        return redirect(url_for("feed.index"), 303)  # nothing (left) to ask
    # Each child's own school's questions (a family may have children at two schools).
    topics = [t for q in questions for t in q.topics]
    form = round_form(questions)
    if form.is_submitted():
        # Only the own children's questions are on the page: an answer for any other
        # child is refused, and nothing is stored.
        own = {(q.student.id, t.id) for q in questions for t in q.topics}
        for key in request.form:
            match = _FIELD.fullmatch(key)
            if match and (int(match[1]), int(match[2])) not in own:
                abort(403)
    if form.validate_on_submit():
        choices = {
            (q.student.id, t.id): form[field_name(q.student.id, t.id)].data == YES
            for q in questions for t in q.topics
        }
        changed = service.set_answers(choices, current_user)
        if welcome or yearly:
            flash(_("Dank u wel. Uw keuzes zijn opgeslagen; u kunt ze altijd veranderen onder "
                    "Mijn account."), "success")
            return redirect(url_for("feed.index"), 303)
        flash(_("Uw keuzes zijn opgeslagen.") if changed else _("Er is niets veranderd."),
              "success")
        return redirect(url_for("privacy.mine"), 303)
    return render_template(
        "privacy/mine.html", questions=questions, topics=topics, form=form, welcome=welcome,
        yearly=yearly,
        year=questions[0].group.year if questions else policy.current_year(),
        field_name=field_name,
        open_count=sum(1 for q in questions if q.open_topics),
    ), form_status()


@bp.route("/ronde")
@login_required
def round_overview():
    """Show per group of this school year who has answered the privacy questions."""
    policy.require(policy.can_run_consent_round(current_user))
    rounds = service.round_overview()
    return render_template(
        "privacy/round.html", rounds=rounds, topics=service.topics(policy.current_school_id()),
        year=policy.current_year(), form=ReminderForm(),
        open_total=sum(len(r.open_students) for r in rounds),
    )


@bp.post("/ronde/herinnering")
@login_required
def remind():
    """Mail the guardians who have not answered yet, of one group or of all."""
    policy.require(policy.can_run_consent_round(current_user))
    form = ReminderForm()
    if not form.validate_on_submit():
        flash(_("Kies een groep."), "error")
        return redirect(url_for("privacy.round_overview"), 303)
    rounds = service.round_overview()
    if form.group_id.data is not None:
        rounds = [r for r in rounds if r.group.id == form.group_id.data]
        if not rounds:
            flash(_("Deze groep hoort niet bij dit schooljaar."), "error")
            return redirect(url_for("privacy.round_overview"), 303)
    sent = service.remind(rounds)
    if sent:
        flash(ngettext("Er is %(num)d herinnering verstuurd.",
                       "Er zijn %(num)d herinneringen verstuurd.", sent), "success")
    else:
        flash(_("Er is niemand om aan te herinneren: alle ouders met een account hebben "
                "geantwoord."), "info")
    return redirect(url_for("privacy.round_overview"), 303)
