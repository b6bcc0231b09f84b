"""flask --app app <command>: setup, demo, mail send, notifications digest, backup, restore,
retention, and for a school board: school add, school list, board-admin."""

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
        from .demo import create_demo, print_logins

        upgrade()
        if db.session.scalar(select(School.id)) is None:
            create_demo()
            click.echo("Demo school loaded.")
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
        from .demo_board import add_board, print_board_logins
        from .demo_scale import add_history, scale_factor

        if db.session.scalar(select(School.id)) is not None:
            raise click.ClickException(
                "The database already holds a school; demo needs an empty one.")
        factor = scale_factor(scale) if scale not in (None, "board") else None
        school = create_demo()
        if factor is not None:
            add_history(school, factor)
        made = add_board(school) if scale == "board" else None
        print_logins()
        if made:
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
        from .auth.service import AccountError, invite_staff
        from .models import Role

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
        click.echo(f"Admin account for {user.email} created; activation mail queued.")
        _echo_activation_link(user)

    def _echo_activation_link(user) -> None:
        """Print the link of the newest invitation to `user`, so they get in before mail works."""
        import re

        from .models import OutboxMail

        mail = db.session.scalar(
            select(OutboxMail).where(OutboxMail.recipient == user.email)
            .order_by(OutboxMail.id.desc())
        )
        link = re.search(r"\S*/activeren/\S+", mail.body_text) if mail else None
        if link:
            days = app.config["INVITATION_DAYS"]
            click.echo(f"Activation link (valid {days} days): {link.group(0)}")

    def _checked_email(email: str) -> str:
        from email_validator import EmailNotValidError, validate_email

        try:
            validate_email(email.strip(), check_deliverability=False)
        except EmailNotValidError as exc:
            raise click.ClickException(f"{email!r} is not an e-mail address: {exc}") from None
        return email.strip()

    # -- a school board: several schools in one installation (README) --

    school_group = AppGroup("school", help="The schools of this installation (a school board).")
    app.cli.add_command(school_group)

    @school_group.command("add")
    @click.argument("name")
    @click.option("--admin", "admin_email", default=None, metavar="EMAIL",
                  help="Its first admin: a new address is invited (the link is printed); an "
                  "admin of another school becomes this school's admin too.")
    def school_add(name, admin_email):
        """Add a school, with its current school year and the usual absence reasons."""
        from .board import service
        from .clock import today

        if admin_email is not None:
            admin_email = _checked_email(admin_email)
            problem = service.appointment_problem(admin_email, None)
            if problem:
                raise click.ClickException(problem)
        year_name, starts, ends = service.school_year_of(today())
        try:
            school = service.create_school(name, year_name, starts, ends)
        except service.Invalid as exc:
            raise click.ClickException(str(exc.message)) from exc
        click.echo(f"School {school.name!r} added (id {school.id}), with the school year "
                   f"{year_name} ({starts.isoformat()} to {ends.isoformat()}) and the usual "
                   "absence reasons.")
        if admin_email is None:
            click.echo("Appoint its first admin on the board's page (Bestuur), as a board "
                       "admin (flask board-admin EMAIL).")
            return
        try:
            appointed = service.appoint_admin(school, admin_email, "", by=None)
        except service.Invalid as exc:
            raise click.ClickException(
                f"The school was added, but not its admin: {exc.message}") from exc
        if appointed.invited:
            click.echo(f"Admin account for {appointed.user.email} created; activation mail "
                       "queued.")
            _echo_activation_link(appointed.user)
        else:
            click.echo(f"{appointed.user.email} was an admin of another school already and is "
                       f"now an admin of {school.name} too (they switch with Andere school).")

    @school_group.command("list")
    def school_list():
        """List the schools, with their current year, admins, families and active accounts."""
        from .board import service

        rows = service.figures().schools
        if not rows:
            click.echo("No school yet: add one with flask school add NAME.")
        for row in rows:
            click.echo(f"{row.school.id}\t{row.school.name}\tyear {row.year or '-'}\t"
                       f"{row.admins} admin(s)\t{row.families} families\t"
                       f"{row.active} active accounts")

    @app.cli.command("board-admin")
    @click.argument("email")
    @click.option("--name", default="", help="The board admin's name.")
    @click.option("--reset-two-factor", is_flag=True,
                  help="Turn off this board admin's two-factor login (a lost phone, no "
                  "recovery code left) and log them out everywhere; they set it up again at "
                  "their next login.")
    def board_admin(email, name, reset_two_factor):
        """Invite a board admin: adds schools and appoints their admins on the Bestuur page,
        sees every school's figures, never its posts or chats.

        A board admin who has not activated their account yet gets a fresh link.
        """
        from .auth.service import AccountError, invite_board_admin

        if reset_two_factor:
            _reset_board_admin_two_factor(email)
            return
        try:
            user = invite_board_admin(_checked_email(email), name)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Board admin account for {user.email}: activation mail queued.")
        _echo_activation_link(user)

    def _reset_board_admin_two_factor(email: str) -> None:
        from .auth import twofactor
        from .models import User
        from .models.user import normalize_email

        user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None or not user.is_board_admin:
            raise click.ClickException(f"{email!r} is not a board admin's address. Staff: "
                                       "their school's admin turns it off under Beheer → "
                                       "Medewerkers.")
        if not user.has_two_factor:
            click.echo(f"{user.email} had no two-factor login; nothing changed.")
            return
        twofactor.reset_by_admin(user)
        click.echo(f"Two-factor login of {user.email} is off, and they are logged out on "
                   "every device (recorded in the audit log). At their next login with their "
                   "password they set it up again.")

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
    @click.option("--school", "school_id", type=int, default=None, metavar="ID",
                  help="Only this school's data and files (ids: flask school list).")
    def backup_command(directory, school_id):
        """Write a snapshot of the database and the media into DIRECTORY."""
        from .backup import BackupError, backup

        try:
            path = backup(directory, school_id=school_id)
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
