"""Form pieces every feature uses: the base form, the one-button form, checkboxes,
e-mail and language fields, and the one-line check."""

from __future__ import annotations

import contextlib
import re

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


class ParroForm(FlaskForm):
    """The base of every form: Flask-WTF's, with a CSRF field that renders without an id.

    A page with several forms (a list with a button per row) would otherwise repeat
    id="csrf_token", which is invalid HTML and confuses what labels point at.
    """

    class Meta(FlaskForm.Meta):
        def render_field(self, field, render_kw):
            if field.short_name == self.csrf_field_name:
                render_kw = {**render_kw, "id": False}  # WTForms leaves out False attributes
            return super().render_field(field, render_kw)


class EmptyForm(ParroForm):
    """A one-button form: only the CSRF token."""


def form_status() -> int:
    """A form's page: 422 when it is shown again after a POST (what was sent was refused)."""
    return 422 if request.method == "POST" else 200


def add_error(field, *messages) -> None:
    """Show `messages` at `field` too (before validation its errors are a tuple)."""
    field.errors = [*field.errors, *messages]


class FieldError(Exception):
    """Input a service refuses: `message` for the user, and `field`, the name of the form
    field it belongs to (None or "": the form as a whole). Each feature raises its own
    subclass (admin's Invalid, absence's AbsenceError, ...), so a view catches only its own."""

    def __init__(self, field: str | None, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def show_error(form, error: FieldError, default=None) -> None:
    """Show a service's refusal at the field it names; else at `default`, else above the form."""
    field = form._fields.get(error.field, default)
    if field is None:
        form.form_errors.append(error.message)
    else:
        add_error(field, error.message)


@contextlib.contextmanager
def showing_refusal(form, default=None):
    """Around a service call and what follows when it succeeds (the flash, the redirect):
    a refusal (FieldError) ends the block and is shown on the form (show_error), which the
    view then renders again."""
    try:
        yield
    except FieldError as error:
        show_error(form, error, default)


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes. A value sent twice counts once (a
    browser never does; a hand-made request would else store a group twice: a 500)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist):
        super().process_formdata(list(dict.fromkeys(valuelist)))


# Line breaks (CR, LF and what str.splitlines() also splits on) and the other control
# characters except the tab.
_NOT_ONE_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


class SingleLine:
    """Every one-line text field's validator: no line breaks or control characters.

    A name, title, subject or school name ends up in places where a line break is
    structure, not text: a mail header (where it cannot be sent, or adds a header), a
    line of an .ics file, an HTTP header. Pasted text brings them along unseen, so the
    message says what to do. tests/test_hostile_input.py checks that every one-line
    field of every form has this validator.
    """

    field_flags: dict = {}

    def __call__(self, form, field):
        if isinstance(field.data, str) and _NOT_ONE_LINE.search(field.data):
            raise ValidationError(_l(
                "Dit veld is één regel: haal de regelovergang (of een ander onzichtbaar teken) "
                "weg, bijvoorbeeld uit geplakte tekst."
            ))


single_line = SingleLine()


class EmailAddress(Email):
    """WTForms' Email check, which refuses an address of more than 254 characters (no
    address is longer) before email_validator reads it: that library looks at every
    character in Python, about two seconds of CPU for a 10 MB field."""

    def __init__(self):
        super().__init__(_l("Dit is geen geldig e-mailadres."), check_deliverability=False)

    def __call__(self, form, field):
        if isinstance(field.data, str) and len(field.data) > 254:
            raise ValidationError(self.message)
        super().__call__(form, field)


def stripped(value):
    """A field filter: the text without white space at either end."""
    return value.strip() if isinstance(value, str) else value


def email_field(label=None, **kw):
    return EmailField(
        label or _l("E-mailadres"),
        validators=[
            DataRequired(_l("Vul een e-mailadres in.")),
            EmailAddress(),
            Length(max=254),
            single_line,
        ],
        # Phones and pasted addresses often carry a space at either end.
        filters=[stripped],
        render_kw={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"},
        **kw,
    )


# Dates and times as people type them (the browser's date field sends the first form).
DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"]
TIME_FORMATS = ["%H:%M", "%H.%M"]
BAD_DATE = _l("Vul een datum in, bijvoorbeeld 14-09-2026.")
BAD_TIME = _l("Vul een tijd in, bijvoorbeeld 10:30.")


LANGUAGES = [SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")]

# ISO weekday numbers, Monday 1: teachers' working days and the office's opening days.
WEEKDAYS = [SelectChoice(number, name) for number, name in enumerate([
    _l("maandag"), _l("dinsdag"), _l("woensdag"), _l("donderdag"), _l("vrijdag"),
    _l("zaterdag"), _l("zondag")], start=1)]


def language_field(label=None):
    return SelectField(label or _l("Taal"), choices=LANGUAGES, default="nl")
