from flask_babel import lazy_gettext as _l

from ..auth.forms import email_field, language_field
from ..forms import ParroForm


class InviteGuardianForm(ParroForm):
    email = email_field(_l("E-mailadres van de ouder of verzorger"))
    locale = language_field(_l("Taal van de uitnodiging"))
