"""Forms of the administration pages (school, years, groups, students, import, rollover)."""

from __future__ import annotations

import re
from datetime import time

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    ColorField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from ..forms import (
    DATE_FORMATS,
    WEEKDAYS,
    EmailAddress,
    MultiCheckboxField,
    ParroForm,
    add_error,
    single_line,
)
from ..inputs import to_id
from .csv_import import MAX_BYTES

INVALID_CHOICE = _l("Kies een van de mogelijkheden.")
TOO_LONG = _l("Dit mag hoogstens %(max)d tekens lang zijn.")
INVALID_DATE = _l("Vul een datum in, bijvoorbeeld 1-8-2027.")
GRADES = [SelectChoice("", _l("geen (bijvoorbeeld een combinatiegroep)"))] + [
    SelectChoice(str(n), str(n)) for n in range(1, 9)
]


def max_length(n: int) -> Length:
    return Length(max=n, message=TOO_LONG)


def optional_int(value) -> int | None:
    if value in (None, ""):
        return None
    return to_id(value)


def choice_field(label, message=INVALID_CHOICE, **kw):
    """A choice of an id or of nothing (None), with one message for a value not offered."""
    return SelectField(label, coerce=optional_int, invalid_choice_message=message,
                       invalid_value_message=message, **kw)


def date_field(label):
    # type=date gives a date picker; older browsers show a text box, so accept d-m-yyyy too.
    return DateField(
        label,
        format=DATE_FORMATS,
        validators=[InputRequired(_l("Vul een datum in."))],
        invalid_value_message=INVALID_DATE,
    )


class SchoolForm(ParroForm):
    name = StringField(
        _l("Naam van de school"),
        validators=[DataRequired(_l("Vul de naam van de school in.")), max_length(120),
                    single_line],
    )
    phone = StringField(_l("Telefoonnummer"), validators=[Optional(), max_length(40), single_line],
                        render_kw={"autocomplete": "tel", "type": "tel"})
    email = EmailField(
        _l("E-mailadres"),
        validators=[
            Optional(),
            EmailAddress(),
            max_length(254),
            single_line,
        ],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    colour = ColorField(
        _l("Kleur"),
        validators=[
            InputRequired(_l("Kies een kleur.")),
            Regexp(
                r"^#[0-9a-fA-F]{6}$",
                message=_l("Schrijf de kleur als #rrggbb, bijvoorbeeld #1f6f8b."),
            ),
            single_line,  # Regexp's $ also matches before a final line break
        ],
    )
    leave_info = TextAreaField(_l("Verlof aanvragen"), validators=[max_length(2000)])
    code_of_conduct = TextAreaField(_l("Gedragscode"), validators=[max_length(10000)])
    require_two_factor = BooleanField(_l("Medewerkers moeten tweestapsverificatie gebruiken"))
    # None: the installation's ABSENCE_SICK_CUTOFF.
    sick_cutoff = TimeField(_l("Ziekmelden vóór"), validators=[Optional()])
    # Staff's chat hours until they set their own; empty: the installation's defaults.
    chat_weekdays = MultiCheckboxField(_l("Werkdagen"), coerce=to_id, choices=WEEKDAYS,
                                       validators=[Optional()])
    chat_starts_at = TimeField(_l("Begintijd"), validators=[Optional()])
    chat_ends_at = TimeField(_l("Eindtijd"), validators=[Optional()])
    photo_download = BooleanField(_l("Ouders mogen foto's opslaan voor eigen gebruik"))
    # A PNG or JPEG (the view sends it through the media pipeline); optional.
    logo = FileField(_l("Logo"), render_kw={"accept": "image/png,image/jpeg"})
    remove_logo = BooleanField(_l("Logo weghalen"))
    # Only on the form when OpenID Connect is set up (the view removes it otherwise).
    require_school_account = BooleanField(
        _l("Medewerkers loggen alleen in met de schoolaccount")
    )


    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self._chat_hours_ok() and ok

    def _chat_hours_ok(self) -> bool:
        """The hours as they will hold (an empty one: the installation's) must make sense."""
        from ..chat.availability import default_hours

        start_field, end_field = self.chat_starts_at, self.chat_ends_at
        if start_field.errors or end_field.errors or not (start_field.data or end_field.data):
            return True
        _, default_start, default_end = default_hours(None)
        start = start_field.data or default_start
        end = end_field.data or default_end
        if end > start:
            return True
        add_error(end_field if end_field.data else start_field, _l(
            "De eindtijd (%(end)s) moet na de begintijd (%(start)s) liggen.",
            end=end.strftime("%H:%M"), start=start.strftime("%H:%M")))
        return False

    def validate_sick_cutoff(self, field):
        if field.data is not None and not time(6, 0) <= field.data <= time(14, 0):
            raise ValidationError(_l("Kies een tijd tussen 06:00 en 14:00, bijvoorbeeld 08:30."))


class OfficeHoursForm(ParroForm):
    """When the office reads parents' messages (shown to them in the office chat)."""

    weekdays = MultiCheckboxField(
        _l("Dagen"), coerce=to_id, choices=WEEKDAYS,
        validators=[DataRequired(_l("Kies minstens één dag."))],
    )
    opens_at = TimeField(
        _l("Van"), validators=[DataRequired(_l("Vul een begintijd in, bijvoorbeeld 08:30."))]
    )
    closes_at = TimeField(
        _l("Tot"), validators=[DataRequired(_l("Vul een eindtijd in, bijvoorbeeld 16:00."))]
    )

    def validate_closes_at(self, field):
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("De eindtijd moet na de begintijd liggen."))


