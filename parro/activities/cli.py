"""flask --app app activities remind: the reminder mails (run it daily from cron)."""

from __future__ import annotations

import click

from . import bp


@bp.cli.command("remind")
def remind():
    """Queue due reminder mails: before deadlines and the day before a conference."""
    from .reminders import send_reminders

    deadline, day_before = send_reminders()
    click.echo(f"{deadline} deadline reminders, {day_before} day-before reminders queued")
