"""Text corpora as causal-LM Examples: every token of a passage is a label (the WMDP/RMU setting,
where forget and retain sets are documents, not question/answer pairs)."""
from __future__ import annotations

from collections.abc import Sequence

import torch

from erasus_bench.lm.prompt import pad_id, right_padded


def encode_text(tokenizer, texts: Sequence[str], max_length: int = 512) -> dict[str, torch.Tensor]:
    """Right-padded ``input_ids``/``attention_mask``/``labels`` of each text + EOS, truncated to
    ``max_length`` tokens; labels are the ids on every real token (as the RMU code's
    ``input_ids``), -100 on padding. No BOS is added: lm-eval's HFLM adds none to a context
    either, so a passage reads as it is scored."""
    if not texts:
        raise ValueError("no texts to encode")
    rows = [(tokenizer(t, add_special_tokens=False)["input_ids"]
             + [tokenizer.eos_token_id])[:max_length] for t in texts]
    return right_padded(rows, pad_id(tokenizer))
