"""The classifier strategies against their reference code: values computed by hand or
independently (numpy, ``F.kl_div``), schedules in the reference order, and forgetting on the
`general` class scenario (seed 1000, the full forget set as coreset)."""
from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.harness.cache import ModelCache
from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Batch, Examples
from erasus_bench.methods.strategies._common import EXTRA_SALT, epoch_schedule, random_labels
from erasus_bench.methods.strategies.bad_teacher import (ORIGIN, BadTeacher, bad_teacher_loss,
                                                        unlearning_set)
from erasus_bench.methods.strategies.fisher_forgetting import (FisherForgetting,
                                                               forgotten_classes,
                                                               predictive_fisher)
from erasus_bench.methods.strategies.random_label import RandomLabel
from erasus_bench.methods.strategies.salun import SalUn
from erasus_bench.methods.strategies.scrub import Scrub, max_step_schedule
from erasus_bench.methods.strategies.ssd import SSD
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.protocols.general.model import MLP


class Recorder(ClassifierAdapter):
    """Records every batch the student (not a teacher) is run on through ``logits`` (or
    ``per_example_loss`` when ``via_loss``), in order."""

    def __init__(self, via_loss: bool = False) -> None:
        self.via_loss = via_loss
        self.student: nn.Module | None = None
        self.seen: list[Batch] = []

    def per_example_loss(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        if self.via_loss and model is self.student:
            self.seen.append(batch)
        return super().per_example_loss(model, batch)

    def logits(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        if not self.via_loss and model is self.student:
            self.seen.append(batch)
        return super().logits(model, batch)

    def origins(self) -> list[tuple[int, int]]:
        """(source: 1 forget / 0 retain, batch size) of each recorded batch."""
        assert all(bool((b["src"] == b["src"][0]).all()) for b in self.seen)
        return [(int(b["src"][0]), len(b["src"])) for b in self.seen]


def examples(x: list[list[float]] | torch.Tensor, y: list[int] | torch.Tensor,
             src: float | None = None) -> Examples:
    x, y = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)
    extra = {} if src is None else {"src": torch.full((len(y),), src),
                                    "idx": torch.arange(len(y))}
    return Examples({"x": x, "y": y, **extra})


def make_task(model: nn.Module, forget: Examples, retain: Examples, num_classes: int,
              adapter: ClassifierAdapter | None = None, full_forget: Examples | None = None
              ) -> UnlearnTask:
    adapter = adapter or ClassifierAdapter()
    if isinstance(adapter, Recorder):
        adapter.student = model
    return UnlearnTask(model=model, original=copy.deepcopy(model).requires_grad_(False).eval(),
                       forget=forget, retain=retain, adapter=adapter, seed=1000,
                       num_classes=num_classes, full_forget=full_forget)


def tagged_task(n_forget: int, n_retain: int, adapter: Recorder, num_classes: int = 3
                ) -> UnlearnTask:
    """A tiny MLP task whose batches say where they came from (``src`` 1 = forget, ``idx``)."""
    gen = torch.Generator().manual_seed(0)
    forget = examples(torch.randn(n_forget, 4, generator=gen),
                      torch.randint(0, num_classes, (n_forget,), generator=gen), 1.0)
    retain = examples(torch.randn(n_retain, 4, generator=gen),
                      torch.randint(0, num_classes, (n_retain,), generator=gen), 0.0)
    torch.manual_seed(0)
    return make_task(MLP(4, num_classes, 8), forget, retain, num_classes, adapter)


# ---------------------------------------------------------------- Fisher forgetting

def test_predictive_fisher_is_the_expectation_over_predicted_labels():
    """The notebook's ``hessian``: one example at a time, CE gradient for every class y,
    squared and weighted by the model's p(y|x)."""
    torch.manual_seed(0)
    model = MLP(5, 3, 6)
    ex = examples(torch.randn(11, 5), torch.zeros(11, dtype=torch.long))
    got = predictive_fisher(model, ClassifierAdapter(), ex, chunk=4)
    params = list(model.parameters())
    want = [torch.zeros_like(p) for p in params]
    for i in range(len(ex)):
        out = model(ex.tensors["x"][i:i + 1])
        prob = out.softmax(-1)[0].detach()
        for y in range(3):
            grads = torch.autograd.grad(F.cross_entropy(out, torch.tensor([y])), params,
                                        retain_graph=True)
            for w, g in zip(want, grads):
                w += prob[y] * g ** 2
    assert all(torch.allclose(g, w / len(ex), rtol=1e-4, atol=1e-12) for g, w in zip(got, want))


def test_fisher_noise_by_hand_on_a_linear_classifier():
    """Linear model (the model is its own output layer): variance alpha * min(1/F, 1e2),
    averaged per row of the weight, x10 (output layer); the forgotten class's row: mean 0,
    variance 1e-4 x 10; the sample is mean + sqrt(var) * N(0, 1) from the task's generator."""
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    gen = torch.Generator().manual_seed(3)
    retain = examples(torch.randn(6, 3, generator=gen), [0] * 6)
    forget = examples(torch.randn(2, 3, generator=gen), [1, 1])
    task = make_task(model, forget, retain, 2)
    assert forgotten_classes(task) == [1]
    alpha = 1e-3
    w, b = model.weight.detach().numpy().astype(np.float64), model.bias.detach().numpy()
    fw, fb = np.zeros_like(w), np.zeros_like(b)
    for x in retain.tensors["x"].numpy().astype(np.float64):
        z = w @ x + b
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        for y in range(2):
            d = p - np.eye(2)[y]  # dCE/dz
            fw += p[y] * np.outer(d, x) ** 2
            fb += p[y] * d ** 2
    fw, fb = fw / 6, fb / 6
    var_w = alpha * np.minimum(1 / (fw + 1e-8), 1e2)
    var_w = np.repeat(var_w.mean(1, keepdims=True), 3, 1)
    var_b = alpha * np.minimum(1 / (fb + 1e-8), 1e2)
    mu_w, mu_b = w.copy(), b.copy()
    mu_w[1], mu_b[1], var_w[1], var_b[1] = 0.0, 0.0, 1e-4, 1e-4
    var_w, var_b = var_w * 10, var_b * 10
    strategy = FisherForgetting(alpha=alpha)
    (gw_mu, gw_var), (gb_mu, gb_var) = strategy.noise_distribution(task)
    np.testing.assert_allclose(gw_var.numpy(), var_w, rtol=1e-4)
    np.testing.assert_allclose(gb_var.numpy(), var_b, rtol=1e-4)
    np.testing.assert_allclose(gw_mu.numpy(), mu_w, rtol=1e-6)
    np.testing.assert_allclose(gb_mu.numpy(), mu_b, rtol=1e-6)
    assert var_w[0, 0] < 0.9 * 10 * alpha * 1e2 and var_b[0] < 0.9 * 10 * alpha * 1e2  # not capped
    out = strategy.unlearn(make_task(copy.deepcopy(model), forget, retain, 2))
    noise = task.generator(EXTRA_SALT)
    for p, (mu, var) in zip(out.parameters(), [(gw_mu, gw_var), (gb_mu, gb_var)]):
        assert torch.allclose(p.detach(), mu + var.sqrt() * torch.randn(p.shape, generator=noise))


def test_fisher_body_layers_use_the_larger_cap_and_no_factor_on_weights():
    torch.manual_seed(0)
    model = MLP(4, 3, 5)
    gen = torch.Generator().manual_seed(0)
    retain = examples(torch.randn(20, 4, generator=gen), torch.arange(20) % 3)
    task = make_task(model, retain.subset([0, 1]), retain, 3)
    assert forgotten_classes(task) == []
    alpha = 1e-4
    fisher = predictive_fisher(model, task.adapter, retain)
    (w0, v_w0), (b0, v_b0), *_, (hw, v_hw), (hb, v_hb) = \
        FisherForgetting(alpha=alpha).noise_distribution(task)
    inv = [alpha * (1 / (f + 1e-8)) for f in fisher]
    assert torch.allclose(v_w0, inv[0].clamp(max=alpha * 1e3).mean(1, keepdim=True)
                          .expand_as(v_w0))
    assert torch.allclose(v_b0, 10 * inv[1].clamp(max=alpha * 1e3))
    assert torch.allclose(v_hw, 10 * inv[4].clamp(max=alpha * 1e2).mean(1, keepdim=True)
                          .expand_as(v_hw))
    assert torch.allclose(v_hb, 10 * inv[5].clamp(max=alpha * 1e2))
    assert torch.equal(w0, model.body[0].weight) and torch.equal(hb, model.head.bias)


# ---------------------------------------------------------------- SSD

def _np_importance(w: np.ndarray, x: np.ndarray, y: np.ndarray, batch: int) -> np.ndarray:
    """Mean over unshuffled batches of the squared gradient of the batch-mean CE of the
    bias-free linear classifier z = w x."""
    imps = []
    for s in range(0, len(x), batch):
        xb, yb = x[s:s + batch], y[s:s + batch]
        z = xb @ w.T
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        g = (p - np.eye(len(w))[yb]).T @ xb / len(xb)  # d mean CE / d w
        imps.append(g ** 2)
    return np.mean(imps, 0)


def test_ssd_dampening_factors_by_hand_on_a_small_linear_model():
    w = np.array([[0.5, -0.2], [-0.3, 0.4]])
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor(w))
    x_r = np.array([[0.1, 1.0], [0.0, 2.0], [-0.1, -1.0], [0.2, 0.5], [0.0, 0.2], [0.1, -0.4]])
    y_r = np.array([0, 1, 0, 1, 1, 0])
    x_f = np.array([[3.0, 0.1], [-2.0, 0.0], [2.5, -0.2], [0.1, 1.0]])
    y_f = np.array([1, 0, 1, 1])
    retain, full = examples(x_r, y_r), examples(x_f, y_f)
    coreset = full.subset([0, 2])  # two samples: batches of 2 for both importances
    task = make_task(model, coreset, retain, 2, full_forget=full)
    imp_f = _np_importance(w, x_f[[0, 2]], y_f[[0, 2]], 2)
    imp_d = _np_importance(w, np.concatenate([x_r, x_f]), np.concatenate([y_r, y_f]), 2)
    alpha, lam = 2.0, 0.5
    selected = imp_f > alpha * imp_d
    assert selected.tolist() == [[True, False]] * 2  # input 0 (forget-heavy) is dampened
    want = np.where(selected, w * np.minimum(lam * imp_d / imp_f, 1.0), w)
    assert not np.allclose(want, w)
    out = SSD(alpha=alpha, lam=lam).unlearn(task)
    np.testing.assert_allclose(out.weight.detach().numpy(), want, rtol=1e-5)


