"""DSAC-T's losses as pure functions: closed-form gradients (float64), targets, clipping, fixed points (on the
``device`` fixture's device, conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from rltheory.neural import dsac_t
from rltheory.neural.common import Batch, make_generators


def _batch64(device, B=64, seed=0):
    g = torch.Generator().manual_seed(seed)  # drawn on the CPU, so every device sees the same numbers
    q = torch.randn(B, generator=g, dtype=torch.float64) * 3
    std = torch.rand(B, generator=g, dtype=torch.float64) * 2 + 0.05
    y_q = q + torch.randn(B, generator=g, dtype=torch.float64)
    y_clip = q + torch.randn(B, generator=g, dtype=torch.float64) * 2
    q, std, y_q, y_clip = (t.to(device) for t in (q, std, y_q, y_clip))
    return q.requires_grad_(), std.requires_grad_(), y_q, y_clip


def _np(t):
    return t.detach().cpu().numpy()


def test_surrogate_gradient_is_the_closed_form(device):
    q, std, y_q, y_clip = _batch64(device)
    omega = torch.tensor(0.7**2, dtype=torch.float64, device=device)
    loss = dsac_t.dsac_t_critic_loss(q, std, y_q, y_clip, omega, bias=0.1)
    gq, gs = torch.autograd.grad(loss, (q, std))
    cq, cs = dsac_t.dsac_t_critic_gradients(q.detach(), std.detach(), y_q, y_clip, omega, bias=0.1)
    assert_allclose(_np(gq), _np(cq), rtol=1e-13, atol=1e-16)
    assert_allclose(_np(gs), _np(cs), rtol=1e-13, atol=1e-16)
    # one sample written out by hand: dL/dQ = -(w + eps)(y_q - Q)/(sigma^2 + eps)/B
    B, k, w = q.shape[0], 3, 0.49 + 0.1
    by_hand = -w * (y_q[k] - q[k]) / (std[k] ** 2 + 0.1) / B
    assert_allclose(gq[k].item(), by_hand.item(), rtol=1e-13)


def test_without_bias_and_weight_it_is_the_gaussian_nll_gradient(device):
    # eps = 0, omega + eps = 1, y_q = y~ = y: the gradients of -log N(y; Q, sigma^2), derived independently by autograd
    q, std, y, _ = _batch64(device, seed=1)
    loss = dsac_t.dsac_t_critic_loss(q, std, y, y, 1.0, bias=0.0)
    gq, gs = torch.autograd.grad(loss, (q, std))
    nll = -torch.distributions.Normal(q, std).log_prob(y).mean()
    nq, ns = torch.autograd.grad(nll, (q, std))
    assert_allclose(_np(gq), _np(nq), rtol=1e-12)
    assert_allclose(_np(gs), _np(ns), rtol=1e-12)


@pytest.mark.parametrize("algorithm", ["dsac-t", "dsac-v1"])
def test_parameter_gradients_match_the_chain_rule_float64(algorithm, device):
    """On a fixed batch, d loss / d theta = J_Q' g_Q + J_sigma' g_sigma with the closed-form g's (float64)."""
    cfg = dsac_t.Config.tiny(hidden=(16, 16), device=str(device), algorithm=algorithm)
    gens = make_generators(0, device)
    agent = dsac_t.DSACT(3, 1, np.array([-2.0]), np.array([2.0]), cfg, gens, device, dtype=torch.float64)
    g = torch.Generator().manual_seed(3)
    B = 32
    batch = Batch(
        torch.randn(B, 3, generator=g, dtype=torch.float64),
        torch.rand(B, 1, generator=g, dtype=torch.float64) * 4 - 2,
        -torch.rand(B, generator=g, dtype=torch.float64) * 5,
        torch.randn(B, 3, generator=g, dtype=torch.float64),
        torch.zeros(B, dtype=torch.float64),
    ).to(device=device)
    next_act = (torch.rand(B, 1, generator=g, dtype=torch.float64) * 4 - 2).to(device)
    next_logp = torch.randn(B, generator=g, dtype=torch.float64).to(device)
    alpha = torch.tensor(0.3, dtype=torch.float64, device=device)
    state = agent.gens.torch_rng.get_state()
    loss, _ = agent.critic_loss(batch, next_act, next_logp, alpha)
    params = list(agent.critics.parameters())
    auto = torch.autograd.grad(loss, params)
    # recompute the targets with the same noise, then the closed form per critic
    agent.gens.torch_rng.set_state(state)
    agent.mean_std = [None] * len(agent.critics)
    with torch.no_grad():
        nxt = [c(batch.next_obs, next_act) for c in agent.critic_targets]
        z = [qn + agent._noise(qn) * sn for qn, sn in nxt]
        y_q, y_z = dsac_t.twin_targets(batch.rew, batch.done, cfg.gamma, alpha, next_logp, [q for q, _ in nxt], z)
    closed = [torch.zeros_like(p) for p in params]
    for crit in agent.critics:
        q, std = crit(batch.obs, batch.act)
        if algorithm == "dsac-t":
            m = std.detach().mean()
            gq, gs = dsac_t.dsac_t_critic_gradients(
                q.detach(), std.detach(), y_q, dsac_t.clip_target(y_z, q.detach(), cfg.clip_b * m), m**2
            )
        else:
            y_clip = dsac_t.clip_target(y_z, q.detach(), cfg.v1_td_bound)
            # DSAC-v1: the sampled target feeds the mean, no omega weight (omega + eps = 1)
            gq, gs = dsac_t.dsac_t_critic_gradients(q.detach(), std.detach(), y_z, y_clip, 1.0 - cfg.grad_bias)
        vjp = torch.autograd.grad((q, std), params, (gq, gs), allow_unused=True)
        closed = [c + (torch.zeros_like(p) if v is None else v) for c, p, v in zip(closed, params, vjp, strict=True)]
    diff = max(float((a - b).abs().max()) for a, b in zip(auto, closed, strict=True))
    scale = max(float(a.abs().max()) for a in auto)
    assert diff <= 1e-12 * scale


