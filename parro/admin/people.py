"""Administration of staff and guardians: invitations, roles, disabling accounts."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import exists, func, or_, select, tuple_
from sqlalchemy.orm import selectinload

from .. import policy
from ..auth import service, sso, twofactor
from ..extensions import db
from ..forms import EmptyForm, add_error
from ..inputs import int_arg
from ..models import (
    Guardianship,
    Invitation,
    Role,
    School,
    SchoolStaff,
    Student,
    TeacherAssignment,
    User,
)
from ..privacy import export
from . import bp, get_or_404
from .people_forms import GuardianSearchForm, RoleForm, StaffInviteForm

PAGE_SIZE = 50


def _me() -> User:
    return current_user._get_current_object()


def _account(user_id: int) -> User:
    """A staff member of the current school or a guardian of one of its children."""
    return get_or_404(User, user_id, policy.is_admin_of_user)


def _back_to(user: User):
    if user.is_guardian:
        return redirect(url_for("admin.guardian", user_id=user.id), 303)
    return redirect(url_for("admin.staff"), 303)


# -- staff ----------------------------------------------------------------------


@bp.route("/medewerkers")
def staff():
    """List teachers and admins, with the form to invite one."""
    return _staff_page(StaffInviteForm())


def _staff_page(form: StaffInviteForm):
    people = list(
        db.session.scalars(
            select(User)
            .where(User.role.in_([Role.ADMIN, Role.TEACHER]),
                   User.id.in_(policy.staff_of(policy.current_school_id())))
            .options(selectinload(User.teacher_assignments).joinedload(TeacherAssignment.group))
            .order_by(User.name, User.id)
        )
    )
    year = policy.current_year()
    groups = {
        u.id: [a.group.name for a in u.teacher_assignments
               if year is not None and a.group.school_year_id == year.id]
        for u in people
    }
    elsewhere = set(db.session.scalars(
        select(SchoolStaff.user_id).where(SchoolStaff.user_id.in_([u.id for u in people]),
                                          SchoolStaff.school_id != policy.current_school_id())))
    return render_template(
        "admin/staff.html",
        people=people,
        groups=groups,
        elsewhere=elsewhere,
        latest=service.latest_invitations(u.id for u in people if not u.active),
        role_forms={u.id: RoleForm(formdata=None, role=u.role.value) for u in people},
        form=form,
    )


@bp.post("/medewerkers")
def invite_staff():
    """Invite a teacher or an admin."""
    form = StaffInviteForm()
    if form.validate_on_submit():
        colleague = service.staff_account(form.email.data)  # of another school of the board
        try:
            user = service.invite_staff(
                form.email.data, form.name.data, Role(form.role.data), _me(), form.locale.data
            )
        except service.AccountError as exc:
            add_error(form.email, str(exc))
        else:
            if colleague is not None:
                flash(_("%(name)s werkt nu ook bij deze school, als %(role)s (een rol geldt op "
                        "al hun scholen). Het account van hun andere school wordt gebruikt: er "
                        "is geen uitnodiging nodig.", name=user.display_name,
                        role=_role_name(user.role)), "success")
            else:
                flash(_("De uitnodiging is verstuurd naar %(email)s.", email=user.email),
                      "success")
            return redirect(url_for("admin.staff"), 303)
    return _staff_page(form), 422


@bp.post("/accounts/<int:user_id>/rol")
def change_role(user_id: int):
    """Make a staff member a teacher or an admin."""
    user = _account(user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            service.change_role(user, Role(form.role.data), _me())
        except service.AccountError as exc:
            flash(str(exc), "error")
        else:
            flash(_("De rol van %(name)s is gewijzigd.", name=user.display_name), "success")
            _shared_account(user)
    else:
        flash(_("Kies een rol."), "error")
    return _back_to(user)


# -- any account ------------------------------------------------------------------
# What is the school's own and what is the account's: policy, "A person of several schools".


def _role_name(role: Role) -> str:
    return _("beheerder") if role == Role.ADMIN else _("leerkracht")


def _other_schools(user: User) -> list[str]:
    """The names of the other schools this person belongs to."""
    ids = policy.other_school_ids(user)
    return list(db.session.scalars(select(School.name).where(School.id.in_(ids))
                                   .order_by(School.name))) if ids else []


def _shared_account(user: User) -> None:
    """After a change to the account itself: say so when it counts at another school too."""
    if others := _other_schools(user):
        flash(_("%(name)s hoort ook bij %(schools)s. Dit geldt voor het hele account, dus "
                "ook daar.", name=user.display_name, schools=", ".join(others)), "info")


@bp.post("/accounts/<int:user_id>/uitschakelen")
def disable_account(user_id: int):
    """Take someone off this school: their account is disabled (it can no longer log in
    and is logged out everywhere), or, while they belong to another school of the board
    too, only their tie with this one goes."""
    user = _account(user_id)
    if EmptyForm().validate_on_submit():
        try:
            stays = service.leave_school(user, policy.current_school(), _me())
        except service.AccountError as exc:
            flash(str(exc), "error")
        else:
            if stays and user.is_guardian:
                flash(_("%(name)s is weggehaald bij deze school: niet meer gekoppeld aan de "
                        "kinderen hier, niet meer in de gesprekken van deze school. Het "
                        "account blijft voor %(schools)s.", name=user.display_name,
                        schools=", ".join(_other_schools(user))), "success")
                return redirect(url_for("admin.guardians"), 303)
            if stays:
                flash(_("%(name)s werkt niet meer bij deze school. Het account blijft voor de "
                        "andere scholen waar %(name)s werkt.", name=user.display_name),
                      "success")
            else:
                flash(_("Het account van %(name)s is uitgeschakeld en overal uitgelogd.",
                        name=user.display_name), "success")
    return _back_to(user)


@bp.post("/accounts/<int:user_id>/inschakelen")
def enable_account(user_id: int):
    """Enable a disabled account again (at every school it belongs to)."""
    user = _account(user_id)
    if EmptyForm().validate_on_submit():
        try:
            service.set_disabled(user, False, _me())
        except service.AccountError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Het account van %(name)s is weer ingeschakeld.", name=user.display_name),
                  "success")
            _shared_account(user)
    return _back_to(user)


@bp.post("/accounts/<int:user_id>/uitnodiging")
def resend_invitation(user_id: int):
    """Send an account a fresh activation link."""
    user = _account(user_id)
    if EmptyForm().validate_on_submit() and invite_again(user):
        _shared_account(user)
    return _back_to(user)


def invite_again(user: User) -> bool:
    """Send `user` a fresh activation link and say so (or why not): this page's button and
    the one on a child's page (students.resend_invitation). Whether it was sent."""
    again = service.was_invited(user)
    try:
        service.resend_invitation(user, _me())
    except service.AccountError as exc:
        flash(str(exc), "error")
        return False
    if again:
        flash(_("Er is een nieuwe uitnodiging verstuurd naar %(email)s. "
                "Eerdere links werken niet meer.", email=user.email), "success")
    else:  # the first one: there are no earlier links to speak of
        flash(_("De uitnodiging is verstuurd naar %(email)s.", email=user.email), "success")
    return True


