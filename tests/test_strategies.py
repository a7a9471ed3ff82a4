"""Behaviour tests of the built-in unlearning strategies (each could fail if the method broke)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.strategies import _common
from erasus_bench.methods.strategies.bad_teacher import BadTeacher, incompetent_teacher
from erasus_bench.methods.strategies.finetune import Finetune
from erasus_bench.methods.strategies.fisher_forgetting import FisherForgetting
from erasus_bench.methods.strategies.grad_diff import GradDiff
from erasus_bench.methods.strategies.gradient_ascent import GradientAscent
from erasus_bench.methods.strategies.l1_sparse import L1Sparse
from erasus_bench.methods.strategies.random_label import RandomLabel
from erasus_bench.methods.strategies.salun import SalUn, saliency_mask
from erasus_bench.methods.strategies.scrub import Scrub, max_step_schedule
from erasus_bench.methods.strategies.ssd import SSD, dampen
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.protocols.general.data import load_raw, make_splits
from erasus_bench.protocols.general.hparams import BUDGET, HPARAMS, SEARCH, hparams_for
from erasus_bench.protocols.general.protocol import GeneralProtocol
from erasus_bench.protocols.general.model import Recipe, train_model
from erasus_bench.registry import STRATEGIES

ALL = {c.name: c for c in (BadTeacher, Finetune, FisherForgetting, GradDiff, GradientAscent,
                           L1Sparse, RandomLabel, SalUn, Scrub, SSD)}
AD = ClassifierAdapter()


@pytest.fixture(scope="module")
def digits():
    """Digits, class-0 forget set, and a base MLP trained on all of train (seed 0)."""
    s = make_splits(load_raw("digits"), 0, "class", 0.1, 0)
    base = train_model(s.train, s.in_dim, s.num_classes, Recipe(), 0)
    return s, base


def make_task(s, base: nn.Module, forget: Examples | None = None, seed: int = 0) -> UnlearnTask:
    return UnlearnTask(model=copy.deepcopy(base),
                       original=copy.deepcopy(base).requires_grad_(False).eval(),
                       forget=s.forget if forget is None else forget, retain=s.retain,
                       adapter=AD, seed=seed, num_classes=s.num_classes)


CLASS_CONFIG = GeneralProtocol().resolve_config({"scenario": "class"})


def tuned(name: str, **override) -> nn.Module:
    """The strategy with the values `run` uses on the class scenario (tuned.json)."""
    return ALL[name](**{**GeneralProtocol().resolved_hparams(name, CLASS_CONFIG)[0], **override})


def accuracy(model: nn.Module, ex: Examples) -> float:
    with torch.no_grad():
        return float((model(ex.tensors["x"]).argmax(1) == ex.tensors["y"]).float().mean())


def test_hparams_cover_every_strategy_and_fit_its_signature():
    classifier = {e.name: STRATEGIES.get(e.name) for e in STRATEGIES.entries()
                  if "classifier" in e.applies_to}
    plain = {n for n, c in classifier.items() if not c.composite}  # composites: their members'
    assert set(HPARAMS) | set(SEARCH) == plain
    for name, cls in classifier.items():
        defaults = cls.default_hparams()
        assert set(HPARAMS.get(name, {})) | set(SEARCH.get(name, {})) <= set(defaults), name
        params = hparams_for(name, defaults)
        assert set(params) == set(defaults)
        if "steps" in defaults:
            assert params["steps"] == BUDGET["steps"]
        if "batch_size" in defaults:
            assert params["batch_size"] == BUDGET["batch_size"]
    assert "steps" not in hparams_for("ssd", SSD.default_hparams())


# SSD as published forgets class 0 of this seed-0 split only in part (the class is 10% of D,
# which bounds imp_forget / imp_D near 10): its half-way check is in test_conformance.py
@pytest.mark.parametrize("name", ["finetune", "gradient_ascent", "grad_diff", "random_label",
                                  "l1_sparse", "salun", "scrub", "bad_teacher"])
def test_forgets_a_whole_class_and_keeps_the_others(digits, name):
    s, base = digits
    assert accuracy(base, s.forget) == 1.0
    model = tuned(name).unlearn(make_task(s, base))
    assert not model.training
    assert accuracy(model, s.forget) < 0.2
    others = s.test.subset(np.flatnonzero(s.test.tensors["y"].numpy() != 0))
    assert accuracy(model, others) > 0.9
    # > 0.93, not 0.95: at batch 16 the tuned rates (finetune: Adam 0.01 x 300 steps) move
    # retain accuracy by a few points (0.948 for finetune on this split)
    assert accuracy(model, s.retain) > 0.93


def test_finetune_keeps_retain_accuracy_and_ignores_forget(digits):
    s, base = digits
    a = tuned("finetune").unlearn(make_task(s, base))
    garbage = Examples({"x": torch.full((5, s.in_dim), float("nan")),
                        "y": torch.zeros(5, dtype=torch.long)})
    b = tuned("finetune").unlearn(make_task(s, base, forget=garbage))
    assert accuracy(a, s.retain) >= 0.93
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_gradient_ascent_raises_the_forget_loss(digits):
    s, base = digits
    coreset = s.forget.subset(np.arange(6))
    model = tuned("gradient_ascent").unlearn(make_task(s, base, forget=coreset))
    assert AD.evaluate_losses(model, coreset).mean() > 10 * AD.evaluate_losses(base, coreset).mean()


def test_grad_diff_with_alpha_one_is_finetuning(digits):
    s, base = digits
    kw = {"steps": 10, "lr": 1e-3, "optimizer": "adam"}
    a = GradDiff(alpha=1.0, **kw).unlearn(make_task(s, base))
    b = Finetune(**kw).unlearn(make_task(s, base))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_random_wrong_labels_are_wrong_and_cover_the_other_classes():
    y = torch.arange(10).repeat(200)
    wrong = _common.random_wrong_labels(y, 10, torch.Generator().manual_seed(0))
    assert not (wrong == y).any()
    assert {int(v) for v in wrong[y == 3]} == set(range(10)) - {3}


def test_salun_updates_only_the_salient_weights(digits):
    s, base = digits
    coreset = s.forget.subset(np.arange(13))
    mask = saliency_mask(make_task(s, base, forget=coreset), 0.3, 64)
    assert sum(int(m.sum()) for m in mask) == round(0.3 * sum(m.numel() for m in mask))
    model = tuned("salun", mask_ratio=0.3, steps=30).unlearn(make_task(s, base, forget=coreset))
    moved = [(p != q) for p, q in zip(model.parameters(), base.parameters())]
    assert any(bool(mv.any()) for mv in moved)
    assert all(not bool((mv & (m == 0)).any()) for mv, m in zip(moved, mask))


def test_scrub_schedule_alternates_forget_and_retain_passes():
    # reference run of 3 epochs, max passes in the first 2; budgets end where a run ends
    run = [True, False, False, False] * 2 + [False, False, False]
    assert max_step_schedule(11, 2, 1, 3, 3) == run
    assert max_step_schedule(5, 1, 2, 2, 2) == [True, False, False, False, False]


def test_kl_is_zero_for_equal_logits_and_per_example_for_sequences():
    logits = torch.randn(4, 7, 11)
    assert torch.allclose(_common.kl_per_example(logits, logits, 2.0), torch.zeros(4), atol=1e-6)
    other = logits.clone()
    other[1, 3, 0] += 5.0
    kl = _common.kl_per_example(other, logits, 1.0)
    assert kl.shape == (4,) and kl[1] > 0 and torch.all(kl[[0, 2, 3]].abs() < 1e-6)


def test_incompetent_teacher_is_random_seeded_and_leaves_global_rng(digits):
    _, base = digits
    state = torch.random.get_rng_state()
    a = incompetent_teacher(base, torch.Generator().manual_seed(1))
    b = incompetent_teacher(base, torch.Generator().manual_seed(1))
    c = incompetent_teacher(base, torch.Generator().manual_seed(2))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.head.weight, c.head.weight)
    assert not torch.equal(a.head.weight, base.head.weight)
    assert not any(p.requires_grad for p in a.parameters())


def test_ssd_dampen_formula():
    p = torch.ones(4)
    dampen(p, torch.ones(4), torch.tensor([5.0, 20.0, 100.0, 0.0]), alpha=10.0, lam=1.0)
    assert torch.allclose(p, torch.tensor([1.0, 1 / 20, 1 / 100, 1.0]))


def _linear_task(forget_x: torch.Tensor, retain_x: torch.Tensor, seed: int = 0) -> UnlearnTask:
    torch.manual_seed(0)
    model = nn.Linear(forget_x.shape[1], 2)
    gen = torch.Generator().manual_seed(1)
    forget = Examples({"x": forget_x, "y": torch.randint(0, 2, (len(forget_x),), generator=gen)})
    retain = Examples({"x": retain_x, "y": torch.randint(0, 2, (len(retain_x),), generator=gen)})
    return UnlearnTask(model=model, original=copy.deepcopy(model).requires_grad_(False),
                       forget=forget, retain=retain, adapter=AD, seed=seed, num_classes=2)


def test_ssd_dampens_only_weights_the_forget_set_dominates():
    # input 0 is active only on the forget set, input 1 only on retain
    forget_x = torch.tensor([[1.0, 0.0], [2.0, 0.0], [-1.5, 0.0]])
    retain_x = torch.cat([torch.zeros(400, 1), torch.randn(400, 1)], 1)
    task = _linear_task(forget_x, retain_x)
    before = task.model.weight.detach().clone()
    model = SSD(alpha=10.0, lam=1.0).unlearn(task)
    w = model.weight.detach()
    assert torch.equal(w[:, 1], before[:, 1])
    assert torch.all(w[:, 0].abs() < before[:, 0].abs())


def test_fisher_noise_scales_inversely_with_the_fisher():
    # larger retain inputs -> larger Fisher -> smaller noise (the notebook averages the variance
    # over each weight row, so the two inputs of one row cannot be told apart)
    retain_x = torch.randn(200, 2, generator=torch.Generator().manual_seed(2))
    small, large = (FisherForgetting(alpha=1e-6).noise_distribution(_linear_task(x[:3], x))
                    for x in (retain_x * 0.1, retain_x * 3.0))
    assert small[0][1].mean() > 20 * large[0][1].mean()
    task = _linear_task(retain_x[:3], retain_x)
    before = task.model.weight.detach().clone()
    capped = FisherForgetting(alpha=1e-6, max_var=1e-8).unlearn(task)
    assert (capped.weight.detach() - before).abs().max() < 1e-4 * 6


def test_l1_penalty_drives_weights_toward_zero(digits):
    s, base = digits
    kw = {"steps": 50, "lr": 0.1, "optimizer": "sgd"}
    plain = L1Sparse(gamma=0.0, **kw).unlearn(make_task(s, base))
    sparse = L1Sparse(gamma=1e-2, **kw).unlearn(make_task(s, base))

    def l1(m: nn.Module) -> float:
        return float(sum(p.detach().abs().sum() for p in m.parameters()))

    assert l1(sparse) < 0.8 * l1(plain)
    frac_small = float(sum((p.abs() < 1e-3).sum() for p in sparse.parameters())) / sum(
        p.numel() for p in sparse.parameters())
    assert frac_small > float(sum((p.abs() < 1e-3).sum() for p in plain.parameters())) / sum(
        p.numel() for p in plain.parameters())

