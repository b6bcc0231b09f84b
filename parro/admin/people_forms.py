"""Forms of the staff and guardian administration."""

from flask_babel import lazy_gettext as _l
from wtforms import SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..forms import ParroForm, email_field, language_field, single_line


def role_field():
    return SelectField(
        _l("Rol"),
        choices=[SelectChoice("teacher", _l("Leerkracht")), SelectChoice("admin", _l("Beheerder"))],
        default="teacher",
    )


class StaffInviteForm(ParroForm):
    name = StringField(
        _l("Naam"), validators=[DataRequired(_l("Vul de naam in.")), Length(max=120), single_line]
    )
    email = email_field()
    role = role_field()
    locale = language_field(_l("Taal van de uitnodiging"))


class RoleForm(ParroForm):
    role = role_field()


class GuardianSearchForm(ParroForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(
        _l("Zoek op naam, e-mailadres of kind"), validators=[Length(max=100), single_line]
    )
