from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..clock import now, school_tz
from ..database import reader_transactions, reads_first
from ..extensions import db
from ..forms import form_status
from ..inputs import as_id
from ..models import (
    Activity,
    ActivityKind,
    Answer,
    Booking,
    Group,
    Item,
    Shift,
    SignUp,
    Slot,
    Student,
    User,
)
from ..sql import prebuilt
from . import bp, calendar, common, conferences, invitations, materials, overview, volunteers
from .forms import (
    CONFERENCE_DEADLINE,
    ActionForm,
    ConferenceForm,
    EditForm,
    InvitationForm,
    MaterialsForm,
    PledgeForm,
    RespondForm,
    VolunteerForm,
    default_early_days,
)

# What each kind is made with: its form (the page is activities/new_<kind>.html) and its
# service, which takes the form's fields().
CREATE = {
    ActivityKind.CONFERENCE: (ConferenceForm, conferences.create_conference),
    ActivityKind.VOLUNTEER: (VolunteerForm, volunteers.create_volunteer),
    ActivityKind.MATERIALS: (MaterialsForm, materials.create_materials),
    ActivityKind.INVITATION: (InvitationForm, invitations.create_invitation),
}


@bp.app_template_filter("hhmm")
def _hhmm(moment) -> str:
    return common.hhmm(moment) if moment else ""


@bp.app_template_filter("day")
def _day(moment) -> str:
    return format_date(moment, "EEEE d MMMM") if moment else ""


@bp.app_template_filter("when")
def _when(moment) -> str:
    return common.when(moment) if moment else ""


@bp.app_context_processor
def _labels():
    return {"activity_kinds": common.KIND_LABELS, "answer_text": invitations.answer_text,
            "now_utc": now}


# -- overview and creating ---------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    """List what is open for a guardian, or a teacher's activities with response rates."""
    if current_user.is_guardian:
        waiting, optional, mine = overview.guardian_overview(current_user)
        return render_template("activities/index.html", waiting=waiting, optional=optional,
                               mine=mine)
    managed = overview.managed_activities(current_user)
    # Open now (what the menu counts), then what has not opened yet, then what has closed.
    return render_template(
        "activities/index.html",
        managed_open=[m for m in managed if m[0].has_opened() and not m[0].is_closed()],
        managed_later=[m for m in managed if not m[0].has_opened() and not m[0].is_closed()],
        managed_closed=[m for m in managed if m[0].is_closed()],
        can_create=policy.can_create_activity(current_user),
    )


@bp.route("/nieuw")
@login_required
def new():
    """Let a teacher choose what kind of activity to create."""
    policy.require(policy.can_create_activity(current_user))
    return render_template("activities/new.html")


def _group_choices() -> list[Group]:
    return [g for g in policy.visible_groups(current_user)
            if policy.can_create_activity_for(current_user, g)]


def _chosen_groups(form) -> list[Group]:
    """The groups ticked in the form; 403 when one is not the user's to choose."""
    groups = []
    for raw in dict.fromkeys(request.form.getlist("groups")):  # a group sent twice: once
        group = db.session.get(Group, group_id) if (group_id := as_id(raw)) else None
        policy.require(group is not None and policy.can_create_activity_for(current_user, group))
        if group not in groups:
            groups.append(group)
    return groups


def _create(kind: ActivityKind):
    policy.require(policy.can_create_activity(current_user))
    choices = _group_choices()
    form_class, create = CREATE[kind]
    form = form_class()
    form.groups.choices = [(g.id, g.name) for g in choices]
    if request.method == "GET":
        if len(choices) == 1:
            form.groups.data = [choices[0].id]
        if kind == ActivityKind.CONFERENCE:
            form.early_days.data = default_early_days()
            form.title.data = _("Oudergesprekken")
    groups = _chosen_groups(form) if request.method == "POST" else []
    if form.validate_on_submit():
        activity = create(current_user, groups, **form.fields())
        flash(_("De activiteit staat klaar. Ouders van %(groups)s zien haar nu bij Activiteiten.",
                groups=", ".join(g.name for g in groups)), "success")
        return redirect(url_for("activities.show", activity_id=activity.id), 303)
    return render_template(f"activities/new_{kind}.html", form=form, kind=kind), form_status()


@bp.route("/nieuw/oudergesprekken", methods=["GET", "POST"])
@login_required
def new_conference():
    """Plan a round of parent-teacher conferences: the app makes the slots."""
    return _create(ActivityKind.CONFERENCE)


