"""Batched generation with left padding: greedy, of question prompts (open-unlearning's TOFU
generation settings) and of raw text prompts (MUSE's VerbMem and KnowMem); sampled, of token
prompts (AltPO's alternate answers)."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from erasus_bench.lm.prompt import encode_prompts, left_padded, pad_id
from erasus_bench.methods.causal_lm import autocast, device_of


def generate(model: nn.Module, tokenizer, questions: Sequence[str], max_new_tokens: int,
             batch_size: int = 64) -> list[str]:
    """Greedy continuations of each question's prompt, cut at EOS and stripped."""
    out: list[str] = []
    was_training = model.training
    model.eval()
    for start in range(0, len(questions), batch_size):
        enc = encode_prompts(tokenizer, questions[start:start + batch_size])
        enc = {k: v.to(device_of(model)) for k, v in enc.items()}
        with torch.no_grad(), autocast(model):
            ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id,
                                 eos_token_id=tokenizer.eos_token_id)
        out += tokenizer.batch_decode(ids[:, enc["input_ids"].shape[1]:],
                                      skip_special_tokens=True)
    model.train(was_training)
    return [t.strip() for t in out]


def continuations(model: nn.Module, tokenizer, prompts: Sequence[str], max_new_tokens: int,
                  batch_size: int = 32) -> list[str]:
    """Greedy continuations of raw text prompts, each tokenised as ``tokenizer(prompt)`` (BOS
    first where the tokenizer adds one), decoded without special tokens and not stripped
    (MUSE's ``verbmem.py`` / ``knowmem.py``). A prompt longer than the model's context less
    ``max_new_tokens`` keeps its last tokens."""
    room = getattr(getattr(model, "config", None), "n_positions", None) or getattr(
        getattr(model, "config", None), "max_position_embeddings", None)
    pad = pad_id(tokenizer)
    out: list[str] = []
    was_training = model.training
    model.eval()
    for start in range(0, len(prompts), batch_size):
        rows = [tokenizer(p)["input_ids"] for p in prompts[start:start + batch_size]]
        if room:
            rows = [r[-(room - max_new_tokens):] for r in rows]
        enc = {k: v.to(device_of(model)) for k, v in left_padded(rows, pad).items()}
        with torch.no_grad(), autocast(model):
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=pad, eos_token_id=tokenizer.eos_token_id)
        out += tokenizer.batch_decode(gen[:, enc["input_ids"].shape[1]:],
                                      skip_special_tokens=True)
    model.train(was_training)
    return out


def sample_continuations(model: nn.Module, prompts: Sequence[Sequence[int]], n: int,
                         max_new_tokens: int, temperature: float, top_k: int, seed: int,
                         stop: Sequence[int], pad: int, batch_size: int = 32
                         ) -> list[list[list[int]]]:
    """``n`` sampled continuations of each token prompt (temperature, top-k), each cut before
    its first ``stop`` token: ``out[i][j]`` is prompt ``i``'s ``j``-th. Sampling draws from a
    random state seeded with ``seed`` (the global one is left as it was), so the same seed gives
    the same samples on the same device. ``max_new_tokens`` is capped so that every prompt and
    continuation fit the model's context."""
    from transformers import GenerationConfig

    room = getattr(getattr(model, "config", None), "n_positions", None) or getattr(
        getattr(model, "config", None), "max_position_embeddings", None)
    device = device_of(model)
    stops = list(dict.fromkeys(int(s) for s in stop))
    out: list[list[list[int]]] = []
    was_training = model.training
    model.eval()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for start in range(0, len(prompts), batch_size):
            rows = [list(p) for p in prompts[start:start + batch_size]]
            width = max(len(r) for r in rows)
            new = min(max_new_tokens, room - width - 1) if room else max_new_tokens
            if new < 1:
                raise ValueError(f"a prompt of {width} tokens leaves no room to generate in a "
                                 f"context of {room}")
            enc = {k: v.to(device) for k, v in left_padded(rows, pad).items()}
            config = GenerationConfig(do_sample=True, temperature=temperature, top_k=top_k,
                                      top_p=1.0, max_new_tokens=new, num_return_sequences=n,
                                      eos_token_id=stops, pad_token_id=pad)
            with torch.no_grad(), autocast(model):
                gen = model.generate(**enc, generation_config=config)
            for i in range(len(rows)):
                samples = []
                for seq in gen[i * n:(i + 1) * n, width:].tolist():
                    cut = next((t for t, tok in enumerate(seq) if tok in stops), len(seq))
                    samples.append(seq[:cut])
                out.append(samples)
    model.train(was_training)
    return out
