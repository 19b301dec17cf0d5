"""The Lipschitz claims run at their tiny presets, pass, and store JSON-serialisable measurements; their ratios stay
within their a-priori maxima; every mutant fails."""

import json

import numpy as np
import pytest

from verification.core import CellData, evaluate_claim, get_claim

CLAIMS = ["lipschitz-gap-bounds", "lipschitz-tightness", "lipschitz-tradeoff", "lipschitz-network-bounds"]


@pytest.mark.parametrize("name", CLAIMS)
def test_tiny_preset_passes(name):
    if name == "lipschitz-network-bounds":
        pytest.importorskip("torch")
    claim = get_claim(name)
    preset = claim.preset("tiny")
    cells = []
    for params in preset.grid:
        seeds = np.random.SeedSequence(7).spawn(preset.n_seeds)
        results = claim.run(dict(params), seeds)
        json.dumps(results)
        cells.append(CellData(dict(params), tuple(range(len(seeds))), tuple(results)))
    verdict, outcomes = evaluate_claim(claim, cells)
    assert verdict == "PASS", [o.statistic for o in outcomes if o.verdict != "PASS"]


def test_theorems_registered():
    from rltheory import bounds

    thm = bounds.get("lipschitz_fixed_point_gap")
    assert thm.delta is None
    assert thm.evaluate(gamma=0.9, L=2.0, eps_W=0.1) == pytest.approx(1.8)
    assert bounds.get("lipschitz_operator_gap").evaluate(gamma=0.5, L_V=2.0, W1=0.25) == pytest.approx(0.25)
    assert bounds.get("lipschitz_regularized_error").evaluate(gamma=0.5, E_star=1.0, L=1.0, eps_W=1.0) == 3.0


def _tiny_cells(claim, preset="tiny"):
    pre = claim.preset(preset) if isinstance(preset, str) else preset
    cells = []
    for params in pre.grid:
        seeds = np.random.SeedSequence(11).spawn(pre.n_seeds)
        cells.append(CellData(dict(params), tuple(range(len(seeds))), tuple(claim.run(dict(params), seeds))))
    return cells


@pytest.mark.parametrize("name", ["lipschitz-gap-bounds", "lipschitz-tightness", "lipschitz-tradeoff"])
def test_every_ratio_stays_within_its_a_priori_maximum(name):
    claim = get_claim(name)
    checks = [c for c in claim.checks if getattr(c, "maximum_measure", "")]
    assert checks, "the gap checks declare their per-seed maxima"
    for cell in _tiny_cells(claim):
        for c in checks:
            if c.applies is not None and not c.applies(cell.params):
                continue
            measured, top = cell.column(c.measure), cell.column(c.maximum_measure)
            assert np.all(measured <= top * (1 + 1e-9)), c.label
            assert np.all(top > 0)


def test_the_trivial_gap_bounds_every_learned_model():
    from mdps.metric import metric_line, mixture_model
    from rltheory.lipschitz import fixed_point_gap
    from verification.claims.lipschitz import _trivial_gap

    inst = metric_line(6, n_actions=2, gamma=0.9, rng=0)
    for eps in (0.1, 1.0, 2.5):
        hat = mixture_model(inst, eps, target="point", rng=1)
        fp = fixed_point_gap(inst.mdp, hat.mdp, metric=inst.metric)
        assert fp.gap <= _trivial_gap(inst.mdp, hat.mdp)


@pytest.mark.parametrize(
    ("name", "mutant"),
    [
        ("lipschitz-gap-bounds", "w1-as-tv"),
        ("lipschitz-gap-bounds", "lipschitz-halved"),
        ("lipschitz-tightness", "fixed-point-bound-halved"),
        ("lipschitz-tradeoff", "bias-without-geometric-factor"),
        ("lipschitz-network-bounds", "power-iteration-1"),
    ],
)
def test_every_lipschitz_mutant_fails(name, mutant):
    if name == "lipschitz-network-bounds":
        pytest.importorskip("torch")
    m = get_claim(name).mutated(mutant)
    verdict, outcomes = evaluate_claim(m, _tiny_cells(m, "quick"))
    assert verdict == "FAIL", [(o.check, o.verdict) for o in outcomes]
    # the wrong variant fails on a bound (or the equality the network claim rests on), not only on W1 exactness
    failing = {o.check for o in outcomes if o.verdict == "FAIL"}
    assert failing - {"constructed models have W1 = eps", "W1 = independent solver"}
