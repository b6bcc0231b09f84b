"""The jaarkalender: the coming weeks for everyone, entering and importing for the office."""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import clock, policy
from ..extensions import db
from ..forms import EmptyForm, add_error, form_status, show_error
from ..fragments import fragment
from ..models import CalendarItem, CalendarKind
from . import bp, service
from .forms import ImportForm, ItemForm

WEEKS = 6  # the calendar page shows this many weeks at a time


@bp.app_context_processor
def _upcoming():
    """`calendar_upcoming()` for the feed's first page: the block of the next few items.

    A cached fragment (parro/fragments.py): its key holds the items this viewer sees (each
    by id and version, which rises with every change of the item and of its groups) and
    their groups (whose names it shows), nothing else of the viewer. A deleted item, or
    one of a group the viewer is not in, is simply not in the list, so not in the key."""

    def upcoming() -> Markup:
        user = current_user._get_current_object()  # the user, not the proxy, to the queries
        if not user.is_authenticated:
            return Markup()
        items = service.upcoming(user)
        if not items:
            return Markup()
        # The schools whose items these are, in the key as well (a guardian's children's),
        # and each item's school's name, which a family at two schools reads (as on the
        # calendar page; no query for one school).
        names = service.school_names(user)
        return fragment("calendar/_upcoming.html", items=items,
                        groups=[item.groups for item in items],
                        schools=policy.reading_school_ids(user),
                        school_names=[names.get(item.school_id) for item in items])

    return {"calendar_upcoming": upcoming}


# A global, not a context variable: the item macro (calendar/_item.html) is imported
# without the page's context.
bp.add_app_template_global(service.kind_note, "calendar_note")


def _start() -> date:
    """The Monday of the week the page starts with (?vanaf=YYYY-MM-DD, default this week)."""
    try:
        chosen = date.fromisoformat(request.args.get("vanaf", ""))
    except ValueError:
        chosen = clock.today()
    return chosen - timedelta(days=chosen.weekday())


@bp.route("/")
@login_required
def index():
    """Show the school's calendar for the coming weeks."""
    policy.require(policy.can_see_calendar(current_user))
    first = _start()
    last = first + timedelta(weeks=WEEKS, days=-1)
    items = service.items_between(current_user, first, last)
    return render_template(
        "calendar/index.html",
        months=service.by_month(items, first),
        first=first,
        last=last,
        earlier=first - timedelta(weeks=WEEKS),
        later=first + timedelta(weeks=WEEKS),
        today=clock.today(),
        may_manage=policy.can_manage_calendar(current_user),
        school_names=service.school_names(current_user),
    )


def _group_choices(form) -> None:
    year = policy.current_year()
    form.groups.choices = [(g.id, g.name) for g in (year.groups if year else [])]


def _save(form: ItemForm, item: CalendarItem | None):
    return service.save_item(
        current_user, item,
        kind=CalendarKind(form.kind.data), title=form.title.data,
        starts_on=form.starts_on.data, ends_on=form.ends_on.data or form.starts_on.data,
        starts_at=form.starts_at.data, ends_at=form.ends_at.data,
        description=form.description.data or "", location=form.location.data or "",
        group_ids=form.groups.data or [],
    )


def _edit_page(form: ItemForm, item: CalendarItem | None):
    if form.validate_on_submit():
        try:
            saved = _save(form, item)
        except service.CalendarError as error:
            show_error(form, error, form.title)
        else:
            flash(_("%(title)s staat in de kalender.", title=saved.title) if item is None
                  else _("%(title)s is aangepast.", title=saved.title), "success")
            return redirect(url_for("calendar.index", vanaf=saved.starts_on.isoformat()), 303)
    return render_template("calendar/edit.html", form=form, item=item), form_status()


@bp.route("/nieuw", methods=["GET", "POST"])
@login_required
def new():
    """Add a holiday, study day or event to the calendar."""
    policy.require(policy.can_manage_calendar(current_user))
    form = ItemForm()
    _group_choices(form)
    return _edit_page(form, None)


def _item(item_id: int) -> CalendarItem:
    policy.require(policy.can_manage_calendar(current_user))
    item = db.get_or_404(CalendarItem, item_id)
    policy.require(policy.can_manage_calendar_item(current_user, item))
    return item


@bp.route("/<int:item_id>/bewerken", methods=["GET", "POST"])
@login_required
def edit(item_id: int):
    """Change a calendar item."""
    item = _item(item_id)
    # On a POST only what was sent counts (an emptied field must not keep the old value).
    form = ItemForm() if request.method == "POST" else ItemForm(
        title=item.title, kind=item.kind.value, starts_on=item.starts_on, ends_on=item.ends_on,
        starts_at=item.starts_at, ends_at=item.ends_at, location=item.location,
        description=item.description, groups=[g.id for g in item.groups],
    )
    _group_choices(form)
    return _edit_page(form, item)


@bp.post("/<int:item_id>/verwijderen")
@login_required
def delete(item_id: int):
    """Take an item out of the calendar."""
    item = _item(item_id)
    if EmptyForm().validate_on_submit():
        title, day = item.title, item.starts_on
        service.delete_item(item)
        flash(_("%(title)s is uit de kalender gehaald.", title=title), "success")
        return redirect(url_for("calendar.index", vanaf=day.isoformat()), 303)
    return redirect(url_for("calendar.index"), 303)


@bp.route("/importeren", methods=["GET", "POST"])
@login_required
def import_ics():
    """Import holidays, study days or events from an .ics file."""
    policy.require(policy.can_manage_calendar(current_user))
    form = ImportForm()
    _group_choices(form)
    if form.validate_on_submit():
        try:
            result = service.import_ics(current_user, form.file.data.read(), form.kind.data,
                                        form.groups.data or [])
        except service.CalendarError as error:
            add_error(form.file, error.message)
        else:
            _report(result)
            return redirect(url_for("calendar.index"), 303)
    return render_template("calendar/import.html", form=form,
                           max_events=service.max_import_events()), form_status()


def _report(result: service.ImportResult) -> None:
    parts = [
        ngettext("%(num)d item toegevoegd", "%(num)d items toegevoegd", result.created),
        ngettext("%(num)d bijgewerkt", "%(num)d bijgewerkt", result.updated),
        ngettext("%(num)d stond er al", "%(num)d stonden er al", result.unchanged),
    ]
    flash(_("Import klaar: %(parts)s.", parts=", ".join(parts)), "success")
    if result.past:
        flash(ngettext("%(num)d item lag al in het verleden en is overgeslagen.",
                       "%(num)d items lagen al in het verleden en zijn overgeslagen.",
                       result.past), "info")
    if result.recurring:
        flash(ngettext("%(num)d terugkerend item is overgeslagen: zet dat met de hand in de "
                       "kalender.",
                       "%(num)d terugkerende items zijn overgeslagen: zet die met de hand in "
                       "de kalender.", result.recurring), "warning")
