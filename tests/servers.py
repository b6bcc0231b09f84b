"""Real app servers in subprocesses, and a tiny HTTP client for them (standard library only).

The multi-server and load tests start gunicorn on a loopback port with
their own instance folder, against the test database, and talk to it over
HTTP like a browser: the auth cookie of a session row made in the database,
the Flask session cookie the server sets (CSRF token), no redirects followed.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from parro.extensions import db
from parro.models import UserSession
from parro.security import hash_token, new_token

from .conftest import database_url

ROOT = Path(__file__).resolve().parent.parent
SECRET = "shared-secret-key-of-the-test-servers"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def auth_token(user) -> str:
    """A logged-in session for `user`, as /login would make it (commit it before use)."""
    token = new_token()
    db.session.add(UserSession(token_hash=hash_token(token), user_id=user.id))
    return token


class Subprocess:
    """A server in a subprocess whose output goes to the file `log_path`."""

    process: subprocess.Popen
    log_path: Path

    def start(self, args: list[str], **popen) -> None:
        # The server writes to its own copy of the file descriptor; ours closes at once.
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **popen)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Server(Subprocess):
    """gunicorn serving app:app on 127.0.0.1:port with its own instance folder."""

    def __init__(self, instance: Path, workers=1, **config):
        # The test opens the listening socket and hands it to gunicorn: it accepts
        # connections from the start, and a request waits in its queue until a
        # worker is ready, so nobody has to poll for readiness.
        listener = socket.create_server(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        self.instance = instance
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARRO_")}
        env.update({
            "PARRO_INSTANCE_PATH": str(instance),
            "PARRO_DATABASE_URL": database_url(),
            "PARRO_SECRET_KEY": SECRET,
            "PARRO_BASE_URL": f"http://127.0.0.1:{self.port}",
            "PARRO_MAIL_SENDER_THREAD": "false",
        })
        env.update({f"PARRO_{k}": str(v) for k, v in config.items()})
        instance.mkdir(parents=True, exist_ok=True)
        self.log_path = instance / "server.log"
        # Without a control socket: gunicorn's is one path in $HOME for every server,
        # and several run at once (pytest-xdist workers, other test runs).
        self.start(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--no-control-socket",
             "--worker-class", "sync", "--bind", f"fd://{listener.fileno()}",
             "--timeout", "60", "--graceful-timeout", "3", "app:app"],
            cwd=ROOT, env=env, pass_fds=(listener.fileno(),),
        )
        # Only gunicorn holds it now: should it exit, connecting fails instead of waiting.
        listener.close()

    auth_cookie = "parro_auth"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connection(self, source: str | None = None) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(source, 0) if source else None)

    def wait_ready(self) -> None:
        """Return when a worker answers (the first request waits in the socket's queue)."""
        try:
            response = Client(self).get("/healthz")
        except OSError as exc:
            raise RuntimeError(f"server not ready ({exc}):\n{self.output()}") from exc
        if response.status != 200:
            raise RuntimeError(f"server not ready ({response.status}):\n{self.output()}")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its workers (Linux /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.process.pid in (pid, ppid):
                total += int(fields[11]) + int(fields[12])
        return total / ticks



def start_servers(*servers: Server) -> None:
    for server in servers:
        server.wait_ready()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Client:
    """One browser: its cookies, pointed at a server (which may change)."""

    server: Server  # or anything with .connection(source) and .auth_cookie (tests/caddy.py)
    cookies: dict = field(default_factory=dict)
    csrf: str = ""
    source: str | None = None  # the loopback address to connect from, e.g. "127.0.0.2"

    def login(self, token: str) -> Client:
        self.cookies[self.server.auth_cookie] = token
        return self

    def request(self, method, path, data=None, files=None, headers=None) -> Response:
        headers = dict(headers or {})
        body = None
        if data is not None or files:
            fields = dict(data or {})
            if self.csrf:
                fields.setdefault("csrf_token", self.csrf)
            if files:
                body, headers["Content-Type"] = _multipart(fields, files)
            else:
                body = urlencode(fields, doseq=True).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method == "POST":  # as a browser does; over HTTPS Flask-WTF checks it
            headers.setdefault("Referer", f"{self.server.url}{path}")
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = self.server.connection(self.source)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in cookie and "expires=Thu, 01 Jan 1970" not in cookie:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response

    def get(self, path, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path, data=None, **kw) -> Response:
        return self.request("POST", path, data=data if data is not None else {}, **kw)

    def fetch_csrf(self, path="/account") -> Client:
        """Open a page and keep its CSRF token (it lives in the Flask session cookie)."""
        page = self.get(path)
        assert page.status == 200, (page.status, page.text[:500])
        match = (re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
                 or re.search(r'"X-CSRFToken": "([^"]+)"', page.text))  # every page's
        assert match, "no CSRF token on the page"
        self.csrf = match.group(1)
        return self


def _multipart(fields: dict, files: list[tuple[str, str, bytes, str]]):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                         f"{v}\r\n".encode())
    for name, filename, content, content_type in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                     + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
