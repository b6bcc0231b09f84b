from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..forms import LANGUAGES, ParroForm, add_error, email_field, language_field, single_line
from .passwords import password_problem


def _password_field(label, message, autocomplete: str, *validators) -> PasswordField:
    """A required password field; `autocomplete` tells the password manager which one."""
    return PasswordField(label, validators=[DataRequired(message), *validators],
                         render_kw={"autocomplete": autocomplete})


def _password_again(label, message) -> PasswordField:
    """The new password typed a second time, which must be the same."""
    return _password_field(label, message, "new-password",
                           EqualTo("password", _l("De twee wachtwoorden zijn niet gelijk.")))


def _name_field(label) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(_l("Vul uw naam in.")), Length(max=120), single_line],
        render_kw={"autocomplete": "name"},
    )


class LoginForm(ParroForm):
    email = EmailField(
        _l("E-mailadres"),
        validators=[DataRequired(_l("Vul uw e-mailadres in.")), Length(max=254), single_line],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = _password_field(_l("Wachtwoord"), _l("Vul uw wachtwoord in."),
                               "current-password", Length(max=1024))
    remember = BooleanField(_l("Ingelogd blijven op dit apparaat"))


class AccountForm(ParroForm):
    name = _name_field(_l("Naam"))
    locale = SelectField(_l("Taal"), choices=LANGUAGES)


class ForgotPasswordForm(ParroForm):
    email = email_field()


class NewPasswordForm(ParroForm):
    """A new password, typed twice, checked against the rules and the user's own details."""

    password = _password_field(_l("Nieuw wachtwoord"), _l("Kies een nieuw wachtwoord."),
                               "new-password")
    confirm = _password_again(_l("Nieuw wachtwoord nogmaals"),
                              _l("Typ het nieuwe wachtwoord nog een keer."))

    def __init__(self, *args, user_inputs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_inputs = list(user_inputs)

    def validate_password(self, field):
        problem = password_problem(field.data, self.user_inputs)
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordForm):
    current = _password_field(_l("Huidig wachtwoord"), _l("Vul uw huidige wachtwoord in."),
                              "current-password", Length(max=1024))


# -- invitations and activation ------------------------------------------------

class ActivationForm(ParroForm):
    accept = BooleanField(
        _l("Ik houd me aan deze afspraken"),
        validators=[DataRequired(_l("U kunt parro pas gebruiken als u de afspraken accepteert."))],
    )
    name = _name_field(_l("Uw naam"))
    locale = language_field()
    password = _password_field(_l("Kies een wachtwoord"), _l("Kies een wachtwoord."),
                               "new-password", Length(max=1024))
    password_again = _password_again(_l("Herhaal het wachtwoord"),
                                     _l("Vul het wachtwoord nog een keer in."))


# -- two-factor login -----------------------------------------------------------------


class TwoFactorCodeForm(ParroForm):
    code = StringField(
        _l("Code uit de app"),
        validators=[DataRequired(_l("Vul de code uit de app in.")), Length(max=40), single_line],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                   "spellcheck": "false"},
    )


class TwoFactorDisableForm(ParroForm):
    proof = _password_field(_l("Uw wachtwoord of een code uit de app"),
                            _l("Vul uw wachtwoord of een code uit de app in."),
                            "current-password", Length(max=1024))


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


def notification_settings_form(user, formdata=None):
    """Per category the user gets (the form's `categories`): push on or off and the mail;
    the digest time; for parents their quiet hours. Categories the user does not get are
    not fields: posted, they are ignored."""
    from .. import notifications as n

    categories = n.categories_for(user)
    choices, setting = n.choices_of(user), n.setting_of(user)

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

    NotificationSettingsForm.categories = categories
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