@bp.post("/medewerkers/<int:user_id>/tweestapsverificatie-uitzetten")
def reset_two_factor(user_id: int):
    """Turn off a staff member's two-factor login (lost phone), which logs them out on
    every device (the lost phone may be logged in); they set it up again."""
    user = _account(user_id)
    policy.require(policy.can_reset_two_factor(_me(), user))
    if EmptyForm().validate_on_submit() and user.has_two_factor:
        twofactor.reset_by_admin(user)
        flash(_("De tweestapsverificatie van %(name)s staat uit en %(name)s is op alle "
                "apparaten uitgelogd. Bij de volgende keer inloggen is alleen het wachtwoord "
                "nodig.", name=user.display_name), "success")
        _shared_account(user)
    return _back_to(user)


@bp.post("/medewerkers/<int:user_id>/schoolaccount-ontkoppelen")
def unlink_school_account(user_id: int):
    """Forget a staff member's school account; their next sign-in links again by e-mail."""
    user = _account(user_id)
    policy.require(policy.can_unlink_school_account(_me(), user))
    if EmptyForm().validate_on_submit() and user.oidc_subject is not None:
        sso.unlink(user, _me())
        db.session.commit()
        flash(_("De koppeling van %(name)s met de schoolaccount is verbroken. Bij de volgende "
                "keer inloggen met de schoolaccount wordt het account opnieuw gekoppeld, op "
                "e-mailadres.", name=user.display_name), "success")
        _shared_account(user)
    return _back_to(user)