# ---------------------------------------------------------------- SCRUB

def test_scrub_schedule_is_reference_runs_ending_on_min_epochs():
    # reference run: max pass + min pass, max pass + min pass, min pass (msteps 2 of 3 epochs)
    run = [True] * 2 + [False] * 3 + [True] * 2 + [False] * 3 + [False] * 3
    assert max_step_schedule(13, 2, 2, 3, 3) == run
    assert max_step_schedule(26, 2, 2, 3, 3) == run * 2
    assert max_step_schedule(20, 2, 2, 3, 3) == run[-7:] + run  # cut at the front
    assert max_step_schedule(6, 1, 1, 1, 3) == [False, False, True, False, False, False]


def test_scrub_reads_forget_and_retain_batches_in_reference_order():
    ad = Recorder()
    task = tagged_task(5, 9, ad)
    Scrub(steps=13, batch_size=4, forget_batch_size=2, msteps=1, cycle_epochs=2,
          optimizer="adam").unlearn(task)
    # a run (9 steps): forget pass of max-steps (batches 2, 2, 1), retain pass (4, 4, 1), retain
    # pass; 13 steps = the last 4 steps of a run, then a whole run; the retain stream runs on
    assert ad.origins() == [(0, 4), (0, 4), (0, 1), (0, 4),
                            (1, 2), (1, 2), (1, 1),
                            (0, 4), (0, 1), (0, 4), (0, 4), (0, 1), (0, 4)]


