"""Meldingen: every notification mail goes through notify(), which follows the user's choice.

Per category a user chooses the mail: "direct" (a mail at once), "digest" (a
line in one daily overview at the time they picked, school time zone) or "off";
and push to their phones, on or off, beside it (when a push may buzz: parro.push_hours).
Unchosen: push for chats and important posts, the digest for group posts, the rest
mailed at once. Important posts always reach
the user by at least one channel (mail off needs push on). Activity mails the
user must act on come even when off: in the digest. Staff quiet hours always
hold: a mail to a staff member outside their working hours
(parro.chat.availability) waits in the outbox until their next working period
starts. Account and security mails (activation, password reset) do not come
here: they always go at once.

Chat messages are not stored as lines: the digest asks the chat which unread
messages were never mailed (ReadState.notified_message_id), as the chat's own
notices do, so a message is mailed once, by whichever comes first.

`flask --app app notifications digest` (cron, every few minutes) sends the
digests that are due: at most one per user per day (a unique row per user and
day, written in the transaction that queues the mail), listing the lines that
came in before the chosen time and were in no earlier digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import clock
from .database import lock_row, writer_transactions
from .extensions import db
from .mail import CURRENT, account_school, queue_mail
from .models import (
    NotificationChoice,
    NotificationDigest,
    NotificationItem,
    NotificationSetting,
    PushSubscription,
    User,
)
from .policy import current_school_id
from .push_hours import DEFAULT_QUIET

DIRECT, DIGEST, OFF = "direct", "digest", "off"
MAIL_MODES = (DIRECT, DIGEST, OFF)
GROUP_POSTS, IMPORTANT_POSTS, CHAT, ACTIVITIES, ABSENCE = (
    "group_posts", "important_posts", "chat", "activities", "absence"
)


@dataclass(frozen=True)
class Category:
    key: str
    label: object  # lazy string
    hint: object | None = None
    always_reaches: bool = False  # by at least one channel: its mail cannot be off alone
    staff: bool = False  # shown to staff (guardians see every category)


CATEGORIES = [
    Category(GROUP_POSTS, _l("Berichten in de groep")),
    Category(IMPORTANT_POSTS, _l("Belangrijke berichten"),
             _l("Belangrijke berichten krijgt u altijd: als pushmelding, per e-mail of "
                "allebei. Zonder telefoon met meldingen komen ze per e-mail."),
             always_reaches=True),
    Category(CHAT, _l("Chatberichten"),
             _l("Direct: een e-mail als een bericht een kwartier ongelezen op u wacht."),
             staff=True),
    Category(ACTIVITIES, _l("Activiteiten"),
             _l("Herinneringen waarop u nog moet reageren krijgt u ook bij ‘uit’, in het "
                "dagelijks overzicht.")),
    Category(ABSENCE, _l("Bevestiging van een absentiemelding"),
             _l("Alleen als u bij de melding om een bevestiging vraagt.")),
]
BY_KEY = {c.key: c for c in CATEGORIES}
MODE_LABELS = {DIRECT: _l("Direct"), DIGEST: _l("Dagelijks overzicht"), OFF: _l("Uit")}
# The channels of a category nobody chose for. Push reaches only the phones (and
# computers) where the user turned it on (the devices page): until then it does nothing.
DEFAULT_MAIL = {GROUP_POSTS: DIGEST, IMPORTANT_POSTS: DIRECT, CHAT: DIRECT, ACTIVITIES: DIRECT,
                ABSENCE: DIRECT}
DEFAULT_PUSH = {GROUP_POSTS: False, IMPORTANT_POSTS: True, CHAT: True, ACTIVITIES: False,
                ABSENCE: False}
DEFAULT_DIGEST_TIME = time(18, 0)
DIGEST_TIMES = [time(hour) for hour in range(6, 23)]
QUIET_TIMES = [time(hour, minute) for hour in range(24) for minute in (0, 30)]


def categories_for(user: User) -> list[Category]:
    return [c for c in CATEGORIES if c.staff or not user.is_staff]


def setting_of(user: User) -> NotificationSetting:
    """The user's digest time; the default (not added to the session) when they chose none."""
    return db.session.get(NotificationSetting, user.id) or NotificationSetting(
        user_id=user.id, digest_time=DEFAULT_DIGEST_TIME, quiet=True,
        quiet_from=DEFAULT_QUIET[0], quiet_until=DEFAULT_QUIET[1],
    )


def _default(user_id: int, category: str) -> NotificationChoice:
    return NotificationChoice(user_id=user_id, category=category, push=DEFAULT_PUSH[category],
                              mail=DEFAULT_MAIL[category])


def choice_of(user: User, category: str) -> NotificationChoice:
    """The user's channels for one category; the default (not in the session) when unchosen."""
    return db.session.get(NotificationChoice, (user.id, category)) or _default(user.id, category)


