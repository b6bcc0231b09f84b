from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..forms import BAD_DATE, BAD_TIME, DATE_FORMATS, TIME_FORMATS, ParroForm, single_line
from ..inputs import to_id


def _child_id(value):
    """The chosen child's id; None for the empty first option ("Kies een kind")."""
    if value in (None, ""):
        return None
    return to_id(value)


class _ChildForm(ParroForm):
    """The child is one of the guardian's own (or, for a phoned-in report, of the
    recorder's groups); the view fills in the choices, none of them chosen beforehand."""

    student = SelectField(_l("Kind"), coerce=_child_id, validate_choice=False)
    email_receipt = BooleanField(_l("Stuur mij een bevestiging per e-mail"))
    wrong_child = _l("Kies een van uw eigen kinderen.")

    def validate_student(self, field):
        if field.data is None:
            raise ValidationError(_l("Kies een kind."))
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(self.wrong_child)


def _time(label, missing) -> TimeField:
    """A required time of day; `missing` says what to fill in."""
    return TimeField(label, format=TIME_FORMATS, validators=[InputRequired(missing)],
                     invalid_value_message=BAD_TIME)


def _note(label, rows: int) -> TextAreaField:
    """A guardian's optional word to the teacher."""
    return TextAreaField(label, render_kw={"rows": rows}, validators=[
        Optional(), Length(max=500, message=_l("Houd het kort: hooguit 500 tekens."))])


class SickForm(_ChildForm):
    pass


class AppointmentForm(_ChildForm):
    day = DateField(
        _l("Datum"),
        format=DATE_FORMATS,
        validators=[InputRequired(_l("Vul de datum van de afspraak in."))],
        invalid_value_message=BAD_DATE,
    )
    starts_at = _time(_l("Van"), _l("Vul in hoe laat uw kind weggaat."))
    ends_at = _time(_l("Tot"), _l("Vul in hoe laat uw kind terug is."))
    reason = SelectField(
        _l("Reden"),
        coerce=to_id,
        invalid_choice_message=_l("Kies een reden uit de lijst."),
    )
    note = _note(_l("Toelichting voor de leerkracht (niet verplicht)"), rows=3)

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("De eindtijd moet na de begintijd liggen."))


class WithdrawForm(ParroForm):
    note = _note(_l("Bericht aan de leerkracht"), rows=2)


class FilterForm(ParroForm):
    """The office's filters; a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    date_from = DateField(
        _l("Van"), format=DATE_FORMATS, validators=[Optional()], invalid_value_message=BAD_DATE
    )
    date_to = DateField(
        _l("Tot en met"), format=DATE_FORMATS, validators=[Optional()],
        invalid_value_message=BAD_DATE,
    )
    group = SelectField(
        _l("Groep"), coerce=str, default="", invalid_choice_message=_l("Kies een groep.")
    )
    reason = SelectField(
        _l("Reden"), coerce=str, default="", invalid_choice_message=_l("Kies een reden.")
    )
    withdrawn = BooleanField(_l("Ook ingetrokken meldingen tonen"))

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("De einddatum ligt voor de begindatum."))


class ReasonForm(ParroForm):
    name = StringField(
        _l("Nieuwe reden"),
        validators=[DataRequired(_l("Vul een reden in.")), Length(max=60), single_line],
        id="reason-name",
    )