@bp.route("/nieuw/hulpouders", methods=["GET", "POST"])
@login_required
def new_volunteer():
    """Ask for volunteers: tasks or shifts with a number of places."""
    return _create(ActivityKind.VOLUNTEER)


@bp.route("/nieuw/spullen", methods=["GET", "POST"])
@login_required
def new_materials():
    """Ask for things the group needs, each with a number."""
    return _create(ActivityKind.MATERIALS)


@bp.route("/nieuw/uitnodiging", methods=["GET", "POST"])
@login_required
def new_invitation():
    """Invite the families to an event and ask who comes."""
    return _create(ActivityKind.INVITATION)


# -- one activity --------------------------------------------------------------------------


@prebuilt
def _activity_statement():
    # With its groups (the policy asks) and which children book separately: one statement.
    return (
        select(Activity)
        .where(Activity.id == bindparam("activity_id"))
        .options(joinedload(Activity.groups), joinedload(Activity.separate))
    )


def _activity(activity_id: int) -> Activity:
    activity = db.session.scalars(
        _activity_statement(), {"activity_id": activity_id}).unique().one_or_none()
    if activity is None:
        abort(404)
    policy.require(policy.can_see_activity(current_user, activity))
    g.activity = activity  # the page _refused shows
    return activity


@bp.errorhandler(common.ActivityError)
def _refused(error: common.ActivityError):
    """Show the activity's page again with why the action cannot be done now."""
    return _show(g.activity, 422, str(error))


def _show(activity: Activity, status: int = 200, error: str | None = None):
    """The activity page: for staff the management view, for guardians their part."""
    view = current_app.view_functions.get(request.endpoint)
    if (request.method == "POST" and db.engine.dialect.name == "sqlite"
            and not getattr(view, "parro_reads_first", False)):
        # Refused: nothing is kept. Let go of the write lock before the page is built,
        # so a refused action does not hold up the others (SQLite has one writer;
        # PostgreSQL locks rows, and reloading after a rollback only costs it time).
        # A booking reads first (database.reads_first): it holds no lock to let go of.
        db.session.rollback()
        with reader_transactions():
            return _page(activity, status, error)
    return _page(activity, status, error)


def _page(activity: Activity, status: int, error: str | None):
    manage = policy.can_manage_activity(current_user, activity)
    if activity.kind == ActivityKind.CONFERENCE and not manage:
        conferences.load_slots(activity)  # a guardian's page needs no more (or nothing new)
    else:
        activity = common.preload(activity)
    children = common.children_in(current_user, activity)
    context = {
        "activity": activity, "manage": manage, "error": error, "action": ActionForm(),
        "now": now(), "children": children,
        "open": common.is_open_for(current_user, activity),
        "opens_for": common.opens_for(current_user, activity),
        "several_children": common.has_several_children(current_user, activity),
    }
    if activity.kind == ActivityKind.CONFERENCE:
        context["days"] = conferences.slot_views(current_user, activity)
        context["teachers"] = conferences.teachers_of(activity)
        context["bookings"] = {
            c.id: conferences.booking_in(
                activity, c, current_user if conferences.is_separate(activity, c) else None
            )
            for c in children
        }
        if manage:
            context["missing"] = conferences.not_booked(activity)
            context["separate_ids"] = {s.student_id for s in activity.separate}
            context["participants"] = common.participants(activity)
            context["free_slots"] = [s for s in activity.slots
                                     if s.is_free() and s.starts_at > now()]
    elif activity.kind == ActivityKind.INVITATION:
        context["answers"] = {r.student_id: r for r in activity.responses}
        context["respond_form"] = RespondForm()
        if manage:
            context["totals"] = invitations.invitation_totals(activity)
            context["not_answered"] = invitations.not_answered(activity)
    elif activity.kind == ActivityKind.VOLUNTEER:
        context["my_signups"] = {
            su.shift_id: su for s in activity.shifts for su in s.signups
            if su.user_id == current_user.id
        }
    else:
        context["my_pledges"] = {
            p.item_id: p for i in activity.items for p in i.pledges
            if p.user_id == current_user.id
        }
        context["pledge_form"] = PledgeForm()
    if manage:
        context["rate"] = overview.response_rate(activity)
    return render_template("activities/show.html", **context), status


