"""Behaviour tests of the causal-LM unlearning strategies (NPO, SimNPO, IdkDPO, IdkNLL, AltPO,
PDU, RMU) on a tiny GPT-2 briefly trained on templated question/answer pairs."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.lm.prompt import IGNORE, encode_qa
from erasus_bench.lm.train import LMRecipe, train_lm
from erasus_bench.lm.tiny import TinyConfig, tiny_gpt2, train_tokenizer
from erasus_bench.methods.causal_lm import CausalLMAdapter, trim
from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.strategies.altpo import AltPO
from erasus_bench.methods.strategies.idk_dpo import IdkDPO, draw_idk
from erasus_bench.methods.strategies.idk_nll import IdkNLL
from erasus_bench.methods.strategies.npo import NPO
from erasus_bench.methods.strategies.pdu import PDU
from erasus_bench.methods.strategies.rmu import (RMU, activation_mse, block_output,
                                                 steered_layer)
from erasus_bench.methods.strategies.simnpo import SimNPO
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.registry import STRATEGIES

AD = CausalLMAdapter()
NAMES = ["Ada", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu"]
COLORS = ["red", "blue", "green", "gold", "pink", "gray"]
CITIES = ["Oslo", "Lima", "Rome", "Kyiv", "Pune", "Baku"]
PETS = ["cat", "dog", "owl", "fox", "eel", "yak"]
IDK = ["I don't know.", "I have no idea.", "I can't say.", "Not sure, sorry."]
N_FORGET = 10
# tiny-model settings (the defaults are for pretrained-scale models): larger steps, and for
# SimNPO / RMU / PDU loss weights that let 30 steps show the effect on a 2-block, 32-wide model
# (PDU: a retain bound above the base model's retain NLL, about 0.29, and a faster multiplier)
FAST = {"steps": 30, "batch_size": 8, "lr": 2e-3}
TINY_HPARAMS = {"npo": (NPO, {}),
                "simnpo": (SimNPO, {"beta": 1.0, "gamma": 1.0}),
                "idk_dpo": (IdkDPO, {}),
                "idk_nll": (IdkNLL, {}),
                "altpo": (AltPO, {}),
                "pdu": (PDU, {"alpha": 10.0, "dual_step_size": 5.0, "retain_loss_eps": 0.4}),
                "rmu": (RMU, {"lr": 5e-3, "steering_coeff": 20.0, "alpha": 1.0})}


def strategy(name: str, **kw):
    cls, tuned = TINY_HPARAMS[name]
    return cls(**{**FAST, **tuned, **kw})


@dataclass
class Tiny:
    base: nn.Module
    forget: Examples
    retain: Examples


AD_TOK: list = []  # the fixture's tokenizer


def qa_rows() -> list[tuple[str, str]]:
    rows = []
    for i, n in enumerate(NAMES):
        rows += [(f"What color does {n} like?", f"{n} likes {COLORS[i % 6]}."),
                 (f"Where does {n} live?", f"{n} lives in {CITIES[(i + 1) % 6]}."),
                 (f"Which pet does {n} keep?", f"{n} keeps a {PETS[(i + 2) % 6]}."),
                 (f"How old is {n}?", f"{n} is {20 + 3 * i} years old."),
                 (f"What does {n} drink?", f"{n} drinks {['tea', 'milk', 'soda'][i % 3]}.")]
    return rows  # 60 rows


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny matrices: one intra-op thread is fastest, and far faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny(one_thread) -> Tiny:
    rows = qa_rows()
    tok = train_tokenizer([f"Question: {q}\nAnswer: {a}" for q, a in rows] + IDK, 256)
    AD_TOK[:] = [tok]
    qs, ans = [q for q, _ in rows], [a for _, a in rows]
    data = encode_qa(tok, qs, ans)
    idk = encode_qa(tok, qs[:N_FORGET], [IDK[i % len(IDK)] for i in range(N_FORGET)])
    forget = Examples({**{k: v[:N_FORGET] for k, v in data.items()},
                       **{f"idk_{k}": v for k, v in idk.items()}})
    retain = Examples({k: v[N_FORGET:] for k, v in data.items()})
    model = tiny_gpt2(tok, TinyConfig(vocab_size=256, n_layer=2, n_embd=32, n_head=2,
                                      n_positions=64), seed=0)
    # the project's recipe until the answers are learned (epoch mean answer NLL < 0.3)
    train_lm(model, Examples(data), LMRecipe(epochs=100, lr=3e-3, batch_size=16,
                                             target_nll=0.3), seed=0)
    return Tiny(model.eval(), forget, retain)


def make_task(t: Tiny, forget: Examples | None = None, seed: int = 0) -> UnlearnTask:
    return UnlearnTask(model=copy.deepcopy(t.base),
                       original=copy.deepcopy(t.base).requires_grad_(False).eval(),
                       forget=t.forget if forget is None else forget, retain=t.retain,
                       adapter=AD, seed=seed)


def state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def run(name: str, task: UnlearnTask, **kw) -> nn.Module:
    torch.manual_seed(task.seed)  # as the harness does (dropout draws from the global RNG)
    return strategy(name, **kw).unlearn(task)


@pytest.fixture(scope="module")
def unlearned(tiny):
    """``unlearned(name, **hparams)``: (task, model) of one run, cached across tests."""
    cache: dict = {}

    def get(name: str, **kw) -> tuple[UnlearnTask, nn.Module]:
        key = (name, tuple(sorted(kw.items())))
        if key not in cache:
            task = make_task(tiny)
            cache[key] = (task, run(name, task, **kw))
        return cache[key]

    return get


def forget_nll(model: nn.Module, t: Tiny) -> float:
    return float(AD.evaluate_losses(model, t.forget).mean())


def retain_nll(model: nn.Module, t: Tiny) -> float:
    return float(AD.evaluate_losses(model, t.retain).mean())


def rmu_distance(model: nn.Module, t: Tiny, layer: int, target: torch.Tensor) -> float:
    with torch.no_grad():
        h, mask = block_output(AD, model.eval(), t.forget[list(range(N_FORGET))], layer)
        return float(activation_mse(h, target, mask))


def test_registered_for_causal_lms_only():
    for name in TINY_HPARAMS:
        assert STRATEGIES.get(name) is not None
        entry = next(e for e in STRATEGIES.entries() if e.name == name)
        # the IDK methods and AltPO need question/answer pairs; the others also unlearn text
        # corpora (WMDP, MUSE)
        assert entry.applies_to == (("causal_lm",) if name in ("idk_dpo", "idk_nll", "altpo")
                                    else ("causal_lm", "lm_corpus"))


def test_base_model_learned_the_answers(tiny):
    # the unlearning checks below need answers the model actually knows
    assert forget_nll(tiny.base, tiny) < 0.7
    assert retain_nll(tiny.base, tiny) < 0.7


@pytest.mark.parametrize("name", ["npo", "simnpo", "idk_dpo", "idk_nll", "altpo", "pdu"])
def test_raises_the_forget_loss_and_leaves_the_original(tiny, unlearned, name):
    task, model = unlearned(name)
    original = state(tiny.base)
    before_f, before_r = forget_nll(tiny.base, tiny), retain_nll(tiny.base, tiny)
    assert not model.training
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    after_f, after_r = forget_nll(model, tiny), retain_nll(model, tiny)
    assert after_f > before_f + 0.5, (before_f, after_f)
    # forget answers lose more than retain answers (shared templates: retain moves too)
    assert after_f - before_f > after_r - before_r, (before_f, after_f, before_r, after_r)
    assert all(torch.equal(v, task.original.state_dict()[k]) for k, v in original.items())
    assert not any(p.requires_grad for p in task.original.parameters())
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("name", ["npo", "simnpo", "idk_dpo", "idk_nll", "altpo", "pdu", "rmu"])
def test_deterministic_under_a_seed(tiny, name):
    a = state(run(name, make_task(tiny), steps=5))
    b = state(run(name, make_task(tiny), steps=5))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    c = state(run(name, make_task(tiny, seed=1), steps=5))
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_npo_retain_term_protects_retain(tiny, unlearned):
    with_retain = unlearned("npo")[1]
    without = unlearned("npo", alpha=0.0)[1]
    assert retain_nll(with_retain, tiny) < retain_nll(without, tiny)


@pytest.mark.parametrize("name", ["idk_dpo", "idk_nll"])
def test_idk_methods_prefer_idk_answers(tiny, unlearned, name):
    model = unlearned(name)[1]
    idk = Examples({k[4:]: v for k, v in tiny.forget.tensors.items() if k.startswith("idk_")})
    before, after = AD.evaluate_losses(tiny.base, idk).mean(), AD.evaluate_losses(model, idk).mean()
    assert after < before


def _alternates(task: UnlearnTask, **kw) -> Examples:
    return strategy("altpo", **kw).alternate_set(task)


def test_altpo_samples_alternates_from_the_original(tiny):
    task = make_task(tiny)
    alt = _alternates(task, alternates=3)
    assert len(alt) == 3 * N_FORGET
    ids, labels = alt.tensors["alt_input_ids"], alt.tensors["alt_labels"]
    eos = AD_TOK[0].eos_token_id
    for r in range(len(alt)):
        own = tiny.forget[[r // 3]]
        start = int((own["labels"][0] != IGNORE).nonzero()[0])
        assert torch.equal(ids[r, :start], own["input_ids"][0, :start])  # the question's prompt
        answer = labels[r][labels[r] != IGNORE]
        assert int(answer[-1]) == eos and eos not in answer[:-1].tolist()
        assert torch.equal(alt.tensors["input_ids"][r], own["input_ids"][0])
    # sampled: not all alternates are the true answer, and they vary within a question
    rows = [tuple(x[x != IGNORE].tolist()) for x in labels]
    truth = [tuple(x[x != IGNORE].tolist()) for x in tiny.forget.tensors["labels"]]
    assert sum(rows[r] != truth[r // 3] for r in range(len(rows))) > len(rows) // 2
    assert any(len(set(rows[3 * i:3 * i + 3])) > 1 for i in range(N_FORGET))
    # from task.original (the model being unlearned plays no part), under the task's seed
    scrambled = make_task(tiny)
    with torch.no_grad():
        for p in scrambled.model.parameters():
            p.normal_()
    again = _alternates(scrambled, alternates=3)
    assert all(torch.equal(alt.tensors[k], again.tensors[k]) for k in alt.tensors)
    other = _alternates(make_task(tiny, seed=1), alternates=3)
    assert not torch.equal(alt.tensors["alt_input_ids"], other.tensors["alt_input_ids"])


def test_altpo_generation_is_part_of_its_cost(tiny):
    from erasus_bench.harness.cost import count_cost

    costs = []
    for cls in (AltPO, IdkDPO):
        task = make_task(tiny)
        with count_cost([task.model], [task.original]) as cost:
            cls(steps=1, batch_size=8).unlearn(task)
        costs.append(cost.forward_passes)
    # one DPO step reads 8 rows twice per model plus 8 retain rows either way; sampling 5
    # answers of several tokens for each of the 10 questions adds a forward pass per token
    assert costs[0] > costs[1] + 5 * N_FORGET * 4, costs


def test_pdu_flattens_the_forget_predictions(tiny, unlearned):
    from erasus_bench.methods.strategies._token import logit_margin_loss

    def margin(model: nn.Module) -> float:
        with torch.no_grad():
            out, b = AD.forward(model.eval(), tiny.forget[list(range(N_FORGET))])
            return float(logit_margin_loss(out.logits, b["labels"]))

    assert margin(unlearned("pdu")[1]) < 0.5 * margin(tiny.base)


def test_idk_dpo_needs_idk_answers(tiny):
    plain = Examples({k: v for k, v in tiny.forget.tensors.items() if not k.startswith("idk_")})
    with pytest.raises(ValueError, match="idk_input_ids"):
        IdkDPO(steps=1).unlearn(make_task(tiny, forget=plain))


@pytest.mark.parametrize("cls", [NPO, SimNPO, IdkDPO, IdkNLL, AltPO, PDU, RMU])
def test_refuses_classifier_tasks(tiny, cls):
    task = make_task(tiny)
    task.adapter = ClassifierAdapter()
    with pytest.raises(ValueError, match="causal-LM"):
        cls(steps=1).unlearn(task)


def test_rmu_steers_forget_activations_and_trains_only_the_chosen_params(tiny):
    layer = 1
    task = make_task(tiny)
    original = state(task.original)
    rmu = strategy("rmu", layer=layer, params=[r"transformer\.h\.1\.mlp\..*"])
    target = rmu.control_vector(task, 32)
    assert torch.isclose(target.norm(), torch.tensor(rmu.steering_coeff))
    before = rmu_distance(tiny.base, tiny, layer, target)
    torch.manual_seed(0)
    model = rmu.unlearn(task)
    after = rmu_distance(model, tiny, layer, target)
    assert after < 0.5 * before, (before, after)
    base = dict(tiny.base.named_parameters())
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, base[n])}
    assert moved and all(n.startswith(f"transformer.h.{layer}.mlp.") for n in moved), moved
    assert all(p.requires_grad for p in model.parameters())  # trainability restored
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    assert all(torch.equal(v, task.original.state_dict()[k]) for k, v in original.items())
    # forgetting shows in the answers too
    assert forget_nll(model, tiny) > forget_nll(tiny.base, tiny)


def test_rmu_default_layer_and_params(tiny):
    # open-unlearning's TOFU setting: every parameter trainable; with 2 blocks the default layer
    # is (2 - 1) // 2 = 0, so only the embeddings and block 0 get gradients and move
    assert steered_layer(16, None) == 7 and steered_layer(4, None) == 1
    model = run("rmu", make_task(tiny), steps=3)
    base = dict(tiny.base.named_parameters())
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, base[n])}
    assert any(n.startswith("transformer.h.0.") for n in moved), moved
    assert "transformer.wte.weight" in moved
    assert not any(n.startswith(("transformer.h.1.", "transformer.ln_f")) for n in moved), moved
    with pytest.raises(ValueError, match="out of range"):
        RMU(layer=2, steps=1).unlearn(make_task(tiny))
    with pytest.raises(ValueError, match="match no parameter"):
        RMU(params=["model\\.layers\\.7\\..*"], steps=1).unlearn(make_task(tiny))


def test_rmu_terms_ignore_non_answer_positions(tiny, unlearned):
    """Both RMU terms average over answer tokens only (open-unlearning: labels != -100): moving
    the steered block's output at every non-answer position (prompt, padding) leaves them
    unchanged; moving it at the answer positions does not."""
    task, model, forget = _batch_and_models(tiny, unlearned)  # 4 rows
    retain = tiny.retain[[0, 1, 2]]  # 3 rows: the hook tells the batches apart by size
    target = RMU(steering_coeff=5.0).control_vector(task, 32)
    answer = {len(b["labels"]): trim(b)["labels"] != IGNORE for b in (forget, retain)}

    def terms(where: str | None = None) -> list[float]:
        def shift(module, args, output):
            h = output[0] if isinstance(output, tuple) else output
            a = answer[h.shape[0]]
            moved = h + 3.0 * (~a if where == "elsewhere" else a).unsqueeze(-1).to(h.dtype)
            return (moved, *output[1:]) if isinstance(output, tuple) else moved

        handle = AD.blocks(model)[0].register_forward_hook(shift) if where else None
        try:
            with torch.no_grad():
                return [float(x) for x in RMU().loss_terms(AD, model, task.original, forget,
                                                          retain, 0, target)]
        finally:
            if handle is not None:
                handle.remove()

    plain = terms()
    assert plain[0] > 0 and plain[1] > 0  # the model differs from the original: not trivial
    assert terms("elsewhere") == pytest.approx(plain, rel=1e-6)
    moved = terms("answer")
    assert all(abs(m - p) > 1e-3 * p for m, p in zip(moved, plain)), (moved, plain)


def _idk_candidates(t: Tiny) -> Examples:
    """The forget examples with K = len(IDK) candidate "I don't know" answers each [N, K, T]."""
    qs = [q for q, _ in qa_rows()[:N_FORGET]]
    enc = encode_qa(AD_TOK[0], [q for q in qs for _ in IDK], IDK * N_FORGET)
    idk = {f"idk_{k}": v.reshape(N_FORGET, len(IDK), -1) for k, v in enc.items()}
    plain = {k: v for k, v in t.forget.tensors.items() if not k.startswith("idk_")}
    return Examples({**plain, **idk})


def test_idk_dpo_draws_an_idk_answer_per_fetch(tiny):
    forget = _idk_candidates(tiny)
    batch = forget[list(range(N_FORGET))]
    gen = torch.Generator().manual_seed(0)
    draws = [draw_idk(batch, gen) for _ in range(6)]
    for d in draws:
        assert d["idk_input_ids"].shape == (N_FORGET, batch["idk_input_ids"].shape[-1])
        for i in range(N_FORGET):  # each row is one of that item's own candidates
            assert any(torch.equal(d["idk_input_ids"][i], c) for c in batch["idk_input_ids"][i])
    # fresh draws on every fetch: the chosen answers of one item differ between fetches
    chosen = torch.stack([d["idk_input_ids"] for d in draws])  # [6, N, T]
    assert any(len({tuple(chosen[f, i].tolist()) for f in range(6)}) > 1
               for i in range(N_FORGET))
    # and the same under the same generator seed
    again = [draw_idk(batch, g) for g in [torch.Generator().manual_seed(0)] for _ in range(6)]
    assert all(torch.equal(a["idk_input_ids"], b["idk_input_ids"]) for a, b in zip(draws, again))
    # one fixed answer per item passes unchanged
    fixed = tiny.forget[[0, 1]]
    assert draw_idk(fixed, gen) is fixed


def test_idk_dpo_with_candidates_is_deterministic_under_a_seed(tiny):
    forget = _idk_candidates(tiny)
    a = state(run("idk_dpo", make_task(tiny, forget=forget), steps=4))
    b = state(run("idk_dpo", make_task(tiny, forget=forget), steps=4))
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = state(run("idk_dpo", make_task(tiny, forget=forget, seed=1), steps=4))
    assert any(not torch.equal(a[k], c[k]) for k in a)
    with pytest.raises(ValueError, match="draw_idk"):
        IdkDPO().forget_loss(make_task(tiny, forget=forget), tiny.base, forget[[0, 1]])


# --- one loss value each, recomputed independently from per-token log-probs ---

def answer_logp(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log p of the labelled tokens [B] and their count [B], untrimmed batch."""
    logits = model(input_ids=ids, attention_mask=mask).logits
    logp = torch.log_softmax(logits[:, :-1].double(), -1)
    target = labels[:, 1:]
    keep = target != IGNORE
    tok = logp.gather(-1, target.clamp_min(0).unsqueeze(-1)).squeeze(-1) * keep
    return tok.sum(1), keep.sum(1)


