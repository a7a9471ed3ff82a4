"""The metric registry's built-in entries (metadata only; the computations live beside it)."""
from erasus_bench.metrics.spec import MetricSpec, register_metric

GENERAL = ("general",)
TOFU = ("tofu",)
WMDP = ("wmdp-bio", "wmdp-cyber")
MUSE = ("muse",)

for _spec in (
    MetricSpec("avg_gap", "Avg. gap", "lower",
               "mean |metric - gold| over forget/retain/test accuracy and MIA-efficacy (SVC)",
               GENERAL, (0.0, 1.0), primary=GENERAL),
    MetricSpec("forget_acc", "Forget acc.", "match_gold",
               "accuracy on the full forget set", GENERAL, (0.0, 1.0)),
    MetricSpec("retain_acc", "Retain acc.", "higher",
               "accuracy on the retain split", GENERAL, (0.0, 1.0)),
    MetricSpec("test_acc", "Test acc.", "higher",
               "accuracy on the held-out test split", GENERAL, (0.0, 1.0)),
    MetricSpec("mia_efficacy", "MIA-efficacy", "match_gold",
               "share of forget samples SalUn's confidence MIA (RBF SVC fit on retain vs "
               "test) calls non-members", GENERAL, (0.0, 1.0)),
    MetricSpec("mia_loss_threshold", "MIA loss-thr.", "match_gold",
               "share of forget samples a loss-threshold MIA (fit on retain vs test) calls "
               "non-members", GENERAL, (0.0, 1.0)),
    MetricSpec("forget_quality", "Forget quality", "higher",
               "KS-test p-value between unlearned and gold per-item forget statistics "
               "(general: losses; TOFU: truth ratios)",
               ("general", "tofu"), (0.0, 1.0), primary=TOFU, log_scale=True),
    MetricSpec("unlearn_time", "Unlearn time", "lower",
               "wall time of coreset selection plus unlearning",
               ("general", "tofu", *WMDP, *MUSE),
               (0.0, None), unit="s"),
    MetricSpec("speedup", "Speedup", "higher",
               "gold retraining time / unlearn time", ("general", "tofu", *WMDP, *MUSE),
               (0.0, None),
               unit="x"),
):
    register_metric(_spec)


# --- MUSE (Shi et al. 2024), its eval.py names (C1, C2, C4; C3 is privleak below) ---

for _spec in (
    MetricSpec("verbmem_f", "VerbMem forget", "lower",
               "C1: ROUGE-L F1 x100 of the greedy 128-token continuation of forget-article "
               "prompts against the true continuation", MUSE, (0.0, 100.0), primary=MUSE),
    MetricSpec("knowmem_f", "KnowMem forget", "lower",
               "C2: ROUGE-L F1 x100 of answers to questions about the forget articles (10 "
               "in-context examples)", MUSE, (0.0, 100.0), primary=MUSE),
    MetricSpec("knowmem_r", "KnowMem retain", "higher",
               "C4 utility: ROUGE-L F1 x100 of answers to questions about the retain articles",
               MUSE, (0.0, 100.0), primary=MUSE),
):
    register_metric(_spec)


# --- TOFU (Maini et al. 2024), open-unlearning metric names (configs/eval/tofu_metrics/) ---

