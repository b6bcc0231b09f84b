from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, RadioField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..forms import (
    BAD_DATE,
    BAD_TIME,
    DATE_FORMATS,
    TIME_FORMATS,
    MultiCheckboxField,
    ParroForm,
    single_line,
)
from ..inputs import to_id
from ..models import CalendarKind
from .service import AUTO, KIND_LABELS


def _kind_choices():
    return [SelectChoice(kind.value, KIND_LABELS[kind]) for kind in CalendarKind]


class ItemForm(ParroForm):
    title = StringField(
        _l("Titel"),
        validators=[DataRequired(_l("Geef het item een titel, bijvoorbeeld Sportdag.")),
                    Length(max=120, message=_l("Hooguit 120 tekens.")), single_line],
    )
    kind = RadioField(_l("Soort"), choices=_kind_choices(), default=CalendarKind.EVENT.value,
                      validators=[InputRequired(_l("Kies een soort."))],
                      invalid_choice_message=_l("Kies een soort uit de lijst."))
    starts_on = DateField(
        _l("Eerste dag"), format=DATE_FORMATS,
        validators=[InputRequired(_l("Vul de eerste dag in."))], invalid_value_message=BAD_DATE,
    )
    ends_on = DateField(
        _l("Laatste dag"), format=DATE_FORMATS,
        validators=[Optional()], invalid_value_message=BAD_DATE,
    )
    starts_at = TimeField(_l("Begintijd"), format=TIME_FORMATS, validators=[Optional()],
                          invalid_value_message=BAD_TIME)
    ends_at = TimeField(_l("Eindtijd"), format=TIME_FORMATS, validators=[Optional()],
                        invalid_value_message=BAD_TIME)
    location = StringField(_l("Waar (niet verplicht)"),
                           validators=[Length(max=120, message=_l("Hooguit 120 tekens.")),
                                       single_line])
    description = TextAreaField(
        _l("Uitleg voor ouders (niet verplicht)"),
        validators=[Length(max=2000, message=_l("Hooguit 2000 tekens."))],
        render_kw={"rows": 3},
    )
    groups = MultiCheckboxField(_l("Voor welke groepen?"), coerce=to_id, validate_choice=False)

    def validate_groups(self, field):
        allowed = {value for value, _label in field.choices}
        if any(value not in allowed for value in field.data or []):
            raise ValidationError(_l("Kies groepen uit de lijst."))


IMPORT_KINDS = [
    SelectChoice(AUTO, _l("Lees het uit de titel: ‘vakantie’ en ‘vrije dag’ worden vakantie "
                          "(geen school), ‘studiedag’ een studiedag, de rest een activiteit")),
    *_kind_choices(),
]


class ImportForm(ParroForm):
    file = FileField(_l("Agendabestand (.ics)"),
                     validators=[FileRequired(_l("Kies een .ics-bestand."))])
    kind = RadioField(_l("Wat staat erin?"), choices=IMPORT_KINDS, default=AUTO,
                      validators=[InputRequired(_l("Kies een soort."))],
                      invalid_choice_message=_l("Kies een soort uit de lijst."))
    groups = MultiCheckboxField(_l("Voor welke groepen?"), coerce=to_id, validate_choice=False)

    validate_groups = ItemForm.validate_groups
