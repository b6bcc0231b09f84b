"""Every main page of every role is valid HTML: the Nu HTML Checker (vnu.jar, the W3C's
checker, pinned in tests/vnu/package.json) reports no error on any of them.

The pages of the demo school are saved to a folder and checked in one run of the
checker (one JVM for all). Needs Java (Debian's default-jre-headless) and
`npm ci --prefix tests/vnu`; .ci/run installs both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from parro.extensions import db
from parro.models import User

from .e2e.demo_school import ROLES, load_demo, main_pages
from .helpers import login_as, logout

VNU = Path(__file__).resolve().parent / "vnu/node_modules/vnu-jar/build/dist/vnu.jar"
JAVA = shutil.which("java")


def vnu_errors(folder: Path) -> list[dict]:
    """The checker's errors for every .html file in `folder`."""
    if not (JAVA and VNU.exists()):
        reason = "the Nu HTML Checker needs java (default-jre-headless), npm ci --prefix tests/vnu"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    run = subprocess.run(
        [JAVA, "-Xss8m", "-jar", str(VNU), "--errors-only", "--format", "json",
         "--exit-zero-always", "--skip-non-html", str(folder)],
        capture_output=True, text=True, timeout=300, check=True,
    )
    return json.loads(run.stderr)["messages"]


def describe(message: dict, folder: Path) -> str:
    page = Path(message["url"].removeprefix("file:")).relative_to(folder)
    where = f"{page}:{message.get('lastLine', '?')}"
    return f"{where}: {message['message']}\n    {message.get('extract', '')!r}"


# Checked with the pages: proves the checker ran and reports what it finds.
CANARY = """<!doctype html><html lang="nl"><head><title>canary</title></head>
<body><p id="twice">a</p><p id="twice">b</p></body></html>"""


def test_every_main_page_of_every_role_is_valid_html(app, make_client, tmp_path):
    demo = load_demo()
    client = make_client(WTF_CSRF_ENABLED=True)  # the forms with their hidden token
    saved = [_save(client, url, tmp_path / f"anonymous-{name}.html") for name, url in (
        ("login", "/login"), ("start", "/"), ("help", "/help"),
        ("wachtwoord-vergeten", "/wachtwoord-vergeten"))]
    for role, email in ROLES.items():
        logout(client)
        login_as(client, db.session.scalar(select(User).where(User.email == email)))
        for name, url in main_pages(role, demo).items():
            saved.append(_save(client, url, tmp_path / f"{role}-{name}.html"))
    saved += _refused_post_and_yearly_round(client, demo, tmp_path)
    (tmp_path / "canary.html").write_text(CANARY)

    errors = vnu_errors(tmp_path)
    canary = [m for m in errors if m["url"].endswith("/canary.html")]
    assert any("Duplicate ID" in m["message"] for m in canary), errors
    errors = [m for m in errors if m not in canary]
    assert len(saved) > 50
    assert not errors, f"{len(errors)} HTML errors:\n" + "\n".join(
        describe(m, tmp_path) for m in errors[:40])


def _refused_post_and_yearly_round(client, demo, folder: Path) -> list[str]:
    """Two pages a GET does not reach: the new-post form with the photos kept from a refused
    post (issue 19), and the yearly privacy page a parent is sent to from the feed."""
    import io
    import re

    from parro.models import ConsentTopic, School

    from .factories import photo_bytes

    logout(client)
    login_as(client, db.session.scalar(select(User).where(User.email == ROLES["teacher"])))
    url = f"/groepen/{demo.group3_id}/nieuw"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(url).get_data(as_text=True)).group(1)
    response = client.post(url, content_type="multipart/form-data", data={
        "csrf_token": token, "groups": [str(demo.group3_id)], "body": "x" * 20_000,
        "files": [(io.BytesIO(photo_bytes()), "a.jpg"), (io.BytesIO(photo_bytes()), "b.jpg")]})
    assert response.status_code == 422 and 'name="pending-remove"' in response.get_data(
        as_text=True)
    (folder / "teacher-nieuw-bericht-geweigerd.html").write_bytes(response.data)

    db.session.add(ConsentTopic(school_id=db.session.scalar(select(School.id)),
                                name="Foto's in de schoolgids", position=9))
    db.session.commit()
    logout(client)
    login_as(client, db.session.scalar(select(User).where(User.email == ROLES["guardian"])))
    assert client.get("/groepen/").headers["Location"] == "/privacy/keuzes?ronde=1"
    return [url, _save(client, "/privacy/keuzes?ronde=1", folder / "guardian-privacy-ronde.html")]


def _save(client, url: str, path: Path) -> str:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    path.write_bytes(response.data)
    return url


def test_times_and_phone_links_are_written_as_html_allows(app):
    from parro.i18n import machine_time, tel_href, time_element

    moment = datetime(2026, 11, 24, 7, 45, 12, 345678, tzinfo=UTC)
    assert machine_time(moment) == "2026-11-24T07:45:12+00:00"
    assert 'datetime="2026-11-24T07:45:12+00:00"' in time_element(moment)
    assert tel_href("010 - 123 45 67") == "tel:0101234567"
    assert tel_href("+31 (0)10 123 45 67") == "tel:+310101234567"


def test_every_form_renders_its_csrf_token_without_an_id(app):
    """Several forms on one page would repeat id="csrf_token": every form is a ParroForm."""
    from flask_wtf import FlaskForm

    from parro.forms import ParroForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    others = [f"{c.__module__}.{c.__qualname__}" for c in subclasses(FlaskForm)
              if c.__module__.startswith("parro.") and not issubclass(c, ParroForm)]
    assert not others, f"forms that are not a ParroForm: {others}"