# -- guardians --------------------------------------------------------------------


def _children_here(user: User) -> list[Student]:
    """A guardian's children at the current school, by name (not those of other schools)."""
    school_id = policy.current_school_id()
    return sorted((gs.student for gs in user.guardianships if gs.student.school_id == school_id),
                  key=lambda s: s.full_name)


@bp.route("/ouders")
def guardians():
    """Search and list guardian accounts, a page at a time."""
    form = GuardianSearchForm(request.args)
    q = (form.q.data or "").strip() if form.validate() else ""
    school_id = policy.current_school_id()
    query = select(User).where(User.role == Role.GUARDIAN,
                               User.id.in_(policy.guardians_of(school_id)))
    if q:
        child_name = Student.first_name + " " + Student.last_name
        query = query.where(
            or_(
                User.name.icontains(q, autoescape=True),
                User.email.icontains(q, autoescape=True),
                exists()
                .where(Guardianship.user_id == User.id, Guardianship.student_id == Student.id)
                .where(Student.school_id == school_id, child_name.icontains(q, autoescape=True)),
            )
        )
    # Paginate by key (name, id), never by OFFSET: page 40 costs what page 1 costs.
    after = db.session.get(User, int_arg("na") or 0)
    if after is not None:
        query = query.where(tuple_(User.name, User.id) > tuple_(after.name, after.id))
    people = list(
        db.session.scalars(
            query.options(selectinload(User.guardianships).joinedload(Guardianship.student))
            .order_by(User.name, User.id)
            .limit(PAGE_SIZE + 1)
        )
    )
    has_next = len(people) > PAGE_SIZE
    people = people[:PAGE_SIZE]
    return render_template(
        "admin/guardians.html",
        form=form,
        q=q,
        people=people,
        children={u.id: _children_here(u) for u in people},
        latest=service.latest_invitations(u.id for u in people if not u.active),
        next_after=people[-1].id if has_next else None,
        first_page=after is None,
        never_invited=db.session.scalar(
            select(func.count()).select_from(service.never_invited_guardians().subquery())
        ),
    )


@bp.post("/ouders/uitnodigen")
def invite_all_guardians():
    """Invite every guardian account that was never invited."""
    if EmptyForm().validate_on_submit():
        count = service.invite_all_guardians(_me())
        if count:
            flash(ngettext("Er is %(num)d uitnodiging verstuurd.",
                           "Er zijn %(num)d uitnodigingen verstuurd.", count), "success")
        else:
            flash(_("Alle ouders hebben al een uitnodiging gekregen."), "info")
    return redirect(url_for("admin.guardians"), 303)


@bp.post("/ouders/<int:user_id>/gegevens-downloaden")
def export_guardian(user_id: int):
    """Inzage for a family: everything about this guardian and their children (a ZIP)."""
    user = _account(user_id)
    if not user.is_guardian:
        abort(404)
    policy.require(policy.can_export_data(_me(), user))
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.guardian", user_id=user.id), 303)
    return export.download(user, by_admin=True)


@bp.route("/ouders/<int:user_id>")
def guardian(user_id: int):
    """Show a guardian: children, account status and invitations."""
    user = _account(user_id)
    if not user.is_guardian:
        abort(404)
    children = [(student, policy.current_group_of(student)) for student in _children_here(user)]
    invitations = list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.user_id == user.id,
                   # not one about a child of another school of the board
                   or_(Invitation.student_id.is_(None), Invitation.student_id.in_(
                       select(Student.id).where(Student.school_id == policy.current_school_id()))))
            .options(selectinload(Invitation.invited_by))
            .order_by(Invitation.id.desc())
        )
    )
    return render_template(
        "admin/guardian.html",
        user=user,
        children=children,
        other_schools=_other_schools(user),
        invitations=invitations,
    )
