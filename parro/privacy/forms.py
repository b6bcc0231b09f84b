from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import ParroForm, single_line

YES, NO = "ja", "nee"


class TopicForm(ParroForm):
    name = StringField(
        _l("Vraag"),
        validators=[DataRequired(_l("Geef de vraag een naam.")), Length(max=120), single_line],
    )
    description = TextAreaField(_l("Uitleg voor ouders (mag leeg blijven)"),
                                validators=[Length(max=2000)], render_kw={"rows": 3})
    position = IntegerField(_l("Volgorde"), default=10,
                            validators=[Optional(), NumberRange(min=0, max=999)])
    app_photos = BooleanField(_l("Deze vraag bepaalt wie foto's in parro zelf te zien krijgt"))


def _yes_no(label, answer: bool | None, validator) -> RadioField:
    """Yes or no to a consent question, filled in with `answer` (None: neither)."""
    return RadioField(
        label,
        choices=[
            SelectChoice(YES, _l("Ja, ik geef toestemming")),
            SelectChoice(NO, _l("Nee, geen toestemming")),
        ],
        validators=[validator],
        default={True: YES, False: NO}.get(answer),
    )


def consent_form(topics, current: dict[int, bool | None]):
    """One yes/no question per topic, filled in with the current answers."""

    class ConsentForm(ParroForm):
        pass

    for topic in topics:
        setattr(ConsentForm, f"topic_{topic.id}",
                _yes_no(topic.name, current.get(topic.id), Optional()))
    return ConsentForm()


def field_name(student_id: int, topic_id: int) -> str:
    return f"c_{student_id}_{topic_id}"


def round_form(questions):
    """Every child's privacy questions on one page: yes or no for each, none ticked
    beforehand; an answer already given this school year is filled in."""

    class RoundForm(ParroForm):
        pass

    for child in questions:
        for topic in child.topics:
            setattr(RoundForm, field_name(child.student.id, topic.id), _yes_no(
                topic.name, child.current.get(topic.id), InputRequired(_l("Kies ja of nee."))))
    return RoundForm()


class ReminderForm(ParroForm):
    """Remind the guardians of one group (or of all groups: no group)."""

    group_id = IntegerField(validators=[Optional()])
