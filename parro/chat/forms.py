from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .. import clock
from ..forms import WEEKDAYS, MultiCheckboxField, ParroForm, single_line
from ..inputs import to_id


def _not_too_long(form, field):
    limit = current_app.config["CHAT_MAX_LENGTH"]
    if field.data and len(field.data) > limit:
        raise ValidationError(
            _l("Uw bericht is te lang: maximaal %(max)s tekens.", max=limit)
        )


class MessageForm(ParroForm):
    body = TextAreaField(
        _l("Bericht"),
        validators=[_not_too_long],
        render_kw={"rows": 3, "autocomplete": "off"},
    )

    def validate_body(self, field):
        field.data = (field.data or "").strip()
        if not field.data and not getattr(self, "has_files", False):
            raise ValidationError(_l("Schrijf eerst een bericht."))


class EditMessageForm(ParroForm):
    body = TextAreaField(
        _l("Bericht"),
        validators=[DataRequired(_l("Een bericht kan niet leeg zijn. Wilt u het weghalen? "
                                    "Kies dan Verwijderen.")), _not_too_long],
        render_kw={"rows": 3},
    )


class OfficeForm(ParroForm):
    # Checked against the policy in the view: one's own child, or the family.
    subject = RadioField(_l("Waarover?"), validate_choice=False,
                         validators=[DataRequired(_l("Kies waarover u schrijft."))])
    body = TextAreaField(
        _l("Bericht"),
        validators=[DataRequired(_l("Schrijf eerst een bericht.")), _not_too_long],
        render_kw={"rows": 5},
    )


class StartChatForm(ParroForm):
    title = StringField(
        _l("Onderwerp"),
        validators=[DataRequired(_l("Geef het gesprek een onderwerp.")), Length(max=120),
                    single_line],
    )
    guardians = MultiCheckboxField(
        _l("Met wie?"),
        coerce=to_id,
        validate_choice=False,  # checked against the policy in the view
        validators=[DataRequired(_l("Kies minstens één ouder of verzorger."))],
    )


class AvailabilityForm(ParroForm):
    weekdays = MultiCheckboxField(
        _l("Mijn werkdagen"),
        coerce=to_id,
        choices=WEEKDAYS,
        validators=[DataRequired(_l("Kies minstens één werkdag."))],
    )
    starts_at = TimeField(
        _l("Van"), validators=[DataRequired(_l("Vul een begintijd in, bijvoorbeeld 08:00."))]
    )
    ends_at = TimeField(
        _l("Tot"), validators=[DataRequired(_l("Vul een eindtijd in, bijvoorbeeld 16:30."))]
    )
    chat_off = BooleanField(_l("Chat tijdelijk uitzetten"))
    off_until = DateField(
        _l("Uit tot en met"),
        validators=[Optional()],
    )
    off_message = TextAreaField(
        _l("Bericht voor ouders als de chat uit staat"),
        validators=[Length(max=300, message=_l("Maximaal 300 tekens."))],
        render_kw={"rows": 2},
    )

    def validate_ends_at(self, field):
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("De eindtijd moet na de begintijd liggen."))

    def validate_off_until(self, field):
        if field.data and field.data < clock.today():
            raise ValidationError(_l("Deze datum is al voorbij."))

