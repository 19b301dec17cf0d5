"""The rare-switching actor-critic against exact oracles: a direct re-implementation from its definition, the exact
Q* of small MDPs, the one-hot special case, the switching bound, and per-seed reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import mdps
from mdps.linear import random_linear_mdp
from mdps.offline import collect_offline_dataset
from rltheory import TabularMDP
from rltheory.agents import run_episodes
from rltheory.linear import (
    LinearCritic,
    RareSwitchingActorCritic,
    TabularCritic,
    hedge_step_size,
    hybrid_actor_critic,
    non_optimistic_hybrid_actor_critic,
    optimistic_actor_critic,
    switch_bound,
    tabular_hoeffding_beta,
)
from rltheory.tabular import backward_induction, evaluate_policy


def _rngs(seeds):
    return [np.random.default_rng(np.random.SeedSequence(s)) for s in seeds]


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _reference_run(lin, K: int, seed: int, *, beta: float, lam: float, eta: float):
    """The algorithm written directly from its definition (no rank-one updates, no sufficient statistics): explicit
    least squares over the stored history, determinants by slogdet, the runner's sampling re-implemented."""
    mdp, phi = lin.mdp, lin.features
    H, S, A, d = lin.horizon, lin.n_states, lin.n_actions, lin.d
    P = np.broadcast_to(mdp.P, (H, S, A, S))
    R = np.broadcast_to(mdp.R, (H, S, A))
    caps = np.arange(H, 0, -1, dtype=float)
    g = np.random.default_rng(np.random.SeedSequence(seed))
    hist = [[] for _ in range(H)]  # (s, a, r, s')
    ref_logdet = None
    f = np.zeros((H, S, A))
    since = 0
    policies, switches = [], 0
    for k in range(K):
        grams = [
            lam * np.eye(d) + sum((np.outer(phi[s, a], phi[s, a]) for s, a, _, _ in hist[h]), np.zeros((d, d)))
            for h in range(H)
        ]
        logdet = np.array([np.linalg.slogdet(G)[1] for G in grams])
        if k == 0 or np.any(logdet - ref_logdet > math.log(2.0)):
            switches += k > 0
            V_next = np.zeros(S)
            for h in range(H - 1, -1, -1):
                y = sum((phi[s, a] * (r + V_next[s2]) for s, a, r, s2 in hist[h]), np.zeros(d))
                w = np.linalg.solve(grams[h], y)
                inv = np.linalg.inv(grams[h])
                bonus = np.sqrt(np.einsum("sai,ij,saj->sa", phi, inv, phi))
                f[h] = np.minimum(phi @ w + beta * bonus, caps[h])
                V_next = f[h].max(axis=1)
            ref_logdet, since = logdet, 0
        pi = _softmax((since + 1) * eta * f)
        policies.append(pi)
        u, v = g.random(H + 1), g.random(H)
        s = int(np.searchsorted(np.cumsum(mdp.initial), u[0], side="right"))
        for h in range(H):
            a = int(np.searchsorted(np.cumsum(pi[h, s]), v[h], side="right"))
            s2 = int(np.searchsorted(np.cumsum(P[h, s, a]), u[h + 1], side="right"))
            hist[h].append((s, a, R[h, s, a], s2))
            s = s2
        since += 1
    return np.stack(policies), switches


def test_linear_actor_critic_equals_its_definition() -> None:
    lin = random_linear_mdp(4, 2, 3, horizon=3, rng=7, feature_concentration=0.5)
    K, beta, lam, eta = 60, 0.3, 0.5, 3.0
    ac = optimistic_actor_critic(lin.features, 3, 2, beta=beta, eta=eta, lam=lam)
    log = run_episodes(lin.mdp, ac, K, _rngs([11, 12]))
    for i, seed in enumerate([11, 12]):
        ref_pol, ref_switches = _reference_run(lin, K, seed, beta=beta, lam=lam, eta=eta)
        assert ac.n_switches[i] == ref_switches > 3
        for k in range(K):
            assert_allclose(ac.episode_policy(k)[i], ref_pol[k], rtol=0, atol=1e-10)
    # exact regret accounting: the runner's regret is V* - V^{pi_k} of the policies the learner played
    V_star = backward_induction(lin.mdp).values[0]
    for k in (0, 17, K - 1):
        pol = ac.episode_policy(k)
        for i in range(2):
            V_pi = evaluate_policy(lin.mdp, pol[i]).values[0]
            s1 = log.initial_states[i, k]
            assert_allclose(log.regret[i, k], V_star[s1] - V_pi[s1], rtol=0, atol=1e-12)