@bp.route("/<int:activity_id>")
@login_required
def show(activity_id: int):
    """Show an activity: book, sign up, pledge or answer; staff see all answers."""
    return _show(_activity(activity_id))


@bp.route("/<int:activity_id>/bewerken", methods=["GET", "POST"])
@login_required
def edit(activity_id: int):
    """Change the title, explanation, place or deadline of an activity."""
    activity = _activity(activity_id)
    policy.require(policy.can_manage_activity(current_user, activity))
    form = EditForm(obj=activity)
    if activity.kind == ActivityKind.CONFERENCE:
        form.deadline_date.label.text = CONFERENCE_DEADLINE
    if request.method == "GET":
        deadline = activity.deadline.astimezone(school_tz())
        form.deadline_date.data, form.deadline_time.data = deadline.date(), deadline.time()
    if form.validate_on_submit() and form.check_against(activity):
        told = common.update_activity(activity, form)
        flash(_("De wijzigingen zijn opgeslagen.") + (" " + ngettext(
            "%(num)d ouder die al reageerde krijgt bericht.",
            "%(num)d ouders die al reageerden krijgen bericht.", told) if told else ""),
            "success")
        return redirect(url_for("activities.show", activity_id=activity.id), 303)
    return render_template("activities/edit.html", form=form, activity=activity), form_status()


@bp.post("/<int:activity_id>/verwijderen")
@login_required
def delete(activity_id: int):
    """Delete an activity with everything booked for it."""
    activity = _activity(activity_id)
    policy.require(policy.can_manage_activity(current_user, activity))
    if ActionForm().validate_on_submit():
        title = activity.title
        common.delete_activity(activity)
        flash(_("‘%(title)s’ is verwijderd.", title=title), "success")
    return redirect(url_for("activities.index"), 303)


def _done(activity: Activity, message: str, anchor: str = "mijn"):
    flash(message, "success")
    return redirect(url_for("activities.show", activity_id=activity.id) + f"#{anchor}", 303)


def _checked(form):
    """The action form when it is valid; else the page again, with why not (_refused)."""
    if not form.validate_on_submit():
        errors = [e for field in form for e in field.errors]
        raise common.ActivityError(
            errors[0] if errors else _("Er ging iets mis. Probeer het opnieuw."))
    return form


# -- conferences ------------------------------------------------------------------------------


@bp.get("/<int:activity_id>/rooster")
@login_required
def schedule(activity_id: int):
    """Show the round's schedule, ready to print."""
    activity = _activity(activity_id)
    policy.require(policy.can_manage_activity(current_user, activity))
    if activity.kind != ActivityKind.CONFERENCE:
        abort(404)
    return render_template(
        "activities/schedule.html", activity=activity,
        days=conferences.slot_views(current_user, activity),
        missing=conferences.not_booked(activity),
    )


def _slot_in(activity: Activity, slot_id: int | None) -> Slot:
    slot = db.session.get(Slot, slot_id) if slot_id else None
    if slot is None or slot.activity_id != activity.id:
        abort(404)
    return slot


@bp.post("/<int:activity_id>/boeken")
@reads_first
@login_required
def book(activity_id: int):
    """Book a conference slot for a child (a guardian's own, or a family's by staff).

    Reads first (conferences.book): when a round opens, most bookings are refused
    (someone was faster) and never take SQLite's write lock.
    """
    activity = _activity(activity_id)
    if activity.kind != ActivityKind.CONFERENCE:
        abort(404)
    conferences.load_slots(activity)  # the slot and its booking come from here
    form = _checked(ActionForm())
    if not form.child_id.data:
        raise common.ActivityError(_("Kies voor welk kind het gesprek is."))
    if not form.slot_id.data:
        raise common.ActivityError(_("Kies een tijdstip."))
    student = db.get_or_404(Student, form.child_id.data)
    slot = _slot_in(activity, form.slot_id.data)
    policy.require(policy.can_book(current_user, slot, student))
    guardian = db.session.get(User, form.guardian_id.data) if form.guardian_id.data else None
    booking = conferences.book(current_user, slot, student, guardian)
    return _done(activity, _("Het gesprek voor %(child)s staat gepland op %(when)s.",
                             child=student.first_name, when=common.when(booking.slot.starts_at)))


def _booking(booking_id: int) -> Booking:
    booking = db.get_or_404(Booking, booking_id)
    policy.require(policy.can_change_booking(current_user, booking))
    g.activity = booking.activity  # the page _refused shows
    return booking