def choices_of(user: User) -> dict[str, NotificationChoice]:
    """The user's channels for every category, defaults filled in."""
    saved = {
        row.category: row
        for row in db.session.scalars(
            select(NotificationChoice).where(NotificationChoice.user_id == user.id)
        )
    }
    return {c.key: saved.get(c.key) or _default(user.id, c.key) for c in CATEGORIES}


def mail_mode(user: User, category: str, must_act: bool = False) -> str:
    """How `category` is mailed to the user: direct, digest or off.

    What the user must act on comes even with its mail off, in the digest. A category
    that must reach the user (important posts) chosen push-only is mailed at once as
    long as the user has no device with push: it would reach them by no channel.
    """
    choice = choice_of(user, category)
    mode = choice.mail
    if mode == OFF and must_act:
        return DIGEST
    if mode == OFF and BY_KEY[category].always_reaches and not has_push_device(user):
        return DIRECT
    return mode


def has_push_device(user: User) -> bool:
    """Whether a push can reach the user: a device with push turned on (parro.push)."""
    return db.session.scalar(
        select(PushSubscription.id).where(PushSubscription.user_id == user.id).limit(1)
    ) is not None


def reaches(category: str, push: bool, mail: str) -> bool:
    """Whether these channels are allowed: some categories need at least one of them."""
    return push or mail != OFF or not BY_KEY[category].always_reaches


def save(user: User, choices: dict[str, tuple[bool, str]], digest_time: time | None = None,
         quiet: tuple[bool, time, time] | None = None) -> None:
    """Store validated choices, {category: (push, mail)}; the caller commits.

    `quiet`: (on, from, until), a parent's quiet hours; from and until differ.
    """
    for key, (push, mail) in choices.items():
        if key not in BY_KEY or mail not in MAIL_MODES or not reaches(key, push, mail):
            raise ValueError(f"{key} cannot be push={push}, mail={mail}")
        row = choice_of(user, key)
        db.session.add(row)  # a new row; for a saved one a no-op
        row.push, row.mail = bool(push), mail
    if quiet is not None and quiet[1] == quiet[2]:
        raise ValueError("quiet hours from and until are the same")
    if digest_time is not None or quiet is not None:
        setting = setting_of(user)
        db.session.add(setting)  # a new one; for a saved one a no-op
        if digest_time is not None:
            setting.digest_time = digest_time
        if quiet is not None:
            setting.quiet, setting.quiet_from, setting.quiet_until = quiet


def turn_off_mail(user: User, category: str) -> bool:
    """Stop only this category's mail (one click in a mail); the caller commits.

    False, and nothing changed, when the category must reach the user and mail
    is its only channel.
    """
    choice = choice_of(user, category)
    if not reaches(category, choice.push, OFF):
        return False
    save(user, {category: (choice.push, OFF)})
    return True


# -- one-click unsubscribe (RFC 8058) ------------------------------------------------


def _tokens() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="parro-unsubscribe")


def unsubscribe_url(user: User, categories) -> str | None:
    """The link in a mail that turns off these categories' mail for this user.

    Signed, not secret beyond the mail itself, and without an expiry: a mail
    read months later still unsubscribes. None when none of them may be off.
    """
    keys = [c for c in categories if reaches(c, _push_reaches(user, c), OFF)]
    if not keys:
        return None
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/afmelden/{_tokens().dumps([user.id, keys])}"


def _push_reaches(user: User, category: str) -> bool:
    """Push chosen and a device to take it: else mail is the only way (mail_mode)."""
    return choice_of(user, category).push and (
        not BY_KEY[category].always_reaches or has_push_device(user)
    )


def read_unsubscribe_token(token: str) -> tuple[User, list[Category]] | None:
    """The user and categories a link from unsubscribe_url() is for; None if it is not one."""
    try:
        user_id, keys = _tokens().loads(token)
    except BadSignature:
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not isinstance(keys, list) or not all(k in BY_KEY for k in keys):
        return None
    return user, [BY_KEY[k] for k in keys]


def _school_about(context: dict):
    """The school a notification is about, to sign its mail with: the child's, else the
    activity's (of its groups' school). Reminders are queued from the command line, where
    the current school is only the installation's first."""
    student = context.get("student")
    if student is not None:
        return student.school
    activity = context.get("activity")
    if activity is not None and activity.groups:
        return activity.groups[0].year.school
    return CURRENT


def quiet_until(user: User) -> datetime | None:
    """For staff outside their working hours: when their next working period starts."""
    if not user.is_staff:
        return None
    from .chat.availability import availability_of, next_period_start, working_at

    av = availability_of(user)
    local = clock.local_now()
    if working_at(av, local):
        return None
    start = next_period_start(av, local)
    return start.astimezone(UTC) if start else None


