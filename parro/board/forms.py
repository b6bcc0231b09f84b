"""Forms of the board's pages: a new school, appointing a school's admin."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from ..admin.forms import date_field, max_length
from ..forms import ParroForm, email_field, language_field, single_line, stripped


class NewSchoolForm(ParroForm):
    name = StringField(
        _l("Naam van de school"), filters=[stripped],
        validators=[DataRequired(_l("Vul de naam van de school in.")), max_length(120),
                    single_line],
    )
    # The school's first school year, its current one (service.check_year says what is wrong).
    year_name = StringField(
        _l("Huidig schooljaar"), filters=[stripped],
        validators=[DataRequired(_l("Vul de naam van het schooljaar in.")), single_line],
        render_kw={"placeholder": "2026-2027", "inputmode": "numeric"},
    )
    starts_on = date_field(_l("Eerste dag"))
    ends_on = date_field(_l("Laatste dag"))


class AppointAdminForm(ParroForm):
    email = email_field()
    name = StringField(
        _l("Naam"), filters=[stripped],
        validators=[Optional(), Length(max=120), single_line],
    )
    locale = language_field(_l("Taal van de uitnodiging"))
