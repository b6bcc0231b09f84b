"""Writing the audit log.

`record()` adds one event to the current transaction, so the event is stored
exactly when what it describes is stored. The application never changes or
removes an event: any ORM update or delete of an AuditEvent raises, except
inside `purging()`, which only the retention command uses.
"""

from __future__ import annotations

import contextlib
import threading

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import policy
from .clock import now
from .extensions import db
from .models import User
from .models.audit import AuditEvent

# What is logged. The admin page filters on these; labels live in the view.
LOGIN = "login"
LOGIN_FAILED = "login_failed"
INVITATION = "invitation"
ROLE_CHANGE = "role_change"
GROUP_CHANGE = "group_change"
CONSENT_CHANGE = "consent_change"
EXPORT = "export"
DELETION = "deletion"
MODERATION = "moderation"
SECURITY = "security"  # two-factor on/off, sessions ended, password changed
RETENTION = "retention"
SCHOOL_ACCOUNT = "school_account"  # a staff account linked to (or unlinked from) the school account
SCHOOL = "school"  # the board added a school

ACTIONS = (
    LOGIN, LOGIN_FAILED, INVITATION, ROLE_CHANGE, GROUP_CHANGE, CONSENT_CHANGE,
    EXPORT, DELETION, MODERATION, SECURITY, RETENTION, SCHOOL_ACCOUNT, SCHOOL,
)


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


_CURRENT = object()


def _school_id(who) -> int | None:
    """Whose log shows an event: the school the logged-in user works in (a board admin's
    own events are the board's: None); before login (a login attempt) the school of the
    account, else the first; outside a request (the command line) the school's, or with
    several the board's (None). A board admin's events (theirs, or done to them from the
    command line) are the board's."""
    if isinstance(who, User) and who.is_board_admin:
        return None
    if not has_request_context():
        return None if policy.is_board() else policy.current_school_id()
    if current_user.is_authenticated:
        return None if current_user.is_board_admin else policy.current_school_id()
    if isinstance(who, User) and (ids := policy.school_ids(who)):
        return ids[0]
    return policy.current_school_id()


def record(action: str, *, summary: str = "", target=None, actor=None, school_id=_CURRENT,
           **details) -> AuditEvent:
    """Log `action` by `actor` (default: the logged-in user) on `target` (a model or None),
    in the log of school `school_id` (default: see _school_id)."""
    assert action in ACTIONS, action
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if school_id is _CURRENT:
        school_id = _school_id(actor if actor is not None else target)
    ip = (request.remote_addr or "")[:45] if has_request_context() else ""
    entry = AuditEvent(
        created_at=now(),  # the moment it happened, not when the session flushes
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_name=(getattr(actor, "name", "") or getattr(actor, "email", "") or "")[:120],
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=getattr(target, "id", None),
        summary=summary[:255],
        details=details,
        ip=ip,
        school_id=school_id,
    )
    db.session.add(entry)
    return entry


def person(user) -> str:
    """How a summary names someone: their name and address, so both can be searched."""
    if user is None:
        return "?"
    return f"{user.name} ({user.email})" if user.name else user.email


_purging = threading.local()


@contextlib.contextmanager
def purging():
    """Allow deleting old audit events (retention only)."""
    _purging.on = True
    try:
        yield
    finally:
        _purging.on = False


@event.listens_for(Session, "before_flush")
def _refuse_changes(session, flush_context, instances):
    changed = [o for o in session.dirty if isinstance(o, AuditEvent) and session.is_modified(o)]
    deleted = [o for o in session.deleted if isinstance(o, AuditEvent)]
    if changed or (deleted and not getattr(_purging, "on", False)):
        raise AppendOnlyError("audit events are append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    if not (state.is_update or state.is_delete):
        return
    entity = state.bind_mapper.class_ if state.bind_mapper is not None else None
    if entity is AuditEvent and (state.is_update or not getattr(_purging, "on", False)):
        raise AppendOnlyError("audit events are append-only")
