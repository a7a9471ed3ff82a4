"""The `tofu` protocol: TOFU fictitious-author QA unlearning (embedded synthetic authors by
default, ``locuslab/TOFU`` or a local copy on request)."""
import math

from erasus_bench.protocols.card import ProtocolCard, register_card

CARD = register_card(ProtocolCard(
    name="tofu",
    description="TOFU fictitious-author QA (synthetic authors + tiny GPT-2 by default; "
                "locuslab/TOFU and any HF causal LM via --dataset/--model)",
    modality="causal_lm",
    target="erasus_bench.protocols.tofu.protocol:TofuProtocol",
    utility_metric="model_utility",
    reference_labels={"original": "finetuned", "retrain": "retain"},
    # forget quality on log10: within -log10(0.05) of gold's p = 1 means the KS test cannot tell
    # the method's truth ratios from gold's at the 5% level; utility within 0.05
    equivalence_margins={"forget_quality": -math.log10(0.05), "model_utility": 0.05},
    published="TOFU's released evaluation logs (locuslab/tofu), forget10, Llama-2-7b-chat: "
              "finetuned model utility 0.6227, forget quality 1.834e-21 vs retain90; retain90 "
              "model utility 0.6137 (imported as the Llama-2-7b-chat-hf table where committed)",
    # every strategy at the random coreset and the full forget set; every selector under NPO
    board_selectors=("random", "full"),
    board_strategies=("npo",),
))
