"""The `general` protocol: classifier unlearning on a small tabular/image dataset."""
from erasus_bench.protocols.card import ProtocolCard, register_card

CARD = register_card(ProtocolCard(
    name="general",
    description="classifier unlearning (digits MLP by default; random 10% or one-class forget "
                "set), gold = retrain on retain",
    modality="classifier",
    target="erasus_bench.protocols.general.protocol:GeneralProtocol",
    utility_metric="test_acc",
    # avg_gap within 0.02 of gold (gold's own avg_gap is 0): e.g. 2 points of accuracy on each
    # of the four compared quantities
    equivalence_margins={"avg_gap": 0.02},
    # cheap: enough seeds for rank groups to separate real differences; both budget regimes
    default_seeds=10,
    budgets=("steps", "epochs"),
    # every strategy at the random coreset and the full forget set; every selector under NegGrad+
    board_selectors=("random", "full"),
    board_strategies=("grad_diff",),
))