@bp.post("/boeking/<int:booking_id>/verplaatsen")
@login_required
def move(booking_id: int):
    """Move a conference booking to another free slot."""
    booking = _booking(booking_id)
    activity = booking.activity
    form = _checked(ActionForm())
    if not form.slot_id.data:
        raise common.ActivityError(_("Kies een tijdstip."))
    slot = _slot_in(activity, form.slot_id.data)
    conferences.move(current_user, booking, slot)
    return _done(activity, _("Het gesprek voor %(child)s is verplaatst naar %(when)s.",
                             child=booking.student.first_name, when=common.when(slot.starts_at)))


@bp.post("/boeking/<int:booking_id>/annuleren")
@login_required
def cancel(booking_id: int):
    """Cancel a conference booking."""
    booking = _booking(booking_id)
    activity = booking.activity
    _checked(ActionForm())
    child = booking.student.first_name
    conferences.cancel(current_user, booking)
    return _done(activity, _("Het gesprek voor %(child)s is geannuleerd.", child=child))


@bp.get("/boeking/<int:booking_id>.ics")
@login_required
def booking_ics(booking_id: int):
    """Download a conference booking for the phone's calendar."""
    booking = _booking(booking_id)
    staff = policy.can_manage_activity(current_user, booking.activity)
    return _ics(calendar.to_ics([calendar.booking_event(booking, for_staff=staff)]),
                f"gesprek-{booking.student.first_name.lower()}.ics")


@bp.post("/tijd/<int:slot_id>/blokkeren")
@login_required
def block(slot_id: int):
    """Take a slot out of the round (a break), or put it back."""
    slot = db.get_or_404(Slot, slot_id)
    activity = _activity(slot.activity_id)
    policy.require(policy.can_manage_activity(current_user, activity))
    form = _checked(ActionForm())
    blocked = bool(form.on.data)
    conferences.set_blocked(slot, blocked)
    message = (_("%(time)s is nu geblokkeerd.", time=_hhmm(slot.starts_at)) if blocked
               else _("%(time)s is weer vrij: ouders kunnen zich ervoor inschrijven.",
                         time=_hhmm(slot.starts_at)))
    return _done(activity, message, f"slot-{slot.id}")


@bp.post("/<int:activity_id>/apart")
@login_required
def separate(activity_id: int):
    """Allow each guardian of a child a booking of their own (guardians who live apart)."""
    activity = _activity(activity_id)
    policy.require(policy.can_manage_activity(current_user, activity))
    if activity.kind != ActivityKind.CONFERENCE:
        abort(404)
    form = _checked(ActionForm())
    student = db.get_or_404(Student, form.child_id.data or 0)
    policy.require(policy.takes_part(student, activity))
    conferences.set_separate(activity, student, bool(form.on.data))
    message = (_("De ouders van %(child)s kunnen zich nu elk apart inschrijven voor een gesprek.",
                 child=student.first_name) if form.on.data
               else _("De ouders van %(child)s schrijven zich weer samen in voor één gesprek.",
                      child=student.first_name))
    return _done(activity, message)


# -- volunteers ------------------------------------------------------------------------------


@bp.post("/taak/<int:shift_id>/aanmelden")
@login_required
def sign_up(shift_id: int):
    """Sign up for a volunteer task."""
    shift = db.get_or_404(Shift, shift_id)
    activity = _activity(shift.activity_id)
    policy.require(policy.can_sign_up(current_user, shift))
    _checked(ActionForm())
    volunteers.sign_up(current_user, shift)
    return _done(activity, _("Dank u wel! U staat ingeschreven voor ‘%(task)s’.", task=shift.title))


@bp.post("/aanmelding/<int:signup_id>/afmelden")
@login_required
def withdraw(signup_id: int):
    """Withdraw from a volunteer task."""
    signup = db.get_or_404(SignUp, signup_id)
    activity = _activity(signup.shift.activity_id)
    policy.require(policy.can_change_signup(current_user, signup))
    _checked(ActionForm())
    task = signup.shift.title
    volunteers.withdraw(current_user, signup)
    return _done(activity, _("U bent afgemeld voor ‘%(task)s’.", task=task))


