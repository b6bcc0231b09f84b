"""The base of every form: Flask-WTF's, with a CSRF field that renders without an id.

A page with several forms (a list with a button per row) would otherwise repeat
id="csrf_token", which is invalid HTML and confuses what labels point at.
"""

from __future__ import annotations

from flask_wtf import FlaskForm


class ParroForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def render_field(self, field, render_kw):
            if field.short_name == self.csrf_field_name:
                render_kw = {**render_kw, "id": False}  # WTForms leaves out False attributes
            return super().render_field(field, render_kw)
