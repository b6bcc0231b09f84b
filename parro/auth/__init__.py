from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import activation, push_views, sso_views, twofactor_views, views  # noqa: E402,F401
