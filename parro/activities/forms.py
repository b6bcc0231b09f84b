"""Forms of the activity planner. The create forms check the whole plan and tie
every problem to the field it is about."""

from __future__ import annotations

from datetime import datetime, time

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..calendar.days import closed_for_all
from ..clock import now
from ..forms import MultiCheckboxField, ParroForm, add_error, single_line
from ..inputs import MAX_INT, to_id
from . import common, conferences


class _Date(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Dit is geen datum. Schrijf bijvoorbeeld 2026-03-02.")) from None


class _Time(TimeField):
    def process_formdata(self, valuelist):
        if valuelist and valuelist[0]:
            valuelist = [valuelist[0].strip().replace(".", ":")[:5]]
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Dit is geen tijd. Schrijf bijvoorbeeld 15:30.")) from None


class _Int(IntegerField):
    """A whole number that fits the database (an id, a count, minutes)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
            if self.data is not None and abs(self.data) > MAX_INT:
                raise ValueError(self.data)
        except ValueError:
            raise ValueError(_("Vul een heel getal in.")) from None


def _text(field) -> str:
    return (field.data or "").strip()


def _refuse(field, message) -> bool:
    """Show `message` at `field`; False, the answer of the check that found it."""
    add_error(field, message)
    return False


class ActivityForm(ParroForm):
    """What every activity has."""

    title = StringField(
        _l("Titel"),
        validators=[DataRequired(_l("Geef de activiteit een titel.")), Length(max=120),
                    single_line],
    )
    description = TextAreaField(_l("Uitleg voor ouders"), validators=[Length(max=4000)])
    groups = MultiCheckboxField(_l("Voor welke groep(en)?"), coerce=to_id, validate_choice=False)
    deadline_date = _Date(
        _l("Aanmelden kan tot en met"),
        validators=[InputRequired(_l("Kies tot wanneer ouders kunnen reageren."))],
    )
    deadline_time = _Time(
        _l("Om"), default=time(23, 59),
        validators=[InputRequired(_l("Kies een tijd."))],
    )

    def validate_groups(self, field):
        if not field.data:
            raise ValidationError(_("Kies minstens één groep."))

    def fields(self) -> dict:
        """The checked form as the create service of its kind takes it (and update_activity)."""
        return {"title": _text(self.title), "description": _text(self.description),
                "deadline": self.deadline_at()}

    def deadline_at(self) -> datetime | None:
        if self.deadline_date.data and self.deadline_time.data:
            return common.local(self.deadline_date.data, self.deadline_time.data)
        return None

    def _check_deadline(self) -> bool:
        deadline = self.deadline_at()
        if deadline is not None and deadline <= now():
            return _refuse(self.deadline_date,
                           _("Deze datum is al voorbij. Kies een datum in de toekomst."))
        return True

    def finish(self, ok: bool) -> bool:
        # A FieldList collects its rows' errors when it validates; rows got more since.
        for f in self:
            if isinstance(f, FieldList):
                f.errors = [entry.errors for entry in f.entries]
                if not any(f.errors):
                    f.errors = []
        return ok


class _Located(ActivityForm):
    """An activity at a place (all but a materials list)."""

    location = StringField(_l("Waar"), validators=[Length(max=120), single_line])

    def fields(self) -> dict:
        return {**super().fields(), "location": _text(self.location)}


class DayForm(Form):
    date = _Date(_l("Datum"), validators=[Optional()])
    start = _Time(_l("Van"), validators=[Optional()])
    end = _Time(_l("Tot"), validators=[Optional()])
    breaks = StringField(_l("Pauzes"), validators=[Length(max=200), single_line])

    def is_empty(self) -> bool:
        return not (self.date.raw_data and self.date.raw_data[0]) and not any(
            f.raw_data and f.raw_data[0] for f in (self.start, self.end, self.breaks)
        )


# A conference's parents sign up (inschrijven), other activities' parents reply (aanmelden).
CONFERENCE_DEADLINE = _l("Inschrijven kan tot en met")


class ConferenceForm(_Located):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline_date.label.text = CONFERENCE_DEADLINE
    days = FieldList(FormField(DayForm), min_entries=4, max_entries=10)
    slot_minutes = _Int(
        _l("Lengte van een gesprek (minuten)"), default=10,
        validators=[InputRequired(_l("Vul de lengte van een gesprek in.")),
                    NumberRange(5, 120, _l("Kies tussen 5 en 120 minuten."))],
    )
    opens_date = _Date(_l("Inschrijven opent op"), validators=[Optional()])
    opens_time = _Time(_l("Om"), default=time(19, 0), validators=[Optional()])
    early_days = _Int(
        _l("Gezinnen met meer kinderen op school mogen zoveel dagen eerder inschrijven"),
        validators=[InputRequired(_l("Vul een aantal dagen in (0 is niet eerder).")),
                    NumberRange(0, 14, _l("Kies tussen 0 en 14 dagen."))],
    )

    plan_days: list | None = None
    opens_at: datetime | None = None

    def fields(self) -> dict:
        return {**super().fields(), "days": self.plan_days, "slot_minutes": self.slot_minutes.data,
                "opens_at": self.opens_at, "early_days": self.early_days.data}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        days = []
        for row, entry in enumerate(self.days):
            sub = entry.form
            if sub.is_empty():
                continue
            for f, message in ((sub.date, _("Vul de datum in.")),
                               (sub.start, _("Vul de begintijd in.")),
                               (sub.end, _("Vul de eindtijd in."))):
                if f.data is None and not f.errors:
                    add_error(f, message)
                    ok = False
            try:
                breaks = conferences.parse_breaks(sub.breaks.data or "")
            except ValueError as exc:
                add_error(sub.breaks, str(exc))
                ok = False
                continue
            if sub.date.data and sub.start.data and sub.end.data:
                day = conferences.Day(sub.date.data, sub.start.data, sub.end.data, breaks)
                days.append((row, day))
        if ok and not days:
            add_error(self.days[0].form.date,
                       _("Vul minstens één dag in met een begin- en eindtijd."))
            ok = False
        if ok:
            ok = self._check_plan(days)
        return self.finish(ok)

    def _check_plan(self, days) -> bool:
        try:
            slots = conferences.plan_slots([d for _row, d in days], self.slot_minutes.data)
        except common.PlanError as exc:
            form = self if exc.row is None else self.days[days[exc.row][0]].form
            return _refuse(getattr(form, exc.field), str(exc))
        moment = now()
        for row, d in days:
            if common.local(d.day, d.start) <= moment:
                return _refuse(self.days[row].form.date, _("Deze dag is al (deels) voorbij."))
            # The jaarkalender's days without school: no conferences on a holiday.
            closed = closed_for_all(d.day, self.groups.data or [])
            if closed:
                return _refuse(self.days[row].form.date, _(
                    "Op %(day)s is er geen school (%(why)s). Kies een schooldag.",
                    day=format_date(d.day, "EEEE d MMMM"), why=closed))
        self.plan_days = [d for _row, d in days]
        if not self._check_deadline():
            return False
        deadline = self.deadline_at()
        if deadline > slots[0][0]:
            return _refuse(self.deadline_date, _(
                "Het inschrijven moet sluiten voordat het eerste gesprek begint (%(when)s).",
                when=common.when(slots[0][0])))
        self.opens_at = None
        if self.opens_date.data:
            self.opens_at = common.local(self.opens_date.data, self.opens_time.data or time(0, 0))
            if self.opens_at >= deadline:
                return _refuse(self.opens_date, _("Het inschrijven moet openen vóór het sluiten."))
        return True


class ShiftForm(Form):
    title = StringField(_l("Taak"), validators=[Length(max=120), single_line])
    date = _Date(_l("Datum"), validators=[Optional()])
    start = _Time(_l("Van"), validators=[Optional()])
    end = _Time(_l("Tot"), validators=[Optional()])
    places = _Int(_l("Plaatsen"),
                  validators=[Optional(), NumberRange(1, 200, _l("Kies 1 tot 200 plaatsen."))])


class VolunteerForm(_Located):
    shifts = FieldList(FormField(ShiftForm), min_entries=4, max_entries=20)

    cleaned_shifts: list | None = None

    def fields(self) -> dict:
        return {**super().fields(), "shifts": self.cleaned_shifts}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators) and self._check_deadline()
        shifts = []
        for entry in self.shifts:
            sub = entry.form
            title = _text(sub.title)
            if not title:
                if sub.places.data or sub.date.data:
                    add_error(sub.title, _("Vul in wat de taak is."))
                    ok = False
                continue
            if not sub.places.data and not sub.places.errors:
                add_error(sub.places, _("Vul in hoeveel ouders u zoekt."))
                ok = False
            starts = ends = None
            if sub.date.data:
                if not sub.start.data:
                    add_error(sub.start, _("Vul de begintijd in, of laat de datum leeg."))
                    ok = False
                else:
                    starts = common.local(sub.date.data, sub.start.data)
                    if sub.end.data:
                        if sub.end.data <= sub.start.data:
                            add_error(sub.end, _("De eindtijd moet na de begintijd liggen."))
                            ok = False
                        ends = common.local(sub.date.data, sub.end.data)
            elif sub.start.data or sub.end.data:
                add_error(sub.date, _("Vul ook de datum in."))
                ok = False
            shifts.append((title, starts, ends, sub.places.data))
        if ok and not shifts:
            add_error(self.shifts[0].form.title, _("Vul minstens één taak in."))
            ok = False
        self.cleaned_shifts = shifts
        return self.finish(ok)


class ItemForm(Form):
    name = StringField(_l("Wat"), validators=[Length(max=120), single_line])
    needed = _Int(_l("Aantal"),
                  validators=[Optional(), NumberRange(1, 1000, _l("Kies 1 tot 1000."))])


class MaterialsForm(ActivityForm):
    items = FieldList(FormField(ItemForm), min_entries=6, max_entries=30)

    cleaned_items: list | None = None

    def fields(self) -> dict:
        return {**super().fields(), "items": self.cleaned_items}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators) and self._check_deadline()
        items = []
        for entry in self.items:
            sub = entry.form
            name = _text(sub.name)
            if not name:
                if sub.needed.data:
                    add_error(sub.name, _("Vul in wat er nodig is."))
                    ok = False
                continue
            if not sub.needed.data and not sub.needed.errors:
                add_error(sub.needed, _("Vul in hoeveel er nodig is."))
                ok = False
            items.append((name, sub.needed.data))
        if ok and not items:
            add_error(self.items[0].form.name, _("Vul minstens één ding in."))
            ok = False
        self.cleaned_items = items
        return self.finish(ok)


class InvitationForm(_Located):
    event_date = _Date(_l("Datum"), validators=[InputRequired(_l("Vul de datum in."))])
    event_start = _Time(_l("Van"), validators=[InputRequired(_l("Vul de begintijd in."))])
    event_end = _Time(_l("Tot"), validators=[InputRequired(_l("Vul de eindtijd in."))])

    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def fields(self) -> dict:
        return {**super().fields(), "starts_at": self.starts_at, "ends_at": self.ends_at}

    def validate(self, extra_validators=None) -> bool:
        if not (super().validate(extra_validators) and self._check_deadline()):
            return False
        if self.event_end.data <= self.event_start.data:
            return _refuse(self.event_end, _("De eindtijd moet na de begintijd liggen."))
        self.starts_at = common.local(self.event_date.data, self.event_start.data)
        self.ends_at = common.local(self.event_date.data, self.event_end.data)
        if self.starts_at <= now():
            return _refuse(self.event_date, _("Deze datum is al voorbij."))
        if self.deadline_at() > self.starts_at:
            return _refuse(self.deadline_date, _("Ouders moeten vóór het begin kunnen antwoorden."))
        return True


class EditForm(_Located):
    """Change what parents read and until when they can react; groups, times and slots stay."""

    groups = None

    def check_against(self, activity) -> bool:
        """The new deadline fits the activity: in the future, after opening, before it starts."""
        if not self._check_deadline():
            return False
        deadline = self.deadline_at()
        starts = common.first_moment(activity)
        if starts is not None and deadline > starts:
            return _refuse(self.deadline_date, _(
                "Reageren moet sluiten voordat de activiteit begint (%(when)s).",
                when=common.when(starts)))
        if activity.opens_at is not None and deadline <= activity.opens_at:
            return _refuse(self.deadline_date, _("Het inschrijven moet openen vóór het sluiten."))
        return True


# -- small action forms (one button, or a few hidden values) ---------------------------


class ActionForm(ParroForm):
    """Ids chosen by a button or a select; the view looks them up and checks them."""

    child_id = _Int(validators=[Optional()])
    slot_id = _Int(validators=[Optional()])
    guardian_id = _Int(validators=[Optional()])
    on = _Int(validators=[Optional()])


class PledgeForm(ParroForm):
    quantity = _Int(
        _l("Aantal"),
        validators=[InputRequired(_l("Vul een aantal in (0 om niets mee te nemen).")),
                    NumberRange(0, 1000, _l("Vul een aantal van 0 tot 1000 in."))],
    )


class RespondForm(ParroForm):
    child_id = _Int(validators=[InputRequired()])
    answer = RadioField(
        _l("Komt u?"),
        choices=[SelectChoice("yes", _l("Ja")), SelectChoice("maybe", _l("Misschien")),
                 SelectChoice("no", _l("Nee"))],
        validators=[InputRequired(_l("Kies ja, nee of misschien."))],
    )
    people = _Int(
        _l("Met hoeveel personen?"), default=1,
        validators=[Optional(), NumberRange(0, 20, _l("Vul een aantal van 0 tot 20 in."))],
    )


def default_early_days() -> int:
    return int(current_app.config["ACTIVITIES_EARLY_DAYS"])
