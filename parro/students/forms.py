from flask_babel import lazy_gettext as _l

from ..forms import ParroForm, email_field, language_field


class InviteGuardianForm(ParroForm):
    email = email_field(_l("E-mailadres van de ouder of verzorger"))
    locale = language_field(_l("Taal van de uitnodiging"))
