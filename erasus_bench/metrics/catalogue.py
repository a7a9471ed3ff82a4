"""The metric registry's built-in entries (metadata only; the computations live beside it)."""
from erasus_bench.metrics.spec import MetricSpec, register_metric

GENERAL = ("general",)

for _spec in (
    MetricSpec("avg_gap", "Avg. gap", "lower",
               "mean |metric - gold| over forget/retain/test accuracy and MIA-efficacy",
               GENERAL, (0.0, 1.0), primary=True),
    MetricSpec("forget_acc", "Forget acc.", "match_gold",
               "accuracy on the full forget set", GENERAL, (0.0, 1.0)),
    MetricSpec("retain_acc", "Retain acc.", "higher",
               "accuracy on the retain split", GENERAL, (0.0, 1.0)),
    MetricSpec("test_acc", "Test acc.", "higher",
               "accuracy on the held-out test split", GENERAL, (0.0, 1.0)),
    MetricSpec("mia_efficacy", "MIA-efficacy", "match_gold",
               "share of forget samples a loss-threshold MIA (fit on retain vs test) calls "
               "non-members", GENERAL, (0.0, 1.0)),
    MetricSpec("forget_quality", "Forget quality", "higher",
               "KS-test p-value between unlearned and gold per-sample forget losses",
               GENERAL, (0.0, 1.0), log_scale=True),
    MetricSpec("unlearn_time", "Unlearn time", "lower",
               "wall time of coreset selection plus unlearning", GENERAL, (0.0, None), unit="s"),
    MetricSpec("speedup", "Speedup", "higher",
               "gold retraining time / unlearn time", GENERAL, (0.0, None), unit="x"),
):
    register_metric(_spec)
