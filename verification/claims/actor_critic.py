"""Claims of Tan, Fan & Wei, "Actor-Critics Can Achieve Optimal Sample Efficiency" (ICML 2025, arXiv:2505.03710),
for the optimistic rare-switching actor-critic of :mod:`rltheory.linear` (a reconstruction: only the abstract could be
read; see ``docs/actor_critic.md`` for what is inferred).

Every claim measures exact quantities: each episode's (stochastic) policy is evaluated exactly by
:func:`rltheory.agents.run_episodes`, optimal values come from backward induction, concentrability from occupancy
measures. Seeds: seed ``i`` drives the online interaction (``run_episodes``'s generator) and, through an independent
child ``SeedSequence``, the offline dataset; the same seed is used in every cell (common random numbers).

**Paper constants and scaled constants** (as in :mod:`verification.claims.regret`). The "paper" cells use the
theory's scales: LSVI-UCB's ``beta = c d H sqrt(iota)`` with ``c = 1`` and ``lambda = 1`` (Tan, Fan & Wei's confidence
radius was not read; this is the linear-MDP radius of Jin et al. 2020 with its unstated ``c`` set to 1) and the Hedge
step size ``eta = sqrt(2 N log|A| / (H^2 K))`` with ``N = H d log2(1 + K / d)`` reset intervals
(:func:`rltheory.linear.hedge_step_size`). At these scales the bonus exceeds the value range for far longer than a
quick run and the actor barely moves, so regret is linear in ``K``: those cells check the bound's inequality and
report their slope as information. The "scaled" cells run the same algorithm with ``beta = c d H sqrt(iota)``,
``c = 0.0005``, ``lambda = (beta / H)^2`` (so an unvisited pair's bonus ``beta / sqrt(lambda)`` stays ``H``, optimistic)
and ``eta = 100`` (one exponential-weights step then puts almost all mass on actions within ~0.05 of the critic's best,
so the actor's tracking cost per reset interval, about ``log|A| / eta`` per visited state, is small); the theorem's
constants do not cover them: every check on them that would bear on a theorem is information only, labelled
"outside the theorem" (evidence about the algorithm's behaviour, never for the theorem).

**A-priori maxima and verdicts** (:mod:`verification.core`). Rewards lie in [0, 1] on RiverSwim and the random linear
MDPs (the hard gap bandit too), so a regret over ``K`` episodes never exceeds ``H K`` and a suboptimality never exceeds
``H``; on DeepSea (a move costs) it never exceeds ``H (max R - min R)``. Every inequality with such a range declares
it (``BoundCheck.maximum``): where the bound is at or above it everywhere the check is VACUOUS (it holds whatever the
algorithm does), and a measurement above it is a broken run (FAIL). With the unstated constants set to 1, the regret
and sample-complexity bounds are VACUOUS at every preset here: the claims say so rather than PASS. Each claim carries
a :class:`~verification.core.Mutant` that must come out FAIL at a small preset (``tests/verification/test_mutants.py``):
a genuinely wrong learner where one can fail the check (optimism bonus removed, switching at every 1% growth of the
determinant, a hybrid that gets no offline data, a non-optimistic learner whose offline data are thrown away), a
bound divided by a power of ten where the paper's bound is vacuous (no learner can violate it).
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np

import mdps
from mdps.linear import LinearMDP, random_linear_mdp
from mdps.offline import collect_offline_dataset, concentrability, mixture_behaviour_policy
from rltheory.agents import LSVIUCB, UCBVI, jin_beta, run_episodes
from rltheory.bounds import get as get_theorem
from rltheory.bounds.actor_critic import linear_critic_log_covering
from rltheory.linear import (
    hedge_step_size,
    hybrid_actor_critic,
    non_optimistic_hybrid_actor_critic,
    optimistic_actor_critic,
    switch_bound,
    tabular_hoeffding_beta,
)
from rltheory.mdp import TabularMDP
from rltheory.tabular import backward_induction
from verification.core import (
    BoundCheck,
    Claim,
    Mutant,
    Preset,
    RateCheck,
    probability_maximum,
    register,
    regret_maximum,
)

DELTA = 0.05
#: Scaled cells: LSVI-UCB's constant c in beta = c d H sqrt(iota), and the actor's step size.
SCALED_C = 0.0005
SCALED_ETA = 100.0
#: The unstated constants of the registered bounds are set to 1 when a bound is evaluated (our assumption).
UNSTATED_CONSTANT = 1.0


# --------------------------------------------------------------------------------------------------------- instances
def _instance(params: dict[str, Any]) -> LinearMDP:
    H = params["H"]
    name = params["instance"]
    if name == "riverswim":
        return mdps.one_hot_linear_mdp(mdps.riverswim(params["S"], variant="osband", horizon=H))
    if name == "random_linear":
        return random_linear_mdp(params["S"], params["A"], params["d"], horizon=H, rng=params["instance_seed"])
    if name == "deepsea":
        sea = mdps.deep_sea(
            params["size"], deterministic=params["deterministic"], unscaled_move_cost=params["move_cost"], horizon=H
        )
        return mdps.one_hot_linear_mdp(sea)
    raise ValueError(f"unknown instance {name!r}")


def gap_bandit_mdp(gap: float) -> TabularMDP:
    """A two-step hard instance with action gap ``gap``: from state 0, action 0 reaches the rewarding state 1 with
    probability ``(1 + gap) / 2``, action 1 with ``(1 - gap) / 2`` (else the zero-reward state 2); the reward 1 is
    collected at the second step. ``V* = (1 + gap) / 2``; any policy that plays action 1 with probability ``q`` at the
    first step is ``q gap``-suboptimal, and telling the actions apart takes ``~1 / gap^2`` episodes."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1], P[0, 0, 2] = (1 + gap) / 2, (1 - gap) / 2
    P[0, 1, 1], P[0, 1, 2] = (1 - gap) / 2, (1 + gap) / 2
    P[1, :, 1] = P[2, :, 2] = 1.0
    R = np.zeros((2, 3, 2))
    R[1, 1, :] = 1.0
    return TabularMDP(P, R, horizon=2, initial=[1.0, 0.0, 0.0])


def _children(seeds: list[np.random.SeedSequence], k: int) -> list[np.random.SeedSequence]:
    """Child ``k`` of each seed, without mutating the seeds (online interaction: child 0, offline data: 1, ...)."""
    return [np.random.SeedSequence(s.entropy, spawn_key=(*s.spawn_key, k)) for s in seeds]


def _rngs(seeds: list[np.random.SeedSequence], k: int = 0) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in _children(seeds, k)]


