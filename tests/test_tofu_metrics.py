"""TOFU metric functions against values worked out by hand (or straight from scipy/sklearn)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import hmean, ks_2samp
from sklearn.metrics import roc_auc_score

from erasus_bench.metrics import tofu as T

LN2, LN4 = math.log(2), math.log(4)


def test_probability_is_exp_of_minus_average_nll() -> None:
    np.testing.assert_allclose(T.probability([0.0, LN2, LN4]), [1.0, 0.5, 0.25])


def test_normalised_probability_against_the_options() -> None:
    # item 0: 0.5 / (0.5 + 0.25 + 0.25); item 1: 1 / (1 + 0.5 + 0.25)
    got = T.normalised_probability([LN2, 0.0], [[LN4, LN4], [LN2, LN4]])
    np.testing.assert_allclose(got, [0.5, 4 / 7], rtol=1e-9)


def test_truth_ratio_averages_perturbed_losses_in_log_space() -> None:
    # mean perturbed loss 1.5, correct loss 1.0 -> R = exp(-1.5) / exp(-1) = exp(-0.5)
    got = T.truth_ratio([1.0], [[0.5, 1.5, 2.5]])
    np.testing.assert_allclose(got, [math.exp(-0.5)], rtol=1e-9)
    arithmetic = np.mean(np.exp([-0.5, -1.5, -2.5])) / math.exp(-1.0)
    assert abs(got[0] - arithmetic) > 0.05  # not the arithmetic mean of probabilities


def test_truth_ratio_aggregators() -> None:
    # forget: min(R, 1/R) -> 0.5, 0.5, 1
    assert T.truth_ratio_closer_to_1([0.5, 2.0, 1.0]) == pytest.approx(2 / 3, rel=1e-9)
    # retain / RA / WF: max(0, 1 - R) -> 0.75, 0, 0
    assert T.truth_ratio_true_better([0.25, 1.5, 1.0]) == pytest.approx(0.25)


def test_forget_quality_is_the_ks_p_value() -> None:
    # fully separated samples of 3 and 3: exact two-sided p = 2 / C(6, 3) = 0.1
    assert T.forget_quality([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == pytest.approx(0.1)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=40), rng.normal(0.5, size=60)
    assert T.forget_quality(a, b) == pytest.approx(ks_2samp(a, b).pvalue, rel=1e-12)
    assert T.forget_quality(a, a) == pytest.approx(1.0)


def test_model_utility_is_the_harmonic_mean_and_zero_with_a_zero() -> None:
    assert T.model_utility([1.0, 0.5, 0.25]) == pytest.approx(3 / 7)
    values = [0.9, 0.8, 0.4, 0.45, 0.92, 0.57, 0.41, 0.9, 0.54]
    assert T.model_utility(values) == pytest.approx(9 / sum(1 / v for v in values))
    assert T.model_utility(values) == pytest.approx(float(hmean(values)))
    assert T.model_utility([0.0] + values[1:]) == 0.0


def test_rouge_l_recall_scores_generation_against_reference() -> None:
    # LCS "the cat sat" = 3 of the reference's 6 tokens; the reverse order would give 1.0
    got = T.rouge_l_recall(["the cat sat"], ["the cat sat on the mat"])
    assert got == [pytest.approx(0.5)]
    # Porter stemming: cats/cat and running/run match
    assert T.rouge_l_recall(["cats running"], ["cat run"]) == [pytest.approx(1.0)]
    with pytest.raises(ValueError):
        T.rouge_l_recall(["a"], [])


def test_exact_memorization() -> None:
    assert T.exact_memorization(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75
    assert math.isnan(T.exact_memorization(np.array([], int), np.array([], int)))


@pytest.mark.parametrize(("preds", "labels", "expected"), [
    ([1, 2, 3], [1, 2, 3], 1.0),          # whole answer reproduced: k = 0
    ([9, 2, 3], [1, 2, 3], 1 - 1 / 3),    # suffix from k = 1
    ([9, 9, 3, 4], [1, 2, 3, 4], 0.5),    # suffix from k = 2
    ([9, 9, 9], [1, 2, 3], 1 / 3),        # nothing matches: OU's loop stops at k = |a|-1
    ([1, 2, 9], [1, 2, 3], 1 / 3),        # last token wrong: same quirk
    ([], [], 0.0),                        # no target tokens
])
def test_extraction_strength(preds: list[int], labels: list[int], expected: float) -> None:
    got = T.extraction_strength(np.array(preds, dtype=int), np.array(labels, dtype=int))
    assert got == pytest.approx(expected)


def test_min_k_score() -> None:
    # n = 5, k = 0.4 -> the 2 lowest log-probs (-5, -4) -> 4.5
    assert T.min_k_score([-1.0, -2.0, -3.0, -4.0, -5.0], k=0.4) == pytest.approx(4.5)
    # n = 3 -> int(1.2) = 1 -> the lowest only
    assert T.min_k_score([-0.1, -3.0, -0.2], k=0.4) == pytest.approx(3.0)
    assert T.min_k_score([-0.7], k=0.4) == pytest.approx(0.7)  # at least one token
    assert T.min_k_score([], k=0.4) == 0.0


def test_min_k_plus_plus_score_standardises_and_clamps_sigma() -> None:
    # z = (0, -0.5, -2 / sqrt(1e-6) = -2000); the lowest 1 of 3 -> 2000
    got = T.min_k_plus_plus_score([-1.0, -2.0, -3.0], [-1.0, -1.0, -1.0], [1.0, 2.0, 0.0])
    assert got == pytest.approx(2000.0)
    # n = 5, k = 0.4: z = (-1, -2, 1, 0.5, -0.5) -> lowest two -> 1.5
    got = T.min_k_plus_plus_score([-2.0, -3.0, 0.0, -0.5, -1.5], [-1.0] * 5, [1.0] * 5)
    assert got == pytest.approx(1.5)


def test_min_k_plus_plus_stats() -> None:
    lp = np.log([[0.9, 0.1], [0.25, 0.75]])
    mu, sigma = T.min_k_plus_plus_stats(lp)
    for row, (p, q) in enumerate([(0.9, 0.1), (0.25, 0.75)]):
        m = p * math.log(p) + q * math.log(q)
        var = p * math.log(p) ** 2 + q * math.log(q) ** 2 - m * m
        assert mu[row] == pytest.approx(m) and sigma[row] == pytest.approx(math.sqrt(var))
    _, flat = T.min_k_plus_plus_stats(np.log([[0.5, 0.5]]))
    assert flat[0] == pytest.approx(1e-3)  # variance 0 clamped at 1e-6


def test_zlib_score() -> None:
    # zlib.compress(b"aaaa") is 12 bytes: 2 header + 6 deflate + 4 adler32
    assert T.zlib_score(2.4, "aaaa") == pytest.approx(0.2)


def test_mia_auc_labels_forget_0_holdout_1() -> None:
    assert T.mia_auc([1.0, 2.0], [3.0, 4.0]) == 1.0   # forget has lower loss: memorised
    assert T.mia_auc([3.0, 4.0], [1.0, 2.0]) == 0.0
    # holdout > forget in 3 of the 4 pairs
    assert T.mia_auc([1.0, 3.0], [2.0, 4.0]) == pytest.approx(0.75)
    f, h = [0.3, 1.2, 0.8, 2.0], [1.0, 0.9, 2.5]
    assert T.mia_auc(f, h) == pytest.approx(roc_auc_score([0] * 4 + [1] * 3, f + h))


def test_privleak() -> None:
    # s = 0.2, r = 0.5 -> (0.2 - 0.5) / 0.5 * 100
    assert T.privleak(0.8, 0.5) == pytest.approx(-60.0)
    assert T.privleak(0.3, 0.5) == pytest.approx(40.0)
    assert T.privleak(0.62, 0.62) == pytest.approx(0.0, abs=1e-9)


def _stats():
    """Two answers of 4 labelled positions each, the last being the EOS prediction."""
    from erasus_bench.lm.scoring import TokenStats

    a = np.log([0.9, 0.5, 0.8, 0.01])  # the model is unsure of EOS only
    b = np.log([0.2, 0.6, 0.7, 0.99])
    return TokenStats(
        avg_nll=np.array([-a.mean(), -b.mean()]), logprob=[a, b],
        mu=[np.full(4, -1.0), np.full(4, -0.5)], sigma=[np.full(4, 0.5), np.full(4, 0.25)],
        preds=[np.array([5, 6, 9, 8]), np.array([1, 2, 3, 4])],
        labels=[np.array([5, 6, 7, 2]), np.array([9, 2, 3, 4])])


def test_token_metrics_drop_the_eos_prediction_average_losses_keep_it() -> None:
    from erasus_bench.protocols.tofu.evaluation import memorization, mia_scores

    s = _stats()
    mem = memorization(s, 2)
    # EM over 3 tokens: a 2/3 (token 7 missed; the EOS miss no longer counts), b 2/3
    assert mem["exact_memorization"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    # ES: a preds [5, 6, 9] vs [5, 6, 7]: no suffix matches -> OU's k = 2 -> 1 - 2/3;
    #     b preds [1, 2, 3] vs [9, 2, 3]: suffix from k = 1 -> 1 - 1/3
    assert mem["extraction_strength"] == pytest.approx(((1 - 2 / 3) + (1 - 1 / 3)) / 2)
    mia = mia_scores(s, 2, ["x", "y"], k=0.4)
    # Min-K% (k = 0.4 of 3 tokens -> the lowest 1): a -log 0.5, b -log 0.2 (with the EOS it
    # would be -log 0.01 for a)
    np.testing.assert_allclose(mia["mia_min_k"], [-math.log(0.5), -math.log(0.2)])
    # Min-K%++: z = (log p - mu) / sigma over the 3 tokens, lowest 1
    za = min((math.log(p) + 1.0) / 0.5 for p in (0.9, 0.5, 0.8))
    zb = min((math.log(p) + 0.5) / 0.25 for p in (0.2, 0.6, 0.7))
    np.testing.assert_allclose(mia["mia_min_k_plus_plus"], [-za, -zb])
    # the average-loss scores keep every answer token, EOS included
    np.testing.assert_allclose(mia["mia_loss"], s.avg_nll)
    assert mia["mia_loss"][0] == pytest.approx(-np.mean(np.log([0.9, 0.5, 0.8, 0.01])))
    # an answer that is only an EOS: no token left (OU: EM None -> skipped, ES 0, Min-K 0)
    from erasus_bench.lm.scoring import TokenStats

    eos_only = TokenStats(np.array([0.1]), [np.array([-0.1])], [np.array([-1.0])],
                          [np.array([1.0])], [np.array([3])], [np.array([3])])
    assert memorization(eos_only, 1)["extraction_strength"] == 0.0
    assert math.isnan(memorization(eos_only, 1)["exact_memorization"])
    assert mia_scores(eos_only, 1, ["z"])["mia_min_k"][0] == 0.0
