"""E-mailberichten: every notification mail goes through notify(), which follows the user's choice.

Per category a user chooses "direct" (a mail at once), "digest" (a line in one
daily overview at the time they picked, school time zone) or "off". Important
posts and activity mails the user must act on cannot be switched off: for them
"off" means the digest. Staff quiet hours always hold: a mail to a staff member
outside their working hours (parro.chat.availability) waits in the outbox until
their next working period starts. Account and security mails (activation,
password reset) do not come here: they always go at once.

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

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import clock
from .database import writer_transactions
from .extensions import db
from .mail import queue_mail
from .models import NotificationDigest, NotificationItem, NotificationSetting, User

DIRECT, DIGEST, OFF = "direct", "digest", "off"
GROUP_POSTS, IMPORTANT_POSTS, CHAT, ACTIVITIES, ABSENCE = (
    "group_posts", "important_posts", "chat", "activities", "absence"
)


@dataclass(frozen=True)
class Category:
    key: str
    label: object  # lazy string
    hint: object | None = None
    can_be_off: bool = True
    staff: bool = False  # shown to staff (guardians see every category)


CATEGORIES = [
    Category(GROUP_POSTS, _l("Berichten in de groep")),
    Category(IMPORTANT_POSTS, _l("Belangrijke berichten"),
             _l("Belangrijke berichten kunt u niet uitzetten."), can_be_off=False),
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
DEFAULTS = {GROUP_POSTS: DIGEST, IMPORTANT_POSTS: DIRECT, CHAT: DIRECT, ACTIVITIES: DIRECT,
            ABSENCE: DIRECT}
DEFAULT_DIGEST_TIME = time(18, 0)
DIGEST_TIMES = [time(hour) for hour in range(6, 23)]


def categories_for(user: User) -> list[Category]:
    return [c for c in CATEGORIES if c.staff or not user.is_staff]


def setting_of(user: User) -> NotificationSetting:
    """The user's choices; the defaults (not added to the session) when they made none."""
    return db.session.get(NotificationSetting, user.id) or NotificationSetting(
        user_id=user.id, digest_time=DEFAULT_DIGEST_TIME, **DEFAULTS
    )


def mode_for(user: User, category: str, must_act: bool = False) -> str:
    mode = getattr(setting_of(user), category)
    if mode == OFF and (must_act or not BY_KEY[category].can_be_off):
        return DIGEST
    return mode


def save(user: User, modes: dict[str, str], digest_time: time) -> None:
    """Store validated choices (the form checks them); the caller commits."""
    row = db.session.get(NotificationSetting, user.id)
    if row is None:
        row = setting_of(user)
        db.session.add(row)
    for key, mode in modes.items():
        if mode == OFF and not BY_KEY[key].can_be_off:
            raise ValueError(f"{key} cannot be off")
        setattr(row, key, mode)
    row.digest_time = digest_time


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
    mode = DIRECT if category is None else mode_for(recipient, category, must_act)
    if mode == OFF:
        return
    if mode == DIRECT:
        queue_mail(recipient.email, subject, template, locale=recipient.locale,
                   send_after=quiet_until(recipient), **context)
        return
    with force_locale(recipient.locale):
        text = str(line).format(**context)
    db.session.add(NotificationItem(
        user_id=recipient.id, category=category, text=text[:300], path=path,
        post_id=post.id if post is not None else None,
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
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
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
        chat = _chat_lines(user, moment) if setting.chat == DIGEST else []
        sections = []
        for category in CATEGORIES:
            lines = [{"text": i.text, "path": i.path} for i in items if i.category == category.key]
            if category.key == CHAT:
                lines += chat
            if lines:
                sections.append({"title": str(category.label), "lines": lines})
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
               sections=sections)
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
    chat_digest = select(NotificationSetting.user_id).where(NotificationSetting.chat == DIGEST)
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
