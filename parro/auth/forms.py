from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..forms import LANGUAGES, ParroForm, email_field, language_field, single_line
from .passwords import password_problem


class LoginForm(ParroForm):
    email = EmailField(
        _l("E-mailadres"),
        validators=[DataRequired(_l("Vul uw e-mailadres in.")), Length(max=254), single_line],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Wachtwoord"),
        validators=[DataRequired(_l("Vul uw wachtwoord in.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Ingelogd blijven op dit apparaat"))


class AccountForm(ParroForm):
    name = StringField(
        _l("Naam"),
        validators=[DataRequired(_l("Vul uw naam in.")), Length(max=120), single_line],
        render_kw={"autocomplete": "name"},
    )
    locale = SelectField(_l("Taal"), choices=LANGUAGES)


class ForgotPasswordForm(ParroForm):
    email = email_field()


class NewPasswordForm(ParroForm):
    """A new password, typed twice, checked against the rules and the user's own details."""

    password = PasswordField(
        _l("Nieuw wachtwoord"),
        validators=[DataRequired(_l("Kies een nieuw wachtwoord."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Nieuw wachtwoord nogmaals"),
        validators=[
            DataRequired(_l("Typ het nieuwe wachtwoord nog een keer.")),
            EqualTo("password", _l("De twee wachtwoorden zijn niet gelijk.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, user_inputs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_inputs = list(user_inputs)

    def validate_password(self, field):
        problem = password_problem(field.data, self.user_inputs)
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Huidig wachtwoord"),
        validators=[DataRequired(_l("Vul uw huidige wachtwoord in.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


# -- invitations and activation ------------------------------------------------

class ActivationForm(ParroForm):
    accept = BooleanField(
        _l("Ik houd me aan deze afspraken"),
        validators=[DataRequired(_l("U kunt parro pas gebruiken als u de afspraken accepteert."))],
    )
    name = StringField(
        _l("Uw naam"),
        validators=[DataRequired(_l("Vul uw naam in.")), Length(max=120), single_line],
        render_kw={"autocomplete": "name"},
    )
    locale = language_field()
    password = PasswordField(
        _l("Kies een wachtwoord"),
        validators=[DataRequired(_l("Kies een wachtwoord.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    password_again = PasswordField(
        _l("Herhaal het wachtwoord"),
        validators=[
            DataRequired(_l("Vul het wachtwoord nog een keer in.")),
            EqualTo("password", _l("De twee wachtwoorden zijn niet gelijk.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


# -- two-factor login -----------------------------------------------------------------


def code_field(label, message):
    return StringField(
        label,
        validators=[DataRequired(message), Length(max=40), single_line],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                   "spellcheck": "false"},
    )


class TwoFactorCodeForm(ParroForm):
    code = code_field(_l("Code uit de app"), _l("Vul de code uit de app in."))


class TwoFactorDisableForm(ParroForm):
    proof = PasswordField(
        _l("Uw wachtwoord of een code uit de app"),
        validators=[DataRequired(_l("Vul uw wachtwoord of een code uit de app in.")),
                    Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class _Checked:
    """A radio group or select that says in Dutch what is wrong with a posted value."""

    def pre_validate(self, form):
        if self.data not in {choice.value for choice in self.choices}:
            refusal = getattr(self, "refusal", None) if self.data == "off" else None
            raise ValidationError(refusal or _l("Kies een van de mogelijkheden."))


class ModeField(_Checked, RadioField):
    pass


class TimeChoiceField(_Checked, SelectField):
    pass


def email_settings_form(user, setting, choices, formdata=None):
    """One radio group per category the user gets mail about, and the digest time."""
    from .. import notifications as n

    class EmailSettingsForm(ParroForm):
        pass

    data = {}
    for category in n.categories_for(user):
        modes = [n.DIRECT, n.DIGEST] + ([n.OFF] if not category.always_reaches else [])
        options = [SelectChoice(m, n.MODE_LABELS[m]) for m in modes]
        field = ModeField(category.label, choices=options, description=category.hint or "")
        setattr(EmailSettingsForm, category.key, field)
        data[category.key] = choices[category.key].mail
    EmailSettingsForm.digest_time = TimeChoiceField(
        _l("Tijd van het dagelijks overzicht"),
        choices=[SelectChoice(t.strftime("%H:%M")) for t in n.DIGEST_TIMES],
    )
    data["digest_time"] = setting.digest_time.strftime("%H:%M")
    form = EmailSettingsForm(formdata=formdata, data=data)
    for category in n.categories_for(user):
        if category.always_reaches:
            form[category.key].refusal = _l(
                "%(category)s kunt u niet uitzetten. Kies direct of dagelijks overzicht.",
                category=category.label,
            )
    return form
