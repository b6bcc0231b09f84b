"""Backups: a consistent snapshot of the database and MEDIA_PATH, and its restore.

A snapshot is one folder `parro-<UTC timestamp>/` holding the database
(`database.sqlite3` made with SQLite's online backup API, or `database.dump`
made with `pg_dump --format=custom`), the media files under `media/`, and
`manifest.json` listing every file with its size and sha256. It is written
into a hidden temporary folder and renamed at the end, so a folder named
`parro-...` is always complete.

The database is copied before the media: files are moved into MEDIA_PATH
only after their database transaction committed, so every file a row of the
snapshot refers to is already there when the media are copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.engine import URL

from . import clock, school_backup
from .database import creating_database
from .extensions import db

MANIFEST = "manifest.json"
MEDIA_DIR = "media"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
# MEDIA_PATH/tmp holds uploads whose transaction has not committed yet.
SKIP_MEDIA = {"tmp"}


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why."""


# --- backup -------------------------------------------------------------------

def backup(target: str | os.PathLike, school_id: int | None = None) -> Path:
    """Write a snapshot folder into `target` and return its path.

    With `school_id`: only that school's rows and files (school_backup.py), the
    database a SQLite file whatever this instance uses.
    """
    school = None
    if school_id is not None:
        from .models import School

        school = db.session.get(School, school_id)
        db.session.remove()
        if school is None:
            raise BackupError(f"There is no school with id {school_id} "
                              "(flask --app app school list shows them).")
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise BackupError(f"Backup folder {target} is not a folder.")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Cannot create backup folder {target}: {exc.strerror}.") from exc
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    final = target / f"parro-{stamp}"
    n = 1
    while final.exists():
        n += 1
        final = target / f"parro-{stamp}-{n}"
    work = target / f".{final.name}.partial-{secrets.token_hex(4)}"
    try:
        work.mkdir(mode=0o700)  # it holds every family's data
    except OSError as exc:
        raise BackupError(f"Cannot write into backup folder {target}: {exc.strerror}.") from exc
    try:
        engine = db.engine.dialect.name
        with db.engine.connect() as conn:
            revision = school_backup.alembic_revision(conn)
        media = Path(current_app.config["MEDIA_PATH"])
        if school is not None:
            engine, db_file = "sqlite", SQLITE_FILE
            keys = school_backup.write_database(work / db_file, school.id, revision)
            school_backup.copy_media(keys, media, work / MEDIA_DIR)
        elif engine == "sqlite":
            db_file = SQLITE_FILE
            _sqlite_backup(_sqlite_path(), work / db_file)
        elif engine == "postgresql":
            db_file = PG_FILE
            _pg_dump(work / db_file)
        else:
            raise BackupError(f"Backups of {engine} databases are not supported.")
        if school is None:
            _copy_media(media, work / MEDIA_DIR)
        manifest = {
            "format": 1,
            "parro_version": _version(),
            "created_at": clock.now().isoformat(),
            "engine": engine,
            "alembic_revision": revision,
            "database": db_file,
            "files": [_describe(work, p) for p in sorted(work.rglob("*")) if p.is_file()],
        }
        if school is not None:
            manifest["school"] = school.name
            manifest["school_id"] = school.id
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        work.rename(final)
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, OSError):
            raise BackupError(f"Backup failed: {exc}") from exc
        raise
    return final


def _sqlite_path() -> Path:
    name = db.engine.url.database
    if not name or name == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(name)


def _sqlite_backup(source: Path, dest: Path) -> None:
    """Copy with the online backup API: consistent while others keep writing."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_env(url: URL) -> tuple[list[str], dict]:
    """libpq connection arguments for `url`; the password goes in the environment."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    return args, env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} was not found; install the PostgreSQL client tools.")
    return path


def _run(cmd: list[str], env: dict) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {result.stderr.strip()}")


def _pg_dump(dest: Path) -> None:
    args, env = _pg_env(db.engine.url)
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-password", "--file", str(dest), *args], env)


def _copy_media(source: Path, dest: Path) -> None:
    """Copy the media tree, hard-linking where possible (the files never change)."""
    dest.mkdir()
    if not source.is_dir():
        return
    for root, dirs, files in os.walk(source):
        rel = Path(root).relative_to(source)
        if rel == Path("."):
            dirs[:] = [d for d in dirs if d not in SKIP_MEDIA]
        (dest / rel).mkdir(exist_ok=True)
        for name in files:
            src, dst = Path(root) / name, dest / rel / name
            try:
                os.link(src, dst)
            except FileNotFoundError:
                continue  # deleted while we copied
            except OSError:
                try:
                    shutil.copy2(src, dst)
                except FileNotFoundError:
                    continue


