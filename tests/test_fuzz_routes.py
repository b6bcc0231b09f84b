"""No 500 from any input: hostile values to every route, as every kind of user (issue 20).

For each role (anonymous, a parent, a teacher, the admin) every route of the app
(app.url_map, each row of the authorization table with its URL arguments and form data)
gets:

- requests with every parameter name the app reads (from its forms and its
  request.args/form/values reads) set to the same hostile value, in the query and the
  body, and one of the row's own form fields too: where the role gets past the
  policy one per core kind (NUL, CR/LF, a 25-digit number, an RTL override) and one
  more, else one (the value differs per route and role);
- where the role gets past the policy: a few requests from hypothesis, the first the
  row's valid one, then with some fields replaced, extra fields and query parameters,
  sometimes a path argument replaced, with values from NUL and line breaks to
  25-digit numbers, right-to-left overrides and long strings; about one POST in
  eight carries a 10 MB field. (Query strings stay under 5,000 characters: gunicorn
  refuses request lines over 4 KB, so a 10 MB query never reaches the app.)

Any answer of 500 or more fails. The numbers of examples are small so the test runs
in well under a minute per database; a failure names the request. For a deeper
search, raise the random requests per route and role, e.g.
`PARRO_FUZZ_EXAMPLES=50 make test PYTEST_ARGS=tests/test_fuzz_routes.py`.
"""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError
from wtforms.fields.core import UnboundField

import parro
from parro import clock
from parro.extensions import db

from .helpers import login_as, logout
from .test_authorization import ROUTES
from .test_hostile_input import _form_classes
from .world import build_world

ROLES = {"anonymous": None, "parent": "guardian", "teacher": "teacher", "admin": "admin"}
# Random requests per route and role (the first: the valid one, unchanged).
EXAMPLES = int(os.environ.get("PARRO_FUZZ_EXAMPLES", "2"))
REFUSED = {302, 401, 403}  # the role's answer in the authorization table: not let in
BIG_ONE_IN = 8  # of the random POST requests, about one in eight has a 10 MB field
# A query string stays below this many characters: gunicorn refuses a request line of
# more than 4 KB, so a 10 MB query never reaches the app (and the test client takes
# seconds to build one).
QUERY_MAX = 5000

HUGE = "9" * 25
HOSTILE = [
    "\x00", "a\x00b", "\r\n", "regel\r\nX-Header: 1", "\n", "\u2028", "\t",
    HUGE, "-" + HUGE, str(2**31), str(2**63), "-1", "0", "1e309", "NaN", "²", "١٢",
    "\u202eexe.txt", "\ufeff", "\ud7ff\U0001f600", "<script>alert(1)</script>", "'; --",
    "%", "../../etc/passwd", "/\t/evil.example", "//evil.example", "https://evil.example",
    "", " ", "x" * 300, "9" * 5000, "y" * 100_000,
]
TEN_MB = "z" * (10 * 1024 * 1024)
# Sent to every route that lets the role in: NUL, a header injection, a number too big
# for the database, a right-to-left override.
CORE = ["a\x00b", "regel\r\nX-Header: 1", HUGE, "\u202eexe.txt"]

VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)


def _parameter_names() -> list[str]:
    """Every name the app reads from a request: its form fields and its direct reads."""
    names = set()
    for path in Path(inspect.getfile(parro)).parent.rglob("*.py"):
        source = path.read_text()
        names |= set(re.findall(
            r"request\.(?:args|form|values)\.get(?:list)?\(\s*[\"']([\w-]+)[\"']", source))
        names |= set(re.findall(r"\b_?int_(?:arg|list)\(\s*[\"']([\w-]+)[\"']", source))
    for cls in _form_classes():
        names |= {name for name in dir(cls) if isinstance(getattr(cls, name, None), UnboundField)}
    names.discard("csrf_token")
    return sorted(names)


def _path(rule, values: dict) -> str:
    """The rule's URL with these values, quoted as a browser would (no converter checks)."""
    return re.sub(r"<(?:[^>:]+:)?([^>]+)>",
                  lambda m: quote(str(values[m.group(1)]), safe=""), rule.rule)


