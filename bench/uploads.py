"""Does anyone wait while a teacher uploads 20 photos? And what does an upload cost a worker?

    .venv/bin/python bench/uploads.py                     # SQLite (a temporary instance)
    .venv/bin/python bench/uploads.py --database-url postgresql+psycopg://postgres@127.0.0.1/parro_bench
    (`make bench-uploads`, `make bench-uploads DB=postgresql`; see README, Performance)

On the demo school in a fresh database, under gunicorn with 2 workers on
127.0.0.1 (as bench/run.py), logged in through the login form:

1. **Chat during an upload.** A parent sends chat messages one after the other,
   as htmx sends them (each waits for the answer to the one before), first
   alone, then while a teacher posts 20 phone photos of 12 MP in one request
   (a multipart POST, as the post form sends it). Reports p50, p95 and the
   slowest chat post of both, and the upload's time. Before the upload
   pipeline moved out of the write transaction, every chat post waited on
   SQLite for the upload's lock.
2. **Memory.** The most memory a worker held (VmHWM in /proc) before and
   after an upload: the 20 photos of 12 MP, and one PNG of 59 MP (decoded in
   full, no JPEG shortcut), each on freshly started workers.

Prints a table for README and writes bench/results/uploads-<database>-<date>.json.
A PostgreSQL database is emptied first: its name must contain "bench".
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from photos import camera_photo  # noqa: E402
from run import (  # noqa: E402
    BIN,
    ROOT,
    Browser,
    Server,
    environment,
    free_port,
    fresh_database,
    machine,
)

NA_RE = re.compile(r'name="na" value="(\d+)"')
V_RE = re.compile(r'name="v" value="(\d+)"')


def huge_png() -> bytes:
    """A PNG of 59 MP (8880 x 6660) that compresses to about 1 MB: decoding it takes
    all its pixels, whatever the file's size."""
    from PIL import Image

    width, height = 8880, 6660
    noise = Image.effect_noise((width // 32, height // 32), 40).resize(
        (width, height), Image.Resampling.NEAREST)
    base = Image.linear_gradient("L").resize((width, height), Image.Resampling.NEAREST)
    out = io.BytesIO()
    Image.merge("RGB", (base, noise, base)).save(out, "PNG", compress_level=1)
    return out.getvalue()


def send(port: int, method: str, path: str, cookie: str, body: bytes = b"",
         headers: dict | None = None) -> tuple[int, str, float]:
    """One request on its own connection: status, text, seconds (redirects not followed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    connection.request(method, path, body=body or None,
                       headers={"Cookie": cookie, **(headers or {})})
    response = connection.getresponse()
    text = response.read().decode(errors="replace")
    elapsed = time.perf_counter() - start
    connection.close()
    return response.status, text, elapsed


class Chat:
    """A parent's open conversation: posts messages as htmx does, keeping the cursor."""

    def __init__(self, port: int, browser: Browser):
        self.port, self.cookie = port, browser.cookie_header()
        page = browser.get("/gesprekken/")
        self.path = "/gesprekken/" + re.search(r'href="/gesprekken/(\d+)"', page).group(1)
        page = browser.get(self.path)
        self.csrf = browser.csrf(self.path)
        self.na, self.v = NA_RE.search(page).group(1), V_RE.search(page).group(1)
        self.sent = 0

    def post(self) -> float:
        self.sent += 1
        body = urllib.parse.urlencode({"csrf_token": self.csrf, "body": f"Bericht {self.sent}",
                                       "na": self.na, "v": self.v}).encode()
        status, text, seconds = send(self.port, "POST", self.path, self.cookie, body, {
            "Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"})
        if status != 200:
            raise SystemExit(f"chat post answered {status}: {text[:300]}")
        self.na = NA_RE.search(text).group(1)
        self.v = V_RE.search(text).group(1)
        return seconds


class Teacher:
    """A teacher with the post form of her group open."""

    def __init__(self, port: int, browser: Browser):
        self.port, self.cookie = port, browser.cookie_header()
        page = browser.get("/groepen/")
        self.path = re.search(r'href="(/groepen/\d+/nieuw)"', page).group(1)
        self.csrf = browser.csrf(self.path)
        self.group = self.path.split("/")[2]

    def upload(self, files: list[tuple[str, bytes]]) -> float:
        from werkzeug.datastructures import FileStorage, MultiDict
        from werkzeug.test import encode_multipart

        form = MultiDict([("csrf_token", self.csrf), ("groups", self.group),
                          ("body", "Schoolreis!")])
        for name, data in files:
            form.add("files", FileStorage(io.BytesIO(data), name))
        boundary, body = encode_multipart(form)
        status, text, seconds = send(self.port, "POST", self.path, self.cookie, body, {
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        if status != 303:
            raise SystemExit(f"upload answered {status}: {text[:500]}")
        return seconds


def percentiles(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 1),
            "max_ms": round(ms[-1], 1)}


def seed(env: dict) -> None:
    flask = [str(BIN / "flask"), "--app", "app"]
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def chatting_during_upload(chat: Chat, teacher: Teacher, photos) -> tuple[float, list[float]]:
    """The upload's seconds, and the chat posts' seconds sent one after the other meanwhile."""
    done = threading.Event()
    result = []

    def upload():
        try:
            result.append(teacher.upload(photos))
        except BaseException as exc:  # SystemExit too: the thread would swallow it
            result.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=upload)
    thread.start()
    latencies = []
    while not done.is_set():
        latencies.append(chat.post())
    thread.join()
    if isinstance(result[0], BaseException):
        raise SystemExit(f"the upload failed: {result[0]}")
    return result[0], latencies


def chat_during_upload(env: dict, photos: list[tuple[str, bytes]], rounds: int) -> dict:
    port = free_port()
    server = Server(env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        chat = Chat(port, Browser(base, "ouder.jansen@example.org"))
        teacher = Teacher(port, Browser(base, "juf.anna@example.org"))
        alone = [chat.post() for _ in range(5)]  # warm up both workers
        alone = [chat.post() for _ in range(40)]
        during, uploads = [], []
        for _ in range(rounds):
            seconds, latencies = chatting_during_upload(chat, teacher, photos)
            uploads.append(seconds)
            during.extend(latencies)
        return {"chat_alone": percentiles(alone), "chat_during_upload": percentiles(during),
                "upload_seconds": [round(s, 2) for s in uploads]}
    finally:
        server.stop()


def peak_memory(env: dict, files: list[tuple[str, bytes]]) -> dict:
    """The workers' VmHWM after login, and after one upload of `files`, on fresh workers."""
    port = free_port()
    server = Server(env, port)
    try:
        teacher = Teacher(port, Browser(f"http://127.0.0.1:{port}", "juf.anna@example.org"))
        before = max(server.memory_mb("VmHWM"))
        seconds = teacher.upload(files)
        after = max(server.memory_mb("VmHWM"))
        return {"before_mb": round(before), "after_mb": round(after),
                "upload_seconds": round(seconds, 2)}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL (emptied first; its name must "
                        "contain 'bench')")
    parser.add_argument("--rounds", type=int, default=3, help="uploads while chatting")
    args = parser.parse_args()

    database = "postgresql" if args.database_url else "sqlite"
    instance = Path(tempfile.mkdtemp(prefix="parro-bench-uploads-"))
    env = environment(instance, fresh_database(args.database_url, instance))
    # The parent sends more messages than a person would: the chat's own limit stays out of it.
    env["PARRO_RATELIMIT_CHAT_POST"] = "100000 per minute"
    # The time-out of README's production recipe: an upload takes longer than gunicorn's 30 s
    # default on a busy machine.
    env["GUNICORN_CMD_ARGS"] = "--timeout 120"
    print(f"== uploads on {database}: seeding the demo school", flush=True)
    seed(env)
    print("making 20 photos of 12 MP and a PNG of 59 MP ...", flush=True)
    distinct = [camera_photo(4000, 3000, i) for i in range(4)]
    photos = [(f"IMG_{i:04d}.jpg", distinct[i % 4]) for i in range(20)]
    png = [("scherm.png", huge_png())]

    results = {"database": database, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": machine(),
               "photos_mb": round(sum(len(d) for _, d in photos) / 1024 / 1024, 1),
               "png_mb": round(len(png[0][1]) / 1024 / 1024, 1)}
    print("chat posts, alone and during 20-photo uploads ...", flush=True)
    results.update(chat_during_upload(env, photos, args.rounds))
    print("worker memory: 20 photos of 12 MP ...", flush=True)
    results["memory_photos"] = peak_memory(env, photos)
    print("worker memory: one PNG of 59 MP ...", flush=True)
    results["memory_png"] = peak_memory(env, png)

    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"uploads-{database}-{datetime.now(UTC):%Y-%m-%d}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    print(f"\n{path.relative_to(ROOT)} written")


def table(r: dict) -> str:
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[r["database"]]
    alone, during = r["chat_alone"], r["chat_during_upload"]
    uploads = ", ".join(f"{s:.1f}" for s in r["upload_seconds"])
    photos, png = r["memory_photos"], r["memory_png"]
    return "\n".join([
        f"| {name}, {r['date'][:10]} | chat posts | p50 ms | p95 ms | slowest ms |",
        "|---|---:|---:|---:|---:|",
        f"| a parent's chat posts, nothing else going on | {alone['n']} | {alone['p50_ms']} | "
        f"{alone['p95_ms']} | {alone['max_ms']} |",
        f"| the same during a teacher's upload of 20 photos of 12 MP "
        f"({r['photos_mb']:.0f} MB; {uploads} s) | {during['n']} | {during['p50_ms']} | "
        f"{during['p95_ms']} | {during['max_ms']} |",
        "",
        f"Worker peak memory (VmHWM): 20 photos of 12 MP {photos['before_mb']} → "
        f"{photos['after_mb']} MB ({photos['upload_seconds']:.1f} s); one PNG of 59 MP "
        f"({r['png_mb']:.0f} MB) {png['before_mb']} → {png['after_mb']} MB "
        f"({png['upload_seconds']:.1f} s).",
    ])


if __name__ == "__main__":
    main()