def _describe(base: Path, path: Path) -> dict:
    return {"path": path.relative_to(base).as_posix(), "size": path.stat().st_size,
            "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _version() -> str:
    try:
        return metadata.version("parro")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- restore ------------------------------------------------------------------

def verify(snapshot: str | os.PathLike) -> dict:
    """Check the manifest and every checksum of a snapshot; return the manifest."""
    snapshot = Path(snapshot)
    try:
        manifest = json.loads((snapshot / MANIFEST).read_text())
        files = {f["path"]: f for f in manifest["files"]}
        db_file = manifest["engine"] and manifest["database"]
    except FileNotFoundError as exc:
        raise BackupError(
            f"{snapshot} has no {MANIFEST}: it is not a (complete) parro backup."
        ) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"The {MANIFEST} in {snapshot} cannot be read: {exc}") from exc
    if db_file not in files:
        raise BackupError(f"The manifest in {snapshot} lists no database file.")
    for rel, entry in files.items():
        path = snapshot / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            raise BackupError(f"The manifest names a file outside the backup: {rel}")
        if not path.is_file():
            raise BackupError(f"File missing from the backup: {rel}")
        if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            raise BackupError(f"Checksum mismatch for {rel}: the backup is damaged.")
    extra = [p for p in (snapshot / MEDIA_DIR).rglob("*")
             if p.is_file() and p.relative_to(snapshot).as_posix() not in files]
    if extra:
        raise BackupError(f"File not in the manifest: {extra[0].relative_to(snapshot)}")
    return manifest


def restore(snapshot: str | os.PathLike) -> dict:
    """Bring a snapshot back into this (empty) instance; return its manifest.

    Everything is checked before anything is written: the checksums, the
    database engine, and that both the database and MEDIA_PATH are empty.
    """
    with creating_database():  # a new instance's SQLite file may not exist yet
        return _restore(Path(snapshot))


def _restore(snapshot: Path) -> dict:
    manifest = verify(snapshot)
    engine = db.engine.dialect.name
    one_school = "school" in manifest  # a SQLite file; restored into either engine
    if manifest["engine"] != engine and not one_school:
        raise BackupError(
            f"This backup is of a {manifest['engine']} database; this instance uses {engine}."
        )
    tables = _parro_tables()
    if tables:
        raise BackupError(
            "The database is not empty (it has parro tables, e.g. "
            f"{sorted(tables)[0]}); restore needs an empty database. Nothing was changed."
        )
    media = Path(current_app.config["MEDIA_PATH"])
    if _has_media(media):
        raise BackupError(f"The media folder {media} is not empty; restore needs an empty one. "
                          "Nothing was changed.")

    # Stage the media next to their destination, restore the database, then move them in.
    media.mkdir(parents=True, exist_ok=True)
    staging = media / f".restore-{secrets.token_hex(4)}"
    try:
        shutil.copytree(snapshot / MEDIA_DIR, staging)
        if engine == "sqlite":
            _sqlite_restore(snapshot / manifest["database"])
        elif one_school:
            school_backup.restore_rows(snapshot / manifest["database"])
        else:
            args, env = _pg_env(db.engine.url)
            db.engine.dispose()
            _run([_pg_tool("pg_restore"), "--no-password", "--single-transaction",
                  "--exit-on-error", "--no-owner", "--no-privileges", *args,
                  str(snapshot / manifest["database"])], env)
        for entry in staging.iterdir():
            entry.rename(media / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _parro_tables() -> set[str]:
    db.session.remove()
    with db.engine.connect() as conn:
        existing = set(inspect(conn).get_table_names())
    return existing & (set(db.metadata.tables) | {"alembic_version"})


def _has_media(media: Path) -> bool:
    if not media.is_dir():
        return False
    for root, dirs, files in os.walk(media):
        if Path(root) == media:
            dirs[:] = [d for d in dirs if d not in SKIP_MEDIA]
        if files:
            return True
    return False


def _sqlite_restore(source: Path) -> None:
    """Copy the database file into place (written aside, then renamed)."""
    target = _sqlite_path()
    db.engine.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.with_name(f".{target.name}.restore-{secrets.token_hex(4)}")
    try:
        shutil.copyfile(source, aside)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(aside, target)
    finally:
        aside.unlink(missing_ok=True)
