from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FileField,
    MultipleFileField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .. import clock
from ..forms import MultiCheckboxField, ParroForm, single_line
from ..inputs import to_id


def _body_length(form, field):
    limit = current_app.config["POST_MAX_CHARS"]
    if field.data and len(field.data) > limit:
        raise ValidationError(
            _l("Het bericht is te lang: %(n)s tekens, het maximum is %(max)s.",
               n=len(field.data), max=limit)
        )


def local_to_utc(value: datetime) -> datetime:
    """A naive date-time the user typed, read in the school's time zone."""
    return value.replace(tzinfo=clock.school_tz())


class _Placement:
    """The checks of where and when a post appears, shared by posting and editing."""

    def validate_groups(self, field):
        if not field.data:
            raise ValidationError(_l("Kies minstens één groep."))

    def validate_publish_at(self, field):
        if field.data and local_to_utc(field.data) <= clock.now():
            raise ValidationError(
                _l("Dit tijdstip is al voorbij. Laat het veld leeg om het bericht nu te plaatsen.")
            )


class PostForm(_Placement, ParroForm):
    groups = MultiCheckboxField(_l("Plaatsen in"), coerce=to_id)
    title = StringField(_l("Titel (mag leeg blijven)"), validators=[Length(max=150), single_line])
    body = TextAreaField(_l("Bericht"), validators=[_body_length], render_kw={"rows": 6})
    files = MultipleFileField(_l("Foto's, video's en PDF-bestanden"))
    # Checked against the groups and consent by the view, with a message naming the children.
    tagged = MultiCheckboxField(_l("Wie staan er op de foto's?"), coerce=to_id,
                                validate_choice=False)
    important = BooleanField(_l("Belangrijk: stuur dit bericht ook per e-mail naar alle ouders"))
    publish_at = DateTimeLocalField(
        _l("Later plaatsen op"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )

    def has_content(self) -> bool:
        return bool((self.body.data or "").strip() or (self.title.data or "").strip())


class EditPostForm(_Placement, ParroForm):
    title = StringField(_l("Titel (mag leeg blijven)"), validators=[Length(max=150), single_line])
    body = TextAreaField(_l("Bericht"), validators=[_body_length], render_kw={"rows": 8})
    remove = MultiCheckboxField(_l("Bijlagen verwijderen"), coerce=to_id)
    # Checked by the view against the teacher's groups, the children in them and consent.
    groups = MultiCheckboxField(_l("Geplaatst in"), coerce=to_id, validate_choice=False)
    tagged = MultiCheckboxField(_l("Wie staan er op de foto's?"), coerce=to_id,
                                validate_choice=False)
    # Only while the post waits for its moment (the view removes it once it is online).
    publish_at = DateTimeLocalField(
        _l("Plaatsen op"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


class AnnouncementForm(ParroForm):
    title = StringField(
        _l("Titel"),
        validators=[DataRequired(_l("Geef de mededeling een titel.")), Length(max=150),
                    single_line],
    )
    body = TextAreaField(_l("Tekst"), validators=[_body_length], render_kw={"rows": 6})
    all_groups = BooleanField(_l("Voor alle groepen"), default=True)
    groups = MultiCheckboxField(_l("Of alleen voor deze groepen"), coerce=to_id)
    ends_on = DateField(
        _l("Bovenaan tonen tot en met"),
        validators=[DataRequired(_l("Kies tot wanneer de mededeling bovenaan staat."))],
    )
    newsletter = FileField(_l("Nieuwsbrief of ander PDF-bestand (mag leeg blijven)"))

    def validate_groups(self, field):
        if not self.all_groups.data and not field.data:
            raise ValidationError(_l("Kies de groepen, of vink 'Voor alle groepen' aan."))

    def validate_ends_on(self, field):
        if field.data and field.data < clock.today():
            raise ValidationError(_l("Deze datum is al voorbij."))