def test_2025_loss_gradients(device):
    q, std, y_q, y_clip = _batch64(device, seed=2)
    m, eps, B = 0.8, 0.1, q.shape[0]
    loss = dsac_t.dsac_t_2025_critic_loss(q, std, y_q, y_clip, m, bias=eps, huber_delta=1.5)
    gq, gs = torch.autograd.grad(loss, (q, std))
    s = std.detach()
    ratio = (m**2 / (s**2 + eps)).clamp(0.1, 10)
    d = q.detach() - y_q
    huber_grad = torch.where(d.abs() <= 1.5, d, 1.5 * d.sign())
    hv = torch.nn.functional.huber_loss(q.detach(), y_clip, delta=1.5, reduction="none")
    assert_allclose(_np(gq), _np(ratio * huber_grad / B), rtol=1e-12)
    assert_allclose(_np(gs), _np(ratio * (s**2 - hv) / (s + eps) / B), rtol=1e-12)


def test_twin_targets_take_the_smaller_mean_and_its_own_sample(device):
    def t(*x):
        return torch.tensor(x, device=device)

    rew, done, logp = t(1.0, 1.0, 0.0), t(0.0, 0.0, 1.0), t(0.5, -0.5, 2.0)
    q1, q2 = t(2.0, 5.0, 1.0), t(3.0, 4.0, 0.0)
    z1, z2 = t(10.0, 20.0, 30.0), t(-10.0, -20.0, -30.0)
    y_q, y_z = dsac_t.twin_targets(rew, done, 0.9, 0.2, logp, [q1, q2], [z1, z2])
    assert_allclose(_np(y_q), [1 + 0.9 * (2.0 - 0.1), 1 + 0.9 * (4.0 + 0.1), 0.0], rtol=1e-6)
    assert_allclose(_np(y_z), [1 + 0.9 * (10.0 - 0.1), 1 + 0.9 * (-20.0 + 0.1), 0.0], rtol=1e-6)
    # swapping the critics swaps nothing (no ties here)
    y_q2, y_z2 = dsac_t.twin_targets(rew, done, 0.9, 0.2, logp, [q2, q1], [z2, z1])
    assert torch.equal(y_q, y_q2) and torch.equal(y_z, y_z2)


def test_clip_and_moving_average(device):
    q = torch.zeros(1000, device=device)
    y = (torch.randn(1000, generator=torch.Generator().manual_seed(0)) * 10).to(device)
    m = dsac_t.ema_std(None, torch.full((5,), 2.0, device=device), 0.005)
    assert m.item() == 2.0
    m = dsac_t.ema_std(m, torch.full((5,), 4.0, device=device), 0.005)
    assert_allclose(m.item(), 0.995 * 2 + 0.005 * 4)
    y_clip = dsac_t.clip_target(y, q, 3 * m)
    assert (y_clip - q).abs().max() <= 3 * m + 1e-6
    inside = (y - q).abs() <= 3 * m
    assert torch.equal(y_clip[inside], y[inside])


@pytest.mark.parametrize(("form", "var_factor"), [("paper", 1.0), ("code-2025", 0.5)])
def test_fixed_points(form, var_factor, device):
    """Full-batch descent on one (Q, sigma) pair with fixed targets: Q -> mean(y_q); sigma^2 -> E[(Q - y~)^2] for the
    paper's form and half of it for the 2025 form (Huber = x^2 / 2 in its quadratic region)."""
    g = torch.Generator().manual_seed(0)
    y = (5.0 + 2.0 * torch.randn(20_000, generator=g, dtype=torch.float64)).to(device)
    q = torch.zeros((), dtype=torch.float64, device=device, requires_grad=True)
    raw = torch.zeros((), dtype=torch.float64, device=device, requires_grad=True)
    opt = torch.optim.Adam([q, raw], lr=0.05)
    for _ in range(1500):
        std = torch.nn.functional.softplus(raw)
        qb, sb = q.expand_as(y), std.expand_as(y)
        if form == "paper":
            loss = dsac_t.dsac_t_critic_loss(qb, sb, y, y, 1.0)
        else:
            loss = dsac_t.dsac_t_2025_critic_loss(qb, sb, y, y, 1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    target_var = float(((y - y.mean()) ** 2).mean()) * var_factor
    assert abs(q.item() - y.mean().item()) < 1e-3
    assert abs(torch.nn.functional.softplus(raw).item() ** 2 - target_var) < 1e-2 * target_var


def test_sac_policy_and_alpha_losses(device):
    def t(*x, **kw):
        return torch.tensor(x, device=device, **kw)

    q, y = t(1.0, 2.0, requires_grad=True), t(0.0, 0.0)
    loss = dsac_t.sac_critic_loss(q, y)
    assert_allclose(loss.item(), 0.5 * (1 + 4) / 2)
    assert_allclose(dsac_t.policy_loss(0.5, t(1.0, 3.0), t(2.0, 0.0)).item(), 0.0)
    log_alpha = torch.zeros((), device=device, requires_grad=True)
    # entropy -E log pi = -1 < target 0: the temperature must grow, i.e. the gradient on log alpha is negative
    dsac_t.alpha_loss(log_alpha, t(1.0, 1.0), 0.0).backward()
    assert log_alpha.grad is not None and log_alpha.grad.item() < 0