def _chain() -> TabularMDP:
    """Deterministic 3-state chain, H = 3: action 1 moves right (reward 0.5 on arrival in state 2), 0 stays."""
    P = np.zeros((3, 2, 3))
    for s in range(3):
        P[s, 0, s] = 1.0
        P[s, 1, min(s + 1, 2)] = 1.0
    R = np.zeros((3, 2))
    R[1, 1] = 0.5
    R[2, :] = 0.2
    return TabularMDP(P, R, horizon=3, initial=[1.0, 0.0, 0.0])


@pytest.mark.parametrize("kind", ["tabular", "linear"])
def test_critic_targets_q_star(kind: str) -> None:
    # Deterministic transitions and every pair at every step in the data: the ridge backup with lam -> 0 and no bonus
    # is the Bellman optimality backup, so the critic is Q* (up to the O(lam) shrinkage).
    mdp = _chain()
    H, S, A = 3, 3, 2
    s = np.repeat(np.arange(S), A)
    a = np.tile(np.arange(A), S)
    nxt = np.argmax(mdp.P[s, a], axis=1)
    data = type("D", (), {})()
    data.states = np.tile(s[:, None], (1, H))
    data.actions = np.tile(a[:, None], (1, H))
    data.rewards = np.tile(mdp.R[s, a][:, None], (1, H))
    data.next_states = np.tile(nxt[:, None], (1, H))
    lam = 1e-10
    critic = (
        TabularCritic(S, A, H, 1, beta=0.0, lam=lam)
        if kind == "tabular"
        else LinearCritic(mdps.one_hot_features(S, A), H, 1, beta=0.0, lam=lam)
    )
    critic.add_data(data)
    assert_allclose(critic.fit()[0], backward_induction(mdp).q_values, atol=1e-8)


def test_hoeffding_optimism_on_a_deterministic_mdp() -> None:
    # With deterministic transitions the martingale term vanishes: tabular_hoeffding_beta makes f >= Q* surely.
    mdp = _chain()
    lin = mdps.one_hot_linear_mdp(mdp)
    lam = 0.05
    beta = tabular_hoeffding_beta(horizon=3, n_states=3, n_actions=2, n_samples=300, delta=0.1, lam=lam)
    ac = optimistic_actor_critic(lin.features, 3, 3, beta=beta, eta=5.0, lam=lam, critic="tabular")
    Q = backward_induction(mdp).q_values
    gaps = []

    def check(k, _):
        if ac.switched.any():
            gaps.append((Q[None] - ac.critic_q)[ac.switched].max())

    run_episodes(mdp, ac, 300, _rngs([1, 2, 3]), progress=check)
    assert len(gaps) > 5 and max(gaps) <= 1e-12


def test_tabular_special_case_equals_the_one_hot_linear_run() -> None:
    mdp = mdps.riverswim(4, variant="osband", horizon=4)
    lin = mdps.one_hot_linear_mdp(mdp)
    runs = {}
    for kind in ("linear", "tabular"):
        ac = optimistic_actor_critic(lin.features, 4, 3, beta=0.2, eta=4.0, lam=0.3137, critic=kind)
        runs[kind] = (run_episodes(mdp, ac, 300, _rngs([0, 1, 2])), ac)
    (l1, a1), (l2, a2) = runs["linear"], runs["tabular"]
    assert_array_equal(l1.returns, l2.returns)
    assert_array_equal(l1.initial_states, l2.initial_states)
    assert_allclose(l1.regret, l2.regret, rtol=0, atol=1e-12)
    assert_array_equal(a1.switch_triggers, a2.switch_triggers)
    assert a1.switch_episodes == a2.switch_episodes
    assert_allclose(a1.critic_q, a2.critic_q, atol=1e-12)
    assert_allclose(a1.critic.logdet, a2.critic.logdet, atol=1e-9)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), lam=st.sampled_from([0.01, 0.3, 1.0]), d=st.integers(2, 5))
