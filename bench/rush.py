"""The conference rush: 300 families open a conference round and book one slot each within a minute.

    .venv/bin/python bench/rush.py                     # SQLite (a temporary instance)
    .venv/bin/python bench/rush.py --database-url postgresql+psycopg://postgres@127.0.0.1/parro_bench
    (`make bench-rush`, `make bench-rush DB=postgresql`; see README, Performance)

A fresh database (the migrations, then a school of 10 groups with 30 children each, one
guardian per child, and one conference round for all 10 groups: 330 slots of 10 minutes
that opened a minute ago), gunicorn with 2 workers on 127.0.0.1 (as bench/run.py). Each
family is logged in (a session row, as the login form makes it: the rush is about the
round, not the password hashing) and starts at a random moment within the minute: it
opens the round's page, picks one of the first free slots it shows (everyone wants the
early ones), and books it; when someone was faster (422, the page again) it picks again
from that page, up to 10 times; after a booking it follows the redirect to the page, as
a browser does. Every request's status and time is kept.

Reports p50/p95/slowest per kind of request and for all of them, the errors (any status
but 200, 303 and 422, or no answer), double bookings (a slot booked twice, a child booked
twice: both must be 0; the database's unique constraints forbid them) and the SQL
statements of the booking page, a refused and an accepted booking (counted in-process on
the same database before the rush). Writes bench/results/rush-<database>-<date>.json.
A PostgreSQL database is emptied first: its name must contain "bench".
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import signal
import statistics
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import ROOT, Server, environment, free_port, fresh_database, machine  # noqa: E402

sys.path.insert(0, str(ROOT))

GROUPS, CHILDREN_PER_GROUP, SLOTS = 10, 30, 330
TARGET_P95_MS, TARGET_PAGE_SQL = 300, 12
FREE_SLOT_RE = re.compile(
    r'<input type="hidden" name="slot_id" value="(\d+)">\s*'
    r'<input type="hidden" name="child_id" value="(\d+)">')
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


# -- the school --------------------------------------------------------------------------


def seed(url: str, instance: Path) -> dict:
    """The school, the round and a logged-in session per family; returns what the rush needs."""
    from flask_migrate import upgrade

    from parro import create_app
    from parro.database import creating_database
    from parro.extensions import db
    from parro.models import Activity, ActivityKind, Slot, UserSession
    from parro.security import hash_token, new_token
    from tests.factories import make_group, make_guardian, make_school, make_student

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "MAIL_SENDER_THREAD": False,
                      "FEED_PUBLISHER_THREAD": False, "WTF_CSRF_ENABLED": False,
                      "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 64, "parallelism": 1}})
    families = []
    with app.app_context():
        with creating_database():
            upgrade(directory=str(ROOT / "migrations"))
        make_school("Basisschool De Spits")
        groups = [make_group(f"Groep {n + 1}", grade=(n % 8) + 1) for n in range(GROUPS)]
        children = []
        for n, group in enumerate(groups):
            for _ in range(CHILDREN_PER_GROUP + (2 if n == 0 else 0)):  # +2: not in the rush
                child = make_student(group)
                children.append((child, make_guardian(child=child)))
        moment = datetime.now(UTC).replace(microsecond=0)
        first = (moment + timedelta(days=7)).replace(hour=12, minute=0, second=0)
        activity = Activity(
            kind=ActivityKind.CONFERENCE, title="Oudergesprekken", slot_minutes=10,
            location="Lokaal 3", opens_at=moment - timedelta(minutes=1),
            deadline=moment + timedelta(days=5), early_days=0)
        activity.groups = groups
        # 11 slots an afternoon and evening, 30 days' worth: 330 slots.
        activity.slots = [
            Slot(starts_at=first + timedelta(days=n // 11, minutes=10 * (n % 11)),
                 ends_at=first + timedelta(days=n // 11, minutes=10 * (n % 11 + 1)))
            for n in range(SLOTS)]
        activity.starts_at = activity.slots[0].starts_at
        activity.ends_at = activity.slots[-1].ends_at
        db.session.add(activity)
        for child, guardian in children:
            token = new_token()
            db.session.add(UserSession(token_hash=hash_token(token), user_id=guardian.id))
            families.append({"token": token, "child_id": child.id})
        db.session.commit()
        activity_id = activity.id
    return {"app": app, "activity_id": activity_id, "families": families}


# -- SQL per request ---------------------------------------------------------------------


def count_statements(app, activity_id: int, family: dict, taken_slot: int, free_slot: int):
    """The booking page, a refused and an accepted booking, as one family; in-process."""
    from sqlalchemy import event

    from parro.extensions import db

    statements: list[str] = []

    def on_execute(conn, cursor, statement, *rest):
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", statement, re.I):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    client = app.test_client()
    client.set_cookie("parro_auth", family["token"])
    path = f"/activiteiten/{activity_id}"
    result = {}
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        for name, call, expect in (
            ("page", lambda: client.get(path), 200),
            ("refused", lambda: client.post(f"{path}/boeken", data={
                "slot_id": taken_slot, "child_id": family["child_id"]}), 422),
            ("booked", lambda: client.post(f"{path}/boeken", data={
                "slot_id": free_slot, "child_id": family["child_id"]}), 303),
        ):
            statements.clear()
            response = call()
            if response.status_code != expect:
                sys.exit(f"counting {name}: {response.status_code}, expected {expect}")
            result[name] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return result


def take_slots(app, activity_id: int, families: list[dict]) -> tuple[int, int]:
    """Book the first slot for the first family (the refused booking's slot); return it and
    the last slot (the accepted booking's)."""
    from sqlalchemy import select

    from parro.extensions import db
    from parro.models import Booking, Slot

    with app.app_context():
        slots = db.session.scalars(
            select(Slot.id).where(Slot.activity_id == activity_id).order_by(Slot.starts_at)).all()
        db.session.add(Booking(slot_id=slots[0], activity_id=activity_id,
                               student_id=families[0]["child_id"]))
        db.session.commit()
    return slots[0], slots[-1]


# -- the families ------------------------------------------------------------------------


class Family:
    def __init__(self, port: int, family: dict, activity_id: int, rng: random.Random):
        self.port = port
        self.cookies = {"parro_auth": family["token"]}
        self.child_id = family["child_id"]
        self.path = f"/activiteiten/{activity_id}"
        self.rng = rng
        self.requests: list[tuple[str, int, float]] = []  # (kind, status, ms)
        self.booked = False

    def request(self, kind: str, method: str, path: str, body: dict | None = None) -> str:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        status, text = 0, ""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            status = response.status
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            conn.close()
        except OSError:
            status = 0
        self.requests.append((kind, status, (time.perf_counter() - start) * 1000))
        return text

    def choose(self, page: str) -> tuple[str, str] | None:
        free = [slot for slot, child in FREE_SLOT_RE.findall(page) if int(child) == self.child_id]
        token = CSRF_RE.search(page)
        if not free or not token:
            return None
        return self.rng.choice(free[:10]), token.group(1)

    def rush(self) -> None:
        page = self.request("page", "GET", self.path)
        for _ in range(10):
            choice = self.choose(page)
            if choice is None:
                return
            slot, token = choice
            page = self.request("book", "POST", f"{self.path}/boeken",
                                {"slot_id": slot, "child_id": self.child_id, "csrf_token": token})
            status = self.requests[-1][1]
            if status == 303:
                self.booked = True
                self.request("page after booking", "GET", self.path)
                return
            if status != 422:
                return


def run_rush(port: int, families: list[dict], activity_id: int, seconds: float, seed_: int):
    rng = random.Random(seed_)
    starts = sorted(rng.uniform(0, seconds) for _ in families)
    crowd = [Family(port, f, activity_id, random.Random(rng.random())) for f in families]
    begin = time.perf_counter()

    def go(pair):
        family, start = pair
        delay = start - (time.perf_counter() - begin)
        if delay > 0:
            time.sleep(delay)
        family.rush()

    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(go, zip(crowd, starts, strict=True)))
    return crowd, time.perf_counter() - begin


def double_bookings(app, activity_id: int) -> dict:
    from sqlalchemy import func, select

    from parro.extensions import db
    from parro.models import Booking

    with app.app_context():
        def twice(column):
            return db.session.scalar(select(func.count()).select_from(
                select(column).where(Booking.activity_id == activity_id).group_by(column)
                .having(func.count() > 1).subquery()))
        result = {"slots booked twice": twice(Booking.slot_id),
                  "children booked twice": twice(Booking.student_id),
                  "bookings": db.session.scalar(select(func.count()).where(
                      Booking.activity_id == activity_id))}
        db.session.remove()
        return result


# -- the report --------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL (emptied first; its name must "
                        "contain 'bench')")
    parser.add_argument("--seconds", type=float, default=60, help="the families arrive within")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    # Stopped from outside (a time-out): still stop gunicorn on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))

    instance = Path(tempfile.mkdtemp(prefix="parro-rush-"))
    url = fresh_database(args.database_url, instance)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"seeding {GROUPS * CHILDREN_PER_GROUP + 2} families and a round of {SLOTS} slots "
          f"({database}, {instance})", flush=True)
    seeded = seed(url, instance)
    app, activity_id, families = seeded["app"], seeded["activity_id"], seeded["families"]
    # Two families besides the rush: one holds the first slot, one counts the SQL.
    taken, last = take_slots(app, activity_id, families)
    statements = count_statements(app, activity_id, families[1], taken, last)
    rushing = families[2:]
    print(f"SQL statements: booking page {statements['page']}, refused booking "
          f"{statements['refused']}, accepted booking {statements['booked']}", flush=True)

    env = environment(instance, url)
    env["PARRO_MAIL_SENDER_THREAD"] = "false"
    env["PARRO_FEED_PUBLISHER_THREAD"] = "false"
    port = free_port()
    server = Server(env, port)
    try:
        print(f"{len(rushing)} families book within {args.seconds:.0f} s ...", flush=True)
        crowd, took = run_rush(port, rushing, activity_id, args.seconds, args.seed)
    finally:
        server.stop()
    doubles = double_bookings(app, activity_id)

    requests = [r for family in crowd for r in family.requests]
    kinds = ["page", "book", "page after booking"]
    rows = {}
    for kind in [*kinds, "all"]:
        times = [ms for k, _s, ms in requests if kind in ("all", k)]
        statuses: dict[str, int] = {}
        for k, status, _ms in requests:
            if kind in ("all", k):
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        rows[kind] = {"requests": len(times), "p50_ms": round(statistics.median(times), 1)
                      if times else 0, "p95_ms": round(percentile(times, 0.95), 1),
                      "max_ms": round(max(times), 1) if times else 0, "statuses": statuses}
    errors = sum(n for s, n in rows["all"]["statuses"].items() if s not in ("200", "303", "422"))
    result = {
        "database": database, "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "families": len(rushing), "seconds": args.seconds,
        "took_s": round(took, 1), "booked": sum(f.booked for f in crowd),
        "refused_bookings": rows["book"]["statuses"].get("422", 0), "errors": errors,
        **doubles, "sql": statements, "requests": rows,
    }
    out = ROOT / "bench" / "results" / f"rush-{database.lower()}-{datetime.now(UTC):%Y-%m-%d}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")

    ok = {
        "0 errors": errors == 0,
        "0 double bookings": doubles["slots booked twice"] == 0
        and doubles["children booked twice"] == 0,
        f"p95 < {TARGET_P95_MS} ms": rows["all"]["p95_ms"] < TARGET_P95_MS,
        f"booking page < {TARGET_PAGE_SQL} statements": statements["page"] < TARGET_PAGE_SQL,
    }
    print(f"\n| the rush ({database}) | requests | p50 ms | p95 ms | slowest ms | statuses |")
    print("|---|---:|---:|---:|---:|---|")
    for kind in [*kinds, "all"]:
        row = rows[kind]
        statuses = ", ".join(f"{n}× {s}" for s, n in sorted(row["statuses"].items()))
        print(f"| {kind} | {row['requests']} | {row['p50_ms']} | {row['p95_ms']} | "
              f"{row['max_ms']} | {statuses} |")
    print(f"\n{result['booked']} of {len(rushing)} families booked in {took:.0f} s; "
          f"{result['refused_bookings']} bookings refused (someone was faster); "
          f"{errors} errors; slots booked twice: {doubles['slots booked twice']}, children "
          f"booked twice: {doubles['children booked twice']}; SQL: page {statements['page']}, "
          f"refused {statements['refused']}, accepted {statements['booked']}")
    for name, passed in ok.items():
        print(f"  {'ok  ' if passed else 'MISS'} {name}")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
