from flask import Blueprint

bp = Blueprint("chat", __name__, url_prefix="/gesprekken")

from . import views  # noqa: F401


@bp.cli.command("digest")
def digest_command():
    """Send chat email: staff digests at the start of their day, 15-minute notices (cron: every 5 min)."""
    import click

    from .digest import send_digests, send_notices

    digests = send_digests()
    notices = send_notices()
    click.echo(f"{digests} digest(s), {notices} notice(s) queued")
