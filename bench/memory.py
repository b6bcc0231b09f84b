"""Where a worker's memory goes: RSS of one app process, step by step (README, Performance).

    .venv/bin/python bench/memory.py                      # SQLite, medium school
    .venv/bin/python bench/memory.py --scale large --rounds 200
    .venv/bin/python bench/memory.py --database-url postgresql+psycopg://postgres@127.0.0.1/parro_mem
    .venv/bin/python bench/memory.py --trace              # + tracemalloc: what holds it
    .venv/bin/python bench/memory.py --gunicorn           # + the same under gunicorn, 2 workers

It seeds a fresh database with `flask demo --scale` (a temporary SQLite file, or the
PostgreSQL database given, whose schema is dropped first: its name must contain "mem" or
"bench" and must not be parro_bench, the benchmark's), then, in a new process that
starts like a gunicorn worker (gunicorn's modules imported, then `app:app`, with the
same environment), prints VmRSS (held now) and VmHWM (the most ever held) after each
step: importing parro, create_app(), logging in a guardian and a teacher through the
login form (each login hashes a password: argon2id with 19 MiB), the first request of
each main page, and --rounds more of all of them. Then what the caches hold: the
fragment cache (entries and their bytes), SQLAlchemy's compiled-statement cache and
Jinja's templates. --gunicorn then starts gunicorn as `make bench` does and reads its
workers' memory after the same requests over HTTP.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402 (bench/run.py: seeding, gunicorn and the login form)

CSRF_RE = run.CSRF_RE
MEDIA_RE = re.compile(r'/media/[A-Za-z0-9_-]+/[a-z0-9_]+')


def memory(pid: str | int = "self") -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return tuple(int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) / 1024
                 for field in ("VmRSS", "VmHWM"))


def pages(ids: dict) -> dict[str, list[str]]:
    """Per login, the pages asked for (a photo of the feed is added once it is seen)."""
    return {
        "ouder.jansen@example.org": ["/", "/groepen/", "/activiteiten/",
                                     f"/activiteiten/{ids['activity_id']}", "/kalender/",
                                     "/gesprekken/", "/help"],
        ids["parent_email"]: [f"/gesprekken/{ids['conversation_id']}"],
        "juf.anna@example.org": ["/", "/absentie/overzicht", "/groepen/", "/activiteiten/",
                                 "/kalender/", "/gesprekken/"],
    }


# -- in one process, like a gunicorn worker ------------------------------------------------


def measure(plan_json: str, rounds: int, trace: bool) -> None:
    plan = json.loads(plan_json)
    steps = []

    def step(name: str) -> None:
        rss, hwm = memory()
        steps.append({"step": name, "rss_mb": round(rss, 1), "hwm_mb": round(hwm, 1)})
        print(f"  {name:<40} RSS {rss:6.1f} MB   peak {hwm:6.1f} MB", flush=True)

    if trace:
        import tracemalloc

        tracemalloc.start(1)
    import gunicorn.app.wsgiapp  # noqa: F401 (what a worker has from the master)
    import gunicorn.workers.sync  # noqa: F401

    step("python + gunicorn")
    import parro

    step("import parro")
    sys.argv = ["gunicorn", "--workers", "2", "app:app"]  # what a worker's sys.argv says
    modules = set(sys.modules)
    app = parro.create_app()  # app.py's create_app(), configured by the environment
    step("create_app()")
    at_start = sorted({m.split(".")[0] for m in sys.modules} - {m.split(".")[0] for m in modules})
    snapshots = {"create_app": tracemalloc.take_snapshot()} if trace else {}

    clients = {}
    for email in plan["pages"]:
        client = app.test_client()
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"email": email, "password": run.PASSWORD,
                                               "csrf_token": token.group(1) or token.group(2)})
        assert response.status_code in (302, 303), (email, response.status_code)
        clients[email] = client
    step("3 logins (argon2id)")

    def visit(first: bool) -> None:
        for email, paths in plan["pages"].items():
            for path in paths:
                response = clients[email].get(path)
                assert response.status_code == 200, (path, response.status_code)
                if first and path == "/groepen/" and email.startswith("ouder."):
                    found = MEDIA_RE.search(response.get_data(as_text=True))
                    if found:
                        paths.append(found.group(0))
                response.close()

    visit(first=True)
    step("each page once")
    for _ in range(rounds):
        visit(first=False)
    step(f"{rounds} more rounds")
    new = sorted({m.split(".")[0] for m in sys.modules} - {m.split(".")[0] for m in modules}
                 - set(at_start))
    print(f"  modules first imported by the requests: {', '.join(new) or 'none'}")

    with app.app_context():
        caches = caches_of(app)
    for name, text in caches.items():
        print(f"  {name}: {text}")
    if trace:
        snapshots["requests"] = tracemalloc.take_snapshot()
        report(snapshots)
    print("MEMORY_JSON" + json.dumps({"steps": steps, "caches": caches,
                                      "imported_by_requests": new}))


def caches_of(app) -> dict[str, str]:
    from parro.extensions import db

    out = {}
    fragments = app.extensions["parro.fragments"].entries
    if fragments is not None:
        sizes = [len(html.encode()) + sys.getsizeof(key) for key, html in fragments.items()]
        out["fragment cache"] = (f"{len(sizes)} of {fragments.maxsize} entries, "
                                 f"{sum(sizes) / 1024:.0f} KiB, "
                                 f"{sum(sizes) / max(len(sizes), 1) / 1024:.1f} KiB each")
    cache = db.engine._compiled_cache
    if cache is not None:
        out["SQLAlchemy compiled cache"] = f"{len(cache)} of {cache.capacity} statements"
    out["Jinja templates loaded"] = str(len(app.jinja_env.cache or {}))
    return out


def report(snapshots: dict) -> None:
    """What Python allocated, by top-level package, at create_app() and after the requests."""
    for name, snapshot in snapshots.items():
        by_package: dict[str, int] = {}
        for stat in snapshot.statistics("filename"):
            path = stat.traceback[0].filename
            found = (re.search(r"site-packages/([^/]+)", path)
                     or re.search(r"python3\.\d+/([^/]+)", path))
            package = found.group(1).removesuffix(".py") if found else (
                "parro" if "/parro/" in path else "templates" if "<template>" in path
                else "module code (import)" if "importlib._bootstrap" in path
                else Path(path).name)
            by_package[package] = by_package.get(package, 0) + stat.size
        total = sum(by_package.values())
        top = sorted(by_package.items(), key=lambda item: -item[1])[:15]
        print(f"  tracemalloc at {name}: {total / 2**20:.1f} MB in Python objects; "
              + ", ".join(f"{p} {s / 2**20:.1f}" for p, s in top))


# -- under gunicorn ------------------------------------------------------------------------


def under_gunicorn(env: dict, plan: dict, rounds: int) -> list[tuple[float, float]]:
    server = run.Server(env, run.free_port())
    base = f"http://127.0.0.1:{server.port}"
    try:
        print(f"  gunicorn workers at start: {fmt(server)}")
        browsers = {email: run.Browser(base, email) for email in plan["pages"]}
        jansen = "ouder.jansen@example.org"
        photo = MEDIA_RE.search(browsers[jansen].get("/groepen/"))
        if photo:
            plan["pages"][jansen].append(photo.group(0))
        for _ in range(rounds + 1):
            for email, paths in plan["pages"].items():
                for path in paths:
                    browsers[email].opener.open(base + path, timeout=30).read()
        print(f"  gunicorn workers after {rounds + 1} rounds: {fmt(server)}")
        return [memory(pid) for pid in server.workers()]
    finally:
        server.stop()


def fmt(server) -> str:
    return ", ".join(f"RSS {rss:.0f} / peak {hwm:.0f} MB"
                     for rss, hwm in (memory(pid) for pid in server.workers()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL (emptied first; see above)")
    parser.add_argument("--scale", default="medium", help="small, medium or large")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--trace", action="store_true", help="tracemalloc by package")
    parser.add_argument("--gunicorn", action="store_true", help="also under gunicorn")
    parser.add_argument("--instance", help="an instance folder already seeded (kept)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure, args.rounds, args.trace)

    instance = Path(args.instance or tempfile.mkdtemp(prefix="parro-memory-"))
    url = (args.database_url or f"sqlite:///{instance / 'parro.sqlite3'}")
    env = run.environment(instance, url)
    if not args.instance:
        run.fresh_database(args.database_url, instance, marks=("mem", "bench"),
                           refused=("parro_bench",))
        print(f"== seeding a {args.scale} school", flush=True)
        run.seed(args.scale, env)
    ids = subprocess.run([sys.executable, str(BENCH / "run.py"), "--pick"], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True).stdout
    plan = {"pages": pages(json.loads(ids.strip().splitlines()[-1]))}
    print(f"== one process, like a gunicorn worker ({args.rounds} rounds of "
          f"{sum(map(len, plan['pages'].values()))} pages + a photo)", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--measure", json.dumps(plan), "--rounds",
                    str(args.rounds), *(["--trace"] if args.trace else [])],
                   cwd=ROOT, env=env, check=True)
    print(f"  ({time.perf_counter() - started:.0f} s)")
    if args.gunicorn:
        print("== gunicorn, 2 workers", flush=True)
        under_gunicorn(env, plan, args.rounds)
    if not args.instance:
        print(f"(instance {instance} left for --instance; remove it when done)"
              if os.environ.get("MEMORY_KEEP") else "", end="")
        if not os.environ.get("MEMORY_KEEP"):
            import shutil

            shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
