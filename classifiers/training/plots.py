"""A PNG chart of an evaluation: per-category precision/recall/F1 and the ROC curve."""

from __future__ import annotations

from pathlib import Path

from classifiers.training.evaluate import Evaluation


def plot_evaluation(result: Evaluation, out: Path) -> None:
    """Write a two-panel PNG to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(result.per_label)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [2, 1]})
    xs = range(len(labels))
    width = 0.27
    for offset, key in ((-width, "precision"), (0.0, "recall"), (width, "f1")):
        ax1.bar(
            [x + offset for x in xs], [result.per_label[lab][key] for lab in labels], width,
            label=key,
        )  # fmt: skip
    ax1.set_xticks(list(xs))
    ax1.set_xticklabels(labels, rotation=40, ha="right")
    ax1.set_ylim(0, 1.05)
    ax1.set_title(f"Per category ({result.n} comments)")
    ax1.legend(loc="lower right")
    fpr, tpr = result.roc
    ax2.plot(
        fpr, tpr, label=f"AUC {auc:.3f}" if (auc := result.binary["auc"]) is not None else "AUC n/a"
    )
    ax2.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax2.set_xlabel("false positive rate")
    ax2.set_ylabel("true positive rate")
    ax2.set_title(f"Harmful vs not (F1 {result.binary['f1']:.3f})")
    ax2.legend(loc="lower right")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