def test_switches_per_step_never_exceed_the_logdet_bound(seed: int, lam: float, d: int) -> None:
    lin = random_linear_mdp(5, 3, d, horizon=3, rng=seed)
    K = 150
    ac = optimistic_actor_critic(lin.features, 3, 2, beta=0.1, eta=10.0, lam=lam)
    run_episodes(lin.mdp, ac, K, _rngs([seed, seed + 1]))
    # exactly: a step that triggered j switches multiplied its determinant by more than 2^j
    logdet0 = d * math.log(lam)
    assert np.all(ac.switch_triggers <= (ac.critic.logdet - logdet0) / math.log(2))
    assert np.all(ac.switch_triggers <= switch_bound(K, d=d, lam=lam))
    assert np.all(ac.n_switches <= ac.switch_triggers.sum(axis=1))


def test_per_seed_reproducibility_inside_a_batch() -> None:
    lin = random_linear_mdp(6, 3, 4, horizon=3, rng=3)
    batch_ac = optimistic_actor_critic(lin.features, 3, 4, beta=0.1, eta=20.0, lam=0.05)
    batch = run_episodes(lin.mdp, batch_ac, 120, _rngs([4, 5, 6, 7]))
    for i, s in enumerate([4, 5, 6, 7]):
        ac = optimistic_actor_critic(lin.features, 3, 1, beta=0.1, eta=20.0, lam=0.05)
        alone = run_episodes(lin.mdp, ac, 120, _rngs([s]))
        assert_array_equal(alone.returns[0], batch.returns[i])
        assert_array_equal(alone.initial_states[0], batch.initial_states[i])
        assert ac.switch_episodes[0] == batch_ac.switch_episodes[i]
        assert_allclose(alone.regret[0], batch.regret[i], rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["tabular", "linear"])
def test_bulk_offline_data_equals_one_transition_at_a_time(kind: str) -> None:
    lin = (
        random_linear_mdp(5, 2, 3, horizon=3, rng=1)
        if kind == "linear"
        else mdps.one_hot_linear_mdp(mdps.garnet(4, 2, 2, horizon=3, rng=0))
    )
    mdp = lin.mdp
    data = collect_offline_dataset(mdp, np.full((3, mdp.n_states, 2), 0.5), 40, rng=0)

    def make():
        if kind == "tabular":
            return TabularCritic(mdp.n_states, 2, 3, 1, beta=0.2, lam=0.4)
        return LinearCritic(lin.features, 3, 1, beta=0.2, lam=0.4)

    bulk, step = make(), make()
    bulk.add_data(data)
    for i in range(40):
        for h in range(3):
            step.observe(
                h,
                data.states[i : i + 1, h],
                data.actions[i : i + 1, h],
                data.rewards[i : i + 1, h],
                data.next_states[i : i + 1, h],
            )
    assert_allclose(bulk.fit(), step.fit(), atol=1e-10)
    assert_allclose(bulk.logdet, step.logdet, atol=1e-9)
    assert_array_equal(bulk.visits, step.visits)


def test_hybrid_and_non_optimistic_variants() -> None:
    mdp = mdps.riverswim(4, variant="osband", horizon=4)
    lin = mdps.one_hot_linear_mdp(mdp)
    from mdps.offline import mixture_behaviour_policy

    data = collect_offline_dataset(mdp, mixture_behaviour_policy(mdp, 0.3), 300, rng=0)
    hy = hybrid_actor_critic(lin.features, 4, 2, data, beta=0.05, eta=50.0, lam=0.01, critic="tabular")
    assert hy.critic.visits.sum() == 2 * 300 * 4  # every run got the shared dataset
    no = non_optimistic_hybrid_actor_critic(lin.features, 4, 2, data, eta=50.0, lam=0.01, critic="tabular")
    assert no.critic.beta == 0.0
    log = run_episodes(mdp, no, 50, _rngs([0, 1]))
    # 300 trajectories of a near-optimal behaviour: the first policy is already near-optimal, without any bonus
    assert log.suboptimality[:, -10:].max() < 0.05


