"""What a phone pays: bytes and requests of a first and a repeat visit, and Lighthouse.

    make audit        (or: .venv/bin/python tools/audit.py [--out DIR] [--no-lighthouse])

Serves the demo school as tools/screenshots.py does (a throw-away instance, the
clock on a Tuesday morning), logs in as a parent and as a teacher, and for every
main page of both:

- counts what crosses the network with Chromium's own log (CDP Network events,
  encodedDataLength: compressed bytes with headers) on a phone-sized screen: the
  first visit with an empty cache, every photo of the page loaded (as if
  scrolled to the end), then a repeat visit of the same page in the same browser;
- runs Lighthouse 12 (tools/audit/package.json, Node 20, Debian's chromium as
  CHROME_PATH) at its default mobile settings on a few of them, logged in by
  passing the session cookie as an extra header.

Writes build/audit/report.md (the table README shows) and Lighthouse's JSON.
Lighthouse's performance score depends on the CPU: run it on a quiet machine
(`uptime`), it prints the load it saw.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import screenshots  # tools/screenshots.py: the demo school on a loopback server
from playwright.sync_api import sync_playwright

from tests.e2e.demo_school import ROLES, log_in, main_pages

ROOT = screenshots.ROOT
LIGHTHOUSE = ROOT / "tools" / "audit" / "node_modules" / ".bin" / "lighthouse"
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True, "locale": "nl-NL"}
ROLES_AUDITED = {"guardian": "parent", "teacher": "teacher"}
# The pages Lighthouse looks at (each run takes a while); bytes are counted on all.
LIGHTHOUSE_PAGES = {"guardian": ["start", "kindgesprek", "activiteiten", "ziekmelden"],
                    "teacher": ["ochtend", "groepen", "kindgesprek", "absentie"]}
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]


def pages_of(role: str, demo) -> dict[str, str]:
    pages = main_pages(role, demo)
    if role == "guardian":
        pages = {"start": "/", **pages}  # the home-screen start URL: the feed
    return pages


class NetworkLog:
    """Chromium's own account of what crossed the network for one page."""

    def __init__(self, context, page):
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.reset()

    def reset(self) -> None:
        self.from_cache: set[str] = set()
        self.bytes: dict[str, int] = {}

    def _response(self, event) -> None:
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self.from_cache.add(event["requestId"])

    def _finished(self, event) -> None:
        self.bytes[event["requestId"]] = event["encodedDataLength"]

    def totals(self) -> tuple[int, int]:
        """(bytes, requests) that went over the network."""
        over = {rid: size for rid, size in self.bytes.items()
                if rid not in self.from_cache and size > 0}
        return sum(over.values()), len(over)


def visit(page, log: NetworkLog, url: str) -> tuple[int, int]:
    log.reset()
    page.goto(url, wait_until="networkidle")
    assert "/login" not in page.url, f"{url}: not logged in"
    page.evaluate(screenshots.LOAD_IMAGES)  # the photos below the fold too, as when scrolled
    page.wait_for_load_state("networkidle")
    return log.totals()


def count_bytes(browser, base_url: str, cookies: list, pages: dict[str, str]) -> dict:
    results = {}
    for name, url in pages.items():
        context = browser.new_context(base_url=base_url, **PHONE)
        context.add_cookies(cookies)
        page = context.new_page()
        log = NetworkLog(context, page)
        first = visit(page, log, url)
        repeat = visit(page, log, url)
        results[name] = {"url": url, "first": first, "repeat": repeat}
        context.close()
    return results


def lighthouse(url: str, cookie_header: str, out: Path) -> dict[str, int]:
    env = {**os.environ, "CHROME_PATH": shutil.which("chromium") or "/usr/bin/chromium"}
    subprocess.run(
        [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
         f"--only-categories={','.join(CATEGORIES)}",
         f"--extra-headers={json.dumps({'Cookie': cookie_header})}",
         "--chrome-flags=--headless=new --no-sandbox --disable-gpu "
         "--disable-background-networking --disable-component-update --no-first-run"],
        check=True, env=env, timeout=300,
    )
    report = json.loads(out.read_text())
    return {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}


def kib(n: int) -> str:
    return f"{n / 1024:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "audit")
    parser.add_argument("--no-lighthouse", action="store_true", help="count bytes only")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_lighthouse and not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is not installed: npm ci --prefix tools/audit (make audit does)")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    load_before = os.getloadavg()
    server, base_url, demo = screenshots.serve()
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True,
                args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
            for role, who in ROLES_AUDITED.items():
                login = browser.new_context(base_url=base_url, **PHONE)
                log_in(login.new_page(), ROLES[role])
                cookies = login.cookies()
                login.close()
                cookie_header = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
                pages = pages_of(role, demo)
                counted = count_bytes(browser, base_url, cookies, pages)
                for name, result in counted.items():
                    scores = None
                    if not args.no_lighthouse and name in LIGHTHOUSE_PAGES[role]:
                        scores = lighthouse(base_url + result["url"], cookie_header,
                                            args.out / f"lighthouse-{role}-{name}.json")
                    rows.append((who, name, result, scores))
                    print(who, name, result, scores or "", flush=True)
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(screenshots.TMP, ignore_errors=True)
    load_after = os.getloadavg()
    report = [
        "| page | first visit KiB | requests | repeat visit KiB | requests "
        "| performance | accessibility | best practices | SEO |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for who, name, result, scores in rows:
        (first, first_n), (repeat, repeat_n) = result["first"], result["repeat"]
        cells = [str(scores[c]) for c in CATEGORIES] if scores else ["", "", "", ""]
        report.append(f"| {who}: {name} (`{result['url']}`) | {kib(first)} | {first_n} "
                      f"| {kib(repeat)} | {repeat_n} | " + " | ".join(cells) + " |")
    report.append("")
    report.append(f"Load average before/after: {load_before[0]:.1f} / {load_after[0]:.1f} "
                  f"on {os.cpu_count()} cores.")
    (args.out / "report.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    print(f"\n{(args.out / 'report.md').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
