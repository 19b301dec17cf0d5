"""Every built-in claim can fail: each ships a mutant (a deliberately wrong variant), and the mutant comes out FAIL.

A claim whose mutant passed would be a check that cannot fail. The mutants run at a preset sized for the default
test run (``Mutant.preset``), in-process.
"""

from __future__ import annotations

import pytest

from verification.core import all_claims, evaluate_claim, get_claim
from verification.runner import run_claims
from verification.store import ResultStore

NAMES = [c.name for c in all_claims()]


def test_every_claim_has_a_mutant():
    assert [n for n in NAMES if not get_claim(n).mutants] == []


@pytest.mark.parametrize("name", NAMES)
def test_mutant_fails(name, tmp_path):
    claim = get_claim(name)
    for mutant in claim.mutants[:1]:
        m = claim.mutated(mutant.name)
        assert m.name == f"{name}~{mutant.name}"
        store = tmp_path / "s.sqlite"
        run_claims([m], "quick", store, workers=0, progress=False)
        with ResultStore(store) as st:
            verdict, outcomes = evaluate_claim(m, st.cells(m.name, "quick"))
        deciding = [(o.check, o.verdict, o.statistic) for o in outcomes if not o.informational]
        assert verdict == "FAIL", deciding
        if mutant.targets:  # it fails where it was aimed, not through some other check
            assert any(o.check in mutant.targets and o.verdict == "FAIL" for o in outcomes), deciding
