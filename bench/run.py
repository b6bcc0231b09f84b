"""The benchmark: a large school under gunicorn, loaded by wrk from a separate process.

    .venv/bin/python bench/run.py                      # SQLite (a temporary instance)
    .venv/bin/python bench/run.py --database-url postgresql+psycopg://postgres@127.0.0.1/parro_bench
    (`make bench`, `make bench DB=postgresql`; see README, Performance)

For each size of the growth curve (small = 1x, medium = 10x, large = 100x the
history; large is the school of issue 9) it seeds a fresh database with
`flask demo --scale`, starts gunicorn with 2 workers on 127.0.0.1, logs in real
sessions (login form with its CSRF token, cookies kept) and runs wrk with 10
connections against each endpoint. The large school gets every endpoint, the
smaller ones the feed and the chat poll. Then the board (`--scale board`, 20
schools of 300-500 children): the feed, poll and conversation of people of one
of its schools, set beside the large school's as shares of /healthz. For each
it counts the SQL statements per request in-process (same database, same
requests) and reads each worker's peak memory; then it times 20 photos of
12 MP (bench/photos.py) and writes bench/results/<database>-<date>.json and
the table printed at the end.

A PostgreSQL database is emptied (its schema dropped) for every size: its
name must contain "bench".
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

SCALES = {"small": "1x", "medium": "10x", "large": "100x", "board": "20 schools"}
BOARD = "board"
BOARD_ENDPOINTS = ["healthz", "layout", "feed", "poll", "conversation"]
BOARD_SLACK = 0.9  # the board's shares of /healthz are at least 90% of one school's
PASSWORD = "demo-wachtwoord"
TARGETS = {"poll": 0.60, "feed": 0.15, "conversation": 0.15}  # share of /healthz rps
FEED_P95_MS = 100
WORKER_MB = 150


# -- the database and the server -------------------------------------------------------


def fresh_database(url: str | None, instance: Path, marks=("bench",), refused=()) -> str:
    """A SQLite file in `instance`, or the PostgreSQL database `url` made or emptied; only
    a database whose name holds one of `marks` and is not one of `refused`."""
    if url is None:
        return f"sqlite:///{instance / 'parro.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database or ""
    if name in refused or not any(mark in name for mark in marks):
        sys.exit(f"refusing to empty {name!r}: give a database of your own whose name "
                 f"contains {' or '.join(map(repr, marks))}"
                 + (f" (not {', '.join(refused)})" if refused else ""))
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                              {"name": parsed.database}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    server.dispose()
    # Emptied rather than dropped: DROP DATABASE waits for a checkpoint of the whole server.
    engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def environment(instance: Path, url: str) -> dict:
    env = dict(os.environ)
    env.update({"PARRO_INSTANCE_PATH": str(instance), "PARRO_DATABASE_URL": url,
                "PARRO_SECRET_KEY": "bench", "PYTHONUNBUFFERED": "1"})
    return env


def seed(scale: str, env: dict) -> float:
    start = time.perf_counter()
    flask = [str(BIN / "flask"), "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run([*flask, "demo", "--scale", scale], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    done = [line.strip() for line in out.splitlines() if "done:" in line]
    print(f"  seeded in {time.perf_counter() - start:.0f} s: {done[0] if done else ''}", flush=True)
    seconds = time.perf_counter() - start
    if env["PARRO_DATABASE_URL"].startswith("postgresql"):
        # The seed inserted hundreds of thousands of rows: PostgreSQL's autovacuum would
        # visit those tables in the minutes that follow, during the measurement, on the
        # same two cores. A server in use has long been vacuumed; so is this one.
        from sqlalchemy import create_engine, text

        engine = create_engine(env["PARRO_DATABASE_URL"], isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
        engine.dispose()
    return seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict, port: int):
        self.port = port
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--access-logfile", "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
             "--error-logfile", str(Path(env["PARRO_INSTANCE_PATH"]) / "gunicorn.log"),
             "app:app"],
            cwd=ROOT, env=env, start_new_session=True,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        sys.exit("gunicorn did not start; see gunicorn.log in the instance folder")

    def workers(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
                             capture_output=True, text=True, check=False).stdout
        return [int(pid) for pid in out.split()]

    def memory_mb(self, field: str) -> list[float]:
        """Per worker: VmHWM, the most memory it has held resident since it started
        (a login's password hash included), or VmRSS, what it holds now."""
        sizes = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            sizes.append(int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) / 1024)
        return sizes

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


