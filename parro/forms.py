"""Form pieces every feature uses: the one-button form, checkboxes, e-mail and language fields."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length
from wtforms.widgets import CheckboxInput, ListWidget


class EmptyForm(FlaskForm):
    """A one-button form: only the CSRF token."""


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def email_field(label=None, **kw):
    return EmailField(
        label or _l("E-mailadres"),
        validators=[
            DataRequired(_l("Vul een e-mailadres in.")),
            Email(_l("Dit is geen geldig e-mailadres."), check_deliverability=False),
            Length(max=254),
        ],
        # Phones and pasted addresses often carry a space at either end.
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"},
        **kw,
    )


LANGUAGES = [SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")]


def language_field(label=None):
    return SelectField(label or _l("Taal"), choices=LANGUAGES, default="nl")