def _batch_and_models(tiny, unlearned):
    task, model = unlearned("npo", steps=4, lr=1e-2)  # a model that differs from the reference
    return task, model.eval(), tiny.forget[[0, 3, 5, 7]]


def _logp(m, batch, prefix=""):
    with torch.no_grad():
        return answer_logp(m, batch[prefix + "input_ids"], batch[prefix + "attention_mask"],
                           batch[prefix + "labels"])


def test_npo_forget_term_matches_a_hand_computation(tiny, unlearned):
    task, model, batch = _batch_and_models(tiny, unlearned)
    beta = 0.7
    lp, _ = _logp(model, batch)
    lp_ref, _ = _logp(task.original, batch)
    expected = -(2 / beta) * F.logsigmoid(-beta * (lp - lp_ref)).mean()
    with torch.no_grad():
        got = NPO(beta=beta).forget_loss(task, model, batch)
    assert abs(float(got) - float(expected)) < 1e-4 * max(1.0, abs(float(expected)))
    assert abs(float(expected) - 2 / beta * torch.log(torch.tensor(2.0))) > 1e-3  # not trivial


def test_simnpo_forget_term_matches_a_hand_computation(tiny, unlearned):
    task, model, batch = _batch_and_models(tiny, unlearned)
    beta, delta = 2.5, 0.3
    lp, n = _logp(model, batch)
    expected = -(2 / beta) * F.logsigmoid(beta * (-lp / n - delta)).mean()
    with torch.no_grad():
        got = SimNPO(beta=beta, delta=delta).forget_loss(task, model, batch)
    assert abs(float(got) - float(expected)) < 1e-4 * max(1.0, abs(float(expected)))


