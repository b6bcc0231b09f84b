from flask import Blueprint

bp = Blueprint("chat", __name__, url_prefix="/gesprekken")

from . import views  # noqa: E402,F401


@bp.cli.command("digest")
def digest_command():
    """Mail staff whose working period has begun one overview of what came in (cron: every 5 min)."""
    import click

    from .digest import send_digests

    click.echo(f"{send_digests()} digest(s) queued")
