"""``schoolwatch classify``, ``eval`` and ``train``: try, measure and retrain the classifier."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from core.errors import ConfigError
from core.models import Category, Context

log = logging.getLogger(__name__)
console = Console()
err_console = Console(stderr=True)

PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="The school policy file (thresholds, word lists, staff names). "
        "Default: the policy shipped with schoolwatch.",
        show_default=False,
    ),
]
RulesOnly = Annotated[
    bool,
    typer.Option(
        "--rules-only",
        help="Use only the word lists and patterns, not the trained model "
        "(quicker, less accurate).",
    ),
]
ModelThresholds = Annotated[
    bool,
    typer.Option(
        "--model-thresholds",
        help="Use the thresholds the model was calibrated with instead of the policy's.",
    ),
]
ModelDir = Annotated[
    Path | None,
    typer.Option(
        "--model-dir",
        help="A different language model folder to use (advanced; it must be on this computer).",
        show_default=False,
    ),
]

SHORT: dict[str, str] = {
    "self_harm": "self", "abuse_disclosure": "abus", "sexual": "sex",
    "staff_allegation": "stff", "personal_data": "pdat", "threat": "thrt", "hate": "hate",
    "bullying": "bull", "defamation": "defm", "spam": "spam", "criticism": "crit",
    "benign": "ok",
}  # fmt: skip

CLASSIFY_HELP = """Check one comment and show how schoolwatch would label it.

Shows each category's score, which categories are flagged under your policy's
thresholds, the one-sentence reason, and the evidence: the words that matched,
personal details found, staff named and the model's scores. Nothing is stored
and nobody is emailed.

Example:  schoolwatch classify "Mr Reeve grabbed my son by the arm"
"""

EVAL_HELP = """Measure the classifier on labelled comments (CSV files).

Each file needs a 'text' column and a 'label' column (one of self_harm,
abuse_disclosure, sexual, staff_allegation, personal_data, threat, hate,
bullying, defamation, spam, criticism, benign). Other columns are ignored. Rows
with any other label are reported and skipped. Rows that appear in
schoolwatch's own training files are left out, so the figures are honest.
With --folds N, rows of the shipped school development set (which the model
learns from) are kept and measured by cross-validation instead: the model is
retrained N times, each time without one part of the rows, and each row is
scored by the model that never saw it (this takes a few minutes).

Prints: how well it separates harmful from not harmful (precision, recall, F1,
ROC AUC; criticism and benign count as not harmful), the same figures for each
category, and a table of which label each row got.
"""

TRAIN_HELP = """Retrain the classifier from labelled comments.

By default it trains from the example files shipped with schoolwatch and saves
the result where schoolwatch looks for it. With --include-decisions it also
learns from your moderators' decisions (comments marked as a false alarm or
confirmed with a category), prints the evaluation before and after, and only
uses the new model if it does at least as well on schoolwatch's own test set.