def test_episode_zero_switch_and_reset_semantics() -> None:
    lin = random_linear_mdp(4, 3, 3, horizon=2, rng=0)
    ac = optimistic_actor_critic(lin.features, 2, 1, beta=0.0, eta=2.0, lam=1.0)
    pol = ac.begin_episode()
    assert ac.switched[0] and ac.switch_episodes == [[0]]
    assert_allclose(pol, 1.0 / 3)  # no data: f = 0, one step from uniform is uniform
    assert_allclose(ac.episode_policy(0), pol)
    with pytest.raises(ValueError, match="has not begun"):
        ac.episode_policy(1)
    play = RareSwitchingActorCritic(LinearCritic(lin.features, 2, 1, beta=1.0, lam=1.0), eta=2.0, play_reset=True)
    assert_allclose(play.begin_episode(), 1.0 / 3)  # the switch episode plays the uniform reset policy itself


def test_validation() -> None:
    lin = random_linear_mdp(3, 2, 2, horizon=2, rng=0)
    critic = LinearCritic(lin.features, 2, 1, beta=0.1)
    with pytest.raises(ValueError, match="eta"):
        RareSwitchingActorCritic(critic, eta=0.0)
    with pytest.raises(ValueError, match="switch_factor"):
        RareSwitchingActorCritic(critic, eta=1.0, switch_factor=1.0)
    with pytest.raises(TypeError, match="critic"):
        RareSwitchingActorCritic(object(), eta=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one-hot"):
        optimistic_actor_critic(lin.features, 2, 1, beta=0.1, eta=1.0, critic="tabular")
    with pytest.raises(ValueError, match="beta"):
        LinearCritic(lin.features, 2, 1, beta=-1.0)
    with pytest.raises(ValueError, match="clip"):
        TabularCritic(3, 2, 2, 1, beta=0.1, clip="nope")
    bad = type(
        "D",
        (),
        {
            "states": np.zeros((2, 3), int),
            "actions": np.zeros((2, 3), int),
            "rewards": np.zeros((2, 3)),
            "next_states": np.zeros((2, 3), int),
        },
    )()
    with pytest.raises(ValueError, match="H = 2"):
        critic.add_data(bad)


def test_switch_bound_holds_for_determinant_doubling() -> None:
    # The rare-switching rule refits when det(Lambda_t) >= 2 det(Lambda at the last refit); with ||phi|| <= 1 and
    # Lambda_0 = lam I, the number of refits over T updates is at most d log2(1 + T / (lam d)). Counted on random
    # unit features (and on the worst case, one direction repeated), never compared with a copy of the formula.
    rng = np.random.default_rng(0)
    for d, lam, T in ((3, 1.0, 500), (5, 0.1, 2000), (2, 0.01, 300)):
        for kind in ("random", "aligned"):
            G = lam * np.eye(d)
            logdet_ref = np.linalg.slogdet(G)[1]
            switches = 0
            for t in range(T):
                phi = rng.normal(size=d) if kind == "random" else np.eye(d)[t % d]
                phi /= max(1.0, np.linalg.norm(phi))
                G += np.outer(phi, phi)
                logdet = np.linalg.slogdet(G)[1]
                if logdet >= logdet_ref + math.log(2.0):
                    switches += 1
                    logdet_ref = logdet
            assert 0 < switches <= switch_bound(T, d=d, lam=lam)
    assert switch_bound(0, d=3, lam=1.0) == 0.0


def test_parameter_helpers() -> None:
    eta = hedge_step_size(4, 5, 1000, 10)
    assert_allclose(eta, math.sqrt(2 * 10 * math.log(4) / (25 * 1000)))
    beta = tabular_hoeffding_beta(horizon=2, n_states=3, n_actions=2, n_samples=100, delta=0.1, lam=0.25)
    assert_allclose(beta, 2 * 0.5 + 2 * math.sqrt(math.log(2 * 2 * 3 * 2 * 100 / 0.1) / 2))
