"""Configuration, database settings, health and the layout."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from sqlalchemy import text

from parro import create_app
from parro.extensions import db

from .factories import make_admin, make_group, make_guardian, make_student
from .helpers import login_as, text_of


def test_prefixed_environment_variables_override_defaults(monkeypatch, make_app):
    monkeypatch.setenv("PARRO_MAIL_PORT", "587")
    monkeypatch.setenv("PARRO_MAIL_USE_TLS", "true")
    monkeypatch.setenv("PARRO_BASE_URL", "https://parro.school.nl")
    monkeypatch.setenv("PARRO_TIMEZONE", "Europe/Brussels")
    app = create_app({"DATABASE_URL": "sqlite://", "MAIL_SENDER_THREAD": False})
    assert app.config["MAIL_PORT"] == 587
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["BASE_URL"] == "https://parro.school.nl"
    assert app.config["TIMEZONE"] == "Europe/Brussels"


def test_instance_config_file_is_read(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('TIMEZONE = "Europe/Brussels"\n')
    monkeypatch.setenv("PARRO_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": "sqlite://", "MAIL_SENDER_THREAD": False})
    assert app.config["TIMEZONE"] == "Europe/Brussels"


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PARRO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PARRO_DATABASE_URL", raising=False)
    app = create_app({"MAIL_SENDER_THREAD": False})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'parro.sqlite3'}"


def test_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.setenv("PARRO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PARRO_SECRET_KEY", raising=False)
    first = create_app({"DATABASE_URL": "sqlite://", "MAIL_SENDER_THREAD": False})
    second = create_app({"DATABASE_URL": "sqlite://", "MAIL_SENDER_THREAD": False})
    key_file = Path(tmp_path) / "secret_key"
    assert len(first.config["SECRET_KEY"]) >= 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    monkeypatch.setenv("PARRO_INSTANCE_PATH", str(tmp_path / "other"))
    third = create_app({"DATABASE_URL": "sqlite://", "MAIL_SENDER_THREAD": False})
    assert third.config["SECRET_KEY"] != first.config["SECRET_KEY"]


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_concurrent_writers_wait_instead_of_failing(app, make_client):
    """Twenty browsers saving at the same moment: every save lands, none fails."""
    admin = make_admin()
    db.session.commit()
    clients = [make_client() for _ in range(20)]
    for c in clients:
        login_as(c, admin)
    statuses = []
    barrier = threading.Barrier(len(clients))

    def save(c, i):
        barrier.wait()
        statuses.append(c.post("/account", data={"name": f"Naam {i}", "locale": "nl"}).status_code)

    threads = [threading.Thread(target=save, args=(c, i)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [303] * len(clients)
    db.session.expire_all()
    assert admin.name.startswith("Naam ")


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_healthz_says_503_when_the_database_is_gone(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/none.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503


def test_navigation_shows_administration_to_admins_only(app, make_client):
    group = make_group()
    guardian = make_guardian(child=make_student(group))
    admin = make_admin()
    db.session.commit()
    as_admin, as_guardian = make_client(), make_client()
    login_as(as_admin, admin)
    login_as(as_guardian, guardian)
    assert "Beheer" in text_of(as_admin.get("/groepen/"))
    page = text_of(as_guardian.get("/groepen/"))
    assert "Groepen" in page and "Beheer" not in page


def test_create_admin_starts_a_school_with_an_activation_link(app):
    from sqlalchemy import select

    from parro.models import School, User

    runner = app.test_cli_runner()
    refused = runner.invoke(args=["create-admin", "directie@school.nl"])
    assert refused.exit_code != 0 and "--school" in refused.output
    result = runner.invoke(
        args=["create-admin", "Directie@School.nl", "--name", "Ria", "--school", "De Vlinder"]
    )
    assert result.exit_code == 0, result.output
    assert "http://parro.test/activeren/" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(School.name)) == "De Vlinder"
    admin = db.session.scalar(select(User).where(User.email == "directie@school.nl"))
    assert admin.is_admin and not admin.active


def test_pages_speak_the_users_language(app, make_client):
    group = make_group()
    dutch = make_guardian(child=make_student(group), locale="nl")
    english = make_guardian(child=make_student(group), locale="en")
    db.session.commit()
    nl_client, en_client = make_client(), make_client()
    login_as(nl_client, dutch)
    login_as(en_client, english)
    assert "Uitloggen" in text_of(nl_client.get("/account"))
    page = text_of(en_client.get("/account"))
    assert "Log out" in page and "Uitloggen" not in page
    assert "Inloggen" in text_of(make_client().get("/login"))


def test_a_worker_starts_without_the_libraries_only_some_requests_need(tmp_path):
    """Push, the school account, uploads, .ics files and password strength import their
    libraries when used: 53 MB a worker would otherwise hold (README, Performance)."""
    import subprocess
    import sys

    heavy = ["pywebpush", "py_vapid", "cryptography", "requests", "authlib", "joserfc",
             "zxcvbn", "pikepdf", "pillow_heif", "PIL", "icalendar"]
    code = ("import sys\nfrom parro import create_app\n"
            "create_app({'MAIL_SENDER_THREAD': False, 'FEED_PUBLISHER_THREAD': False, "
            "'OIDC_ISSUER': 'https://login.example.org'})\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    env = dict(os.environ, PARRO_INSTANCE_PATH=str(tmp_path), PARRO_SECRET_KEY="test",
               PARRO_DATABASE_URL="sqlite://")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=Path(__file__).parent.parent).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_templates_translate_in_the_language_of_their_render(app):
    """render_template binds _() and ngettext() to its render's catalogue (parro/i18n.py);
    a render inside force_locale (a page in an invitation's language) gets that one, and
    templates rendered without render_template (mails, fragments) ask per string."""
    from flask import render_template_string
    from flask_babel import force_locale

    page = ("{{ _('Naar de inhoud') }}|{{ ngettext('%(num)d bijlage', '%(num)d bijlagen', 2) }}"
            "|{{ _('%(name)s', name='<b>') }}")
    plain = app.jinja_env.from_string("{{ _('Naar de inhoud') }}")
    with app.test_request_context("/"):
        assert render_template_string(page) == "Naar de inhoud|2 bijlagen|&lt;b&gt;"
        with force_locale("en"):
            assert render_template_string(page) == "Skip to content|2 attachments|&lt;b&gt;"
            assert plain.render() == "Skip to content"
        assert plain.render() == "Naar de inhoud"
        assert render_template_string(page).startswith("Naar de inhoud|")