@bp.get("/aanmelding/<int:signup_id>.ics")
@login_required
def signup_ics(signup_id: int):
    """Download a volunteer task for the phone's calendar."""
    signup = db.get_or_404(SignUp, signup_id)
    policy.require(policy.can_change_signup(current_user, signup))
    event = calendar.signup_event(signup)
    if event is None:
        abort(404)
    return _ics(calendar.to_ics([event]), "hulpouder.ics")


# -- materials ---------------------------------------------------------------------------------


@bp.post("/spullen/<int:item_id>")
@login_required
def pledge(item_id: int):
    """Say how many of an item the guardian brings (0 takes it back)."""
    item = db.get_or_404(Item, item_id)
    activity = _activity(item.activity_id)
    policy.require(policy.can_pledge(current_user, item))
    form = _checked(PledgeForm())
    result = materials.pledge(current_user, item, form.quantity.data)
    if result is None:
        return _done(activity, _("U neemt geen %(item)s meer mee.", item=item.name))
    return _done(activity, _("Dank u wel! U neemt %(n)s × %(item)s mee.",
                             n=result.quantity, item=item.name))


# -- invitations --------------------------------------------------------------------------------


@bp.post("/<int:activity_id>/antwoord")
@login_required
def respond(activity_id: int):
    """Answer an invitation for a child's family: yes, no or maybe, with how many."""
    activity = _activity(activity_id)
    if activity.kind != ActivityKind.INVITATION:
        abort(404)
    form = _checked(RespondForm())
    student = db.get_or_404(Student, form.child_id.data)
    policy.require(policy.can_act_for_child(current_user, activity, student))
    answer = Answer(form.answer.data)
    people = form.people.data if form.people.data is not None else 1
    if answer != Answer.NO and people < 1:
        raise common.ActivityError(_("Met hoeveel personen komt u? Vul minstens 1 in."))
    response = invitations.respond(current_user, activity, student, answer, people)
    return _done(activity, _("Uw antwoord is opgeslagen: %(answer)s.",
                             answer=invitations.answer_text(response)))


@bp.get("/<int:activity_id>/agenda.ics")
@login_required
def event_ics(activity_id: int):
    """Download an invitation's event for the phone's calendar."""
    activity = _activity(activity_id)
    event = calendar.activity_event(activity) if activity.kind == ActivityKind.INVITATION else None
    if event is None:
        abort(404)
    return _ics(calendar.to_ics([event]), "uitnodiging.ics")


# -- calendar subscription ------------------------------------------------------------------------


def _ics(body: bytes, filename: str, disposition: str = "attachment") -> Response:
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'{disposition}; filename="{filename}"',
    })


@bp.get("/agenda")
@login_required
def calendar_page():
    """Show the user's private calendar link, to subscribe from a phone."""
    feed = calendar.feed_of(current_user)
    token = calendar.feed_token(feed) if feed else None
    url = (current_app.config["BASE_URL"].rstrip("/")
           + url_for("activities.calendar_feed", token=token)) if token else None
    return render_template("activities/calendar.html", feed=feed, url=url, form=ActionForm())


@bp.post("/agenda")
@login_required
def calendar_create():
    """Make a (new) private calendar link; an old one stops working."""
    if ActionForm().validate_on_submit():
        calendar.create_feed(current_user)
        flash(_("Uw agenda-link staat klaar. Een eerdere link werkt niet meer."), "success")
    return redirect(url_for("activities.calendar_page"), 303)


@bp.post("/agenda/intrekken")
@login_required
def calendar_revoke():
    """Switch the private calendar link off."""
    if ActionForm().validate_on_submit():
        calendar.revoke_feed(current_user)
        flash(_("Uw agenda-link werkt niet meer."), "success")
    return redirect(url_for("activities.calendar_page"), 303)


@bp.get("/agenda/<token>.ics")
def calendar_feed(token: str):
    """Serve a user's calendar to their phone; the secret in the URL is the key."""
    user = calendar.user_for_token(token)
    if user is None:
        abort(404)
    name = _calendar_name(user)
    return _ics(calendar.to_ics(calendar.events_for(user), name=name), "parro.ics", "inline")


def _calendar_name(user) -> str:
    """The subscription's title, by the user's schools: the phone opens it without a login,
    so there is no current school; of a family or staff at several schools, a neutral one."""
    theirs = policy.schools(user)
    if len(theirs) > 1:
        return _("Schoolagenda: mijn afspraken")
    return _("%(school)s: mijn afspraken", school=theirs[0].name if theirs else "parro")
