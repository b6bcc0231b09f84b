"""Caddy (Debian's package) in a subprocess: HTTPS on loopback in front of a test server.

It runs deploy/parro.caddy, the production recipe's own file, in a site block for
https://127.0.0.1:<free port> with `tls internal` (Caddy's own CA, whose root
certificate the client trusts). Everything Caddy keeps (its CA, certificates,
autosave) stays in the test's folder: its own HOME and XDG folders, no admin
endpoint, no change to the system's trust store, no port 80.
"""

from __future__ import annotations

import http.client
import os
import shutil
import ssl
import time
from pathlib import Path

from .servers import ROOT, Subprocess, free_port

CADDY = shutil.which("caddy")


class Caddy(Subprocess):
    auth_cookie = "__Host-parro_auth"

    def __init__(self, folder: Path, upstream_port: int, max_body: str, port: int | None = None):
        self.port = port or free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Caddyfile").write_text(f"""{{
\tadmin off
\tskip_install_trust
\tauto_https disable_redirects
\thttp_port {free_port()}
\thttps_port {self.port}
\tstorage file_system {folder / "data"}
}}

https://127.0.0.1:{self.port} {{
\tbind 127.0.0.1
\ttls internal
\timport {ROOT / "deploy" / "parro.caddy"} {ROOT} 127.0.0.1:{upstream_port} {max_body}
}}
""")
        env = {**os.environ, "HOME": str(folder), "XDG_DATA_HOME": str(folder / "data"),
               "XDG_CONFIG_HOME": str(folder / "config")}
        self.log_path = folder / "caddy.log"
        self.start([CADDY, "run", "--config", str(folder / "Caddyfile"), "--adapter", "caddyfile"],
                   cwd=folder, env=env)
        self._context: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def context(self) -> ssl.SSLContext:
        """Trusts only Caddy's own CA (made at its first start)."""
        if self._context is None:
            root = self.folder / "data" / "pki" / "authorities" / "local" / "root.crt"
            self._context = ssl.create_default_context(cafile=str(root))
        return self._context

    def connection(self, source: str | None = None) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=60, context=self.context(),
            source_address=(source, 0) if source else None)

    def wait_ready(self, timeout=30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"caddy exited:\n{self.output()}")
            try:
                conn = self.connection()
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except (OSError, ssl.SSLError):
                self._context = None  # the CA may not have been written yet
            time.sleep(0.2)
        raise RuntimeError(f"caddy not ready:\n{self.output()}")
