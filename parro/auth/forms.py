from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..forms import LANGUAGES, ParroForm, add_error, email_field, language_field, single_line
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
            raise ValidationError(_l("Kies een van de mogelijkheden."))


class ModeField(_Checked, RadioField):
    pass


class TimeChoiceField(_Checked, SelectField):
    pass


class CheckField(BooleanField):
    """A checkbox that refuses any posted value but its own (a forged one changes nothing)."""

    def pre_validate(self, form):
        if self.raw_data and self.raw_data != ["y"]:
            raise ValidationError(_l("Kies een van de mogelijkheden."))


def notification_settings_form(user, setting, choices, formdata=None):
    """Per category the user gets: push on or off and the mail; the digest time; for
    parents their quiet hours. Categories the user does not get are not fields: posted,
    they are ignored."""
    from .. import notifications as n

    categories = n.categories_for(user)

    class NotificationSettingsForm(ParroForm):
        def validate(self, extra_validators=None):
            ok = super().validate(extra_validators)
            for category in categories:
                push, mail = self[f"{category.key}_push"], self[category.key]
                if not mail.errors and not push.errors and \
                        not n.reaches(category.key, push.data, mail.data):
                    add_error(mail, _l(
                        "%(category)s moeten u op minstens één manier bereiken: zet de "
                        "pushmelding aan of kies direct of dagelijks overzicht.",
                        category=category.label,
                    ))
                    ok = False
            quiet = getattr(self, "quiet", None)
            if quiet is not None and quiet.data and not self.quiet_from.errors \
                    and self.quiet_from.data == self.quiet_until.data:
                add_error(self.quiet_until, _l(
                    "De stille uren moeten eindigen op een andere tijd dan ze beginnen."))
                ok = False
            return ok

    data = {}
    options = [SelectChoice(m, n.MODE_LABELS[m]) for m in n.MAIL_MODES]
    for category in categories:
        setattr(NotificationSettingsForm, f"{category.key}_push",
                CheckField(_l("Pushmelding")))
        setattr(NotificationSettingsForm, category.key,
                ModeField(_l("E-mail"), choices=options, description=category.hint or ""))
        data[f"{category.key}_push"] = choices[category.key].push
        data[category.key] = choices[category.key].mail
    NotificationSettingsForm.digest_time = TimeChoiceField(
        _l("Tijd van het dagelijks overzicht"),
        choices=[SelectChoice(t.strftime("%H:%M")) for t in n.DIGEST_TIMES],
    )
    data["digest_time"] = setting.digest_time.strftime("%H:%M")
    if not user.is_staff:
        times = [SelectChoice(t.strftime("%H:%M")) for t in n.QUIET_TIMES]
        NotificationSettingsForm.quiet = CheckField(_l("Stille uren aan"))
        NotificationSettingsForm.quiet_from = TimeChoiceField(_l("Van"), choices=times)
        NotificationSettingsForm.quiet_until = TimeChoiceField(_l("Tot"), choices=times)
        data["quiet"] = setting.quiet
        data["quiet_from"] = setting.quiet_from.strftime("%H:%M")
        data["quiet_until"] = setting.quiet_until.strftime("%H:%M")
    return NotificationSettingsForm(formdata=formdata, data=data)
