"""Every main page, for every role, passes axe-core on a phone (360 px wide):
no serious or critical violations."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from .demo_school import load_demo, log_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


def pages_of(role: str, demo) -> list[str]:
    common = [
        "/groepen/",
        f"/groepen/bericht/{demo.post_id}",
        "/gesprekken/",
        f"/gesprekken/{demo.sem_chat_id}",
        "/activiteiten/",
        f"/activiteiten/{demo.conference3_id}",
        "/absentie/",
        "/account",
        "/account/e-mailberichten",
    ]
    if role == "admin":
        return [
            "/groepen/", f"/groepen/bericht/{demo.post_id}", "/activiteiten/",
            "/absentie/", "/account",
            "/beheer/", "/beheer/groepen", "/beheer/leerlingen", "/beheer/medewerkers",
            "/beheer/ouders", "/beheer/import", f"/privacy/kind/{demo.sem_id}",
            "/beheer/meldingen", "/beheer/logboek",
        ]
    if role == "teacher":
        return [*common, "/", f"/activiteiten/{demo.conference3_id}/rooster",
                f"/privacy/kind/{demo.sem_id}"]
    return [*common, f"/privacy/kind/{demo.sem_id}", "/meldingen/",
            f"/meldingen/groepsbericht/{demo.post_id}"]


def serious(results) -> list[dict]:
    return [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def describe(url: str, violation: dict) -> str:
    nodes = "\n".join(
        f"      {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').strip()}"
        .replace("\n", " ")
        for node in violation["nodes"][:5]
    )
    return f"{url}: [{violation['impact']}] {violation['id']}: {violation['help']}\n{nodes}"


def test_main_pages_pass_axe_for_every_role(app, new_page):
    demo = load_demo()
    axe = Axe()
    problems: list[str] = []

    page = new_page(viewport=PHONE, locale="nl-NL")
    page.goto("/login")
    problems += [describe("/login", v) for v in serious(axe.run(page))]

    for role, email in [("admin", "admin@example.org"),
                        ("teacher", "juf.anna@example.org"),
                        ("guardian", "ouder.jansen@example.org")]:
        page = new_page(viewport=PHONE, locale="nl-NL")
        log_in(page, email)
        for url in pages_of(role, demo):
            response = page.goto(url)
            assert response.status == 200, f"{role} {url}: {response.status}"
            problems += [describe(f"{role} {url}", v) for v in serious(axe.run(page))]

    assert not problems, "axe found serious problems:\n" + "\n".join(problems)
