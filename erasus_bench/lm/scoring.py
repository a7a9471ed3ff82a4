"""Teacher-forced statistics of answer tokens, all from one batched forward pass over a split:
length-normalised NLL, per-token log-probs, the model's own mean/std of log-probs (Min-K%++),
and argmax agreement (exact memorisation, extraction strength)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from erasus_bench.methods.causal_lm import CausalLMAdapter
from erasus_bench.methods.examples import Examples


@dataclass
class TokenStats:
    """Per sequence: mean answer NLL [N], and ragged per-token arrays over every labelled answer
    position, EOS included (``without_eos`` drops it)."""

    avg_nll: np.ndarray
    logprob: list[np.ndarray]
    mu: list[np.ndarray]
    sigma: list[np.ndarray]
    preds: list[np.ndarray]
    labels: list[np.ndarray]

    def without_eos(self) -> TokenStats:
        """The per-token arrays without each sequence's last labelled position, the EOS
        prediction (or the last kept token of an answer cut at the length limit, as in
        open-unlearning, whose ``tokenwise_logprobs`` / ``tokenwise_vocab_logprobs`` drop it:
        "-1 to ignore eos prediction"); ``avg_nll`` keeps every answer token. For exact
        memorisation, extraction strength, Min-K% and Min-K%++."""
        def cut(arrays: list[np.ndarray]) -> list[np.ndarray]:
            return [a[:-1] for a in arrays]

        return replace(self, logprob=cut(self.logprob), mu=cut(self.mu),
                       sigma=cut(self.sigma), preds=cut(self.preds), labels=cut(self.labels))


def token_stats(model: nn.Module, examples: Examples, batch_size: int = 64,
                adapter: CausalLMAdapter | None = None) -> TokenStats:
    """One no-grad pass over ``examples`` in eval mode (the model's mode is restored)."""
    ad = adapter or CausalLMAdapter()
    out = TokenStats(np.empty(0), [], [], [], [], [])
    nlls = []
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for batch in examples.batches(batch_size):
            o, b = ad.forward(model, batch)
            logp = torch.log_softmax(o.logits[:, :-1].float(), -1)
            target = b["labels"][:, 1:]
            mask = target != -100
            tok = logp.gather(-1, target.clamp_min(0).unsqueeze(-1)).squeeze(-1)
            p = logp.exp()
            mu = (p * logp).sum(-1)
            sigma = ((p * logp ** 2).sum(-1) - mu ** 2).clamp_min(1e-6).sqrt()
            preds = logp.argmax(-1)
            for i in range(len(target)):
                m = mask[i]
                lp = tok[i][m].cpu().double().numpy()
                nlls.append(-lp.mean() if len(lp) else np.nan)
                out.logprob.append(lp)
                out.mu.append(mu[i][m].cpu().double().numpy())
                out.sigma.append(sigma[i][m].cpu().double().numpy())
                out.preds.append(preds[i][m].cpu().numpy())
                out.labels.append(target[i][m].cpu().numpy())
    model.train(was_training)
    out.avg_nll = np.asarray(nlls, dtype=np.float64)
    return out
