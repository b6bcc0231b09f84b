from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..forms import ParroForm, stripped


class ReportForm(ParroForm):
    reason = TextAreaField(
        _l("Waarom meldt u dit?"),
        validators=[
            DataRequired(_l("Schrijf kort op wat er niet klopt.")),
            Length(max=500, message=_l("Houd het kort: hoogstens 500 tekens.")),
        ],
        filters=[stripped],
        render_kw={"rows": 4, "maxlength": 500},
    )


class HandleReportForm(ParroForm):
    decision = RadioField(
        _l("Wat doet u?"),
        choices=[SelectChoice("hide", _l("Verbergen voor iedereen")),
                 SelectChoice("dismiss", _l("Laten staan"))],
        validators=[DataRequired(_l("Kies verbergen of laten staan."))],
    )
    answer = TextAreaField(
        _l("Uw antwoord"),
        validators=[
            DataRequired(_l("Schrijf een antwoord voor wie het meldde.")),
            Length(max=2000, message=_l("Hoogstens 2000 tekens.")),
        ],
        filters=[stripped],
        render_kw={"rows": 3},
    )
    author_answer = TextAreaField(
        _l("Uitleg voor de schrijver"),
        validators=[Length(max=2000, message=_l("Hoogstens 2000 tekens."))],
        filters=[stripped],
        render_kw={"rows": 3},
    )

    def validate_author_answer(self, field):
        if self.decision.data == "hide" and not field.data:
            raise ValidationError(_l("Schrijf de schrijver waarom het bericht verborgen wordt."))
