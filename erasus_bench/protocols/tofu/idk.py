""""I don't know"-style refusals: the target answers of IdkDPO and IdkNLL.

open-unlearning's ``QAwithIdkDataset`` (``src/data/qa.py``) draws a random line of its
``data/idk.jsonl`` each time a forget item is fetched; we encode every response of our own fixed
list for every forget question (``idk_tensors``) and IdkDPO / IdkNLL draw one per item per fetch
from the task's seeded generator.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

import torch

from erasus_bench.lm.prompt import encode_qa

IDK_RESPONSES: tuple[str, ...] = (
    "I don't know.",
    "I'm not sure about that.",
    "That's beyond my knowledge.",
    "I have no idea.",
    "I can't answer that.",
    "I don't have that information.",
    "I'm afraid I don't know.",
    "I couldn't tell you.",
    "That is not something I know.",
    "I'm not aware of that.",
    "I have no information on that.",
    "I don't have an answer to that.",
    "Sorry, I don't know the answer.",
    "I'm unable to answer that question.",
    "I really can't say.",
    "That's a mystery to me.",
    "I don't recall anything about that.",
    "I'm not familiar with that.",
    "I lack the knowledge to answer that.",
    "I have never heard about that.",
    "My knowledge does not cover that.",
    "I cannot help with that question.",
    "I'm not the right source for that.",
    "I don't have any details on that.",
    "I honestly don't know.",
    "Nothing comes to mind about that.",
    "I'm drawing a blank on that one.",
    "That question is outside what I know.",
    "I'm uncertain, so I won't guess.",
    "I can't recall that information.",
)


def idk_tensors(tokenizer, questions: Sequence[str], max_length: int = 512,
                responses: Sequence[str] = IDK_RESPONSES) -> dict[str, torch.Tensor]:
    """``idk_input_ids`` / ``idk_attention_mask`` / ``idk_labels`` of shape [N, K, T]: each of the
    N questions followed by each of the K responses (``encode_qa``; one width for all)."""
    k = len(responses)
    enc = encode_qa(tokenizer, [q for q in questions for _ in range(k)],
                    list(responses) * len(questions), max_length)
    return {f"idk_{key}": v.reshape(len(questions), k, v.shape[-1]) for key, v in enc.items()}


def idk_answers(n: int, seed: int) -> list[str]:
    """One fixed response per item for ``n`` items, the same list for the same ``(n, seed)``
    (for callers that want one answer per item; the protocol uses ``idk_tensors``)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = random.Random(f"idk-{seed}")
    return [rng.choice(IDK_RESPONSES) for _ in range(n)]
