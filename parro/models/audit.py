"""The audit log: who did what, and when. Rows are only ever added (see parro/audit.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db


class AuditEvent(db.Model):
    __table_args__ = (Index("ix_audit_event_action_created", "action", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    # No foreign keys: the log outlives the accounts and records it names, and
    # a deletion must not have to rewrite it. The names are kept as they were.
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    # A short human description ("Familie Jansen verwijderd"), in Dutch or as given.
    summary: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(45), default="")
    # The school whose log shows it (None: the board's own events, or no school yet).
    school_id: Mapped[int | None] = mapped_column(Integer, index=True)
