"""Question/answer prompts for a causal LM: the model's chat template when it has one (with
arguments pinned per model, so a prompt never depends on the calendar), else
"Question: ... Answer:"; question (and padding) tokens get label -100 so only answers are scored."""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import torch

IGNORE = -100
PLAIN_TEMPLATE = "Question: {question}\nAnswer:"

# open-unlearning's pinned template arguments (configs/model/*.yaml, template_args)
PINNED_DATE = "10 Apr 2025"  # date_string of its Llama-3.x and zephyr configs
HELPFUL = "You are a helpful assistant."  # system_prompt of its Llama-3.x/Qwen2.5/Phi-3.5/zephyr
_PINNED_NOW = datetime(2025, 4, 10)


class _PinnedDatetime(datetime):
    """``datetime`` whose ``now()`` is 10 Apr 2025."""

    @classmethod
    def now(cls, tz=None):  # noqa: ARG003
        return _PINNED_NOW


@contextmanager
def _pinned_clock() -> Iterator[None]:
    """Templates that call transformers' ``strftime_now`` directly (not only when
    ``date_string`` is missing) read ``datetime.now()`` of ``transformers.utils.
    chat_template_utils``; it is pinned while a template renders. (A ``strftime_now`` passed as
    a template argument does not work: transformers 5 turns callables in template arguments into
    strings.) Not thread-safe; prompts are encoded in one thread."""
    try:
        from transformers.utils import chat_template_utils as ctu
    except ImportError:  # pragma: no cover - transformers is a core dependency
        yield
        return
    if not hasattr(ctu, "datetime"):  # another transformers layout: date_string still pinned
        yield
        return
    saved = ctu.datetime
    ctu.datetime = _PinnedDatetime
    try:
        yield
    finally:
        ctu.datetime = saved


@dataclass(frozen=True)
class ChatArgs:
    """Pinned chat-template arguments of one model family: the system prompt (None = none is
    given; the template's own default applies) and the date. Templates that read the clock
    directly see 10 Apr 2025 too (``_pinned_clock``)."""

    system_prompt: str | None = None
    date_string: str = PINNED_DATE

    def template_kwargs(self) -> dict:
        return {"date_string": self.date_string}

    def messages(self, question: str) -> list[dict[str, str]]:
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return system + [{"role": "user", "content": question}]


# (pattern on the tokenizer's name_or_path, or a marker in its chat template) -> pinned args,
# as in open-unlearning's model configs; first match wins. Models not listed get no system
# prompt and the pinned date.
CHAT_ARGS: tuple[tuple[str, str | None, ChatArgs], ...] = (
    # Llama-3.1-8B / 3.2-1B / 3.2-3B-Instruct: system prompt + date_string 10 Apr 2025 (without
    # it the template writes today's date into the system header); marker for local copies
    (r"llama-3", "Cutting Knowledge Date", ChatArgs(HELPFUL)),
    (r"zephyr", None, ChatArgs(HELPFUL)),
    (r"qwen2\.5", None, ChatArgs(HELPFUL)),
    (r"phi-3\.5", None, ChatArgs(HELPFUL)),
    (r"gemma", None, ChatArgs()),  # no system role in Gemma's template
    # SmolLM2-Instruct (not in open-unlearning): its template's own default system prompt
    (r"smollm2", None, ChatArgs()),
)


def has_chat_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def chat_args(tokenizer) -> ChatArgs:
    """The pinned chat-template arguments of ``tokenizer``'s model (see ``CHAT_ARGS``)."""
    name = str(getattr(tokenizer, "name_or_path", "") or "").lower()
    template = getattr(tokenizer, "chat_template", None)
    template = template if isinstance(template, str) else str(template or "")
    for pattern, marker, args in CHAT_ARGS:
        if re.search(pattern, name) or (marker and marker in template):
            return args
    return ChatArgs()


def prompt_text(tokenizer, question: str) -> str:
    """The text that precedes the answer: chat template (pinned system prompt when the model has
    one, user turn, generation prompt; pinned date) when the tokenizer has one, else
    ``PLAIN_TEMPLATE``."""
    if has_chat_template(tokenizer):
        args = chat_args(tokenizer)
        with _pinned_clock():
            return tokenizer.apply_chat_template(args.messages(question), tokenize=False,
                                                 add_generation_prompt=True,
                                                 **args.template_kwargs())
    return PLAIN_TEMPLATE.format(question=question)


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def _bos(tokenizer) -> list[int]:
    """A leading BOS when the tokenizer has one distinct from EOS and the prompt is plain."""
    bos = tokenizer.bos_token_id
    if bos is None or bos == tokenizer.eos_token_id or has_chat_template(tokenizer):
        return []
    return [bos]


def encode_qa(tokenizer, questions: Sequence[str], answers: Sequence[str],
              max_length: int = 512) -> dict[str, torch.Tensor]:
    """Right-padded ``input_ids``/``attention_mask``/``labels`` of prompt + answer + EOS (a space
    between them for the plain template).

    Labels are the input ids on answer tokens (EOS included) and -100 elsewhere; sequences longer
    than ``max_length`` lose answer tokens from the end (the prompt is kept whole)."""
    if len(questions) != len(answers):
        raise ValueError(f"{len(questions)} questions but {len(answers)} answers")
    rows = []
    for q, a in zip(questions, answers):
        text = prompt_text(tokenizer, q)
        p = _bos(tokenizer) + _ids(tokenizer, text)
        sep = "" if has_chat_template(tokenizer) else " "
        full = _ids(tokenizer, text + sep + a)
        # tokenise prompt+answer together (merges across the boundary stay as in training text);
        # the answer starts where the prompt's own tokens end
        ans = full[len(p) - len(_bos(tokenizer)):] + [tokenizer.eos_token_id]
        rows.append((p, ans[:max(1, max_length - len(p))]))
    width = max(len(p) + len(a) for p, a in rows)
    pad = pad_id(tokenizer)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for i, (p, a) in enumerate(rows):
        n = len(p) + len(a)
        ids[i, :n] = torch.tensor(p + a)
        mask[i, :n] = 1
        labels[i, len(p):n] = torch.tensor(a)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def encode_prompts(tokenizer, questions: Sequence[str]) -> dict[str, torch.Tensor]:
    """Left-padded prompts (``input_ids``, ``attention_mask``) for batched generation."""
    rows = [_bos(tokenizer) + _ids(tokenizer, prompt_text(tokenizer, q)) for q in questions]
    return left_padded(rows, pad_id(tokenizer))


def pad_id(tokenizer) -> int:
    """The tokenizer's padding id (its EOS when it has none)."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def left_padded(rows: Sequence[Sequence[int]], pad: int) -> dict[str, torch.Tensor]:
    """Token rows as ``input_ids`` / ``attention_mask`` padded on the left (for generation)."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r)
        mask[i, width - len(r):] = 1
    return {"input_ids": ids, "attention_mask": mask}


def right_padded(rows: Sequence[Sequence[int]], pad: int, width: int | None = None
                 ) -> dict[str, torch.Tensor]:
    """Token rows as ``input_ids`` / ``attention_mask`` / ``labels`` padded on the right to
    ``width`` (default: the longest row), every real token a label, -100 on padding."""
    width = width or max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
        labels[i, :len(r)] = torch.tensor(r, dtype=torch.long)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}