Training takes a few minutes on a small computer (about ten more with
--fine-tune).
"""


def _load_policy(path: Path | None) -> Any:
    from config.loader import DEFAULT_POLICY, load_policy

    try:
        return load_policy(path or Path(DEFAULT_POLICY))
    except ConfigError as exc:
        from monitor.cli import config_error

        raise config_error(exc) from None


def _classifier(
    policy: Any, rules_only: bool, model_dir: Path | None, model_thresholds: bool = False
) -> Any:
    from classifiers.ensemble import EnsembleClassifier
    from classifiers.registry import build_classifier

    clf = build_classifier(policy, model_dir=model_dir, use_model=not rules_only)
    if model_thresholds and isinstance(clf, EnsembleClassifier):
        clf.thresholds = {**clf.thresholds, **clf.heads.thresholds}
    return clf


def _evidence_rows(verdict: Any) -> list[dict[str, Any]]:
    rows = []
    for ev in verdict.evidence:
        rows.append(
            {
                "category": ev.category.value,
                "source": ev.source,
                "rule": ev.rule_id,
                "score": ev.score,
                "span": list(ev.span) if ev.span else None,
                "matched": ev.matched,
                "model": ev.model,
                "detail": ev.detail,
            }
        )
    return rows


def classify_cmd(
    text: Annotated[str, typer.Argument(help="The comment to check (put it in quotes).")],
    context: Annotated[
        str,
        typer.Option("--context", help="The post the comment sits under, if any."),
    ] = "",
    reply_to: Annotated[
        str,
        typer.Option(
            "--reply-to",
            help="The comment it replies to, if any. A reply such as 'me too' under a "
            "comment about self-harm or abuse is flagged like that comment.",
        ),
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    policy_path: PolicyOption = None,
    rules_only: RulesOnly = False,
    model_thresholds: ModelThresholds = False,
    model_dir: ModelDir = None,
) -> None:
    """Check one comment and show how schoolwatch would label it."""
    from classifiers.training.runner import classify_texts

    policy = _load_policy(policy_path)
    clf = _classifier(policy, rules_only, model_dir, model_thresholds)
    ctx = [Context(post_text=context, parent_text=reply_to)]
    verdict = classify_texts(clf, [text], ctx)[0]
    if as_json:
        from monitor.cli import print_json

        print_json(
            {
                "classifier": verdict.classifier,
                "flagged": [c.value for c in verdict.flagged],
                "primary": verdict.primary.value,
                "harmful": verdict.is_harmful,
                "explanation": verdict.explanation,
                "scores": {c.value: s for c, s in verdict.scores.items()},
                "staff_mentioned": list(verdict.staff_mentioned),
                "pupils_mentioned": verdict.pupils_mentioned,
                "evidence": _evidence_rows(verdict),
            }
        )
        return
    console.print(f"[bold]{verdict.explanation}[/]", highlight=False)
    table = Table("category", "score", "threshold", "flagged")
    thresholds = getattr(clf, "thresholds", policy.thresholds())
    for cat in Category:
        score = verdict.scores.get(cat, 0.0)
        flagged = "yes" if cat in verdict.flagged else ""
        table.add_row(cat.value, f"{score:.2f}", f"{thresholds.get(cat, 0.5):.2f}", flagged)
    console.print(table)
    if verdict.evidence:
        ev_table = Table("category", "source", "rule", "score", "matched / detail")
        for ev in verdict.evidence:
            shown = f"'{ev.matched}' ({ev.detail})" if ev.matched else (ev.detail or ev.model)
            ev_table.add_row(ev.category.value, ev.source, ev.rule_id, f"{ev.score:.2f}", shown)
        console.print(ev_table)
    if verdict.staff_mentioned:
        console.print(f"Staff named: {', '.join(verdict.staff_mentioned)}", highlight=False)
    if verdict.pupils_mentioned:
        console.print(f"Pupils named: {verdict.pupils_mentioned}", highlight=False)
    console.print(f"[dim]classifier {verdict.classifier}[/]", highlight=False)


def eval_cmd(
    files: Annotated[list[Path], typer.Argument(help="One or more CSV files with text,label.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also save a chart (PNG) of the figures to this file."),
    ] = None,
    include_trained: Annotated[
        bool,
        typer.Option(
            "--include-trained",
            help="Keep rows that are in schoolwatch's training files (figures will look too good).",
        ),
    ] = False,
    folds: Annotated[
        int,
        typer.Option(
            "--folds",
            min=0,
            help="Measure rows of the shipped school development set by N-fold "
            "cross-validation instead of leaving them out (N at least 2).",
        ),
    ] = 0,
    policy_path: PolicyOption = None,
    rules_only: RulesOnly = False,
    model_thresholds: ModelThresholds = False,
    model_dir: ModelDir = None,
) -> None:
    """Measure the classifier on labelled comments (CSV files)."""
    from classifiers.training.data import read_labelled, text_key
    from classifiers.training.evaluate import evaluate
    from classifiers.training.runner import classify_texts, training_texts

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        from monitor.cli import fail

        raise fail("these files were not found:", missing)
    try:
        report = read_labelled(files)
    except ValueError as exc:
        from monitor.cli import fail

        raise fail(str(exc)) from None
    out = err_console if as_json else console
    for label, count in sorted(report.skipped.items()):
        out.print(f"Skipped {count} rows with unknown label {label!r}.", highlight=False)
    examples = report.examples
    if folds == 1 or (folds and (rules_only or include_trained)):
        from monitor.cli import fail

        raise fail("--folds needs 2 or more folds, and cannot be used with --rules-only")
    if not include_trained:
        seen = training_texts(tuned_only=bool(folds))
        kept = [e for e in examples if text_key(e.text) not in seen]
        if len(kept) < len(examples):
            out.print(
                f"Left out {len(examples) - len(kept)} rows that are in the training files"
                + (" (only the school development set is cross-validated)." if folds else "."),
                highlight=False,
            )
        examples = kept
    if not examples:
        from monitor.cli import fail

        hint = (
            "; every row is in schoolwatch's training files (rows of the school "
            "development set can be measured with --folds 2)"
            if report.examples and not folds
            else ""
        )
        raise fail("no rows to evaluate" + hint)
    policy = _load_policy(policy_path)
    clf = _classifier(policy, rules_only, model_dir, model_thresholds)
    if folds:
        verdicts = _cross_validated(clf, policy, examples, folds)
        _report(evaluate([e.label for e in examples], verdicts), verdicts, plot, as_json)
        return
    with _progress() as progress:
        task = progress.add_task("Classifying", total=len(examples))
        verdicts = classify_texts(
            clf, [e.text for e in examples], None, lambda n: progress.advance(task, n)
        )
    _report(evaluate([e.label for e in examples], verdicts), verdicts, plot, as_json)


def _progress() -> Progress:
    """A progress bar on standard error that disappears when done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