for _spec in (
    MetricSpec("model_utility", "Model utility", "higher",
               "harmonic mean of prob., ROUGE-L recall and truth ratio on retain, real authors "
               "and world facts", TOFU, (0.0, 1.0), primary=TOFU),
    MetricSpec("forget_truth_ratio", "Forget TR", "match_gold",
               "forget-set truth ratio, mean min(R, 1/R) of P(perturbed)/P(paraphrased)",
               TOFU, (0.0, 1.0)),
    MetricSpec("forget_Q_A_Prob", "Forget prob.", "match_gold",
               "mean length-normalised probability of the forget answers", TOFU, (0.0, 1.0)),
    MetricSpec("forget_Q_A_ROUGE", "Forget ROUGE", "match_gold",
               "mean ROUGE-L recall of greedy generations on the forget questions",
               TOFU, (0.0, 1.0)),
    MetricSpec("retain_Q_A_Prob", "Retain prob.", "higher",
               "mean length-normalised probability of the retain answers", TOFU, (0.0, 1.0)),
    MetricSpec("retain_Q_A_ROUGE", "Retain ROUGE", "higher",
               "mean ROUGE-L recall of greedy generations on the retain questions",
               TOFU, (0.0, 1.0)),
    MetricSpec("retain_Truth_Ratio", "Retain TR", "higher",
               "retain-set truth ratio, mean max(0, 1 - P(perturbed)/P(paraphrased))",
               TOFU, (0.0, 1.0)),
    MetricSpec("ra_Q_A_Prob_normalised", "Real-authors prob.", "higher",
               "real-authors answer probability normalised against the wrong options",
               TOFU, (0.0, 1.0)),
    MetricSpec("ra_Q_A_ROUGE", "Real-authors ROUGE", "higher",
               "mean ROUGE-L recall of greedy generations on real-authors questions",
               TOFU, (0.0, 1.0)),
    MetricSpec("ra_Truth_Ratio", "Real-authors TR", "higher",
               "real-authors truth ratio, mean max(0, 1 - P(wrong)/P(correct))",
               TOFU, (0.0, 1.0)),
    MetricSpec("wf_Q_A_Prob_normalised", "World-facts prob.", "higher",
               "world-facts answer probability normalised against the wrong options",
               TOFU, (0.0, 1.0)),
    MetricSpec("wf_Q_A_ROUGE", "World-facts ROUGE", "higher",
               "mean ROUGE-L recall of greedy generations on world-facts questions",
               TOFU, (0.0, 1.0)),
    MetricSpec("wf_Truth_Ratio", "World-facts TR", "higher",
               "world-facts truth ratio, mean max(0, 1 - P(wrong)/P(correct))",
               TOFU, (0.0, 1.0)),
    MetricSpec("extraction_strength", "Extraction str.", "match_gold",
               "forget set: 1 - k/|a| for the longest answer suffix a[k:] the model "
               "reproduces exactly under teacher forcing", TOFU, (0.0, 1.0)),
    MetricSpec("exact_memorization", "Exact mem.", "match_gold",
               "forget set: share of answer tokens equal to the teacher-forced argmax",
               TOFU, (0.0, 1.0)),
    MetricSpec("mia_loss", "MIA loss AUC", "match_gold",
               "ROC AUC of the loss attack, forget vs holdout (1: forget looks memorised)",
               TOFU, (0.0, 1.0)),
    MetricSpec("mia_zlib", "MIA zlib AUC", "match_gold",
               "ROC AUC of the zlib-normalised loss attack, forget vs holdout", TOFU, (0.0, 1.0)),
    MetricSpec("mia_min_k", "MIA min-k AUC", "match_gold",
               "ROC AUC of the min-k% (k=0.4) attack, forget vs holdout", TOFU, (0.0, 1.0)),
    MetricSpec("mia_min_k_plus_plus", "MIA min-k++ AUC", "match_gold",
               "ROC AUC of the min-k%++ (k=0.4) attack, forget vs holdout", TOFU, (0.0, 1.0)),
    MetricSpec("privleak", "Privleak", "match_gold",
               "relative gap of the min-k MIA AUC to the retrained model's (0: like the "
               "retrained model; negative: under-unlearned; TOFU: open-unlearning's; MUSE: "
               "Min-40% forget vs holdout)", (*TOFU, *MUSE), unit="%", primary=MUSE),
):
    register_metric(_spec)


# --- WMDP (Li et al. 2024), scored by lm-evaluation-harness (acc of wmdp_* and mmlu_* tasks) ---

for _spec in (
    MetricSpec("wmdp_acc", "WMDP acc.", "lower",
               "accuracy on the domain's WMDP questions (4 options; chance 0.25)", WMDP,
               (0.0, 1.0), primary=WMDP),
    MetricSpec("mmlu_acc", "MMLU acc.", "higher",
               "MMLU accuracy, mean over subjects weighted by their sizes (lm-eval's mmlu group)",
               WMDP, (0.0, 1.0), primary=WMDP),
    *(MetricSpec(f"mmlu_{s}_acc", f"MMLU {s.replace('_', ' ')}", "higher",
                 f"accuracy on MMLU {s.replace('_', ' ')}", WMDP, (0.0, 1.0))
      for s in ("college_biology", "virology", "college_computer_science", "computer_security")),
):
    register_metric(_spec)


# --- attack stages (issue [9], harness.attacks): recoveries (metrics.recovery) and the
# NeurIPS'23 challenge score (metrics.epsilon) ---

ATTACKED = ("general", *TOFU, *WMDP, *MUSE)
for _spec in (
    MetricSpec("relearn_recovery", "Relearn recov.", "match_gold",
               "share of the unlearned-away attack metric (the forget likelihood) that "
               "fine-tuning on half A of the forget set brings back on half B (Hu et al. 2025)",
               ATTACKED, (0.0, 1.0)),
    MetricSpec("quant_recovery", "4-bit recov.", "lower",
               "share of the unlearned-away forget likelihood that reloading the weights in "
               "int4 brings back (Zhang et al. 2025)", ATTACKED, (0.0, 1.0)),
    MetricSpec("quant8_recovery", "8-bit recov.", "lower",
               "share of the unlearned-away forget likelihood that reloading the weights in "
               "int8 brings back", ATTACKED, (0.0, 1.0)),
    MetricSpec("epsilon_score", "ε-score", "higher",
               "NeurIPS'23 unlearning challenge score: per-example epsilon of unlearned vs "
               "retrained runs, bucketed, times the retain and test accuracy ratios",
               GENERAL, (0.0, None)),
):
    register_metric(_spec)

# the attack stage (harness.attacks) that reports each metric
ATTACK_STAGE = {"relearn_recovery": "relearn", "quant_recovery": "quantize",
                "quant8_recovery": "quantize", "epsilon_score": "epsilon"}