# -- a browser session -------------------------------------------------------------------


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class Browser:
    """Logs in through the real login form and keeps the cookies, like a browser."""

    def __init__(self, base: str, email: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        token = self.csrf("/login")
        self.post("/login", {"email": email, "password": PASSWORD, "csrf_token": token})
        if "parro_auth" not in self.cookie_header():
            sys.exit(f"could not log in as {email}")

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=30).read().decode()

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode(data).encode()
        try:
            return self.opener.open(self.base + path, body, timeout=30).status
        except urllib.error.HTTPError as exc:
            return exc.code

    def csrf(self, path: str) -> str:
        match = CSRF_RE.search(self.get(path))
        return match.group(1) or match.group(2)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


# -- what is measured ---------------------------------------------------------------------


def endpoints(env: dict, base: str, board: bool = False) -> dict[str, dict]:
    """The requests of the benchmark, with the sessions that make them."""
    ids = subprocess.run([str(BIN / "python"), __file__, "--pick", BOARD if board else "one"],
                         cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    ids = json.loads(ids.strip().splitlines()[-1])
    if board:
        return board_endpoints(base, ids)
    jansen = Browser(base, "ouder.jansen@example.org")
    parent = Browser(base, ids["parent_email"])
    anna = Browser(base, "juf.anna@example.org")
    round_path = f"/activiteiten/{ids['activity_id']}"
    booking = {"csrf_token": jansen.csrf(round_path), "child_id": ids["child_id"],
               "slot_id": ids["slot_id"]}
    conversation = ids["conversation_id"]
    return {
        "healthz": {"path": "/healthz", "browser": None, "expect": 200,
                    "what": "bare health check"},
        # The floor of every page: logged in, the layout with its navigation counts, no data.
        "layout": {"path": "/help", "browser": jansen, "expect": 200,
                   "what": "logged-in page with only the layout (help)"},
        "feed": {"path": "/groepen/", "browser": jansen, "expect": 200,
                 "what": "guardian's feed"},  # 2 children, photos, likes, read receipts
        "poll": {"path": f"/gesprekken/{conversation}/nieuw"
                         f"?na={ids['last_id']}&v={ids['revision']}",
                 "browser": parent, "expect": 204, "htmx": True, "what": "empty chat poll"},
        "conversation": {"path": f"/gesprekken/{conversation}", "browser": parent, "expect": 200,
                         "what": f"conversation page ({ids['messages']} messages)"},
        "absence": {"path": "/absentie/overzicht", "browser": anna, "expect": 200,
                    "what": "teacher's absence overview"},
        # Refused: another family has the slot; the answer is 422 with the page.
        "booking": {"path": f"{round_path}/boeken", "browser": jansen, "expect": 422,
                    "method": "POST", "body": urllib.parse.urlencode(booking),
                    "what": "booking a taken slot (422)"},
    }


def board_endpoints(base: str, ids: dict) -> dict[str, dict]:
    """The board's: a family and a kindgesprek of one school in the middle of the twenty."""
    family = Browser(base, ids["family_email"])
    parent = Browser(base, ids["parent_email"])
    conversation = ids["conversation_id"]
    return {
        "healthz": {"path": "/healthz", "browser": None, "expect": 200,
                    "what": "bare health check", "school": ids["school"]},
        "layout": {"path": "/help", "browser": family, "expect": 200,
                   "what": "logged-in page with only the layout (help)"},
        "feed": {"path": "/groepen/", "browser": family, "expect": 200,
                 "what": "guardian's feed"},  # 2 children at that school
        "poll": {"path": f"/gesprekken/{conversation}/nieuw"
                         f"?na={ids['last_id']}&v={ids['revision']}",
                 "browser": parent, "expect": 204, "htmx": True,
                 "what": "empty chat poll"},
        "conversation": {"path": f"/gesprekken/{conversation}", "browser": parent,
                         "expect": 200,
                         "what": f"conversation page ({ids['messages']} messages)"},
    }


def pick_board() -> dict:
    """The board's ids: in the eleventh of its twenty schools, the first guardian with two
    children there (and none elsewhere), and that school's kindgesprek with the most
    messages with its first active parent."""
    from sqlalchemy import func, select

    from parro.extensions import db
    from parro.models import Conversation, Guardianship, Message, Role, School, Student, User

    school = db.session.scalar(select(School).order_by(School.id).offset(10).limit(1))
    two_here = (select(Guardianship.user_id).join(Student, Student.id == Guardianship.student_id)
                .group_by(Guardianship.user_id)
                .having(func.count() == 2, func.min(Student.school_id) == school.id,
                        func.max(Student.school_id) == school.id))
    family = db.session.scalar(select(User).where(
        User.id.in_(two_here), User.active, User.role == Role.GUARDIAN)
        .order_by(User.id).limit(1))
    conversation = db.session.scalar(
        select(Conversation).where(Conversation.student_id.is_not(None),
                                   Conversation.school_id == school.id)
        .order_by(Conversation.revision.desc(), Conversation.id).limit(1))
    parent = db.session.scalar(
        select(User).join(Guardianship)
        .where(Guardianship.student_id == conversation.student_id, User.active)
        .order_by(User.id).limit(1))
    messages = db.session.scalar(
        select(func.count()).where(Message.conversation_id == conversation.id))
    return {"school": school.name, "family_email": family.email,
            "conversation_id": conversation.id, "last_id": conversation.last_message_id,
            "revision": conversation.revision, "messages": messages,
            "parent_email": parent.email}


def pick(which: str) -> None:
    """Print the ids the benchmark needs (run in the seeded instance's environment)."""
    from sqlalchemy import func, select

    from parro import create_app
    from parro.extensions import db
    from parro.models import (
        Activity,
        Booking,
        Conversation,
        Guardianship,
        Membership,
        Message,
        SchoolYear,
        Slot,
        Student,
        User,
    )
    from parro.models.activity import activity_group

    app = create_app({"MAIL_SENDER_THREAD": False, "FEED_PUBLISHER_THREAD": False})
    with app.app_context():
        if which == BOARD:
            print(json.dumps(pick_board()))
            return
        # The kindgesprek with the most messages, and its first active parent.
        conversation = db.session.scalar(
            select(Conversation).where(Conversation.student_id.is_not(None))
            .order_by(Conversation.revision.desc(), Conversation.id).limit(1))
        parent = db.session.scalar(
            select(User).join(Guardianship)
            .where(Guardianship.student_id == conversation.student_id, User.active)
            .order_by(User.id).limit(1))
        messages = db.session.scalar(
            select(func.count()).where(Message.conversation_id == conversation.id))
        # Lotte Jansen's conference round, and one of its slots booked by another family.
        lotte = db.session.scalar(select(Student).where(Student.first_name == "Lotte",
                                                        Student.last_name == "Jansen"))
        group_id = db.session.scalar(select(Membership.group_id).join(SchoolYear).where(
            Membership.student_id == lotte.id, SchoolYear.is_current))
        activity = db.session.scalar(select(Activity).join(
            activity_group, activity_group.c.activity_id == Activity.id).where(
            activity_group.c.group_id == group_id).order_by(Activity.id).limit(1))
        slot = db.session.scalar(select(Slot).where(Slot.activity_id == activity.id, ~Slot.blocked)
                                 .order_by(Slot.starts_at.desc()).limit(1))
        if slot.booking is None:
            other = db.session.scalar(
                select(Membership.student_id).where(Membership.group_id == group_id,
                                                    Membership.student_id != lotte.id)
                .order_by(Membership.student_id).limit(1))
            db.session.add(Booking(slot=slot, student_id=other, activity_id=activity.id))
            db.session.commit()
        print(json.dumps({
            "conversation_id": conversation.id, "last_id": conversation.last_message_id,
            "revision": conversation.revision, "messages": messages, "parent_email": parent.email,
            "activity_id": activity.id, "slot_id": slot.id, "child_id": lotte.id,
        }))


def wrk(base: str, spec: dict, seconds: int, connections: int) -> dict:
    env = dict(os.environ)
    env.update({
        "BENCH_COOKIE": spec["browser"].cookie_header() if spec["browser"] else "",
        "BENCH_METHOD": spec.get("method", "GET"), "BENCH_BODY": spec.get("body", ""),
        "BENCH_HTMX": "1" if spec.get("htmx") else "",
    })
    command = ["wrk", "-t1", f"-c{connections}", "--latency", "-s", str(ROOT / "bench" / "wrk.lua"),
               base + spec["path"]]
    subprocess.run([*command[:2], "-c2", "-d2s", *command[3:]], env=env, check=True,
                   capture_output=True)  # warm up
    out = subprocess.run([*command, f"-d{seconds}s"], env=env, check=True, capture_output=True,
                         text=True).stdout
    result = json.loads(out.split("BENCH_JSON", 1)[1])
    result["rps"] = result["requests"] / result["seconds"]
    unexpected = {k: v for k, v in result["statuses"].items() if int(k) != spec["expect"]}
    if unexpected:
        result["unexpected_statuses"] = unexpected
    return result


def count_queries(env: dict, specs: dict) -> dict[str, float]:
    """SQL statements per request, counted in-process on the same database."""
    plan = {name: {k: spec[k] for k in ("path", "expect")} | {
        "method": spec.get("method", "GET"), "body": spec.get("body", ""),
        "htmx": spec.get("htmx", False),
        "cookie": spec["browser"].cookie_header() if spec["browser"] else ""}
        for name, spec in specs.items()}
    out = subprocess.run([str(BIN / "python"), __file__, "--count", json.dumps(plan)], cwd=ROOT,
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def count(plan_json: str) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from parro import create_app

    plan = json.loads(plan_json)
    app = create_app({"MAIL_SENDER_THREAD": False, "FEED_PUBLISHER_THREAD": False,
                      "WTF_CSRF_ENABLED": False})
    statements = []

    def on_execute(conn, cursor, statement, *rest):
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", statement, re.I):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", on_execute)
    result = {}
    for name, spec in plan.items():
        client = app.test_client()
        for part in filter(None, spec["cookie"].split("; ")):
            key, value = part.split("=", 1)
            client.set_cookie(key, value)
        headers = {"HX-Request": "true"} if spec["htmx"] else {}
        runs = []
        for _ in range(3):  # the first may differ (session touch, read receipts)
            statements.clear()
            if spec["method"] == "POST":
                response = client.post(spec["path"], data=spec["body"], headers=headers,
                                       content_type="application/x-www-form-urlencoded")
            else:
                response = client.get(spec["path"], headers=headers)
            assert response.status_code == spec["expect"], (name, response.status_code)
            runs.append(len(statements))
        result[name] = runs[-1]
    print(json.dumps(result))


def photos() -> dict:
    """20 photos of 12 MP through the upload request (bench/photos.py)."""
    out = subprocess.run([str(BIN / "python"), str(ROOT / "bench" / "photos.py"), "--rounds", "1"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    seconds = float(re.search(r"processed in ([\d.]+) s", out).group(1))
    pipeline = re.findall(r"pipeline, (\d+) worker\(s\): median ([\d.]+) s", out)
    return {"photos": 20, "megapixels": 12, "request_seconds": seconds,
            "pipeline_seconds": {w: float(s) for w, s in pipeline}}


# -- the run ------------------------------------------------------------------------------


def run_scale(scale: str, url: str | None, names: list[str], args) -> dict:
    instance = Path(tempfile.mkdtemp(prefix=f"parro-bench-{scale}-"))
    try:
        db_url = fresh_database(url, instance)
        env = environment(instance, db_url)
        result = {"seed_seconds": round(seed(scale, env), 1), "endpoints": {}}
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = Server(env, port)
        try:
            specs = endpoints(env, base, board=scale == BOARD)
            specs = {name: specs[name] for name in names}
            for name, spec in specs.items():
                r = wrk(base, spec, args.seconds, args.connections)
                r["what"] = spec["what"]
                result["endpoints"][name] = r
                if "school" in spec:
                    result["school"] = spec["school"]
                print(f"  {name:<13} {r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.1f} ms  "
                      f"p95 {r['p95_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
                      + (f"  UNEXPECTED {r['unexpected_statuses']}"
                         if "unexpected_statuses" in r else ""),
                      flush=True)
            result["worker_peak_rss_mb"] = [round(mb, 1) for mb in server.memory_mb("VmHWM")]
            result["worker_rss_after_mb"] = [round(mb, 1) for mb in server.memory_mb("VmRSS")]
        finally:
            server.stop()
        for name, n in count_queries(env, specs).items():
            result["endpoints"][name]["queries"] = n
        ceiling = result["endpoints"]["healthz"]["rps"]
        for r in result["endpoints"].values():
            r["ratio"] = round(r["rps"] / ceiling, 3)
        return result
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def one_school_scales(results: dict) -> dict[str, dict]:
    return {name: r for name, r in results["scales"].items() if name != BOARD}


def verdicts(results: dict) -> dict[str, bool]:
    checks: dict[str, bool] = {}
    ones = one_school_scales(results)
    if ones:
        large = ones[list(ones)[-1]]
        eps = large["endpoints"]
        checks |= {f"{name} >= {share:.0%} of healthz": eps[name]["ratio"] >= share
                   for name, share in TARGETS.items() if name in eps}
        if "feed" in eps:
            checks[f"feed p95 < {FEED_P95_MS} ms"] = eps["feed"]["p95_ms"] < FEED_P95_MS
        checks[f"worker < {WORKER_MB} MB"] = max(large["worker_peak_rss_mb"]) < WORKER_MB
        grown = [name for name in ("feed", "poll") if len({
            s["endpoints"][name]["queries"] for s in ones.values()
            if name in s["endpoints"]}) > 1]
        checks["query counts flat from 1x to 100x"] = not grown
    board = results["scales"].get(BOARD)
    if board and ones:
        one = ones[list(ones)[-1]]["endpoints"]
        for name in ("feed", "poll", "conversation"):
            if name in one and name in board["endpoints"]:
                mine, theirs = board["endpoints"][name], one[name]
                checks[f"board {name}: share of healthz >= {BOARD_SLACK:.0%} of one "
                       "school's"] = mine["ratio"] >= BOARD_SLACK * theirs["ratio"]
                checks[f"board {name}: SQL per request as one school's"] = (
                    mine["queries"] <= theirs["queries"])
    return checks


def cell(r: dict | None, share: bool = True) -> str:
    if r is None:
        return "-"
    messages = re.search(r"\((\d+) messages\)", r["what"])
    return ((f"{messages.group(1)} messages: " if messages else "")
            + f"{r['rps']:.0f} req/s" + (f", {r['ratio']:.0%}" if share else "")
            + f", p95 {r['p95_ms']:.1f} ms, {r['queries']} SQL")


def table(results: dict) -> str:
    ones = one_school_scales(results)
    board = results["scales"].get(BOARD)
    top = list(ones)[-1] if ones else BOARD
    large = results["scales"][top]
    lines = [
        f"parro benchmark, {results['database']}, {results['date']}, {results['machine']}",
        f"gunicorn 2 workers, wrk 1 thread {results['connections']} connections "
        f"{results['seconds']} s per endpoint; {top} school "
        f"({large['seed_seconds']:.0f} s to seed)"
        + (f"; board ({board['seed_seconds']:.0f} s to seed)" if board and ones else ""),
        "",
    ]
    if ones:
        lines += [
            f"| endpoint ({results['database_name']}, {top} school) | req/s | of /healthz "
            "| p50 ms | p95 ms | p99 ms | SQL/request |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in large["endpoints"].values():
            lines.append(f"| {r['what']} | {r['rps']:.0f} | {r['ratio']:.0%} | "
                         f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
                         f"{r['queries']} |")
        lines += ["", f"| growth ({results['database_name']}) | " + " | ".join(
            f"{SCALES[s]} ({s})" for s in ones) + " |", "|---|" + "---:|" * len(ones)]
        for name in ("feed", "poll"):
            cells = []
            for s in ones.values():
                r = s["endpoints"].get(name)
                cells.append(f"p50 {r['p50_ms']:.1f} / p95 {r['p95_ms']:.1f} ms, "
                             f"{r['queries']} SQL" if r else "-")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    if board:
        one = large["endpoints"] if ones else {}
        lines += [f"| board ({results['database_name']}, 20 schools), share of /healthz "
                  f"| one school ({top}) | {board.get('school', 'a school of the board')} |",
                  "|---|---:|---:|"]
        for name, r in board["endpoints"].items():
            label = re.sub(r" \(\d+ messages\)", "", r["what"])
            lines.append(f"| {label} | {cell(one.get(name), name != 'healthz')} | "
                         f"{cell(r, name != 'healthz')} |")
        lines.append("")
    peaks = ", ".join(f"{mb:.0f}" for mb in large["worker_peak_rss_mb"])
    lines.append(f"worker memory: peak {peaks} MB "
                 f"(a login's password hash takes 19 MB for a moment), after the run "
                 f"{', '.join(f'{mb:.0f}' for mb in large['worker_rss_after_mb'])} MB")
    if results.get("photos"):
        p = results["photos"]
        lines.append(f"20 photos of 12 MP, one upload request: {p['request_seconds']:.1f} s "
                     "server time")
    lines.append("")
    lines += [f"{'ok  ' if ok else 'MISS'} {check}" for check, ok in results["targets"].items()]
    return "\n".join(lines)


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else ""
    return f"{os.cpu_count()} CPUs {model}, Python {platform.python_version()}".strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL (emptied first; its name must contain "
                        "'bench')")
    parser.add_argument("--seconds", type=int, default=10, help="per endpoint")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--scales", default="small,medium,large,board",
                        help="of small, medium, large (one school) and board (20 schools)")
    parser.add_argument("--no-photos", action="store_true")
    parser.add_argument("--pick", help=argparse.SUPPRESS)
    parser.add_argument("--count", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pick:
        return pick(args.pick)
    if args.count:
        return count(args.count)
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")

    started = time.perf_counter()
    database = "postgresql" if args.database_url else "sqlite"
    results = {"database": database,
               "database_name": "PostgreSQL" if args.database_url else "SQLite",
               "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": machine(), "connections": args.connections, "seconds": args.seconds,
               "scales": {}}
    scales = sorted(args.scales.split(","), key=list(SCALES).index)
    ones = [scale for scale in scales if scale != BOARD]
    for scale in scales:
        print(f"== {scale} ({SCALES[scale]}) on {database}", flush=True)
        # The biggest school gets every endpoint, the others the growth curve's, the board
        # the pages of one of its schools.
        names = (BOARD_ENDPOINTS if scale == BOARD else
                 ["healthz", "layout", "feed", "poll", "conversation", "absence", "booking"]
                 if scale == ones[-1] else ["healthz", "feed", "poll"])
        results["scales"][scale] = run_scale(scale, args.database_url, names, args)
    if not args.no_photos:
        print("== 20 photos of 12 MP", flush=True)
        results["photos"] = photos()
    results["targets"] = verdicts(results)
    results["total_seconds"] = round(time.perf_counter() - started)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{database}-{datetime.now(UTC):%Y-%m-%d}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    print(f"\n{path.relative_to(ROOT)} written; {results['total_seconds']} s in all")


if __name__ == "__main__":
    main()
