"""Extensions, created unbound and bound to the app in create_app."""

from flask import g
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that migrations can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
# Logins live in UserSession rows behind their own cookie (security.py), not in
# Flask's session: Flask-Login's session protection had nothing to protect and
# rewrote the session cookie ("_fresh") on requests that changed nothing.
login_manager.session_protection = None
csrf = CSRFProtect()
babel = Babel()
compress = Compress()
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _before_the_view() -> bool:
    """Exempt what Flask-Limiter checks before the view: our limits all sit on their views
    (limiter.limit), which check them when the view is called, after
    parro.limits_on_views_only() said so; we declare no default or application-wide limits,
    which its own before_request hook would check on every request."""
    return not g.get("parro_view_limits", False)
