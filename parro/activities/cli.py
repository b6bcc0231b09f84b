"""flask --app app activities remind: the reminder mails (run it daily from cron)."""

from __future__ import annotations

import click
from flask import current_app

from ..database import writer_transactions
from . import bp


@bp.cli.command("remind")
def remind():
    """Queue due reminder mails: before deadlines and the day before a conference."""
    from .reminders import send_reminders

    # Mail templates render in the layout's context, which expects a request;
    # writer_transactions(): each reminder's transaction is a writer's from its start.
    request = current_app.test_request_context(base_url=current_app.config["BASE_URL"])
    with request, writer_transactions():
        deadline, day_before = send_reminders()
    click.echo(f"{deadline} deadline reminders, {day_before} day-before reminders queued")
