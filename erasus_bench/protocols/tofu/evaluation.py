"""TOFU's evaluation sets, encoded once per setting, and the metric suite computed from one
batched teacher-forced pass per split plus batched greedy generation (open-unlearning
definitions: forget/retain on `*_perturbed`, real authors and world facts against their options,
MIA forget vs holdout)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from torch import nn

from erasus_bench.lm.generate import generate
from erasus_bench.lm.prompt import encode_qa
from erasus_bench.lm.scoring import TokenStats, token_stats
from erasus_bench.methods.examples import Examples
from erasus_bench.metrics import tofu as T

MIN_K = 0.4  # k of Min-K% and Min-K%++ in open-unlearning's TOFU configs


@dataclass
class QASplit:
    """One evaluation split: questions, answers, and every scored sequence of it flattened into
    one Examples: answers, then the "correct" answers of the truth ratio (paraphrases for
    forget/retain, absent for real authors/world facts whose correct answer is the answer), then
    the K perturbed answers item by item."""

    questions: list[str]
    answers: list[str]
    sequences: Examples
    k: int
    paraphrased: bool

    @classmethod
    def encode(cls, tokenizer, rows: list[dict], max_length: int, correct: str | None
               ) -> QASplit:
        """``correct``: the truth ratio's correct-answer column ("paraphrased_answer" for
        forget/retain, "answer" for real authors/world facts, None without perturbed answers)."""
        q = [r["question"] for r in rows]
        para = correct == "paraphrased_answer"
        pert = [list(r["perturbed_answer"]) if correct else [] for r in rows]
        k = min(len(p) for p in pert) if rows else 0
        texts = [r["answer"] for r in rows] + ([r[correct] for r in rows] if para else []) + \
            [p for ps in pert for p in ps[:k]]
        questions = q + (q if para else []) + [x for x in q for _ in range(k)]
        return cls(q, [r["answer"] for r in rows],
                   Examples(encode_qa(tokenizer, questions, texts, max_length)), k, para)

    def split_nll(self, avg_nll: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(answer NLL [N], truth-ratio correct-answer NLL [N], perturbed NLL [N, K])."""
        n = len(self.questions)
        answer = avg_nll[:n]
        correct = avg_nll[n:2 * n] if self.paraphrased else answer
        start = 2 * n if self.paraphrased else n
        return answer, correct, avg_nll[start:start + n * self.k].reshape(n, self.k)


@dataclass
class EvalSets:
    """The five splits TOFU evaluates on."""

    forget: QASplit
    retain: QASplit
    real_authors: QASplit
    world_facts: QASplit
    holdout: QASplit


def mia_scores(stats: TokenStats, n: int, answers: list[str], k: float = MIN_K
               ) -> dict[str, np.ndarray]:
    """Loss-like membership scores of the first ``n`` sequences (higher = looks unseen): the
    average-loss scores (loss, zlib) over every answer token, EOS included; Min-K% and Min-K%++
    without the EOS prediction (open-unlearning ``evals/metrics/utils.py``)."""
    tok = stats.without_eos()
    return {
        "mia_loss": stats.avg_nll[:n],
        "mia_zlib": np.array([T.zlib_score(x, a) for x, a in zip(stats.avg_nll[:n], answers)]),
        "mia_min_k": np.array([T.min_k_score(lp, k) for lp in tok.logprob[:n]]),
        "mia_min_k_plus_plus": np.array([
            T.min_k_plus_plus_score(lp, mu, sd, k)
            for lp, mu, sd in zip(tok.logprob[:n], tok.mu[:n], tok.sigma[:n])]),
    }


def memorization(stats: TokenStats, n: int) -> dict[str, float]:
    """Exact memorisation (mean over items with a target token) and extraction strength of the
    first ``n`` sequences, both without the EOS prediction (open-unlearning
    ``evals/metrics/memorization.py`` through ``tokenwise_vocab_logprobs``)."""
    tok = stats.without_eos()
    pairs = list(zip(tok.preds[:n], tok.labels[:n]))
    em = np.array([T.exact_memorization(p, y) for p, y in pairs])  # NaN: no target token
    es = [T.extraction_strength(p, y) for p, y in pairs]
    return {"exact_memorization": float(np.mean(em[~np.isnan(em)])) if (~np.isnan(em)).any()
            else float("nan"),
            "extraction_strength": float(np.mean(es))}


def _round(values, digits: int = 6) -> list[float]:
    return [float(f"{v:.{digits}g}") for v in np.asarray(values, dtype=np.float64)]


def raw_metrics(model: nn.Module, tokenizer, sets: EvalSets, max_new_tokens: int
                ) -> tuple[dict[str, float], dict[str, list], dict[str, float]]:
    """Every TOFU metric that needs no gold model, the per-item values behind them (forget truth
    ratios, ROUGE, MIA scores), and the seconds spent in forward passes and in generation."""
    m: dict[str, float] = {}
    per: dict[str, list] = {}
    t = {"forward_s": 0.0, "generate_s": 0.0}
    stats: dict[str, TokenStats] = {}
    for name in ("forget", "retain", "real_authors", "world_facts", "holdout"):
        start = time.perf_counter()
        stats[name] = token_stats(model, getattr(sets, name).sequences)
        t["forward_s"] += time.perf_counter() - start
    rouge: dict[str, list[float]] = {}
    for name in ("forget", "retain", "real_authors", "world_facts"):
        s = getattr(sets, name)
        start = time.perf_counter()
        gens = generate(model, tokenizer, s.questions, max_new_tokens)
        t["generate_s"] += time.perf_counter() - start
        rouge[name] = T.rouge_l_recall(gens, s.answers)
    prefix = {"forget": "forget", "retain": "retain", "real_authors": "ra", "world_facts": "wf"}
    for name, p in prefix.items():
        s = getattr(sets, name)
        answer, correct, pert = s.split_nll(stats[name].avg_nll)
        ratio = T.truth_ratio(correct, pert)
        if name in ("forget", "retain"):
            m[f"{p}_Q_A_Prob"] = float(T.probability(answer).mean())
        else:
            m[f"{p}_Q_A_Prob_normalised"] = float(T.normalised_probability(answer, pert).mean())
        m[f"{p}_Q_A_ROUGE"] = float(np.mean(rouge[name]))
        if name == "forget":
            m["forget_truth_ratio"] = T.truth_ratio_closer_to_1(ratio)
            per["forget_truth_ratio"] = _round(ratio)
            per["forget_rouge"] = _round(rouge[name])
            per["forget_prob"] = _round(T.probability(answer))
        else:
            m[f"{p}_Truth_Ratio"] = T.truth_ratio_true_better(ratio)
    m["model_utility"] = T.model_utility([m[k] for k in UTILITY])
    f, n = stats["forget"], len(sets.forget.questions)
    m.update(memorization(f, n))
    forget_mia = mia_scores(f, n, sets.forget.answers)
    holdout_mia = mia_scores(stats["holdout"], len(sets.holdout.questions), sets.holdout.answers)
    for key in forget_mia:
        m[key] = T.mia_auc(forget_mia[key], holdout_mia[key])
    per["forget_min_k"] = _round(forget_mia["mia_min_k"])
    return m, per, t


UTILITY = ("retain_Q_A_Prob", "retain_Q_A_ROUGE", "retain_Truth_Ratio",
           "ra_Q_A_Prob_normalised", "ra_Q_A_ROUGE", "ra_Truth_Ratio",
           "wf_Q_A_Prob_normalised", "wf_Q_A_ROUGE", "wf_Truth_Ratio")