def _scales(params: dict[str, Any], d: int, A: int) -> tuple[float, float, float]:
    """``(beta, lam, eta)`` of a cell: the paper's scales or the scaled ones (module docstring)."""
    H, K = params["H"], params["K"]
    if params["scale"] == "paper":
        beta = jin_beta(1.0, d=d, horizon=H, n_episodes=K, p=DELTA)
        eta = hedge_step_size(A, H, K, H * switch_bound(K, d=d, lam=1.0))
        return beta, 1.0, eta
    beta = jin_beta(SCALED_C, d=d, horizon=H, n_episodes=K, p=DELTA)
    return beta, min(1.0, (beta / H) ** 2), SCALED_ETA


def _checkpoints(K: int) -> np.ndarray:
    return np.unique(np.concatenate([np.geomspace(10, K, 16), np.geomspace(K / 4, K, 12)]).astype(np.int64))


def _paper(p: dict[str, Any]) -> bool:
    return p.get("scale") == "paper"


def _scaled(p: dict[str, Any]) -> bool:
    return p.get("scale") == "scaled"


# ------------------------------------------------------------------------------------------------------------ regret
def run_regret(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """The actor-critic, LSVI-UCB and UCBVI-CH on the cell's instance, the same seeds (online generators)."""
    lin = _instance(params)
    mdp, d, H, K, n = lin.mdp, lin.d, params["H"], params["K"], len(seeds)
    beta, lam, eta = _scales(params, d, mdp.n_actions)
    ac = optimistic_actor_critic(lin.features, H, n, beta=beta, eta=eta, lam=lam)
    log_ac = run_episodes(mdp, ac, K, _rngs(seeds))
    lsvi = LSVIUCB(lin.features, H, n, beta=beta, lam=lam, clip="remaining")
    log_lsvi = run_episodes(mdp, lsvi, K, _rngs(seeds))
    ucbvi = UCBVI.for_mdp(
        mdp, n, n_episodes=K, delta=DELTA, bonus_scale=1.0 if _paper(params) else 0.003, clip="remaining"
    )
    log_ucbvi = run_episodes(mdp, ucbvi, K, _rngs(seeds))
    ks = _checkpoints(K)
    out = []
    for i in range(n):
        r_ac, r_lsvi = log_ac.cumulative_regret[i], log_lsvi.cumulative_regret[i]
        out.append(
            {
                "K": ks.tolist(),
                "regret": r_ac[ks - 1].tolist(),
                "regret_lsvi": r_lsvi[ks - 1].tolist(),
                "regret_ucbvi": log_ucbvi.cumulative_regret[i, ks - 1].tolist(),
                "ratio_to_lsvi": float(r_ac[-1] / max(r_lsvi[-1], 1e-12)),
                "switches": int(ac.n_switches[i]),
                "final_suboptimality": float(log_ac.suboptimality[i, -1]),
                "beta": beta,
                "lam": lam,
                "eta": eta,
            }
        )
    return out


def _log_F(d: int, H: int, K: Any, lam: float, beta: float) -> Any:
    """``log|F|`` of the linear critic class: covering number at scale ``1 / K`` plus ``log(1 / delta)``."""
    return linear_critic_log_covering(d=d, H=H, K=K, lam=lam, beta=beta, scale=1.0 / np.asarray(K, float)) + math.log(
        1.0 / DELTA
    )


def _regret_bound(params: dict[str, Any], K: np.ndarray | None) -> np.ndarray:
    lin = _instance(params)
    d, A, H = lin.d, lin.n_actions, params["H"]
    beta, lam, _ = _scales(params, d, A)
    Kf = np.asarray(K, dtype=float)
    return np.asarray(
        get_theorem("actor_critic_regret").evaluate(
            T=Kf, d=d, H=H, A=A, log_F=_log_F(d, H, Kf, lam, beta), delta=DELTA, c_regret=UNSTATED_CONSTANT
        )
    )


def _river(scale: str, K: int, H: int = 5) -> dict[str, Any]:
    return {"instance": "riverswim", "S": 4, "A": 2, "H": H, "K": K, "scale": scale}


def _randlin(scale: str, K: int, H: int = 5, S: int = 10, A: int = 4, d: int = 5, seed: int = 1) -> dict[str, Any]:
    return {"instance": "random_linear", "S": S, "A": A, "d": d, "instance_seed": seed, "H": H, "K": K, "scale": scale}


_REGRET_DOC = """\
Regret of the optimistic rare-switching actor-critic, with LSVI-UCB and UCBVI-CH run on the same instances and
seeds. Cells: RiverSwim (Osband's variant, S=4, one-hot features, d=8) and a random low-rank linear MDP (S=10, A=4,
d=5, mdps.linear.random_linear_mdp), each at the paper's scales and at scaled constants (module docstring); LSVI-UCB
runs with the actor-critic's beta and lambda, UCBVI-CH with its paper bonus (paper cells) or 0.003 of it (scaled),
all clipped at H - h + 1. Checks: the regret bound of Tan, Fan & Wei in its sqrt(T) form with the unstated constant
set to 1 and log|F| the log covering number of the linear critic class at scale 1/K plus log(1/delta) (paper cells);
the slope of the seed-mean regret in K with a bootstrap interval, fitted on K >= K_max/4, must reach <= 1/2 (scaled
cells, outside the theorem: information only). Reported: the baselines' slopes, the actor-critic's regret over
LSVI-UCB's at K_max per seed, the switches.

Verdict: VACUOUS. Rewards lie in [0, 1], so regret(K) <= H K whatever the learner does; with c = 1 the bound is 90 x
H K at the tiny preset (K = 200), 10-20 x at the quick one (K = 5000) and at the full one (K = 50,000), and first drops
below H K at K ~ 3.0e6 (RiverSwim, H = 5), 6.9e5 (random linear MDP, H = 5), 2.7e7 and 6.4e6 (H = 10): the report
gives this K per cell. The scaled cells' slope (the rate the theorem predicts) is reported as information: the
theorem's constants do not cover those runs. Mutant `bound-1e-4`: the bound divided by 10^4, which the paper-constant
learner's regret (about 4% of H K at K = 200) exceeds.
"""

ACTOR_CRITIC_REGRET = register(
    Claim(
        name="actor-critic-regret",
        title="Rare-switching actor-critic: regret <= c sqrt((dH^5 log|A| + dH^4 log|F|) T), slope in K <= 1/2; "
        "LSVI-UCB and UCBVI side by side",
        citation="K. Tan, W. Fan, Y. Wei, Actor-Critics Can Achieve Optimal Sample Efficiency, ICML 2025, "
        "arXiv:2505.03710 (abstract: sqrt(T) regret)",
        run=run_regret,
        checks=(
            BoundCheck(
                "regret",
                _regret_bound,
                x="K",
                delta=DELTA,
                theorem="actor_critic_regret",
                label="regret <= bound (c = 1)",
                applies=_paper,
                maximum=regret_maximum(),
            ),
            BoundCheck(
                "regret",
                _regret_bound,
                x="K",
                delta=DELTA,
                theorem="actor_critic_regret",
                label="regret <= bound (c = 1) (scaled constants, outside the theorem)",
                applies=_scaled,
                informational=True,
                maximum=regret_maximum(),
            ),
            RateCheck(
                "regret",
                "K",
                exponent=lambda p: 0.5,
                fit_from=0.25,
                label="actor-critic slope in K <= 1/2 (scaled constants, outside the theorem)",
                applies=_scaled,
                informational=True,
            ),
            RateCheck(
                "regret",
                "K",
                exponent=lambda p: 0.5,
                fit_from=0.25,
                label="actor-critic slope in K (paper constants)",
                applies=_paper,
                informational=True,
            ),
            RateCheck(
                "regret_lsvi",
                "K",
                exponent=lambda p: 0.5,
                fit_from=0.25,
                label="LSVI-UCB slope in K",
                informational=True,
            ),
            RateCheck(
                "regret_ucbvi",
                "K",
                exponent=lambda p: 0.5,
                fit_from=0.25,
                label="UCBVI-CH slope in K",
                informational=True,
            ),
            BoundCheck(
                "ratio_to_lsvi",
                lambda p, x: np.asarray(2.0),
                delta=0.25,
                label="actor-critic regret / LSVI-UCB regret at K_max <= 2 (scaled constants, outside the theorem)",
                applies=_scaled,
                informational=True,
            ),
        ),
        presets={
            "quick": Preset(
                (_river("paper", 5000), _river("scaled", 5000), _randlin("paper", 5000), _randlin("scaled", 5000)),
                n_seeds=16,
                seeds_per_task=8,
            ),
            "full": Preset(
                (
                    _river("paper", 50_000, H=10),
                    _river("scaled", 50_000, H=10),
                    _randlin("paper", 50_000, H=10),
                    _randlin("scaled", 50_000, H=10),
                    _randlin("scaled", 50_000, H=10, seed=2),
                    _randlin("scaled", 50_000, H=10, S=20, A=5, d=8, seed=3),
                    _randlin("paper", 1_000_000, H=3),  # paper constants, bound 0.39 H K: the theorem can fail here
                ),
                n_seeds=32,
                seeds_per_task=8,
            ),
            # the cell where the regret bound (c = 1) is below H K within a run of minutes: the random linear MDP
            # at H = 3, K = 1e6 (bound / H K = 0.39), paper constants
            "nonvacuous": Preset((_randlin("paper", 1_000_000, H=3),), n_seeds=16, seeds_per_task=8),
            "tiny": Preset((_river("paper", 200), _randlin("scaled", 200)), n_seeds=4, seeds_per_task=2),
        },
        description=_REGRET_DOC,
        plots=(("K", "regret", "regret <= bound (c = 1)"), ("K", "regret_lsvi", None), ("K", "regret_ucbvi", None)),
        mutants=(
            Mutant(
                "bound-1e-4",
                "the regret bound (c = 1) divided by 10^4: the paper's bound is 10-90 x H K at these budgets, so no "
                "learner can violate it; a bound 10^4 smaller sits below the paper-constant learner's regret",
                bound_scale=1e-4,
            ),
        ),
    )
)


# ------------------------------------------------------------------------------------------------- sample complexity
def _episodes_to_eps(subopt: np.ndarray, eps: float) -> np.ndarray:
    """Per run, the first ``K`` from which the uniform mixture of the first ``K'`` policies is ``eps``-optimal for
    every ``K' >= K`` in the run (its exact suboptimality is the running mean of the per-episode ones)."""
    avg = np.cumsum(subopt, axis=1) / np.arange(1, subopt.shape[1] + 1)
    above = avg > eps
    last = subopt.shape[1] - np.argmax(above[:, ::-1], axis=1)  # 1 + last index above eps
    return np.where(above.any(axis=1), last + 1, 1).astype(np.int64)


def run_sample_complexity(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """Episodes until the actor-critic's output (the mixture of its policies) is eps-optimal, for each eps of the
    cell, on the hard instance of action gap ``gap_factor * eps`` (tabular critic, one-hot features)."""
    n = len(seeds)
    K_of_eps = np.empty((n, len(params["eps"])), dtype=np.int64)
    censored_at = np.zeros((n, len(params["eps"])), dtype=np.int64)
    for j, eps in enumerate(params["eps"]):
        mdp = gap_bandit_mdp(params["gap_factor"] * eps)
        lin = mdps.one_hot_linear_mdp(mdp)
        K_max = int(math.ceil(params["k_factor"] / eps**2))
        beta = params["beta"]
        ac = optimistic_actor_critic(
            lin.features, 2, n, beta=beta, eta=params["eta"], lam=min(1.0, (beta / 2) ** 2), critic="tabular"
        )
        log = run_episodes(mdp, ac, K_max, _rngs(seeds, j))
        k_eps = _episodes_to_eps(log.suboptimality, eps)
        censored_at[:, j] = k_eps > K_max
        K_of_eps[:, j] = np.minimum(k_eps, K_max)
    return [
        {
            "eps": list(params["eps"]),
            "episodes": K_of_eps[i].tolist(),
            # 1 where the run never stayed eps-optimal within K_max: its value is the cap k_factor / eps^2, whose
            # exponent is the tested one (the rate check is INCONCLUSIVE when too many runs are censored)
            "censored_at": censored_at[i].tolist(),
            "censored": int(censored_at[i].sum()),
        }
        for i in range(n)
    ]


def _sc_cap(params: dict[str, Any], eps: np.ndarray | None) -> np.ndarray:
    """The a-priori maximum of the stored ``K(eps)``: the run length ``K_max = ceil(k_factor / eps^2)`` at which a
    run is censored (no run of this length can show a larger value, whatever the learner does)."""
    return np.ceil(params["k_factor"] / np.asarray(eps, float) ** 2)


def _sc_bound(params: dict[str, Any], eps: np.ndarray | None) -> np.ndarray:
    e = np.asarray(eps, float)
    d, H, A = 6, 2, 2  # the one-hot hard instance: S = 3, A = 2, H = 2
    K_max = params["k_factor"] / e**2
    beta = params["beta"]
    log_F = _log_F(d, H, K_max, min(1.0, (beta / 2) ** 2), beta)
    return np.asarray(
        get_theorem("actor_critic_sample_complexity").evaluate(
            d=d, H=H, A=A, eps=e, log_F=log_F, delta=DELTA, c_sc=UNSTATED_CONSTANT
        )
    )


_SC_DOC = """\
Sample complexity: for each eps, the number of episodes after which the output policy (the uniform mixture of the
policies played, whose suboptimality is computed exactly as the running mean of the per-episode suboptimalities)
stays eps-optimal until the end of the run (K_max = k_factor / eps^2 episodes; a run that never gets there is
censored at K_max and counted). Instances: the hard family gap_bandit_mdp(gap_factor * eps), where telling the two
actions apart takes ~1/gap^2 episodes, so that the minimax order 1/eps^2 (which is also the upper bound's order in
eps) is what an algorithm attaining the bound must show; on a fixed instance the instance-dependent rate is faster
and would not test the eps-dependence. The learner runs at tuned constants: the tabular critic with beta = 2 (our
Hoeffding radius tabular_hoeffding_beta would be 7.3-7.8 here), lambda = (beta/H)^2 and eta = 100, which the
theorem's constants do not cover.

Deciding check: K(eps) <= the bound with c = 1, w.p. >= 1 - delta. Its a-priori maximum is the run length K_max (a
stored K(eps) cannot exceed it): the bound is 4e4-7e4 x K_max at every eps of every preset (bound and cap both scale
as 1/eps^2), so the check is VACUOUS; a run could only violate it with k_factor >~ 2e5 (2e9 episodes at
eps = 0.01). Information (outside the theorem): the log-log slope of the seed mean of K(eps) against eps, with a
bootstrap interval, against -2 (the exponent of eps in actor_critic_sample_complexity). Censored runs sit at the cap
k_factor / eps^2, whose slope is exactly -2: they pull the fit to the tested exponent, so the slope is INCONCLUSIVE
when more than 5% of the runs are censored at a fitted eps (the per-eps flags are stored as censored_at). Mutant
`bound-1e-6`: the bound divided by 10^6 (0.05-0.07 x K_max), which the learner's K(eps) exceeds.
"""

ACTOR_CRITIC_SAMPLE_COMPLEXITY = register(
    Claim(
        name="actor-critic-sample-complexity",
        title="Rare-switching actor-critic: episodes to an eps-optimal output ~ eps^-2 (log-log slope -2)",
        citation="K. Tan, W. Fan, Y. Wei, ICML 2025, arXiv:2505.03710 (abstract: O(dH^5 log|A|/eps^2 + "
        "dH^4 log|F|/eps^2) trajectories)",
        run=run_sample_complexity,
        checks=(
            RateCheck(
                "episodes",
                "eps",
                exponent=lambda p: float(get_theorem("actor_critic_sample_complexity").exponent("eps")),
                direction="two-sided",
                max_width=1.5,
                censored="censored_at",
                label="slope of K(eps) in eps = -2 (tuned constants, outside the theorem)",
                informational=True,
            ),
            BoundCheck(
                "episodes",
                _sc_bound,
                x="eps",
                delta=DELTA,
                theorem="actor_critic_sample_complexity",
                label="K(eps) <= bound (c = 1)",
                maximum=_sc_cap,
            ),
            BoundCheck(
                "censored",
                lambda p, x: np.asarray(0.5),
                delta=0.0,
                label="no run censored at K_max (reported)",
                informational=True,
                maximum=lambda p, x: np.asarray(float(len(p["eps"]))),
            ),
        ),
        presets={
            "quick": Preset(
                (
                    {
                        "eps": [0.03, 0.021, 0.015, 0.0106, 0.0075],
                        "gap_factor": 4.0,
                        "k_factor": 3.0,
                        "beta": 2.0,
                        "eta": 100.0,
                    },
                ),
                n_seeds=32,
                seeds_per_task=8,
            ),
            "full": Preset(
                (
                    {
                        "eps": [0.03, 0.021, 0.015, 0.0106, 0.0075, 0.0053, 0.00375],
                        "gap_factor": 4.0,
                        "k_factor": 4.0,
                        "beta": 2.0,
                        "eta": 100.0,
                    },
                    {
                        "eps": [0.03, 0.021, 0.015, 0.0106, 0.0075, 0.0053, 0.00375],
                        "gap_factor": 8.0,
                        "k_factor": 4.0,
                        "beta": 2.0,
                        "eta": 100.0,
                    },
                ),
                n_seeds=64,
                seeds_per_task=16,
            ),
            # smoke test of the pipeline only: too few seeds and too large eps (burn-in dominates) for a verdict
            "tiny": Preset(
                ({"eps": [0.2, 0.1, 0.05], "gap_factor": 4.0, "k_factor": 2.0, "beta": 2.0, "eta": 100.0},),
                n_seeds=4,
                seeds_per_task=2,
            ),
        },
        description=_SC_DOC,
        plots=(("eps", "episodes", "K(eps) <= bound (c = 1)"),),
        mutants=(
            Mutant(
                "bound-1e-6",
                "the sample-complexity bound (c = 1) divided by 10^6: the paper's bound is 4e4-7e4 x the run length "
                "K_max, so no learner can violate it; a bound 10^6 smaller sits below the learner's K(eps)",
                bound_scale=1e-6,
            ),
        ),
    )
)


# ---------------------------------------------------------------------------------------------------------- switching
def run_switching(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """Count the actor-critic's switches per step along a run (optionally hybrid), at checkpoints. ``switch_factor``
    (default 2: determinant doubling, the rule the bound is about) is a mutant's knob."""
    lin = _instance(params)
    mdp, d, H, K, n = lin.mdp, lin.d, params["H"], params["K"], len(seeds)
    lam = params["lam"]
    factor = float(params.get("switch_factor", 2.0))
    beta = jin_beta(SCALED_C, d=d, horizon=H, n_episodes=K, p=DELTA)
    n_off = params.get("n_off", 0)
    if n_off:
        behaviour = mixture_behaviour_policy(mdp, 0.5)
        data = [collect_offline_dataset(mdp, behaviour, n_off, rng=s) for s in _children(seeds, 1)]
        stacked = _stack(data)
        ac = hybrid_actor_critic(lin.features, H, n, stacked, beta=beta, eta=SCALED_ETA, lam=lam, switch_factor=factor)
    else:
        ac = optimistic_actor_critic(lin.features, H, n, beta=beta, eta=SCALED_ETA, lam=lam, switch_factor=factor)
    ks = np.unique(np.geomspace(100, K, 20).astype(np.int64))  # from K = 100: a hybrid run may not switch before
    want = {int(k): i for i, k in enumerate(ks)}
    per_step = np.zeros((n, len(ks)))
    total = np.zeros((n, len(ks)))

    def record(k: int, _: int) -> None:
        if k in want:
            per_step[:, want[k]] = ac.switch_triggers.max(axis=1)
            total[:, want[k]] = ac.n_switches

    run_episodes(mdp, ac, K, _rngs(seeds), progress=record)
    return [
        {"K": ks.tolist(), "switches_per_step": per_step[i].tolist(), "switches": total[i].tolist(), "d": d}
        for i in range(n)
    ]


def _stack(data: list[Any]) -> SimpleNamespace:
    """Per-run datasets ``[N, H]`` as one ``[n_runs, N, H]`` dataset (:class:`rltheory.linear.TransitionData`)."""
    return SimpleNamespace(
        **{k: np.stack([getattr(x, k) for x in data]) for k in ("states", "actions", "rewards", "next_states")}
    )


def _switch_bound(params: dict[str, Any], K: np.ndarray | None) -> np.ndarray:
    d = _instance(params).d
    T = np.asarray(K, float) + params.get("n_off", 0)
    return np.asarray(get_theorem("logdet_switching").evaluate(d=d, T=T, lam=params["lam"]))


def _total_switch_bound(params: dict[str, Any], K: np.ndarray | None) -> np.ndarray:
    return params["H"] * _switch_bound(params, K)


def _episodes_maximum(params: dict[str, Any], K: np.ndarray | None) -> np.ndarray:
    """A-priori maximum of a switch count after ``K`` online episodes: ``K``. The learner decides whether to switch
    once, at the start of each episode (:meth:`rltheory.linear.RareSwitchingActorCritic.begin_episode`), and the
    refit of the first episode is not counted, so ``n_switches <= K - 1``, and a step's trigger count, incremented
    at most once per switch, too. Offline data (hybrid cells) add no switches: they enter the Gram matrices before
    the first episode."""
    return np.asarray(K, dtype=np.float64)


_SWITCH_DOC = """\
Rare switching: the number of switches that step h triggers (det Lambda_h more than doubled since the last switch)
is at most log2(det Lambda_h(T) / det Lambda_h(0)) <= d log2(1 + T / (lambda d)) with T the samples of the step
(offline plus online), a deterministic consequence of the determinant-trace inequality for ||phi|| <= 1. Checked at
every checkpoint K on every run (delta = 0: a single violation fails the claim), for the busiest step (max over h)
and for the total (<= H times the bound). Cells: RiverSwim one-hot (d=8) and a random linear MDP (d=5), lambda = 1
and lambda = 0.01, and a hybrid run whose Gram matrices start from 50 offline trajectories. The inequality holds for
any bonus and step size (it is about the switching rule alone), so the scaled constants of these runs are not outside
it. A-priori maximum of both counts: K (one switch decision per episode). The per-step bound drops to 1.5-4% of it
at K = 3000 (quick; 0.2-0.5% at the full K = 30,000), the total's H times it to 8-20%, so both checks can fail. At the
tiny preset (K = 300) the per-step bound is 21% of K but the total's is 313 > 300 at every checkpoint: that check is
VACUOUS there, and so is the claim. Mutant `switch-factor-1.01`: the same learner refitting whenever a determinant
grows by 1% instead of doubling (the bound is for doubling).
"""

ACTOR_CRITIC_SWITCHING = register(
    Claim(
        name="actor-critic-switching",
        title="Rare-switching actor-critic: switches per step <= d log2(1 + T/(lambda d)) on every run",
        citation="Determinant-trace inequality (Abbasi-Yadkori, Pal, Szepesvari, NeurIPS 2011) for the rare-switching "
        "rule of the actor-critic of Tan, Fan & Wei, ICML 2025, arXiv:2505.03710",
        run=run_switching,
        checks=(
            BoundCheck(
                "switches_per_step",
                _switch_bound,
                x="K",
                delta=0.0,
                theorem="logdet_switching",
                label="max_h switches_h <= d log2(1 + T/(lambda d))",
                maximum=_episodes_maximum,
            ),
            BoundCheck(
                "switches",
                _total_switch_bound,
                x="K",
                delta=0.0,
                label="switches <= H d log2(1 + T/(lambda d))",
                maximum=_episodes_maximum,
            ),
        ),
        presets={
            "quick": Preset(
                (
                    {**_river("scaled", 3000), "lam": 1.0},
                    {**_river("scaled", 3000), "lam": 0.01},
                    {**_randlin("scaled", 3000), "lam": 1.0},
                    {**_randlin("scaled", 3000), "lam": 0.01},
                    {**_randlin("scaled", 3000), "lam": 1.0, "n_off": 50},
                ),
                n_seeds=8,
                seeds_per_task=8,
            ),
            "full": Preset(
                (
                    {**_river("scaled", 30_000, H=10), "lam": 1.0},
                    {**_river("scaled", 30_000, H=10), "lam": 0.01},
                    {**_randlin("scaled", 30_000, H=10), "lam": 1.0},
                    {**_randlin("scaled", 30_000, H=10), "lam": 0.01},
                    {**_randlin("scaled", 30_000, H=10), "lam": 1.0, "n_off": 2000},
                ),
                n_seeds=32,
                seeds_per_task=8,
            ),
            "tiny": Preset(({**_randlin("scaled", 300), "lam": 0.01},), n_seeds=2, seeds_per_task=2),
        },
        description=_SWITCH_DOC,
        plots=(("K", "switches_per_step", "max_h switches_h <= d log2(1 + T/(lambda d))"),),
        mutants=(
            Mutant(
                "switch-factor-1.01",
                "the learner refits whenever some det Lambda_h grew by 1% (switch_factor = 1.01) instead of doubling: "
                "the determinant-trace bound is for doubling, and this learner switches almost every episode",
                params={"switch_factor": 1.01},
            ),
        ),
    )
)


# ----------------------------------------------------------------------------------------------------------- optimism
def run_optimism(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """At every refit, compare the critic with the exact ``Q*`` on the pairs it was fitted on. ``bonus_factor``
    (default 1) multiplies the bonus scale beta: a mutant's knob (0 removes the optimism bonus)."""
    lin = _instance(params)
    mdp, d, H, K, n = lin.mdp, lin.d, params["H"], params["K"], len(seeds)
    S, A = mdp.n_states, mdp.n_actions
    rule = params["beta_rule"]
    factor = float(params.get("bonus_factor", 1.0))
    if rule == "hoeffding":
        lam = params["lam"]
        beta = factor * tabular_hoeffding_beta(horizon=H, n_states=S, n_actions=A, n_samples=K, delta=DELTA, lam=lam)
        ac = optimistic_actor_critic(lin.features, H, n, beta=beta, eta=SCALED_ETA, lam=lam, critic="tabular")
    else:
        beta, lam, _ = _scales({**params, "scale": "paper" if rule == "jin" else "scaled"}, d, A)
        beta *= factor
        ac = optimistic_actor_critic(lin.features, H, n, beta=beta, eta=SCALED_ETA, lam=lam)
    Q_star = backward_induction(mdp).q_values  # [H, S, A]
    assert Q_star is not None
    worst = np.full(n, -np.inf)
    clipped = np.zeros(n)
    checked = np.zeros(n)
    caps = ac.critic.caps[None, :, None, None]

    def record(k: int, _: int) -> None:
        if not ac.switched.any():
            return
        runs = np.flatnonzero(ac.switched)
        visited = ac.visits_at_fit[runs] > 0
        gap = np.where(visited, Q_star[None] - ac.critic_q[runs], -np.inf)
        worst[runs] = np.maximum(worst[runs], gap.reshape(len(runs), -1).max(axis=1))
        at_cap = (ac.critic_q[runs] >= np.broadcast_to(caps, ac.critic_q[runs].shape)) & visited
        clipped[runs] += at_cap.reshape(len(runs), -1).sum(axis=1)
        checked[runs] += visited.reshape(len(runs), -1).sum(axis=1)

    run_episodes(mdp, ac, K, _rngs(seeds), progress=record)
    return [
        {
            "optimism_violation": float(max(worst[i], 0.0)),
            "largest_gap": float(worst[i]),
            "clipped_fraction": float(clipped[i] / max(checked[i], 1.0)),
            "refits": int(ac.n_switches[i] + 1),
            "beta": beta,
        }
        for i in range(n)
    ]


def _hoeffding(p: dict[str, Any]) -> bool:
    return p.get("beta_rule") == "hoeffding"


def _jin(p: dict[str, Any]) -> bool:
    return p.get("beta_rule") == "jin"


def _tabular_optimism_maximum(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    """A-priori maximum of ``max(Q* - f, 0)`` for the tabular critic: ``H``. ``Q*_h <= H - h + 1 <= H`` (rewards in
    [0, 1]) and the tabular critic is ``>= 0`` (a regularised mean of non-negative targets plus a bonus). The linear
    critic is not clipped from below (a ridge fit can be negative), so its checks declare no maximum."""
    return np.asarray(float(params["H"]))


_OPT_DOC = """\
Optimism: at every refit of every run, the critic must dominate the exact Q* on the (h, s, a) it was fitted on,
f_h(s, a) >= Q*_h(s, a), with probability at least 1 - delta = 0.95 over seeds (binomial test; tolerance 1e-9).
Bonus scales: RiverSwim with the tabular critic and tabular_hoeffding_beta (our Azuma-Hoeffding derivation for
one-hot features, rigorous at level delta); a random linear MDP with LSVI-UCB's beta = c d H sqrt(iota), c = 1,
lambda = 1 (Jin et al.'s radius with its unstated c set to 1: not a guarantee); and scaled bonuses (information
only: no optimism is promised). Reported with each: the fraction of checked entries where the critic sits at its clip
H - h + 1, which measures how much of the optimism is vacuous.

Only the tabular Hoeffding cells decide. In the Jin-radius cells (c = 1) every checked entry sits at the clip
H - h + 1 >= Q*_h: optimism holds there whatever the data, so those cells cannot fail and are information only
(labelled so), like the scaled ones. Mutant `no-bonus`: the same learner with its optimism bonus removed (beta = 0,
a plain regularised Q-iteration), whose critic falls below Q* on visited pairs.
"""

ACTOR_CRITIC_OPTIMISM = register(
    Claim(
        name="actor-critic-optimism",
        title="Rare-switching actor-critic: critic >= Q* on visited pairs at every refit, w.p. >= 1 - delta",
        citation="K. Tan, W. Fan, Y. Wei, ICML 2025, arXiv:2505.03710 (abstract: optimism); tabular radius: our "
        "Azuma-Hoeffding derivation (rltheory.linear.tabular_hoeffding_beta)",
        run=run_optimism,
        checks=(
            BoundCheck(
                "optimism_violation",
                lambda p, x: np.asarray(1e-9),
                delta=DELTA,
                label="max over refits of Q* - f on visited pairs <= 0 (tabular Hoeffding radius)",
                applies=_hoeffding,
                maximum=_tabular_optimism_maximum,
            ),
            BoundCheck(
                "optimism_violation",
                lambda p, x: np.asarray(1e-9),
                delta=DELTA,
                label="optimism with Jin's radius, c = 1 (every checked entry at the clip: cannot fail, not evidence)",
                applies=_jin,
                informational=True,
            ),
            BoundCheck(
                "optimism_violation",
                lambda p, x: np.asarray(1e-9),
                delta=DELTA,
                label="optimism with scaled bonus (outside the theorem: no optimism promised)",
                applies=lambda p: not (_hoeffding(p) or _jin(p)),
                informational=True,
            ),
            BoundCheck(
                "clipped_fraction",
                lambda p, x: np.asarray(1.0),
                delta=0.0,
                label="fraction of checked entries at the clip (reported)",
                informational=True,
                maximum=probability_maximum,
            ),
        ),
        presets={
            "quick": Preset(
                (
                    {**_river("paper", 3000), "beta_rule": "hoeffding", "lam": 0.01},
                    {**_randlin("paper", 3000), "beta_rule": "jin"},
                    {**_river("scaled", 3000), "beta_rule": "scaled"},
                    {**_randlin("scaled", 3000), "beta_rule": "scaled"},
                ),
                n_seeds=16,
                seeds_per_task=8,
            ),
            "full": Preset(
                (
                    {**_river("paper", 30_000, H=10), "beta_rule": "hoeffding", "lam": 0.01},
                    {**_randlin("paper", 30_000, H=10), "beta_rule": "jin"},
                    {**_river("scaled", 30_000, H=10), "beta_rule": "scaled"},
                    {**_randlin("scaled", 30_000, H=10), "beta_rule": "scaled"},
                ),
                n_seeds=64,
                seeds_per_task=16,
            ),
            "tiny": Preset(
                ({**_river("paper", 200), "beta_rule": "hoeffding", "lam": 0.01},), n_seeds=2, seeds_per_task=2
            ),
        },
        description=_OPT_DOC,
        mutants=(
            Mutant(
                "no-bonus",
                "the actor-critic with its optimism bonus removed (beta = 0: a plain regularised Q-iteration critic), "
                "which underestimates Q* on visited pairs",
                params={"bonus_factor": 0.0},
                n_seeds=4,
            ),
        ),
    )
)


# ------------------------------------------------------------------------------------------------------------- hybrid
def run_hybrid(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """The online actor-critic and its hybrid variant (critic initialised on offline data from a good behaviour
    policy), the same online generators."""
    lin = _instance(params)
    mdp, d, H, K, n = lin.mdp, lin.d, params["H"], params["K"], len(seeds)
    beta, lam, eta = _scales(params, d, mdp.n_actions)
    behaviour = mixture_behaviour_policy(mdp, params["alpha"])
    c_star = concentrability(mdp, behaviour)
    data = _stack([collect_offline_dataset(mdp, behaviour, params["n_off"], rng=s) for s in _children(seeds, 1)])
    online = optimistic_actor_critic(lin.features, H, n, beta=beta, eta=eta, lam=lam)
    log_on = run_episodes(mdp, online, K, _rngs(seeds))
    hybrid = hybrid_actor_critic(lin.features, H, n, data, beta=beta, eta=eta, lam=lam)
    log_hy = run_episodes(mdp, hybrid, K, _rngs(seeds))
    ks = _checkpoints(K)
    return [
        {
            "K": ks.tolist(),
            "regret": log_hy.cumulative_regret[i, ks - 1].tolist(),
            "regret_online": log_on.cumulative_regret[i, ks - 1].tolist(),
            "hybrid_over_online": float(log_hy.cumulative_regret[i, -1] / max(log_on.cumulative_regret[i, -1], 1e-12)),
            "hybrid_over_online_curve": (
                log_hy.cumulative_regret[i, ks - 1] / np.maximum(log_on.cumulative_regret[i, ks - 1], 1e-12)
            ).tolist(),
            "c_star": c_star,
        }
        for i in range(n)
    ]


#: "hybrid regret < online regret": the ratio must lie below 1 by more than rounding (a tie is no gain).
_BELOW_ONE = 1.0 - 1e-9

_HYBRID_DOC = """\
Hybrid RL: the critic of the optimistic actor-critic is initialised with N_off trajectories of the behaviour policy
(1 - alpha) pi* + alpha Uniform (single-policy concentrability c*_off computed exactly from occupancy measures and
reported as c_star), then both variants play K online episodes with the same online generator. Check: the hybrid
variant's regret at K is below the purely online one's (strictly: a hybrid that ignores its data ties, and a tie is
no gain), on each seed with probability >= 0.9 (binomial test). Scaled constants (module docstring): the check is
the abstract's qualitative statement about the algorithm, run at tuned constants, not a theorem's inequality (the
ratio has no a-priori maximum: the online regret can be near 0). Mutant `no-offline-data`: the hybrid learner given
N_off = 0 trajectories (it is then the online learner, ratio 1 on every seed).
"""

ACTOR_CRITIC_HYBRID = register(
    Claim(
        name="actor-critic-hybrid",
        title="Hybrid actor-critic: a critic initialised with offline data from a good behaviour policy lowers "
        "online regret",
        citation="K. Tan, W. Fan, Y. Wei, ICML 2025, arXiv:2505.03710 (abstract: initialising the critic with "
        "offline data yields sample-efficiency gains)",
        run=run_hybrid,
        checks=(
            BoundCheck(
                "hybrid_over_online",
                lambda p, x: np.asarray(_BELOW_ONE),
                delta=0.1,
                label="hybrid regret(K) / online regret(K) < 1 (scaled constants: a design property, not a theorem)",
            ),
        ),
        presets={
            "quick": Preset(
                (
                    {**_river("scaled", 2000), "n_off": 50, "alpha": 0.5},
                    {**_randlin("scaled", 2000), "n_off": 50, "alpha": 0.5},
                    {**_randlin("scaled", 2000), "n_off": 500, "alpha": 0.5},
                ),
                n_seeds=16,
                seeds_per_task=8,
            ),
            "full": Preset(
                (
                    {**_river("scaled", 20_000, H=10), "n_off": 100, "alpha": 0.5},
                    {**_river("scaled", 20_000, H=10), "n_off": 1000, "alpha": 0.5},
                    {**_randlin("scaled", 20_000, H=10), "n_off": 100, "alpha": 0.5},
                    {**_randlin("scaled", 20_000, H=10), "n_off": 1000, "alpha": 0.5},
                ),
                n_seeds=64,
                seeds_per_task=16,
            ),
            "tiny": Preset(({**_randlin("scaled", 200), "n_off": 20, "alpha": 0.5},), n_seeds=2, seeds_per_task=2),
        },
        description=_HYBRID_DOC,
        plots=(("K", "regret", None), ("K", "regret_online", None), ("K", "hybrid_over_online_curve", None)),
        mutants=(
            Mutant(
                "no-offline-data",
                "a hybrid that gets no offline data (N_off = 0): the same learner as the online one, so the data "
                "cannot lower its regret",
                params={"n_off": 0},
                n_seeds=4,
            ),
        ),
    )
)


# ----------------------------------------------------------------------------------------------- non-optimistic hybrid
def _n_star(params: dict[str, Any], lin: LinearMDP, c_star: float) -> float:
    return float(
        get_theorem("actor_critic_nonoptimistic_offline").evaluate(
            c_star=c_star, d=lin.d, H=params["H"], eps=params["eps"], c_off=UNSTATED_CONSTANT
        )
    )


def run_nonoptimistic(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """The non-optimistic hybrid actor-critic (beta = 0) after N_off = ratio * c*_off d H^4 / eps^2 offline
    trajectories, for each ratio of the cell, and with no offline data; output = mixture of the K online policies.
    ``drop_offline`` (a mutant's knob) hands the learner none of the data (``n_off`` is still the one recorded)."""
    lin = _instance(params)
    mdp, H, K, eps = lin.mdp, params["H"], params["K"], params["eps"]
    behaviour = mixture_behaviour_policy(mdp, params["alpha"])
    c_star = concentrability(mdp, behaviour)
    n_star = _n_star(params, lin, c_star)
    ratios = params["ratios"]
    out = []
    for s in seeds:  # one run at a time: the largest datasets hold ~2 N* trajectories
        subopt = []
        for j, ratio in enumerate([0.0, *ratios]):
            n_off = int(round(ratio * n_star))
            n_given = 0 if params.get("drop_offline", False) else n_off
            data = collect_offline_dataset(mdp, behaviour, n_given, rng=_children([s], 1 + j)[0])
            ac = non_optimistic_hybrid_actor_critic(
                lin.features, H, 1, data, eta=params["eta"], lam=params["lam"], critic="tabular"
            )
            log = run_episodes(mdp, ac, K, _rngs([s]))
            subopt.append(float(log.suboptimality[0].mean()))
        fail = np.asarray(subopt[1:]) > eps
        # smallest ratio from which every larger ratio succeeds (inf if the largest fails)
        ok_from = len(ratios) if fail[-1] else int(len(ratios) - np.argmax(fail[::-1])) if fail.any() else 0
        transition = float(ratios[ok_from]) if ok_from < len(ratios) else float("inf")
        out.append(
            {
                "n_off_ratio": list(ratios),
                "n_off": [int(round(r * n_star)) for r in ratios],
                "suboptimality": subopt[1:],
                "failure": [float(v > eps) for v in subopt[1:]],
                "success_without_offline": float(subopt[0] <= eps),
                "suboptimality_without_offline": subopt[0],
                "transition_ratio": transition if math.isfinite(transition) else 1e9,
                "n_star": n_star,
                "c_star": c_star,
            }
        )
    return out


def _suboptimality_maximum(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    """A-priori maximum of a suboptimality on the cell's instance: ``H (max R - min R)`` (DeepSea's rewards lie in
    [-move_cost / size, 1 - move_cost / size], a range of 1: ``H``)."""
    R = _instance(params).mdp.R
    return np.asarray(float(params["H"]) * float(np.max(R) - np.min(R)))


def _eps_above_threshold(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    """``eps`` where ``N_off >= N*``; below the threshold the theorem promises nothing, and the bound is the
    suboptimality's a-priori maximum (finite: a non-finite bound is a FAIL), which no run can exceed."""
    r = np.asarray(x, float)
    return np.where(r >= 1.0, params["eps"], _suboptimality_maximum(params, x))


_NONOPT_DOC = """\
The non-optimistic hybrid actor-critic (beta = 0: a plain ridge fitted-Q critic, no bonus) on DeepSea (size 3,
H = 3, one-hot features d = 20, a right move costs 0.5/3 so that V* = 0.5 while always-left earns 0: a greedy learner
that never sees the reward stays left). Offline data: N_off trajectories of (1 - alpha) pi* + alpha Uniform (alpha =
0.5 and 0.9: a better and a worse behaviour policy), whose concentrability c*_off is computed exactly (reported as
c_star); N* = c*_off d H^4 / eps^2 (the abstract's condition with its constant set to 1). For each ratio N_off / N* of
the cell and for N_off = 0, the learner then plays K online episodes; success = the mixture of its online policies is
eps-optimal (exact); failure is plotted against N_off / N*. Checks: for N_off >= N*, success with probability
>= 1 - delta (binomial test); with N_off = 0 it fails on at least half the seeds (H0: P(success) <= 1/2; the paper
claims nothing here: this control shows that the offline data, not luck, makes it work). Reported: per seed, the
smallest ratio from which every larger one succeeds (the transition; the smallest ratio tested when all succeed, 1e9
if the largest fails).

The tiny preset (2 seeds) is UNDERPOWERED: the control's binomial test has delta = 0.5 and 0.5^2 = 0.25 >= alpha,
so it could not reject even if every seed succeeded without offline data (it needs >= 5 seeds; the quick preset has
16). A-priori maximum of the suboptimality: H (max R - min R) = 3 on DeepSea; eps = 0.2 is well below it. Mutant
`drop-offline`: the same learner handed none of its offline data (N_off = 0 at every ratio): it stays left and is
not eps-optimal at N_off >= N*.
"""

_SEA = {
    "instance": "deepsea",
    "size": 3,
    "deterministic": True,
    "move_cost": 0.5,
    "H": 3,
    "K": 100,
    "eps": 0.2,
    "eta": 100.0,
    "lam": 0.01,
}
_RATIOS = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 1e-2, 0.1, 1.0, 2.0]
_RATIOS_FULL = [1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 2.0]

ACTOR_CRITIC_NONOPTIMISTIC = register(
    Claim(
        name="actor-critic-nonoptimistic",
        title="Non-optimistic hybrid actor-critic: eps-optimal when N_off >= c*_off d H^4 / eps^2, fails without "
        "offline data; transition reported",
        citation="K. Tan, W. Fan, Y. Wei, ICML 2025, arXiv:2505.03710 (abstract: non-optimistic actor-critic with "
        "N_off >= c*_off dH^4/eps^2)",
        run=run_nonoptimistic,
        checks=(
            BoundCheck(
                "suboptimality",
                _eps_above_threshold,
                x="n_off_ratio",
                delta=DELTA,
                theorem="actor_critic_nonoptimistic_offline",
                label="N_off >= N*: output eps-optimal",
                maximum=_suboptimality_maximum,
            ),
            BoundCheck(
                "success_without_offline",
                lambda p, x: np.asarray(0.5),
                delta=0.5,
                label="N_off = 0: fails on at least half the seeds",
                maximum=probability_maximum,
            ),
            BoundCheck(
                "transition_ratio",
                lambda p, x: np.asarray(1.0),
                delta=DELTA,
                label="transition N_off / N* (per seed) <= 1",
                informational=True,
            ),
        ),
        presets={
            "quick": Preset(
                (
                    {**_SEA, "alpha": 0.5, "ratios": _RATIOS},
                    {**_SEA, "alpha": 0.9, "ratios": _RATIOS},
                ),
                n_seeds=16,
                seeds_per_task=8,
            ),
            "full": Preset(
                (
                    {**_SEA, "K": 300, "alpha": 0.5, "ratios": _RATIOS_FULL},
                    {**_SEA, "K": 300, "alpha": 0.7, "ratios": _RATIOS_FULL},
                    {**_SEA, "K": 300, "alpha": 0.9, "ratios": _RATIOS_FULL},
                ),
                n_seeds=64,
                seeds_per_task=8,
            ),
            "tiny": Preset(
                (
                    {
                        "instance": "deepsea",
                        "size": 3,
                        "deterministic": True,
                        "move_cost": 0.5,
                        "H": 3,
                        "K": 20,
                        "eps": 0.2,
                        "alpha": 0.5,
                        "eta": 100.0,
                        "lam": 0.01,
                        "ratios": [1e-4, 1e-2, 1.0],
                    },
                ),
                n_seeds=2,
                seeds_per_task=2,
            ),
        },
        description=_NONOPT_DOC,
        plots=(("n_off_ratio", "failure", None), ("n_off_ratio", "suboptimality", "N_off >= N*: output eps-optimal")),
        mutants=(
            Mutant(
                "drop-offline",
                "the non-optimistic learner handed none of its offline data (N_off = 0 at every ratio): without a "
                "bonus or data it never finds the reward",
                params={"drop_offline": True},
                n_seeds=4,
            ),
        ),
    )
)

__all__ = [
    "ACTOR_CRITIC_HYBRID",
    "ACTOR_CRITIC_NONOPTIMISTIC",
    "ACTOR_CRITIC_OPTIMISM",
    "ACTOR_CRITIC_REGRET",
    "ACTOR_CRITIC_SAMPLE_COMPLEXITY",
    "ACTOR_CRITIC_SWITCHING",
    "gap_bandit_mdp",
]
