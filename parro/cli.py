"""flask --app app <command>: setup, demo, mail send, notifications digest, backup, restore,
retention."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import select

from .extensions import db
from .models import School


def init_app(app: Flask) -> None:
    @app.cli.command("setup")
    def setup():
        """Apply migrations; load the demo school into an empty database."""
        upgrade()
        if db.session.scalar(select(School.id)) is None:
            from .demo import create_demo

            create_demo()
            click.echo("Demo school loaded.")
        from .demo import print_logins

        print_logins()

    @app.cli.command("demo")
    @click.option("--scale", default=None, metavar="small|medium|large|FACTOR|board",
                  help="Add five years of history for the benchmark: large is 40 groups, "
                  "1,000 children, 50,000 posts, 500,000 messages; medium a tenth, small a "
                  "hundredth, or a number (1 = large). board: a school board of 20 schools "
                  "of 300-500 children (the demo school and 19 more).")
    def demo(scale):
        """Load the demo school (into an empty database)."""
        from .demo import create_demo, print_logins

        if db.session.scalar(select(School.id)) is not None:
            raise click.ClickException(
                "The database already holds a school; demo needs an empty one.")
        factor = None
        if scale is not None and scale != "board":
            from .demo_scale import add_history, scale_factor

            factor = scale_factor(scale)
        school = create_demo()
        if factor is not None:
            add_history(school, factor)
        made = None
        if scale == "board":
            from .demo_board import add_board

            made = add_board(school)
        print_logins()
        if made:
            from .demo_board import print_board_logins

            print_board_logins(made)

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--name", default="", help="The admin's name.")
    @click.option("--school", "school_name", default=None,
                  help="The school's name; needed when the database has no school yet.")
    def create_admin(email, name, school_name):
        """Start a production school: the school and its first admin account.

        Queues the activation mail and prints its link, so the first admin can
        get in even before mail works.
        """
        import re

        from .auth.service import AccountError, invite_staff
        from .models import OutboxMail, Role

        school = db.session.scalar(select(School).order_by(School.id).limit(1))
        if school is None:
            if not school_name:
                raise click.ClickException("No school yet: give its name with --school.")
            school = School(name=school_name)
            db.session.add(school)
            db.session.flush()
        try:
            user = invite_staff(email, name, Role.ADMIN, invited_by=None, school=school)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        mail = db.session.scalar(
            select(OutboxMail).where(OutboxMail.recipient == user.email)
            .order_by(OutboxMail.id.desc())
        )
        link = re.search(r"\S*/activeren/\S+", mail.body_text)
        click.echo(f"Admin account for {user.email} created; activation mail queued.")
        if link:
            days = app.config["INVITATION_DAYS"]
            click.echo(f"Activation link (valid {days} days): {link.group(0)}")

    @app.cli.command("allow-staff-passwords")
    def allow_staff_passwords():
        """Emergency access: staff may log in with their password again.

        For when the school account cannot be used (the provider is down or its
        settings are wrong) while the school requires it. An admin turns the rule on
        again under Beheer → Schoolgegevens.
        """
        from .admin.service import set_school_account_required

        schools = list(db.session.scalars(select(School).where(School.require_school_account)))
        for school in schools:
            set_school_account_required(school, False)
        db.session.commit()
        if schools:
            click.echo("Staff may log in with their password again (recorded in the audit log).")
        else:
            click.echo("Staff could already log in with their password; nothing changed.")

    # An AppGroup, so that its commands run inside the app context.
    mail_group = AppGroup("mail", help="The mail outbox.")
    app.cli.add_command(mail_group)

    @mail_group.command("send")
    @click.option("--loop", is_flag=True, help="Keep running, checking every 10 seconds.")
    def mail_send(loop):
        """Deliver the queued mail and pushes that are due (for cron or a worker)."""
        import time

        from . import push
        from .mail import send_all

        while True:
            sent, failed = send_all()
            pushes = push.send_all()
            if sent or failed or any(pushes.values()) or not loop:
                click.echo(f"{sent} sent, {failed} failed (will be retried); pushes: "
                           f"{pushes['sent']} sent, {pushes['retry']} to retry, "
                           f"{pushes['failed']} failed, {pushes['gone']} to devices that "
                           "are gone (removed)")
            if not loop:
                break
            time.sleep(10)

    media_group = AppGroup("media", help="Stored photos, videos and files.")
    app.cli.add_command(media_group)

    @media_group.command("variants")
    @click.option("--batch-size", default=200, type=click.IntRange(min=1), show_default=True,
                  help="Photos per transaction.")
    def media_variants(batch_size):
        """Make the WebP sizes of photos stored before parro made them (once, after upgrading)."""
        from .media.variants import make_missing

        counts = make_missing(batch_size, echo=click.echo)
        click.echo(f"WebP sizes made for {counts.made} photos"
                   + (f"; {counts.missing} without their file on disk, left as they are"
                      if counts.missing else "") + ".")

    notifications_group = AppGroup("notifications", help="E-mailberichten.")
    app.cli.add_command(notifications_group)

    @notifications_group.command("digest")
    def notifications_digest():
        """Queue the daily digests that are due and the chat's mail (cron: every 5 minutes)."""
        from .notifications import run_and_report

        run_and_report()

    @app.cli.command("backup")
    @click.argument("directory", type=click.Path())
    def backup_command(directory):
        """Write a snapshot of the database and the media into DIRECTORY."""
        from .backup import BackupError, backup

        try:
            path = backup(directory)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Backup written to {path}")

    @app.cli.command("restore")
    @click.argument("snapshot", type=click.Path())
    def restore_command(snapshot):
        """Restore a snapshot folder (made by backup) into this empty instance."""
        from .backup import BackupError, restore

        try:
            manifest = restore(snapshot)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Restored the backup of {manifest['created_at']} "
                   f"({len(manifest['files'])} files, revision {manifest['alembic_revision']}).")

    @app.cli.command("retention")
    @click.option("--years", default=None,
                  help="School years to keep (default: the RETENTION_YEARS setting, 2).")
    @click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
    @click.option("--batch-size", default=1000, type=click.IntRange(min=1), show_default=True,
                  help="Rows removed per transaction.")
    def retention_command(years, dry_run, batch_size):
        """Remove content older than the configured number of school years.

        With N years to keep, the current school year and the N-1 school years
        before it stay (the school years as set up under Beheer); everything
        dated before the first day of the oldest of those goes: posts and
        announcements with their files, chat messages with their files, absence
        reports, activities that were over with their bookings, the consent
        history of children who left, outbox mail, sessions, login attempts and
        audit events. Nothing is removed while there are fewer than N school
        years. A board's schools each go by their own school years. Also, on
        every run: the files kept from refused posts that expired
        (PENDING_UPLOAD_HOURS). Writes one audit event (not with --dry-run).
        """
        from .retention import RetentionError, parse_years, run

        try:
            years = parse_years(app.config["RETENTION_YEARS"] if years is None else years)
            result = run(years, dry_run=dry_run, batch=batch_size)
        except RetentionError as exc:
            raise click.ClickException(str(exc)) from exc
        if result.kept is None:
            click.echo(f"Keeping {years} school year(s), but there are fewer than that up to "
                       "the current one: nothing removed.")
            if result.counts.get("pending_uploads"):
                click.echo("Only the expired files of refused posts: "
                           f"{result.counts['pending_uploads']}.")
            return
        verb = "would remove" if dry_run else "removed"
        if len(result.schools) > 1:  # a board: each school by its own years
            for school, kept in result.schools:
                click.echo(f"{school.name}: " + (
                    f"keeping {', '.join(y.name for y in reversed(kept))}; {verb} what is "
                    f"dated before {kept[-1].starts_on.isoformat()}" if kept else
                    f"fewer than {years} school year(s) up to the current one: nothing "
                    "of it removed"))
            click.echo(f"Of no one school, {verb} what is dated before "
                       f"{result.first_day.isoformat()}. In all:")
        else:
            names = ", ".join(y.name for y in reversed(result.kept))
            click.echo(f"Keeping {names}; {verb} what is dated before "
                       f"{result.first_day.isoformat()}:")
        for name, count in result.counts.items():
            click.echo(f"  {name.replace('_', ' ')}: {count}")
        if dry_run:
            click.echo("Dry run: nothing was removed.")
