"""`ontime` commands for training. Each command is a thin wrapper over a library function."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ontime_cli.util import parse_time, profile_override, settings_of


@click.command()
@click.option("--cutoff", default=None, help="Snapshot cutoff, ISO time (default: newest label).")
@click.option(
    "--without",
    "without",
    multiple=True,
    help="Leave this FeatureService feature out of the model (ablation). Repeatable.",
)
@click.option(
    "--model",
    "model",
    type=click.Choice(["xgboost", "baseline"]),
    default="xgboost",
    show_default=True,
    help="baseline: register the logistic baseline itself (servable and gated like any model).",
)
@profile_override
@click.pass_context
def train(ctx, cutoff, without, model) -> None:
    """Snapshot -> calibrated model -> evaluation -> registry (alias challenger)."""
    from training.pipeline import train as run

    result = run(settings_of(ctx), cutoff=parse_time(cutoff), without=without, model=model)
    manifest = result.snapshot.manifest
    metrics = result.evaluation["model"]["metrics"]
    baseline = result.evaluation["baseline"]["metrics"]
    click.echo(f"snapshot {manifest.id} ({manifest.rows} rows, hash {manifest.content_hash[:12]})")
    click.echo(f"registered version {result.version} (run {result.run_id}) as challenger")
    click.echo(
        f"test: ROC AUC {metrics['roc_auc']:.4f} (baseline {baseline['roc_auc']:.4f}), "
        f"cost/order {metrics['cost_per_order']:.4f} (baseline {baseline['cost_per_order']:.4f}),"
        f" ECE {metrics['ece']:.4f}"
    )
    click.echo(result.evaluation["comparison"]["verdict"])
    click.echo(f"report: {result.report_folder / 'index.html'}")


@click.command(name="reviewed-cases")
@click.option("--cutoff", default=None, help="Window end, ISO time (default: newest label).")
@click.option("--from", "start", default=None, help="Window start (default: cutoff - label_wait).")
@click.option("--size", default=100, show_default=True, help="Cases to sample.")
@click.option("--seed", default=0, show_default=True, help="Sampling seed.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default: settings.")
@profile_override
@click.pass_context
def reviewed_cases(ctx, cutoff, start, size, seed, out) -> None:
    """Sample a reviewed critical case set (known outcomes) from a window outside training."""
    from training.reviewed_build import build_reviewed_cases

    built = build_reviewed_cases(
        settings_of(ctx), parse_time(cutoff), parse_time(start), size, seed, out
    )
    click.echo(
        f"wrote {built.cases} critical cases ({built.late} late) from "
        f"{built.start:%Y-%m-%d %H:%M} to {built.end:%Y-%m-%d %H:%M} to {built.path}"
    )


@click.command()
@click.argument("version", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the evaluation as JSON.")
@click.pass_context
def evaluate(ctx, version, as_json) -> None:
    """Evaluate VERSION (number or alias; default: newest) on its snapshot's test split."""
    from training.pipeline import evaluate_version
    from training.text import evaluation_text

    loaded, document, folder = evaluate_version(settings_of(ctx), version)
    if as_json:
        click.echo(json.dumps(document, indent=2, default=str))
        return
    click.echo(
        f"{loaded.name} v{loaded.version} (run {loaded.run_id}), snapshot {document['snapshot_id']}"
    )
    click.echo(evaluation_text(document))
    click.echo(f"report: {folder / 'index.html'}")


@click.command()
@click.argument("candidate")
@click.option(
    "--against", default="champion", show_default=True, help="Alias, version, or 'baseline'."
)
@profile_override
@click.pass_context
def gate(ctx, candidate, against) -> None:
    """Compare CANDIDATE with the champion; exit 0 on SHIP, 2 on BLOCK."""
    from training.gate import run_gate
    from training.gate_rules import SHIP

    report = run_gate(settings_of(ctx), candidate, against)
    click.echo(report.text())
    click.echo(f"report: {report.evaluation['report_path']}")
    if report.decision != SHIP:
        sys.exit(2)


@click.command()
@click.argument("version")
@click.option("--force", is_flag=True, help="Promote even if the gate blocks (needs --reason).")
@click.option("--reason", default=None, help="Why; recorded in the audit log.")
@click.pass_context
def promote(ctx, version, force, reason) -> None:
    """Make VERSION the champion if the gate ships it."""
    from training.release import PromotionRefused
    from training.release import promote as run

    try:
        move = run(settings_of(ctx), version, force=force, reason=reason)
    except PromotionRefused as refused:
        click.echo(refused.report.text())
        raise
    if move.report is not None:
        click.echo(move.report.text())
    entry = move.entry
    click.echo(f"champion: {entry['from'] or '-'} -> {entry['to']} ({entry['action']})")
    _calibrate_monitoring(ctx)


def _calibrate_monitoring(ctx: click.Context) -> None:
    """The new champion's monitoring profile, built at promotion (a failure is one line)."""
    from monitoring.backtest import profile_after_promotion

    click.echo(profile_after_promotion(settings_of(ctx)))


@click.command()
@click.option("--reason", default=None, help="Why; recorded in the audit log.")
@click.pass_context
def rollback(ctx, reason) -> None:
    """Point champion back at the previous champion from the audit trail."""
    from training.release import rollback as run

    entry = run(settings_of(ctx), reason=reason).entry
    click.echo(f"champion: {entry['from']} -> {entry['to']} (rollback)")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the audit records as JSON lines.")
@click.pass_context
def history(ctx, as_json) -> None:
    """List every alias move (the audit trail)."""
    from training.release import history as read
    from training.text import history_text

    entries = read(settings_of(ctx))
    if as_json:
        for entry in entries:
            click.echo(json.dumps(entry, default=str))
        return
    click.echo(history_text(entries))


COMMANDS: list[click.Command] = [
    train, evaluate, gate, promote, rollback, history, reviewed_cases,
]  # fmt: skip


@click.command()
@click.option("--cutoff", default=None, help="Snapshot cutoff, ISO time (default: newest label).")
@click.option(
    "--if-decision",
    "summary",
    type=click.Path(path_type=Path),
    default=None,
    help="Run only if this monitoring summary.json decided 'retrain'.",
)
@click.option(
    "--bootstrap-reason",
    default=None,
    help="With no champion yet, promote even if the gate blocks, recording this reason.",
)
@profile_override
@click.pass_context
def cycle(ctx, cutoff, summary, bootstrap_reason) -> None:
    """Continuous training: train a candidate, gate it against champion, promote or shadow."""
    from training.cycle import run_cycle, trigger_from_summary

    trigger = "manual"
    if summary is not None:
        trigger = trigger_from_summary(summary)
        if trigger is None:
            click.echo(f"no retrain: {summary} did not decide 'retrain'")
            return
    result = run_cycle(settings_of(ctx), trigger, parse_time(cutoff), bootstrap_reason)
    click.echo(result.gate)
    click.echo(
        f"v{result.version}: {result.outcome}; champion "
        f"{result.champion_before or 'unset'} -> {result.champion_after or 'unset'}"
    )
    if result.champion_after and result.champion_after != result.champion_before:
        _calibrate_monitoring(ctx)


COMMANDS.append(cycle)