class YearForm(ParroForm):
    name = StringField(
        _l("Naam"),
        validators=[
            DataRequired(_l("Vul de naam van het schooljaar in.")),
            Regexp(r"^\s*\d{4}-\d{4}\s*$", message=_l("Schrijf het schooljaar als 2027-2028.")),
            single_line,
        ],
        render_kw={"placeholder": "2027-2028", "inputmode": "numeric"},
    )
    starts_on = date_field(_l("Eerste dag"))
    ends_on = date_field(_l("Laatste dag"))

    def validate_name(self, field):
        match = re.match(r"^\s*(\d{4})-(\d{4})\s*$", field.data or "")
        if match and int(match.group(2)) != int(match.group(1)) + 1:
            raise ValidationError(_l("Een schooljaar loopt over twee opeenvolgende jaren, "
                                     "bijvoorbeeld 2027-2028."))

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data <= self.starts_on.data:
            raise ValidationError(_l("De laatste dag moet na de eerste dag liggen."))


class RolloverForm(YearForm):
    mode = RadioField(
        _l("Nieuwe groepsindeling"),
        choices=[
            SelectChoice(
                "move", _l("Hele groepen gaan een groep omhoog (groep 8 verlaat de school)")
            ),
            SelectChoice("empty", _l("Leeg beginnen en de nieuwe indeling importeren (CSV)")),
        ],
        default="move",
        invalid_choice_message=INVALID_CHOICE,
    )
    make_current = BooleanField(_l("Meteen het huidige schooljaar maken"), default=True)
    # Asked only while the current year has not ended yet (the label names it).
    early = BooleanField(_l("Ik weet dat het huidige schooljaar nog niet voorbij is"))


class GroupForm(ParroForm):
    name = StringField(
        _l("Naam"),
        validators=[DataRequired(_l("Vul de naam van de groep in.")), max_length(60), single_line],
        render_kw={"placeholder": "Groep 3"},
    )
    grade = choice_field(_l("Leerjaar"), choices=GRADES)


class AssignTeacherForm(ParroForm):
    teacher = choice_field(_l("Leerkracht"), _l("Kies een leerkracht."))

    def validate_teacher(self, field):
        if field.data is None:
            raise ValidationError(_l("Kies een leerkracht."))


class StudentForm(ParroForm):
    student_number = StringField(
        _l("Leerlingnummer"),
        validators=[DataRequired(_l("Vul het leerlingnummer in.")), max_length(40), single_line],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    first_name = StringField(
        _l("Voornaam"),
        validators=[DataRequired(_l("Vul de voornaam in.")), max_length(80), single_line],
        render_kw={"autocomplete": "off"},
    )
    last_name = StringField(
        _l("Achternaam"),
        validators=[DataRequired(_l("Vul de achternaam in.")), max_length(120), single_line],
        render_kw={"autocomplete": "off"},
    )


class NewStudentForm(StudentForm):
    group = choice_field(_l("Groep"))


class PlaceStudentForm(ParroForm):
    group = choice_field(_l("Groep"))

    def validate_group(self, field):
        if field.data is None:
            raise ValidationError(_l("Kies een groep."))


class StudentSearchForm(ParroForm):
    """The filter above the student list: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Zoek op naam of leerlingnummer"), validators=[max_length(100), single_line])
    groep = SelectField(_l("Groep"), validate_choice=False)


class ImportForm(ParroForm):
    file = FileField(
        _l("CSV-bestand"),
        validators=[FileRequired(_l("Kies een CSV-bestand."))],
        render_kw={"accept": ".csv,text/csv"},
    )
    year = choice_field(_l("Schooljaar"))

    def validate_file(self, field):
        stream = field.data.stream
        size = stream.seek(0, 2)
        stream.seek(0)
        if size > MAX_BYTES:
            raise ValidationError(_l("Het bestand is te groot (meer dan 1 MB)."))


class ImportConfirmForm(ParroForm):
    content = HiddenField(validators=[DataRequired()])
    year = HiddenField(validators=[DataRequired()])
    digest = HiddenField(validators=[DataRequired()])


class AuditFilterForm(ParroForm):
    """The filter above the audit log: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    actie = SelectField(_l("Actie"), validators=[Optional()])
    wie = SearchField(_l("Wie (naam of e-mailadres)"), validators=[max_length(100), single_line])
    van = DateField(_l("Vanaf"), validators=[Optional()], format=["%Y-%m-%d", "%d-%m-%Y"],
                    invalid_value_message=INVALID_DATE)
    tot = DateField(_l("Tot en met"), validators=[Optional()], format=["%Y-%m-%d", "%d-%m-%Y"],
                    invalid_value_message=INVALID_DATE)

    def validate_tot(self, field):
        if field.data and self.van.data and field.data < self.van.data:
            raise ValidationError(_l("De einddatum ligt voor de begindatum."))