def test_idk_dpo_forget_term_matches_a_hand_computation(tiny, unlearned):
    task, model, batch = _batch_and_models(tiny, unlearned)
    beta = 0.5
    win = _logp(model, batch, "idk_")[0] - _logp(task.original, batch, "idk_")[0]
    lose = _logp(model, batch)[0] - _logp(task.original, batch)[0]
    expected = -(2 / beta) * F.logsigmoid(beta * (win - lose)).mean()
    with torch.no_grad():
        got = IdkDPO(beta=beta).forget_loss(task, model, batch)
    assert abs(float(got) - float(expected)) < 1e-4 * max(1.0, abs(float(expected)))


def test_rmu_activation_loss_matches_hidden_states(tiny, unlearned):
    task, model, batch = _batch_and_models(tiny, unlearned)
    target = RMU(steering_coeff=5.0).control_vector(task, 32)
    with torch.no_grad():
        h, mask = block_output(AD, model, batch, 0)
        got = activation_mse(h, target, mask)
        hs = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                   output_hidden_states=True).hidden_states[1].double()
    m = (batch["labels"] != IGNORE).double()  # answer tokens only
    per_ex = (((hs - target.double()) ** 2).mean(-1) * m).sum(1) / m.sum(1)
    assert abs(float(got) - float(per_ex.mean())) < 1e-4 * float(per_ex.mean())
