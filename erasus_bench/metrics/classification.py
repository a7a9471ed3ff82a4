"""Metric computations for classifier unlearning (SalUn / l1-sparse conventions)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

GAP_METRICS = ("forget_acc", "retain_acc", "test_acc", "mia_efficacy")


def accuracy(correct: np.ndarray) -> float:
    """Share of correct predictions."""
    return float(np.mean(correct)) if len(correct) else float("nan")


def loss_threshold(member_loss: np.ndarray, nonmember_loss: np.ndarray) -> float:
    """Loss threshold of the membership attack "member iff loss <= t" that maximises balanced
    accuracy (Youden's J) on members vs non-members (Yeom et al., CSF 2018)."""
    from sklearn.metrics import roc_curve  # lazy: scipy/sklearn imports cost ~1 s per process

    scores = -np.concatenate([member_loss, nonmember_loss])
    labels = np.concatenate([np.ones(len(member_loss)), np.zeros(len(nonmember_loss))])
    fpr, tpr, thresholds = roc_curve(labels, scores)
    best = int(np.argmax(tpr - fpr))
    return float(-thresholds[best])


def mia_loss_threshold(retain_loss: np.ndarray, test_loss: np.ndarray, forget_loss: np.ndarray
                       ) -> float:
    """MIA-efficacy with a loss-threshold attack: share of forget samples that the threshold
    fitted on retain (members) vs test (non-members) calls non-members."""
    t = loss_threshold(np.asarray(retain_loss), np.asarray(test_loss))
    return float(np.mean(np.asarray(forget_loss) > t))


def mia_efficacy(retain_conf: np.ndarray, test_conf: np.ndarray, forget_conf: np.ndarray
                 ) -> float:
    """MIA-efficacy (Jia et al., NeurIPS 2023; SalUn's ``evaluation/SVC_MIA.py``, "confidence"):
    an RBF ``SVC(C=3, gamma="auto")`` on the true-class confidence, fitted on members =
    ``retain_conf[:len(test_conf)]`` vs non-members = ``test_conf``; the share of forget samples
    it predicts as non-members."""
    from sklearn.svm import SVC

    test_conf = np.asarray(test_conf, dtype=np.float64)
    members = np.asarray(retain_conf, dtype=np.float64)[:len(test_conf)]
    x = np.concatenate([members, test_conf]).reshape(-1, 1)
    y = np.concatenate([np.ones(len(members)), np.zeros(len(test_conf))])
    clf = SVC(C=3, gamma="auto", kernel="rbf").fit(x, y)
    return float(1 - clf.predict(np.asarray(forget_conf, dtype=np.float64).reshape(-1, 1)).mean())


def avg_gap(metrics: Mapping[str, float], gold: Mapping[str, float],
            keys: Sequence[str] = GAP_METRICS) -> float:
    """Average gap (Fan et al., SalUn, ICLR 2024): mean |metric - gold metric| over ``keys``."""
    return float(np.mean([abs(metrics[k] - gold[k]) for k in keys]))


def forget_quality(model_values: np.ndarray, gold_values: np.ndarray) -> float:
    """Forget quality (Maini et al., TOFU 2024): two-sample KS-test p-value between the model's
    and the gold model's per-sample forget statistics."""
    from scipy.stats import ks_2samp

    return float(ks_2samp(np.asarray(model_values), np.asarray(gold_values)).pvalue)