def _describe(method, url, data) -> str:
    short = {k: (v if not isinstance(v, str) or len(v) < 60 else f"{v[:20]!r}...({len(v)})")
             for k, v in (data or {}).items()}
    return f"{method} {url[:300]} {short}"


def _check(response, method, url, data):
    assert response.status_code < 500, f"{response.status_code} for {_describe(method, url, data)}"


# The routes in an order that keeps the world usable: what only reads first, then what
# changes, the ones that log out, delete or switch off last.
_LAST = re.compile(r"logout|delete|remove|disable|rollover|end_|unlink|reset|revoke|withdraw|"
                   r"cancel|unassign|year_make_current|import_confirm")


def _order(key: str):
    method = ROUTES[key][0]
    return (method != "GET", bool(_LAST.search(key)), key)


class _Route:
    """One row of the authorization table, set up in the world: its URL and valid form."""

    def __init__(self, key: str, rule, world, made: dict):
        self.key = key
        self.method, url_args, self.expected, data = ROUTES[key]
        self.rule = rule
        self.args = url_args(world)
        if callable(data):
            try:
                made[data] = data(world)
            except IntegrityError:  # made once per world already (a reason with its name)
                db.session.rollback()
            base = made[data]
        else:
            base = dict(data or {})
        self.files = {k: v for k, v in base.items() if isinstance(v, tuple)}
        self.fields = {k: v if isinstance(v, list) else str(v)
                       for k, v in base.items() if not isinstance(v, tuple)}

    def url(self, values: dict | None = None, query: dict | None = None) -> str:
        path = _path(self.rule, {**self.args, **(values or {})})
        return path + ("?" + urlencode(query, doseq=True) if query else "")

    def send(self, client, url: str, form: dict):
        body = {**form, **self.files} if self.method != "GET" else None
        response = client.open(url, method=self.method, data=body)
        _check(response, self.method, url, body)


def _random_requests(client, route: _Route, names: list[str]):
    """A few requests around the valid one (hypothesis tries the valid one first)."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def random_request(draw_from):
        draw = draw_from.draw
        values = {}
        if route.rule.arguments and draw(st.booleans()):
            values[draw(st.sampled_from(sorted(route.rule.arguments)))] = draw(VALUES)
        fields = route.fields
        changed = draw(st.sets(st.sampled_from(sorted(fields)))) if fields else set()
        form = {k: draw(VALUES) if k in changed else v for k, v in fields.items()}
        form.update(draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=4)))
        if route.method != "GET" and draw(st.integers(0, BIG_ONE_IN - 1)) == 0:
            form[draw(st.sampled_from(sorted(form) or ["x"]))] = TEN_MB
        query = draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=4))
        route.send(client, route.url(values, {k: v[:QUERY_MAX] for k, v in query.items()}),
                   form)

    random_request()


@pytest.mark.parametrize("role", ROLES)
def test_no_input_gives_a_server_error(app, client, role):
    world = build_world()
    user = world.user(ROLES[role]) if ROLES[role] else None
    names = _parameter_names()
    rules = {rule.endpoint: rule for rule in client.application.url_map.iter_rules()}
    role_index = list(ROLES).index(role)
    made: dict = {}

    for index, key in enumerate(sorted(ROUTES, key=_order)):
        logout(client)  # a route before may have logged out or ended this login
        if user is not None:
            login_as(client, user)
        route = _Route(key, rules[key.split("#")[0]], world, made)

        # Every name the app reads at once, one hostile value, in the query and the body;
        # one of the row's own fields gets it too. Where the role gets past the policy
        # (the authorization table says who does) each of the core kinds, else one
        # (another per route and role): a refusal comes before any input is read.
        let_in = route.expected[ROLES[role] or "anonymous"] not in REFUSED
        rotating = HOSTILE[(index * len(ROLES) + role_index) % len(HOSTILE)]
        for value in [*CORE, rotating] if let_in else [rotating]:
            form = {**dict.fromkeys(names, value), **route.fields}
            if route.fields:
                form[sorted(route.fields)[index % len(route.fields)]] = value
            route.send(client, route.url(query=dict.fromkeys(names, value[:QUERY_MAX])), form)

        if let_in:
            _random_requests(client, route, names)
        clock.set_now(None)