def _cross_validated(clf: Any, policy: Any, examples: list[Any], folds: int) -> list[Any]:
    """Score ``examples`` by N-fold cross-validation (see ``classifiers.training.crossval``)."""
    from classifiers.ensemble import EnsembleClassifier
    from classifiers.training.crossval import cross_validate
    from classifiers.training.data import SHIPPED_TRAINING, TRAINING_DIR, read_labelled, text_key
    from classifiers.training.runner import classify_texts

    if not isinstance(clf, EnsembleClassifier):
        from monitor.cli import fail

        raise fail("--folds needs the trained model, which could not be loaded")
    keys = {text_key(e.text) for e in examples}
    shipped = read_labelled([TRAINING_DIR / n for n in SHIPPED_TRAINING]).examples
    base = [e for e in shipped if text_key(e.text) not in keys]
    with _progress() as progress:
        task = progress.add_task("Cross-validating", total=len(examples))

        def classify(model: EnsembleClassifier, held: list[int]) -> list[Any]:
            return classify_texts(
                model, [examples[i].text for i in held], None, lambda n: progress.advance(task, n)
            )

        return cross_validate(
            policy,
            clf.encoder,
            base,
            examples,
            folds=folds,
            classify=classify,
            say=lambda m: progress.update(task, description=m),
        )


def _report(result: Any, verdicts: list[Any], plot: Path | None, as_json: bool) -> None:
    """Print (and optionally chart) an evaluation."""
    out = err_console if as_json else console
    if plot is not None:
        from classifiers.training.plots import plot_evaluation

        plot_evaluation(result, plot)
        out.print(f"Chart saved to {plot}", highlight=False)
    if as_json:
        from monitor.cli import print_json

        data = result.as_json()
        data["classifier"] = verdicts[0].classifier
        print_json(data)
        return
    print_evaluation(result, verdicts[0].classifier)


