"""Boundary Shrink and Boundary Expanding ([11]) on hand cases: FGSM's nearest wrong class on a
linear model, and the shadow class's widening and pruning."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.strategies.boundary_expanding import widened
from erasus_bench.methods.strategies.boundary_shrink import nearest_wrong_labels


def test_fgsm_crosses_to_the_neighbouring_class_of_a_linear_model() -> None:
    # logits = W x with class 0 on the left of x1 = 0, class 1 right, class 2 far above
    model = nn.Linear(2, 3, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]))
    x = torch.tensor([[-0.05, 0.0], [-2.0, 0.0]])
    y = torch.tensor([0, 0])
    # one step of 0.1 moves x1 to +0.05 (class 1) for the first point, -1.9 (still 0) for the other
    assert nearest_wrong_labels(model, x, y, 0.1).tolist() == [1, 0]


def test_widened_head_keeps_the_old_classes_and_adds_one() -> None:
    head = nn.Linear(4, 3)
    wide = widened(head, torch.Generator().manual_seed(0))
    x = torch.randn(5, 4)
    assert wide.out_features == 4
    torch.testing.assert_close(wide(x)[:, :3], head(x))
    again = widened(head, torch.Generator().manual_seed(0))
    torch.testing.assert_close(again.weight, wide.weight)  # the shadow row is seeded


def test_unsir_noise_maximises_the_class_loss_under_its_l2_penalty() -> None:
    from erasus_bench.methods.strategies.unsir import error_maximising_noise

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).requires_grad_(False)
    gen = torch.Generator().manual_seed(1)
    start = torch.randn((16, 4), generator=torch.Generator().manual_seed(1))
    noise = error_maximising_noise(model, 2, (16, 4), 40, 0.1, 0.1, gen)

    def objective(n: torch.Tensor) -> float:
        target = torch.full((16,), 2)
        return float(torch.nn.functional.cross_entropy(model(n), target)
                     - 0.1 * (n ** 2).sum(1).mean())

    assert objective(noise) > objective(start)  # Adam ascended the penalised loss
    assert all(p.grad is None for p in model.parameters())


def test_unsir_noise_follows_torch_adam() -> None:
    """The written-out Adam of the noise takes the steps torch.optim.Adam takes."""
    from erasus_bench.methods.strategies.unsir import error_maximising_noise

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).requires_grad_(False)
    got = error_maximising_noise(model, 1, (6, 4), 7, 0.1, 0.1, torch.Generator().manual_seed(3))
    n = torch.randn((6, 4), generator=torch.Generator().manual_seed(3)).requires_grad_(True)
    opt = torch.optim.Adam([n], lr=0.1)
    for _ in range(7):
        opt.zero_grad()
        loss = (-torch.nn.functional.cross_entropy(model(n), torch.full((6,), 1))
                + 0.1 * (n ** 2).sum(1).mean())
        loss.backward()
        opt.step()
    torch.testing.assert_close(got, n.detach(), rtol=1e-5, atol=1e-6)
