"""Screenshots of every main page, per role, on a phone and on a laptop.

    make screenshots        (or: .venv/bin/python tools/screenshots.py [--out DIR])

Starts the demo school on a throw-away instance (temporary SQLite database and
media folder) with the clock frozen on a Tuesday morning, logs in as a guardian,
a teacher and the administrator, and saves a PNG of every main page at 360 and
1280 px wide in build/screenshots/ (not committed). It also writes the four
phone-sized pictures README.md shows to docs/screenshots/ (committed).
Needs Debian's chromium (apt-get install chromium) and the test extra.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="parro-screenshots-"))
os.environ["PARRO_INSTANCE_PATH"] = str(TMP)  # never the developer's instance

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from parro import create_app  # noqa: E402
from parro.database import creating_database  # noqa: E402
from parro.extensions import db  # noqa: E402
from tests.e2e.demo_school import ROLES, load_demo, log_in, main_pages  # noqa: E402

SIZES = {360: {"width": 360, "height": 740}, 1280: {"width": 1280, "height": 800}}
# README.md: (file, role, page) on a phone, at twice the pixels.
# Lazy images below the fold load too, for a full-page picture.
LOAD_IMAGES = """Promise.all([...document.images].map((img) => {
  img.loading = "eager";
  return img.complete ? null : new Promise((done) => { img.onload = img.onerror = done; });
}))"""
# What sticks out to the right: a page must never scroll sideways.
STICKING_OUT = """[...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1
                  && !el.closest(".table-wrap, .chips, .mainnav"))
  .slice(0, 3).map((el) => el.tagName.toLowerCase() + "." + el.className)"""
README = [
    ("feed.jpg", "guardian", "groepen"),
    ("kindgesprek.jpg", "guardian", "kindgesprek"),
    ("oudergesprekken.jpg", "guardian", "gesprek-plannen"),
    ("ochtend.jpg", "teacher", "ochtend"),
]


def serve():
    app = create_app({
        "DATABASE_URL": f"sqlite:///{TMP / 'demo.sqlite3'}",
        "SECRET_KEY": "screenshots",
        "DEMO": True,
        "MAIL_SERVER": None,
        "MAIL_SENDER_THREAD": False,
        "MEDIA_PATH": str(TMP / "media"),
        "MAIL_DIR": str(TMP / "mail"),
        "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    })
    with app.app_context(), creating_database():
        db.create_all()
        demo = load_demo()  # freezes the clock; the server runs in this process
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}", demo


def _after_a_post(browser, base_url, demo, out: Path, app) -> None:
    """Two pages that only a POST or a new question reaches: the new-post form with the
    photos kept after a refused post, and the yearly privacy page the feed sends a parent to
    (a question added for the demo's families, who answered the others)."""
    from PIL import Image

    from parro.models import ConsentTopic, School

    photos = []
    for i, colour in enumerate([(200, 120, 40), (40, 120, 200), (60, 160, 80)]):
        path = TMP / f"foto{i}.jpg"
        Image.new("RGB", (800, 600), colour).save(path)
        photos.append(str(path))
    with app.app_context():
        topic = ConsentTopic(school_id=db.session.query(School.id).scalar(),
                             name="Foto's in de schoolgids", position=9)
        db.session.add(topic)
        db.session.commit()
        topic_id = topic.id
    for width, viewport in SIZES.items():
        context = browser.new_context(base_url=base_url, viewport=viewport, locale="nl-NL")
        page = context.new_page()
        log_in(page, ROLES["teacher"])
        page.goto(f"/groepen/{demo.group3_id}/nieuw")
        page.locator("textarea[name=body]").fill("Te lang. " * 1200)
        page.set_input_files("input[type=file]", photos)
        page.get_by_role("button", name="Plaatsen").click()
        page.locator(".pending-list img").first.wait_for()
        page.evaluate(LOAD_IMAGES)
        page.screenshot(path=out / f"teacher-nieuw-bericht-geweigerd-{width}.png",
                        full_page=True, animations="disabled")
        context.close()
        context = browser.new_context(base_url=base_url, viewport=viewport, locale="nl-NL")
        page = context.new_page()
        log_in(page, ROLES["guardian"])
        page.goto("/groepen/")
        page.wait_for_url("**/privacy/keuzes?ronde=1")
        page.screenshot(path=out / f"guardian-privacy-jaarronde-{width}.png", full_page=True,
                        animations="disabled")
        context.close()
    with app.app_context():  # the pages after this one show the feed, not the yearly page
        db.session.delete(db.session.get(ConsentTopic, topic_id))
        db.session.commit()
    print(f"{out}/teacher-nieuw-bericht-geweigerd-*.png, guardian-privacy-jaarronde-*.png")


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots")
    parser.add_argument("--readme", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", nargs="+", metavar="PAGE",
                        help="only these pages (names as in the file names, e.g. privacy-ronde);"
                             " README's pictures are then left alone")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.readme.mkdir(parents=True, exist_ok=True)
    server, base_url, demo = serve()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True,
                args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
            for role, email in ROLES.items():
                for width, viewport in SIZES.items():
                    context = browser.new_context(base_url=base_url, viewport=viewport,
                                                  locale="nl-NL")
                    page = context.new_page()
                    log_in(page, email)
                    for name, url in main_pages(role, demo).items():
                        if args.only and name not in args.only:
                            continue
                        page.goto(url)
                        page.evaluate(LOAD_IMAGES)
                        if page.evaluate("document.documentElement.scrollWidth > innerWidth"):
                            print(f"  {role} {url} at {width} px scrolls sideways:",
                                  page.evaluate(STICKING_OUT))
                        path = args.out / f"{role}-{name}-{width}.png"
                        page.screenshot(path=path, full_page=True, animations="disabled")
                        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
                    context.close()
            if not args.only or {"nieuw-bericht-geweigerd", "privacy-jaarronde"} & set(args.only):
                _after_a_post(browser, base_url, demo, args.out, server.app)
            for filename, role, name in [] if args.only else README:
                context = browser.new_context(base_url=base_url, viewport=SIZES[360],
                                              device_scale_factor=2, locale="nl-NL")
                page = context.new_page()
                log_in(page, ROLES[role])
                page.goto(main_pages(role, demo)[name])
                if name == "groepen":  # the newsletter read: the feed starts with photos
                    page.get_by_role("button", name="Gelezen, verbergen").click()
                    page.locator(".announcement").wait_for(state="detached")
                    page.reload()
                page.evaluate("window.scrollTo(0, 0)")  # a conversation opens at its end
                if name == "gesprek-plannen":  # the times to choose from
                    page.locator("h1").evaluate("(el) => el.scrollIntoView()")
                page.evaluate(LOAD_IMAGES)
                path = args.readme / filename
                page.screenshot(path=path, type="jpeg", quality=70, animations="disabled")
                print(f"{path.relative_to(ROOT)} ({path.stat().st_size // 1024} kB)")
                context.close()
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
