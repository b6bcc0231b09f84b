"""Every main page, for every role, passes axe-core on a phone (360 px wide) and on a
laptop (1280 px wide): no serious or critical violations."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from .demo_school import ROLES, load_demo, log_in, main_pages

pytestmark = pytest.mark.e2e

SIZES = {"phone": {"width": 360, "height": 740}, "laptop": {"width": 1280, "height": 800}}


def serious(results) -> list[dict]:
    return [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def describe(url: str, violation: dict) -> str:
    nodes = "\n".join(
        f"      {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').strip()}"
        .replace("\n", " ")
        for node in violation["nodes"][:5]
    )
    return f"{url}: [{violation['impact']}] {violation['id']}: {violation['help']}\n{nodes}"


@pytest.mark.parametrize("size", SIZES)
def test_main_pages_pass_axe_for_every_role(app, new_page, size):
    demo = load_demo()
    axe = Axe()
    problems: list[str] = []

    page = new_page(viewport=SIZES[size], locale="nl-NL")
    page.goto("/login")
    problems += [describe("/login", v) for v in serious(axe.run(page))]

    for role, email in ROLES.items():
        page = new_page(viewport=SIZES[size], locale="nl-NL")
        log_in(page, email)
        for url in main_pages(role, demo).values():
            response = page.goto(url)
            assert response.status == 200, f"{role} {url}: {response.status}"
            problems += [describe(f"{size} {role} {url}", v) for v in serious(axe.run(page))]

    assert not problems, "axe found serious problems:\n" + "\n".join(problems)