# ---------------------------------------------------------------- bad teacher

def test_bad_teacher_loss_is_the_reference_kl_div():
    gen = torch.Generator().manual_seed(0)
    student, good, bad = (torch.randn(6, 4, generator=gen) for _ in range(3))
    is_forget = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    for temperature in (1.0, 2.5):
        labels = is_forget[:, None]
        teacher = labels * F.softmax(bad / temperature, 1) \
            + (1 - labels) * F.softmax(good / temperature, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = F.kl_div(F.log_softmax(student / temperature, 1), teacher)
        got = bad_teacher_loss(student, good, bad, is_forget, temperature)
        assert torch.allclose(got, want, rtol=1e-5)


def test_bad_teacher_uses_one_loader_over_forget_and_a_retain_share():
    ad = Recorder()
    task = tagged_task(7, 40, ad)
    data = unlearning_set(task, 0.3)
    assert len(data) == 7 + 12 and int(data.tensors[ORIGIN].sum()) == 7
    assert torch.equal(data.tensors["src"], data.tensors[ORIGIN])
    assert len(set(data.tensors["idx"][7:].tolist())) == 12
    BadTeacher(steps=3, batch_size=8).unlearn(task)
    assert [len(b["src"]) for b in ad.seen] == [8, 8, 3]  # one pass over the 19 samples
    assert int(sum(b["src"].sum() for b in ad.seen)) == 7
    assert any(0 < b["src"].sum() < len(b["src"]) for b in ad.seen)  # mixed batches


# ---------------------------------------------------------------- random label

def test_random_labels_cover_all_classes_including_the_true_one():
    y = torch.full((2000,), 3)
    drawn = random_labels(y, 10, torch.Generator().manual_seed(0))
    assert set(drawn.tolist()) == set(range(10))
    assert 0.07 < float((drawn == 3).float().mean()) < 0.13


def test_random_label_passes_over_forget_then_retain():
    ad = Recorder(via_loss=True)
    task = tagged_task(5, 9, ad, num_classes=4)
    RandomLabel(steps=9, batch_size=4).unlearn(task)
    epoch = [(1, 4), (1, 1), (0, 4), (0, 4), (0, 1)]
    assert ad.origins() == (epoch * 2)[:9]
    retain = [b for b in ad.seen if not b["src"][0]]
    assert all(torch.equal(b["y"], task.retain.tensors["y"][b["idx"]]) for b in retain)
    drawn = torch.cat([b["y"] for b in ad.seen if b["src"][0]])
    true = torch.cat([task.forget.tensors["y"][b["idx"]] for b in ad.seen if b["src"][0]])
    assert len(drawn) == 10 and 0 < int((drawn != true).sum()) < 10  # redrawn, any class
    assert epoch_schedule(lambda e: [e] * (e + 1), 4) == [0, 1, 1, 2]


# ---------------------------------------------------------------- forgetting a class

@pytest.fixture(scope="module")
def class_setting(tmp_path_factory: pytest.TempPathFactory):
    from erasus_bench.protocols.general.protocol import GeneralProtocol

    cache = ModelCache(tmp_path_factory.mktemp("class-cache"))
    return GeneralProtocol().setup({"scenario": "class", "dataset": "digits",
                                    "forget_fraction": 0.1, "forget_class": 0},
                                   seed=1000, cache=cache)


def _forget_acc(model: nn.Module, ex: Examples) -> float:
    with torch.no_grad():
        return float((model(ex.tensors["x"]).argmax(1) == ex.tensors["y"]).float().mean())


@pytest.mark.parametrize("strategy", [
    FisherForgetting(),  # paper defaults
    SSD(alpha=3.0),  # the class is 10% of D, so imp_forget / imp_D stays near 10: alpha 10 is
    # at the edge (forget acc 0.17 on seed 1000, 1.0 on seed 0)
    Scrub(batch_size=64, optimizer="adam", lr=3e-4),
    BadTeacher(),
    RandomLabel(),
    SalUn(),
], ids=lambda s: s.name)
def test_forgets_the_class_at_least_half_way_to_retraining(class_setting, strategy):
    s = class_setting
    task = UnlearnTask(model=copy.deepcopy(s.base),
                       original=copy.deepcopy(s.base).requires_grad_(False).eval(),
                       forget=s.forget, retain=s.retain, adapter=s.adapter, seed=s.seed,
                       num_classes=s.num_classes, full_forget=s.forget)
    torch.manual_seed(s.seed)
    model = strategy.unlearn(task)
    before, gold = _forget_acc(s.base, s.forget), _forget_acc(s.gold, s.forget)
    assert before - gold > 0.9
    assert _forget_acc(model, s.forget) <= (before + gold) / 2
    assert _forget_acc(model, s.retain) > 0.9