def print_evaluation(result: Any, classifier: str) -> None:
    """Print an evaluation as tables."""
    b = result.binary
    console.print(f"[bold]{result.n} comments[/], classifier {classifier}", highlight=False)
    console.print(
        f"Harmful vs not harmful: precision {b['precision']:.3f}, recall {b['recall']:.3f}, "
        f"F1 {b['f1']:.3f}, ROC AUC "
        + (f"{b['auc']:.3f}" if b["auc"] is not None else "n/a (needs harmful and other rows)"),
        highlight=False,
    )
    console.print(
        f"Macro-F1 over categories {result.macro_f1:.3f}; recall on self-harm, abuse, sexual, "
        "personal data and staff allegations "
        + (f"{result.high_recall:.3f}" if result.high_recall is not None else "n/a (no such rows)")
        + "; criticism and benign "
        f"flagged as harmful {result.not_harmful_flagged:.1%}",
        highlight=False,
    )
    table = Table("category", "precision", "recall", "F1", "rows")
    for label, m in result.per_label.items():
        table.add_row(
            label, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
            str(m["support"]),
        )  # fmt: skip
    console.print(table)
    labels = [c.value for c in Category if c.value in result.per_label]
    conf = Table(
        title="Confusion table (rows: true label; columns: label given)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    conf.add_column("true", no_wrap=True, min_width=5)
    for c in labels:
        conf.add_column(SHORT.get(c, c[:5]), justify="right", no_wrap=True, min_width=4)
    for g in labels:
        row = result.confusion.get(g, {})
        if not row:
            continue
        conf.add_row(SHORT.get(g, g), *[str(row.get(p, "")) for p in labels])
    console.print(conf)
    console.print("Key: " + ", ".join(f"{SHORT.get(c, c)} = {c}" for c in labels), highlight=False)


def train_cmd(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Labelled CSV files (default: the ones shipped with schoolwatch)."),
    ] = None,
    include_decisions: Annotated[
        bool,
        typer.Option(
            "--include-decisions",
            help="Also learn from your moderators' decisions stored in the database.",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to save the trained model in (advanced)."),
    ] = None,
    eval_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--eval",
            help="Judge the new model on this labelled CSV instead of schoolwatch's own "
            "test set (can be given more than once).",
        ),
    ] = None,
    fine_tune: Annotated[
        bool,
        typer.Option(
            "--fine-tune",
            help="Also fine-tune the language model on the examples (adds about ten "
            "minutes; off by default because it did not help the shipped model, see "
            "docs/evaluation.md).",
        ),
    ] = False,
    keep_encoder: Annotated[
        bool,
        typer.Option(
            "--keep-encoder",
            help="Keep the current model's fine-tuned language model, if it has one, and "
            "retrain only the final layer.",
        ),
    ] = False,
    policy_path: PolicyOption = None,
    model_dir: ModelDir = None,
) -> None:
    """Retrain the classifier from labelled comments."""
    from classifiers.heads import WEIGHTS_DIR
    from classifiers.training.data import SHIPPED_TRAINING, TRAINING_DIR, read_labelled
    from classifiers.training.finetune import TuneSettings
    from classifiers.training.runner import decision_examples, run_training

    policy = _load_policy(policy_path)
    paths = files or [TRAINING_DIR / name for name in SHIPPED_TRAINING]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        from monitor.cli import fail

        raise fail("these training files were not found:", missing)
    if fine_tune and keep_encoder:
        from monitor.cli import fail

        raise fail("use either --fine-tune or --keep-encoder, not both")
    missing_eval = [str(p) for p in eval_files or [] if not p.is_file()]
    if missing_eval:
        from monitor.cli import fail

        raise fail("these evaluation files were not found:", missing_eval)
    report = read_labelled(paths)
    examples = list(report.examples)
    console.print(f"Read {len(examples)} labelled comments.", highlight=False)
    held_out = read_labelled(eval_files).examples if eval_files else None
    if include_decisions:
        pairs = _decisions(policy.school.id)
        extra = decision_examples(pairs)
        console.print(f"Added {len(extra)} moderators' decisions.", highlight=False)
        examples.extend(extra)
    outcome = run_training(
        policy,
        examples,
        out_dir=out or WEIGHTS_DIR,
        model_dir=model_dir,
        gate=include_decisions,
        keep_encoder=keep_encoder,
        tune=TuneSettings() if fine_tune else None,
        eval_examples=held_out,
        say=lambda m: console.print(m, highlight=False),
    )
    if outcome.before is not None:
        console.print("[bold]Before[/] (current model):")
        print_evaluation(outcome.before, "current")
    if outcome.after.n:
        console.print("[bold]After[/] (new model):")
        print_evaluation(outcome.after, f"heads@{outcome.heads.version}")
    if outcome.saved:
        console.print(f"Saved the new model to {outcome.out_dir}.", highlight=False)
        thresholds = outcome.heads.thresholds
        console.print(
            "Recommended thresholds: "
            + ", ".join(f"{c.value} {t:.2f}" for c, t in thresholds.items()),
            highlight=False,
        )
    else:
        console.print(outcome.reason, highlight=False)


def _decisions(school_id: str) -> list[tuple[str, str]]:
    """Moderators' decisions as (text, category) pairs, from the database."""
    from sqlalchemy.exc import SQLAlchemyError

    from config.settings import load_settings
    from monitor.cli import fail
    from storage import repo
    from storage.db import make_engine, session_factory, session_scope

    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(session_factory(engine)) as session:
            return repo.training_labels(session, school_id=school_id)
    except SQLAlchemyError as exc:
        raise fail(
            "could not read moderators' decisions from the database "
            f"({type(exc).__name__}); has schoolwatch been set up on this computer?"
        ) from None
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    """Add ``classify``, ``eval`` and ``train`` to the command line."""
    app.command("classify", help=CLASSIFY_HELP)(classify_cmd)
    app.command("eval", help=EVAL_HELP)(eval_cmd)
    app.command("train", help=TRAIN_HELP)(train_cmd)
