"""flask backup / restore: a snapshot taken while others write, restored into an empty instance."""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

from parro.database import writer_transactions
from parro.extensions import db
from parro.models import OutboxMail

from .conftest import TEST_DATABASE_URL, libpq


@pytest.fixture
def media_app(make_app, app, tmp_path):
    """The instance to back up: the test database, with its own media folder."""
    return make_app(MEDIA_PATH=str(tmp_path / "media"))


@pytest.fixture
def empty_instance(make_app, tmp_path):
    """Make a second, empty instance: its own new database and media folder."""
    made = []

    def factory():
        n = len(made)
        if TEST_DATABASE_URL:
            name = f"parro_restore_{secrets.token_hex(4)}"
            with psycopg.connect(libpq(TEST_DATABASE_URL), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            url = make_url(TEST_DATABASE_URL).set(database=name)
            url = url.render_as_string(hide_password=False)
        else:
            name, url = None, f"sqlite:///{tmp_path / f'restored-{n}.sqlite3'}"
        target = make_app(DATABASE_URL=url, MEDIA_PATH=str(tmp_path / f"restored-media-{n}"))
        made.append((target, name))
        return target

    yield factory
    for target, name in made:
        with target.app_context():
            db.session.remove()
            db.engine.dispose()
        if name:
            with psycopg.connect(libpq(TEST_DATABASE_URL), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _put_media(app, files: dict[str, bytes]) -> None:
    root = Path(app.config["MEDIA_PATH"])
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def _media(app) -> dict[str, bytes]:
    root = Path(app.config["MEDIA_PATH"])
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# The commands run in the current app context if there is one (the test's own):
# push the instance's context, as `flask --app app` does.
def _backup(app, target) -> tuple[object, list[Path]]:
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", str(target)])
    return result, sorted(Path(target).iterdir()) if Path(target).is_dir() else []


def _restore(app, snapshot):
    with app.app_context():
        return app.test_cli_runner().invoke(args=["restore", str(snapshot)])


def _tables(app) -> list[str]:
    with app.app_context():
        if db.engine.dialect.name == "sqlite" and not Path(db.engine.url.database).exists():
            return []  # a refused restore did not even create the file
        with db.engine.connect() as conn:
            names = inspect(conn).get_table_names()
        db.engine.dispose()
        return names


class Writer(threading.Thread):
    """Queue mail through the app and commit, one row at a time, until stopped."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.committed, self.stop, self.error = app, [], threading.Event(), None
        self._progress, self._done = threading.Condition(), False

    def run(self):
        try:
            with self.app.app_context():
                i = 0
                while not self.stop.is_set():
                    with writer_transactions():
                        mail = OutboxMail(recipient=f"ouder{i}@example.org", subject="Nieuws",
                                          body_text="Er is nieuws in de groep.")
                        db.session.add(mail)
                        db.session.commit()
                    with self._progress:
                        self.committed.append(mail.id)
                        self._progress.notify_all()
                    i += 1
                db.session.remove()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            with self._progress:
                self._done = True
                self._progress.notify_all()

    def wait_for(self, count: int) -> None:
        """Return once `count` rows are committed, or the writer has failed or stopped."""
        with self._progress:
            self._progress.wait_for(
                lambda: len(self.committed) >= count or self._done, timeout=120
            )


def test_backup_while_writing_restores_every_committed_row_and_file(
    make_app, media_app, empty_instance, tmp_path
):
    files = {
        "ab/" + "a" * 32 + ".jpg": os.urandom(5000),
        "ab/" + "a" * 32 + ".thumb.jpg": os.urandom(700),
        "cd/" + "c" * 32 + ".bin": b"%PDF-1.4 schoolgids",
    }
    _put_media(media_app, files)
    _put_media(media_app, {"tmp/half-uploaded.jpg": b"not committed"})
    writer = Writer(make_app())
    writer.start()
    try:
        writer.wait_for(30)
        before = list(writer.committed)
        result, entries = _backup(media_app, tmp_path / "backups")
        during = len(writer.committed)
        writer.wait_for(during + 1)  # and it goes on after the backup
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert result.exit_code == 0, result.output
    assert len(entries) == 1 and entries[0].name.startswith("parro-")
    assert f"Backup written to {entries[0]}" in result.output
    assert during > len(before)  # the writer kept committing while the backup ran

    snapshot = entries[0]
    assert snapshot.stat().st_mode & 0o077 == 0  # only its owner may read the families' data
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["engine"] == ("postgresql" if TEST_DATABASE_URL else "sqlite")
    listed = {f["path"]: f for f in manifest["files"]}
    assert manifest["database"] in listed
    assert {p for p in listed if p.startswith("media/")} == {f"media/{p}" for p in files}
    assert listed["media/cd/" + "c" * 32 + ".bin"]["size"] == len(b"%PDF-1.4 schoolgids")
    assert {"parro_version", "created_at", "alembic_revision"} <= manifest.keys()

    target = empty_instance()
    result = _restore(target, snapshot)
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    with target.app_context():
        restored = set(db.session.scalars(select(OutboxMail.id)))
        db.session.remove()
    assert set(before) <= restored
    assert restored <= set(writer.committed)
    assert _media(target) == files


def test_backup_into_a_folder_that_is_not_writable_is_refused(media_app, tmp_path):
    _put_media(media_app, {"ab/photo.jpg": b"photo"})
    not_a_folder = tmp_path / "backups.txt"
    not_a_folder.write_text("")
    result, _ = _backup(media_app, not_a_folder)
    assert result.exit_code != 0
    assert "is not a folder" in result.output
    assert not_a_folder.read_text() == ""

    result, _ = _backup(media_app, not_a_folder / "nightly")
    assert result.exit_code != 0
    assert "Cannot create backup folder" in result.output

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere; /sys is read-only even for root
        locked = Path("/sys")
        if os.access(locked, os.W_OK) and not _unwritable(locked):
            pytest.skip("no folder here is read-only for root")
    before = sorted(locked.iterdir())
    result, after = _backup(media_app, locked)
    assert result.exit_code != 0
    assert "Cannot write into backup folder" in result.output
    assert after == before


def _unwritable(folder: Path) -> bool:
    try:
        (folder / f"probe-{secrets.token_hex(4)}").mkdir()
    except OSError:
        return True
    return False


@pytest.fixture
def snapshot(media_app, tmp_path):
    _put_media(media_app, {"ab/photo.jpg": b"photo of the school trip"})
    with media_app.app_context():
        db.session.add(
            OutboxMail(recipient="ouder@example.org", subject="Hallo", body_text="Tekst"))
        db.session.commit()
    result, entries = _backup(media_app, tmp_path / "backups")
    assert result.exit_code == 0, result.output
    return entries[0]


def _assert_untouched(target):
    assert _tables(target) == []
    assert _media(target) == {}


def test_restore_refuses_a_damaged_snapshot(snapshot, empty_instance):
    target = empty_instance()
    (snapshot / "media/ab/photo.jpg").write_bytes(b"photo of the school tr1p")
    result = _restore(target, snapshot)
    assert result.exit_code != 0
    assert "Checksum mismatch for media/ab/photo.jpg" in result.output
    _assert_untouched(target)


def test_restore_refuses_a_snapshot_without_manifest(snapshot, empty_instance):
    target = empty_instance()
    (snapshot / "manifest.json").unlink()
    result = _restore(target, snapshot)
    assert result.exit_code != 0
    assert "has no manifest.json" in result.output
    _assert_untouched(target)


def test_restore_refuses_a_snapshot_missing_a_file(snapshot, empty_instance):
    target = empty_instance()
    db_file = next(p for p in snapshot.iterdir() if p.name.startswith("database."))
    db_file.unlink()
    result = _restore(target, snapshot)
    assert result.exit_code != 0
    assert f"File missing from the backup: {db_file.name}" in result.output
    _assert_untouched(target)


def test_restore_into_a_non_empty_database_is_refused(snapshot, media_app):
    # The instance the backup came from still has its tables and rows.
    result = _restore(media_app, snapshot)
    assert result.exit_code != 0
    assert "The database is not empty" in result.output
    with media_app.app_context():
        assert len(db.session.scalars(select(OutboxMail)).all()) == 1
    assert _media(media_app) == {"ab/photo.jpg": b"photo of the school trip"}


def test_restore_into_a_non_empty_media_folder_is_refused(snapshot, empty_instance):
    target = empty_instance()
    _put_media(target, {"zz/other.jpg": b"someone else's photo"})
    result = _restore(target, snapshot)
    assert result.exit_code != 0
    assert "is not empty" in result.output
    assert _tables(target) == []
    assert _media(target) == {"zz/other.jpg": b"someone else's photo"}
