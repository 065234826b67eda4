"""The dashboard page's "due soon" table and card (issue #16) over HTTP, on the desk of
tests/readmodel/test_due_soon.py: running clocks past their warning instant, not yet due."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.test_dashboard import cells
from tests.conftest import Stack, auth
from tests.readmodel.test_due_soon import a_desk_with_warnings


async def test_the_dashboard_shows_the_clocks_due_soon(stack: Stack) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    a_desk_with_warnings(stack.read_model, now)
    html = (await stack.http.get("/dashboard", headers=auth("supervisor"))).text

    # W1's first contact (due in 10 min), D1 (20 min), W3's solution (50 min); W2's warning is ahead,
    # W4 is overdue, W5 closed, D2 answered, D3 on its ladder
    assert 'id="due-soon-total">3<' in html
    rows = cells(html, "due-soon")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("W1", "W1", "first contact", "call-centre"), ("D1", "W2", "direct dispatch", "gd-gz-tianhe"),
        ("W3", "W3", "solution", "call-centre")]
    assert rows[0][6] in ("in 9 min", "in 10 min")  # the page is drawn a moment after `now`
    ui = stack.settings.temporal_ui_url
    assert f'href="{ui}/namespaces/default/workflows/D1"' in html
