"""The `muse` protocol: MUSE's six criteria (verbatim and knowledge memorisation, privacy leak,
utility, scalability, sustainability) on news articles (invented articles + tiny GPT-2 by
default; muse-bench/MUSE-News or MUSE-Books and any HF causal LM via --dataset/--model)."""
from erasus_bench.protocols.card import ProtocolCard, register_card

CARD = register_card(ProtocolCard(
    name="muse",
    description="MUSE C1-C6: VerbMem, KnowMem, PrivLeak, utility, scalability, sustainability "
                "(invented news + tiny GPT-2 by default; muse-bench/MUSE-News or -Books and any "
                "HF causal LM via --dataset/--model)",
    modality="lm_corpus",
    target="erasus_bench.protocols.muse.protocol:MuseProtocol",
    utility_metric="knowmem_r",
    reference_labels={"original": "target", "retrain": "retrain"},
    # ROUGE x100 within 5 points of the retrained model's, PrivLeak within 10 points of 0
    equivalence_margins={"verbmem_f": 5.0, "knowmem_f": 5.0, "knowmem_r": 5.0, "privleak": 10.0},
    series_option="forget_split",
    published="MUSE paper (Shi et al. 2024, Table 3), MUSE-News, Llama-2-7B: retrain VerbMem "
              "20.75, KnowMem forget 33.32, KnowMem retain 53.79; target 58.29 / 62.93 / 54.31, "
              "PrivLeak -98.71",
    # every strategy at the random coreset and the full forget set; every selector under NPO
    board_selectors=("random", "full"),
    board_strategies=("npo",),
))
