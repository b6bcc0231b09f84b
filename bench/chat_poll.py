"""What an empty chat poll costs, next to the bare health endpoint.

    .venv/bin/python bench/chat_poll.py [--requests 2000] [--database-url URL]

Builds a small school in a fresh database (a temporary SQLite file unless
--database-url is given; that database is emptied first!), logs a guardian
in, and times requests in-process through the WSGI stack (no network):
GET /healthz, GET /gesprekken/<id>/nieuw with an up-to-date cursor, and the
navigation's poll GET /tellers with the counts the page shows (a month of posts
in the child's group, an open conference round), both of which answer 204.
Prints time per request and SQL statements per request, and writes the same
to bench/results/chat_poll.txt.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="parro-bench-")
    os.environ["PARRO_INSTANCE_PATH"] = instance
    from datetime import timedelta

    from flask_migrate import stamp
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from parro import create_app
    from parro.clock import now
    from parro.database import creating_database
    from parro.extensions import db
    from tests.factories import (
        make_conference,
        make_group,
        make_guardian,
        make_kindgesprek,
        make_message,
        make_post,
        make_student,
        make_teacher,
    )
    from tests.helpers import login_as

    app = create_app({
        "DATABASE_URL": args.database_url or f"sqlite:///{instance}/bench.sqlite3",
        "SECRET_KEY": "bench",
        "MAIL_SENDER_THREAD": False,
        "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 64, "parallelism": 1},
    })
    with app.app_context(), creating_database():
        db.drop_all()
        db.create_all()
        stamp()  # the migrations' head, which /healthz asks for
        group = make_group("Groep 3", grade=3)
        student = make_student(group, first_name="Sem", last_name="Jansen")
        guardian = make_guardian(child=student)
        teacher = make_teacher(group)
        conversation = make_kindgesprek(student)
        for i in range(200):
            make_message(conversation, teacher if i % 2 else guardian, f"bericht {i}")
        other = make_group("Groep 5", grade=5)
        other_teacher = make_teacher(other)
        for i in range(200):  # a month of posts, in her child's group and another
            make_post(group if i % 2 else other, author=teacher if i % 2 else other_teacher,
                      publish_at=now() - timedelta(hours=3 * i))
        make_conference(group, deadline=now() + timedelta(days=7))
        db.session.commit()
        client = app.test_client()
        login_as(client, guardian)
        poll = (f"/gesprekken/{conversation.id}/nieuw"
                f"?na={conversation.last_message_id}&v={conversation.revision}")
        client.get("/groepen/")  # she has read the feed: her marks are set
        page = client.get("/help").get_data(as_text=True)
        nav_poll = re.search(r'id="nav-poll" hidden data-hx-get="([^"]+)"', page).group(1)
        nav_poll = nav_poll.replace("&amp;", "&")

    statements = []

    def count(conn, cursor, statement, *rest):
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", statement, re.IGNORECASE):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)

    def run(url: str, expected: int) -> tuple[list[float], float]:
        for _ in range(50):  # warm up
            assert client.get(url).status_code == expected
        statements.clear()
        times = []
        for _ in range(args.requests):
            start = time.perf_counter()
            response = client.get(url, headers={"HX-Request": "true"})
            times.append(time.perf_counter() - start)
            assert response.status_code == expected
            assert expected != 204 or response.data == b""
        return times, len(statements) / args.requests

    results = {
        "GET /healthz (200)": run("/healthz", 200),
        "empty poll (204)": run(poll, 204),
        "empty nav poll (204)": run(nav_poll, 204),
    }
    engine = args.database_url.split(":")[0] if args.database_url else "sqlite"
    lines = [f"chat poll benchmark: {args.requests} requests each, in-process, {engine}"]
    for name, (times, queries) in results.items():
        ms = sorted(t * 1000 for t in times)
        lines.append(
            f"  {name:<22} mean {statistics.mean(ms):6.3f} ms"
            f"  median {statistics.median(ms):6.3f} ms"
            f"  p95 {ms[int(len(ms) * 0.95)]:6.3f} ms  {queries:.1f} SQL statements"
        )
    base = statistics.mean(results["GET /healthz (200)"][0])
    poll_mean = statistics.mean(results["empty poll (204)"][0])
    nav_mean = statistics.mean(results["empty nav poll (204)"][0])
    lines.append(f"  an empty poll costs {poll_mean / base:.1f}x the bare health check")
    lines.append(f"  an empty nav poll costs {nav_mean / base:.1f}x the bare health check")
    report = "\n".join(lines)
    print(report)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "chat_poll.txt").write_text(report + "\n")


if __name__ == "__main__":
    main()