def notify(recipient: User, category: str | None, subject, template: str, *, line=None,
           path: str = "", post=None, must_act: bool = False, **context) -> None:
    """Mail `recipient` about something, as they chose for `category` (in this transaction).

    `line` (a lazy string with {fields} from the context) is what the digest lists;
    `category` None is a mail without a choice (always direct, quiet hours hold).
    """
    if post is not None:
        context["post"] = post
    if "school" not in context:
        context["school"] = _school_about(context)
    mode = DIRECT if category is None else mail_mode(recipient, category, must_act)
    if mode == OFF:
        return
    if mode == DIRECT:
        queue_mail(recipient.email, subject, template, locale=recipient.locale,
                   send_after=quiet_until(recipient),
                   unsubscribe_url=unsubscribe_url(recipient, [category]) if category else None,
                   **context)
        return
    with force_locale(recipient.locale):
        text = str(line).format(**context)
    school = context["school"]
    db.session.add(NotificationItem(
        user_id=recipient.id, category=category, text=text[:300], path=path,
        post_id=post.id if post is not None else None,
        school_id=current_school_id() if school is CURRENT else getattr(school, "id", None),
    ))


# -- the daily digest -------------------------------------------------------------


def _moment(setting: NotificationSetting, day: date) -> datetime:
    return datetime.combine(day, setting.digest_time, tzinfo=clock.school_tz())


def _chat_lines(user: User, before: datetime) -> list[dict]:
    from flask_babel import gettext as _
    from flask_babel import ngettext

    from .chat.digest import pending, summary_lines

    return [
        {
            "text": "{}: {} {}".format(
                line["title"],
                ngettext("%(num)d bericht", "%(num)d berichten", line["count"]),
                _("van %(authors)s", authors=line["authors"]),
            ),
            "path": line["path"],
        }
        for line in summary_lines(user, pending(user, before))
    ]


def digest_for(user: User, day: date) -> bool:
    """Queue this user's digest for `day` if it is due and has anything in it; commit."""
    # Two runs at once: the second waits here (PostgreSQL), then finds today's row.
    lock_row(User, user.id)
    setting = setting_of(user)
    moment = _moment(setting, day)
    done = db.session.scalar(select(NotificationDigest.id).where(
        NotificationDigest.user_id == user.id, NotificationDigest.day == day))
    if done is not None or clock.now() < moment:
        db.session.commit()
        return False
    items = list(db.session.scalars(
        select(NotificationItem)
        .where(NotificationItem.user_id == user.id, NotificationItem.digest_id.is_(None),
               NotificationItem.created_at < moment)
        .order_by(NotificationItem.id)
    ))
    with force_locale(user.locale):
        chat = _chat_lines(user, moment) if choice_of(user, CHAT).mail == DIGEST else []
        sections, digested = [], []
        for category in CATEGORIES:
            lines = [{"text": i.text, "path": i.path} for i in items if i.category == category.key]
            if category.key == CHAT:
                lines += chat
            if lines:
                sections.append({"title": str(category.label), "lines": lines})
                digested.append(category.key)
    if not sections:
        db.session.rollback()  # also the chat marks: nothing was mailed
        return False
    digest = NotificationDigest(user_id=user.id, day=day)
    db.session.add(digest)
    try:
        db.session.flush()
    except IntegrityError:  # another run was faster; its digest is the one
        db.session.rollback()
        return False
    for item in items:
        item.digest_id = digest.id
    queue_mail(user.email, _l("Uw dagelijks overzicht van parro"), "notification_digest",
               locale=user.locale, send_after=quiet_until(user), name=user.display_name,
               sections=sections, unsubscribe_url=unsubscribe_url(user, digested),
               school=account_school(user))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def send_digests() -> int:
    """Queue every digest that is due now. Returns how many were queued."""
    local = clock.local_now()
    day = local.date()
    waiting = select(NotificationItem.user_id).where(NotificationItem.digest_id.is_(None))
    chat_digest = select(NotificationChoice.user_id).where(
        NotificationChoice.category == CHAT, NotificationChoice.mail == DIGEST)
    already = select(NotificationDigest.user_id).where(NotificationDigest.day == day)
    users = list(db.session.scalars(
        select(User)
        .where(User.id.in_(waiting.union(chat_digest)), User.id.not_in(already),
               User.active.is_(True), User.disabled.is_(False))
        .order_by(User.id)
    ))
    db.session.commit()
    queued = 0
    for user in users:
        if local < _moment(setting_of(user), day):
            continue
        db.session.commit()
        with writer_transactions():  # SQLite: the transaction takes the write lock from its start
            queued += digest_for(user, day)
    return queued



def run_and_report() -> None:
    """`flask --app app notifications digest`: everything mail that waits for a moment."""
    import click

    from .chat.digest import send_digests as chat_digests
    from .chat.digest import send_notices

    chat = chat_digests()  # first: a teacher's morning brings one overview, not also a notice
    notices = send_notices()
    daily = send_digests()
    click.echo(f"{chat} chat digest(s), {notices} chat notice(s), {daily} daily digest(s) queued")
