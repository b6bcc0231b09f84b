"""When a push may buzz: staff within their working hours, parents outside their quiet hours.

One decision, `when(user, category, important, now)`:

- `now` itself: send it now;
- a later moment: hold it (`hold()`); at that moment the user gets ONE summary push of
  everything held for them (`send_summaries(send)`, run by the push sender and cron,
  exactly once even when two run at the same moment);
- None: never (a staff member with chat switched off without an end date, or without
  working days).

Staff (teachers, office, administrators) get pushes only within the working hours they
set for chat (parro.chat.availability: one concept for chat, mail and push). Outside
them, and on days they switched chat off, nothing buzzes, important or not; what
arrived is summarised when their next working period starts. Their mail keeps its own
rules (parro.notifications).

Parents have quiet hours (default 21:00-07:00, their own choice on the Meldingen page,
or none). Inside them only important posts buzz; the rest is summarised in one push
when the quiet hours end: a parent wakes up to one "3 nieuwe meldingen" instead of a
row of notifications at seven, and each item is still in the app (and in the mail
they chose).

Whether the user wants push for a category at all is their channel choice
(parro.notifications.choice_of(...).push), asked before this; whether they have a device
is the push outbox's business. All times are the school's time zone (parro.clock).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from flask_babel import force_locale, ngettext
from sqlalchemy import select

from . import clock
from .database import end_reads, lock_row, writer_transactions
from .extensions import db
from .models import NotificationSetting, PushHeld, User

DEFAULT_QUIET = (time(21, 0), time(7, 0))


def quiet_hours_of(user: User) -> tuple[time, time] | None:
    """A parent's quiet hours (from, until), or None when they switched them off."""
    setting = db.session.get(NotificationSetting, user.id)
    if setting is None:
        return DEFAULT_QUIET
    if not setting.quiet or setting.quiet_from == setting.quiet_until:
        return None
    return setting.quiet_from, setting.quiet_until


def quiet_end(hours: tuple[time, time] | None, local: datetime) -> datetime | None:
    """When the quiet hours `local` falls in end (local time); None outside them."""
    if hours is None:
        return None
    start, end = hours
    t = local.time()
    if start < end:
        inside, ends_on = start <= t < end, local.date()
    else:  # over midnight: 21:00-07:00
        inside = t >= start or t < end
        ends_on = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(ends_on, end, tzinfo=local.tzinfo)


def working_hours(user: User):
    """A staff member's working hours (a parro.models.Availability), which push keeps to."""
    from .chat.availability import availability_of

    return availability_of(user)


def _staff_when(user: User, local: datetime) -> datetime | None:
    from .chat.availability import is_off, next_period_start, working_at

    av = working_hours(user)
    if is_off(av, local.date()):  # chat switched off: no push until it is on again
        if av.off_until is None:
            return None
        day_after = datetime.combine(av.off_until + timedelta(days=1), time(0),
                                     tzinfo=local.tzinfo)
        return next_period_start(av, day_after)
    if working_at(av, local):
        return local
    return next_period_start(av, local)


def when(user: User, category: str | None, important: bool = False,
         now: datetime | None = None) -> datetime | None:
    """When a push about `category` may reach `user`: `now`, a later moment, or None.

    `now` (aware; default the clock) is returned itself when the push may go at once.
    A later moment is when the user's next working period or the end of their quiet hours
    starts, in UTC. `important`: an important post, which passes a parent's quiet hours.
    """
    now = clock.now() if now is None else now
    local = now.astimezone(clock.school_tz())
    if user.is_staff:
        moment = _staff_when(user, local)
    elif important:
        moment = local
    else:
        moment = quiet_end(quiet_hours_of(user), local) or local
    if moment is None:
        return None
    if moment <= local:
        return now
    return moment.astimezone(UTC)


def hold(user: User, category: str, title: str, url: str, due_at: datetime) -> PushHeld:
    """Keep a push for the user's summary at `due_at` (in this transaction; the caller commits).

    `title` is what the summary may list, already in the user's language.
    """
    row = PushHeld(user_id=user.id, category=category, title=str(title)[:200], url=url[:300],
                   due_at=due_at)
    db.session.add(row)
    return row


# -- the summary when the hours begin ---------------------------------------------------

SUMMARY = "summary"  # the category of a summary push (its outbox row, its TTL)
SUMMARY_TAG = "parro-samenvatting"
SUMMARY_LINES = 3  # titles named in the body; the rest is counted in the title


def _summary(user: User, rows: list[PushHeld]) -> dict:
    """One push about `rows`: how many, the first titles, where to look (user's language)."""
    count = len(rows)
    titles = list(dict.fromkeys(row.title for row in rows))  # in order, each once
    urls = {row.url for row in rows}
    if len(urls) == 1:
        url = urls.pop() or "/"
    elif all(row.category == "chat" for row in rows):
        url = "/gesprekken/"
    else:
        url = "/"
    return {
        "title": _count(user, count),
        "body": " · ".join(titles[:SUMMARY_LINES]),
        "url": url,
        "tag": SUMMARY_TAG,
    }


def _count(user: User, count: int) -> str:
    with force_locale(user.locale):
        return ngettext("%(num)d nieuwe melding", "%(num)d nieuwe meldingen", count)


Send = Callable[..., object]  # parro.push.push_now(user, category, title, body, url, tag)


def summarise(user: User, send: Send, now: datetime | None = None) -> bool:
    """Send `user` one push about what was held for them, if it is due; commit.

    Due rows go in one summary and are deleted in the transaction that queues it, under
    a lock on the user's row: a second sender waits, then finds nothing. If the user's
    hours changed so that it is still quiet for them, the rows wait for the new moment;
    if they now get no push at all (chat switched off), the rows go without a push.
    """
    now = clock.now() if now is None else now
    db.session.commit()
    with writer_transactions():  # SQLite: the write lock from the start
        lock_row(User, user.id)
        rows = list(db.session.scalars(
            select(PushHeld).where(PushHeld.user_id == user.id, PushHeld.due_at <= now)
            .order_by(PushHeld.id)
        ))
        if not rows:
            db.session.commit()
            return False
        moment = when(user, rows[0].category, False, now)
        if moment is not None and moment > now:
            for row in rows:
                row.due_at = moment
            db.session.commit()
            return False
        for row in rows:
            db.session.delete(row)
        if moment is not None:
            summary = _summary(user, rows)
            send(user, SUMMARY, summary["title"], summary["body"], summary["url"],
                 summary["tag"])
        db.session.commit()
        return moment is not None


def send_summaries(send: Send, now: datetime | None = None) -> int:
    """Every summary that is due: one push per user whose hours began. Returns how many."""
    now = clock.now() if now is None else now
    users = list(db.session.scalars(
        select(User).where(User.id.in_(select(PushHeld.user_id).where(PushHeld.due_at <= now)))
        .order_by(User.id)
    ))
    end_reads(db.session())  # no snapshot stays open for what the sender writes next
    return sum(summarise(user, send, now) for user in users)
