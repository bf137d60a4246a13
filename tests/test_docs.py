"""docs/ is the source of truth: its workflow table must say what app/workflow/machine.py does."""

from __future__ import annotations

import re
from pathlib import Path

from app.workflow.machine import TRANSITIONS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _doc_rows() -> dict[str, tuple[frozenset[str], str, frozenset[str]]]:
    text = (DOCS / "workflow.md").read_text(encoding="utf-8")
    table = text.split("<!-- workflow-table:start -->")[1].split("<!-- workflow-table:end -->")[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        event, sources, dest, who = cells[:4]

        def names(cell: str) -> frozenset[str]:
            return frozenset(n.strip() for n in cell.split(",") if n.strip())

        rows[event] = (names(sources), dest, names(who))
    return rows


def test_workflow_table_in_docs_matches_the_machine():
    documented = _doc_rows()
    actual = {t.trigger: (frozenset(t.source), t.dest, frozenset(t.roles)) for t in TRANSITIONS}
    assert set(documented) == set(actual), "events documented vs defined differ"
    for event, row in actual.items():
        assert documented[event] == row, f"{event}: docs say {documented[event]}, machine says {row}"


def test_docs_links_resolve():
    for page in [*DOCS.glob("*.md"), DOCS.parent / "README.md", DOCS.parent / "CONTRIBUTING.md"]:
        if not page.exists():
            continue
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
