"""Snapshots of every row and every media file, to prove a deletion touched only its target."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from parro import media
from parro.extensions import db


def snapshot() -> dict:
    """{table name: {primary key: row as a dict}} for every table, and the media files."""
    db.session.expire_all()
    rows = {}
    for table in db.metadata.sorted_tables:
        pk = [c.name for c in table.primary_key.columns]
        rows[table.name] = {
            tuple(r[c] for c in pk) if len(pk) > 1 else r[pk[0]]: dict(r)
            for r in db.session.execute(select(table)).mappings()
        }
    db.session.rollback()
    root = Path(current_app.config["MEDIA_PATH"])
    files = {p.relative_to(root).as_posix() for p in root.rglob("*")
             if p.is_file() and "tmp" not in p.relative_to(root).parts}
    return {"rows": rows, "files": files}


def diff(before: dict, after: dict):
    """What went, what changed and what came.

    ({table: {pk}}, {table: {pk: {changed column}}}, {table: {pk}})
    """
    removed, changed, added = {}, {}, {}
    for table, old in before["rows"].items():
        new = after["rows"][table]
        if gone := set(old) - set(new):
            removed[table] = gone
        if came := set(new) - set(old):
            added[table] = came
        for pk in set(old) & set(new):
            columns = {c for c in old[pk] if old[pk][c] != new[pk][c]}
            if columns:
                changed.setdefault(table, {})[pk] = columns
    return removed, changed, added


def files_of(*keys: str) -> set[str]:
    """The media files (relative paths) of attachments with these keys that exist on disk."""
    root = Path(current_app.config["MEDIA_PATH"])
    found = set()
    for key in keys:
        for variant in media.SUFFIXES:
            path = media.path_for(key, variant)
            if path.exists():
                found.add(path.relative_to(root).as_posix())
    return found


def chat_file(message, name="brief.pdf"):
    """A PDF attached to a chat message, with its file on disk."""
    from parro.models import MessageAttachment

    key = media.new_key()
    path = media.path_for(key, "file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    item = MessageAttachment(message_id=message.id, key=key, kind=media.DOCUMENT,
                             content_type="application/pdf", filename=name, size=15)
    db.session.add(item)
    db.session.flush()
    return item


def watch_removals(monkeypatch) -> list[tuple[list[str], list[str]]]:
    """Record each media.remove call: the keys, and which of them still had a row then.

    The rows are looked up on a connection of their own, so they count as gone
    only once the deleting transaction committed.
    """
    from parro.models import Attachment, MessageAttachment

    real, calls = media.remove, []

    def remove(keys):
        keys = list(keys)
        with db.engine.connect() as conn:
            left = [k for model in (Attachment, MessageAttachment)
                    for k in conn.scalars(select(model.key).where(model.key.in_(keys)))]
        calls.append((keys, left))
        real(keys)

    monkeypatch.setattr(media, "remove", remove)
    return calls
