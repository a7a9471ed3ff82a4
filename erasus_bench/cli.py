"""The `erasus-bench` command line."""
from __future__ import annotations

import functools
import shlex
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from erasus_bench.errors import UserError, unknown_choice

if TYPE_CHECKING:
    from erasus_bench.harness.executors.spec import ExecutorSpec
    from erasus_bench.protocols.card import ProtocolCard

KINDS = ("protocols", "strategies", "selectors", "metrics")


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


@click.group()
@click.version_option(package_name="erasus-bench")
def cli() -> None:
    """erasus-bench: benchmark machine-unlearning strategies x coreset selectors."""


GRID_OPTIONS = (
    click.option("--seeds", type=int, help="Seeds 0..N-1 (default: the protocol's, e.g. "
                 "general 10, tofu 3)."),
    click.option("--budgets", help="Budget regimes, comma-separated: steps (equal optimizer "
                 "steps), epochs (passes over the coreset) (default: the protocol's; general "
                 "both, tofu steps)."),
    click.option("--scenario", help="Protocol scenario (general: random, class)."),
    click.option("--dataset", help="Dataset hub name or local path (default: embedded)."),
    click.option("--split", help="Protocol forget split (tofu: forget01, forget05, forget10)."),
    click.option("--model", help="Model: hub name or local folder (tofu default: the embedded "
                 "tiny-gpt2; also smollm2-135m with the [smollm2] extra)."),
    click.option("--option", "extra", multiple=True, metavar="KEY=VALUE",
                 help="Any other protocol option, e.g. format=letter (repeatable)."),
    click.option("--force", is_flag=True, help="Redo cells that already have an ok record."),
    click.option("--results-dir", default="results", show_default=True, type=click.Path()),
    click.option("--leaderboards-dir", default="leaderboards", show_default=True,
                 type=click.Path()),
    click.option("--out", type=click.Path(file_okay=False),
                 help="A folder of your own: records in OUT/results, pages in "
                      "OUT/leaderboards (instead of --results-dir/--leaderboards-dir)."),
    click.option("--cache-dir", type=click.Path(),
                 help="Model cache (default ~/.cache/erasus-bench or $ERASUS_BENCH_CACHE)."),
    click.option("--no-render", is_flag=True, help="Skip rendering the leaderboards."),
    click.option("--attacks", help="Attack stages after evaluation, comma-separated "
                 "(default: the protocol's, relearn,quantize; 'none' for none; general also "
                 "offers epsilon, the NeurIPS'23 per-example privacy score)."),
)


def grid_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options `run` and `ablate` share (seeds, protocol options, folders)."""
    for option in reversed(GRID_OPTIONS):
        f = option(f)
    return f


ENGINE_OPTIONS = (
    click.option("--executor", default="local", show_default=True,
                 help="What runs the jobs: local (this machine's process pool), slurm "
                      "(submitit job arrays), submitit-local (submitit's local executor, the "
                      "slurm code path on this machine), ray (Ray tasks)."),
    click.option("--workers", type=int, help="Local pool: worker processes (default: all "
                 "cores; each gets cores/workers torch threads)."),
    click.option("--cpus-per-task", type=int, default=1, show_default=True,
                 help="slurm/submitit-local/ray: cores per task (= its torch threads)."),
    click.option("--gpus-per-task", type=int, default=0, show_default=True,
                 help="slurm/submitit-local/ray: GPUs per task."),
    click.option("--max-concurrent", type=int, help="slurm/submitit-local/ray: tasks at once "
                 "(default: what this machine's cores hold for the local engines; 256 on "
                 "slurm; Ray's resources on a cluster)."),
    click.option("--partition", help="slurm: partition."),
    click.option("--mem", help="slurm: memory per task, e.g. 16G."),
    click.option("--time", "time_min", type=int, default=240, show_default=True,
                 help="slurm/submitit-local: minutes per job (the detached driver's too)."),
    click.option("--slurm-arg", "slurm_args", multiple=True, metavar="KEY=VALUE",
                 help="slurm: any other sbatch option, e.g. account=proj (repeatable)."),
    click.option("--address", help="ray: the cluster to join (auto, ray://host:10001); "
                 "default: start Ray on this machine for the run."),
    click.option("--cells-per-job", type=int, help="Cells per engine job (default: 1 for "
                 "local and ray, 10 for submitit, one seed's cells per job)."),
    click.option("--job-dir", type=click.Path(), help="submitit: job files and logs (default: "
                 "RESULTS_DIR/.jobs/submitit; on a cluster a folder every node sees)."),
)


def engine_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The engine options (ENGINE_OPTIONS), given to the command as one ``engine``
    (an ExecutorSpec, validated)."""
    @functools.wraps(f)
    def wrapper(*args: Any, **kw: Any) -> Any:
        from erasus_bench.harness.executors.spec import ExecutorSpec, parse_slurm_args

        names = ("executor", "workers", "cpus_per_task", "gpus_per_task", "max_concurrent",
                 "partition", "mem", "time_min", "slurm_args", "address", "cells_per_job",
                 "job_dir")
        got = {k: kw.pop(k) for k in names}
        got["slurm_args"] = parse_slurm_args(got["slurm_args"])
        kw["engine"] = ExecutorSpec(name=got.pop("executor"), **got)
        return f(*args, **kw)

    for option in reversed(ENGINE_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


DETACH = click.option("--detach", is_flag=True, help="slurm/submitit-local: submit the grid "
                      "as a job of its own and return; follow it with `erasus-bench status`.")


def _board(card: ProtocolCard) -> str:
    """A protocol's board design in words (what `run --all-methods` crosses)."""
    if card.board_selectors is None:
        return "board: every strategy x every selector"
    return (f"board: every strategy x {', '.join(card.board_selectors)}; every selector x "
            f"{', '.join(card.board_strategies) or '-'}")


@cli.command("list")
@click.argument("kind", required=False, default=None)
def list_cmd(kind: str | None) -> None:
    """List registered protocols, strategies, selectors or metrics."""
    from erasus_bench.registry import METRICS, PROTOCOLS, SELECTORS, STRATEGIES

    if kind is not None and kind not in KINDS:
        raise unknown_choice("kind", kind, KINDS)
    regs = dict(zip(KINDS, (PROTOCOLS, STRATEGIES, SELECTORS, METRICS)))
    by_modality: dict[str, list[str]] = {}
    for e in PROTOCOLS.entries():
        for m in e.applies_to:
            by_modality.setdefault(m, []).append(e.name)
    for name in [kind] if kind else KINDS:
        click.echo(f"{name}:")
        for e in regs[name].entries():
            if name == "protocols":
                where = f"modality {', '.join(e.applies_to)}; {_board(e.meta['card'])}"
            elif name == "metrics":
                where = f"protocols {', '.join(e.applies_to)}"
            else:
                protos = sorted({p for m in e.applies_to for p in by_modality.get(m, [])})
                where = f"protocols {', '.join(protos) or '-'}"
                obj = regs[name].get(e.name)
                where += f"; {getattr(obj, 'paper', '') or 'paper not given'}"
                if name == "strategies":
                    where += f"; {obj.guarantee}"
            click.echo(f"  {e.name:<20} {e.description}  [{where}]")


@cli.command()
@click.option("--protocol", required=True, help="Protocol name (see `erasus-bench list`).")
@click.option("--all-methods", is_flag=True,
              help="The protocol's board: every applicable strategy with its board selectors "
                   "and every applicable selector with its board strategies (`erasus-bench "
                   "list protocols`; the default when none are named).")
@click.option("--strategies", help="Comma-separated strategy names.")
@click.option("--selectors", help="Comma-separated selector names.")
@click.option("--fractions", default="0.1", show_default=True,
              help="Coreset fractions of the forget set, each in (0, 1].")
@click.option("--requests", type=int, help="Split the forget set into K disjoint deletion "
              "requests applied one after another to the same model, evaluated after each "
              "(gold after request j: retrained without requests 1..j).")
@grid_options
@DETACH
@engine_options
def run(protocol: str, all_methods: bool, strategies: str | None, selectors: str | None,
        fractions: str, requests: int | None, seeds: int | None, budgets: str | None,
        scenario: str | None, dataset: str | None, split: str | None, model: str | None,
        extra: tuple[str, ...], force: bool, results_dir: str, leaderboards_dir: str,
        out: str | None, cache_dir: str | None, no_render: bool, attacks: str | None,
        detach: bool, engine: ExecutorSpec) -> None:
    """Run the grid on a protocol, then render its leaderboard."""
    from erasus_bench.harness.grid import parse_fractions

    if all_methods and (strategies or selectors):
        raise UserError("--all-methods cannot be combined with --strategies/--selectors")
    options = {"scenario": scenario, "dataset": dataset, "split": split, "model": model,
               **parse_options(extra)}
    _run_and_render(protocol, _split(strategies), _split(selectors), parse_fractions(fractions),
                    seeds, budgets, options, engine, force,
                    *_folders(results_dir, leaderboards_dir, out), cache_dir, no_render,
                    requests, _attacks(attacks), detach)


def _attacks(text: str | None) -> list[str] | None:
    """``--attacks``: None (the protocol's default stages), [] for "none", else the names."""
    if text is None:
        return None
    return [] if text.strip() == "none" else _split(text)


def _folders(results_dir: str, leaderboards_dir: str, out: str | None) -> tuple[str, str]:
    """(results folder, pages folder): ``--out`` wins over the two separate options."""
    if out is None:
        return results_dir, leaderboards_dir
    return str(Path(out) / "results"), str(Path(out) / "leaderboards")


def _run_and_render(protocol: str, strategies: list[str] | None, selectors: list[str] | None,
                    fractions: list[float], seeds: int | None, budgets: str | None,
                    options: dict[str, str | None],
                    engine: ExecutorSpec, force: bool, results_dir: str,
                    leaderboards_dir: str, cache_dir: str | None, no_render: bool,
                    requests: int | None = None, attacks: list[str] | None = None,
                    detach: bool = False) -> None:
    """Build the grid (validating every name and value), run it, render; exit 1 on failures.
    ``options``: protocol options given on the command line (None = not given); ``requests``:
    K sequential deletion requests; ``attacks``: the attack stages (None: the protocol's)."""
    from erasus_bench.harness import plans
    from erasus_bench.harness.budget import parse_budgets
    from erasus_bench.harness.cache_dir import default_cache_dir
    from erasus_bench.registry import PROTOCOLS

    if detach:
        from erasus_bench.harness.detach import check_detachable

        check_detachable(engine)
    card = PROTOCOLS.entry(protocol).meta["card"]
    given = {k: v for k, v in options.items() if v is not None}
    request = {"protocol": protocol, "options": given, "strategies": strategies,
               "selectors": selectors, "fractions": fractions,
               "seeds": card.default_seeds if seeds is None else seeds,
               "budgets": parse_budgets(budgets) if budgets else list(card.budgets),
               **({"requests": requests} if requests is not None else {}),
               **({"attacks": attacks} if attacks is not None else {})}
    cache = cache_dir or default_cache_dir()
    done = None if force else plans.done_count(cache, request, results_dir)
    outcomes: list[Any] = []
    if done is None:  # the grid is expanded (torch and every plugin imported) only when needed
        from erasus_bench.harness.grid import build_grid
        from erasus_bench.harness.run import run_grid

        _, config, cells = build_grid(protocol, given, strategies, selectors, fractions,
                                      request["seeds"], request["budgets"], requests, attacks)
        plans.remember(cache, request, cells)
        command = "erasus-bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        if detach:
            _detach(cells, config, results_dir, cache_dir, command, engine, force)
            return
        outcomes = run_grid(cells, config, results_dir=results_dir, cache_dir=cache_dir,
                            command=command, engine=engine, force=force)
        done = len(cells) - len(outcomes)
    if not no_render:
        _render(results_dir, leaderboards_dir, [protocol])
    counts = Counter(o.status for o in outcomes)
    click.echo(f"{done + len(outcomes)} cells: {counts['ok']} ran ok, {counts['failed']} "
               f"failed, {done} already done")
    if Path(results_dir).resolve() != Path("results").resolve():
        page = Path(leaderboards_dir) / f"{protocol}.html"
        click.echo(f"Your records: {results_dir}/; your pages: {page}" if not no_render else
                   f"Your records: {results_dir}/")
        click.echo("The published boards (results/ and leaderboards/ of the repository) are "
                   "reproduced by the commands in results/README.md; to publish to them, run "
                   "without --out/--results-dir from the repository root and commit results/ "
                   "and leaderboards/ (CI checks them with `erasus-bench render --check`).")
    _warn_starved(outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed[:20]:
        click.echo(f"  failed {o.key}: {o.error}", err=True)
    if failed:
        sys.exit(1)


def _warn_starved(outcomes: list[Any]) -> None:
    """Name the cells whose timed stages got under a core (harness.clock): their times, and
    speedups, overstate their cost; the metrics stand."""
    starved = [o for o in outcomes if o.starved]
    if starved:
        click.echo(f"warning: {len(starved)} cells had under a core during a timed stage "
                   "(paused, or other processes on their cores): their times and speedups "
                   "overstate their cost; delete their records and rerun alone:", err=True)
    for o in starved[:20]:
        click.echo(f"  {o.key}: {', '.join(o.starved)} ({o.path})", err=True)


def _detach(cells: list[Any], config: dict[str, Any], results_dir: str,
            cache_dir: str | None, command: str, engine: ExecutorSpec, force: bool) -> None:
    from erasus_bench.harness.detach import submit_driver

    job = submit_driver(cells, config, results_dir, cache_dir, command, engine, force)
    click.echo(f"submitted the grid ({len(cells)} cells) as {engine.name} job {job}; follow it "
               f"with `erasus-bench status --results-dir {shlex.quote(results_dir)}`, then "
               "render with `erasus-bench render`")


def _render(results_dir: str, out_dir: str, protocols: list[str] | None,
            reuse: bool = True) -> None:
    from erasus_bench.leaderboards.render import render

    changed = render(Path(results_dir), Path(out_dir), protocols, reuse=reuse)
    for path in changed:
        click.echo(f"{'wrote' if path.is_file() else 'removed'} {path}")
    if not changed:
        click.echo(f"pages in {out_dir} are up to date")


@cli.command("render")
@click.option("--results-dir", default="results", show_default=True, type=click.Path())
@click.option("--out-dir", "--leaderboards-dir", default="leaderboards", show_default=True,
              type=click.Path())
@click.option("--protocol", "protocols", multiple=True, help="Only these protocols.")
@click.option("--check", is_flag=True, help="Write nothing; recompute every page and exit 1 "
              "naming those missing or differing from what the results render to.")
@click.option("--force", is_flag=True, help="Recompute every protocol, also those whose records "
              "and page code are unchanged since the last render.")
def render_cmd(results_dir: str, out_dir: str, protocols: tuple[str, ...], check: bool,
               force: bool) -> None:
    """Render Markdown/HTML leaderboards and plots from the run records (only protocols whose
    records or page code changed are recomputed). A record that cannot be read is named on
    stderr and nothing is written (exit 1)."""
    if not check:
        _render(results_dir, out_dir, list(protocols) or None, reuse=not force)
        return
    from erasus_bench.leaderboards.render import stale_pages

    if not Path(results_dir).is_dir():
        raise UserError(f"results folder {results_dir!r} does not exist or is not a folder")
    stale = stale_pages(results_dir, out_dir, list(protocols) or None)
    if stale:
        for name, state in stale.items():
            click.echo(f"stale: {Path(out_dir) / name} ({state})", err=True)
        click.echo(f"{len(stale)} page(s) in {out_dir} do not match {results_dir}; run "
                   f"`erasus-bench render` and commit the result", err=True)
        sys.exit(1)
    click.echo(f"pages in {out_dir} match {results_dir}")


@cli.command()
@click.option("--results-dir", default="results", show_default=True, type=click.Path())
@click.option("--failures", type=int, default=20, show_default=True,
              help="How many failed or stopped cells to list per grid.")
def status(results_dir: str, failures: int) -> None:
    """The state of every grid run into RESULTS_DIR (by any executor, attached or detached):
    cells done, running, failed (with the reason), stopped (their job was killed) and pending,
    and done cells whose timings were starved of CPU; exit 1 when a cell failed or was
    stopped."""
    from erasus_bench.harness.grid_status import grid_status

    if not Path(results_dir).is_dir():
        raise UserError(f"results folder {results_dir!r} does not exist or is not a folder")
    grids = grid_status(results_dir)
    if not grids:
        click.echo(f"no grid has been run into {results_dir} by this version (nothing under "
                   f"{Path(results_dir) / '.jobs' / 'grids'})")
        return
    bad = False
    for g in grids:
        n = sum(g.counts.values())
        counts = ", ".join(f"{v} {k}" for k, v in g.counts.items() if v)
        click.echo(f"{g.submitted}  {g.executor}  {n} cells: {counts}\n  {g.command}")
        for name, info in g.running[:failures]:
            click.echo(f"    running  {name}  (host {info.get('host')}, job {info.get('job')}, "
                       f"since {info.get('started')})")
        for name, info in g.stopped[:failures]:
            click.echo(f"    stopped  {name}  (its process {info.get('pid')} on "
                       f"{info.get('host')} is gone; a rerun of the command runs it again)")
        for name, why in g.failed[:failures]:
            click.echo(f"    failed   {name}: {why}")
        if g.starved:
            click.echo(f"  {len(g.starved)} done cells had under a core during a timed stage "
                       "(paused, or sharing cores): their times overstate their cost")
        for name, stages in g.starved[:failures]:
            click.echo(f"    starved  {name}: {', '.join(stages)}")
        bad = bad or bool(g.failed or g.stopped)
    if bad:
        sys.exit(1)


@cli.command()
@click.option("--protocol", required=True, help="Protocol name (see `erasus-bench list`).")
@click.option("--strategy", required=True, help="The strategy whose coreset sweep to run.")
@click.option("--fractions", default="0.01,0.05,0.1,0.3,1.0", show_default=True,
              help="Coreset fractions of the forget set, each in (0, 1].")
@click.option("--selectors", help="Comma-separated selectors (default: every applicable one).")
@grid_options
@DETACH
@engine_options
def ablate(protocol: str, strategy: str, fractions: str, selectors: str | None,
           seeds: int | None, budgets: str | None, scenario: str | None, dataset: str | None,
           split: str | None, model: str | None, extra: tuple[str, ...], force: bool,
           results_dir: str, leaderboards_dir: str, out: str | None, cache_dir: str | None,
           no_render: bool, attacks: str | None, detach: bool, engine: ExecutorSpec) -> None:
    """Coreset ablation: one strategy x every selector x each fraction, then render (the
    protocol page gains the ablation plot and its one-sentence answer)."""
    from erasus_bench.harness.grid import check_sweepable, parse_fractions

    if "," in strategy:
        raise UserError(f"--strategy takes one strategy, got {strategy!r}")
    check_sweepable(protocol, strategy)
    options = {"scenario": scenario, "dataset": dataset, "split": split, "model": model,
               **parse_options(extra)}
    _run_and_render(protocol, [strategy], _split(selectors), parse_fractions(fractions), seeds,
                    budgets, options, engine, force,
                    *_folders(results_dir, leaderboards_dir, out), cache_dir, no_render,
                    attacks=_attacks(attacks), detach=detach)


@cli.command()
@click.option("--protocol", required=True, help="Protocol name (see `erasus-bench list`).")
@click.option("--strategies", help="Strategies whose full-forget-set models are attacked "
              "(default: every applicable one).")
@click.option("--seeds", type=int, default=3, show_default=True, help="Seeds 0..N-1.")
@click.option("--scenario", help="Protocol scenario (general: random, class).")
@click.option("--option", "extra", multiple=True, metavar="KEY=VALUE",
              help="Any other protocol option (repeatable).")
@click.option("--results-dir", default="results", show_default=True, type=click.Path())
@click.option("--leaderboards-dir", default="leaderboards", show_default=True,
              type=click.Path())
@click.option("--cache-dir", type=click.Path(), help="Model cache.")
@click.option("--no-render", is_flag=True, help="Skip rendering the protocol's board.")
@DETACH
@engine_options
def trust(protocol: str, strategies: str | None, seeds: int, scenario: str | None,
          extra: tuple[str, ...], results_dir: str, leaderboards_dir: str,
          cache_dir: str | None, no_render: bool, detach: bool, engine: ExecutorSpec) -> None:
    """Which metrics to trust: pool models with and without the forget set (faithfulness) and
    every strategy's full-forget-set model relearned and quantized (robustness), as records
    under <variant>/trust/ and a table on the protocol's page."""
    from erasus_bench.harness.grid import applicable
    from erasus_bench.harness.run import run_grid
    from erasus_bench.harness.trust import trust_cells
    from erasus_bench.registry import PROTOCOLS, STRATEGIES

    proto = PROTOCOLS.get(protocol)()
    if not proto.trust_variants:
        raise UserError(f"protocol {protocol!r} has no metric-trust pool; valid protocols: "
                        + ", ".join(e.name for e in PROTOCOLS.entries()
                                    if PROTOCOLS.get(e.name).trust_variants))
    if seeds < 1:
        raise UserError(f"--seeds {seeds} is invalid: must be >= 1")
    options = {k: v for k, v in {"scenario": scenario, **parse_options(extra)}.items()
               if v is not None}
    config = proto.resolve_config(options)
    if not {"relearn", "quantize"} <= set(proto.attack_stages(config)[0]):
        raise UserError(f"metric trust needs the relearning and quantization stages, which "
                        f"{protocol!r} does not run with model={config.get('model')!r} (MUSE "
                        "and WMDP attack their embedded tiny model only)")
    if detach:
        from erasus_bench.harness.detach import check_detachable

        check_detachable(engine)
    cells = trust_cells(proto, config, seeds, applicable(STRATEGIES, proto, _split(strategies)))
    command = "erasus-bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if detach:
        _detach(cells, config, results_dir, cache_dir, command, engine, False)
        return
    outcomes = run_grid(cells, config, results_dir=results_dir, cache_dir=cache_dir,
                        command=command, engine=engine)
    if not no_render:
        _render(results_dir, leaderboards_dir, [protocol])
    failed = [o for o in outcomes if o.status == "failed"]
    click.echo(f"{len(cells)} trust cells: {len(outcomes) - len(failed)} ran ok, {len(failed)} "
               f"failed, {len(cells) - len(outcomes)} already done")
    for o in failed[:20]:
        click.echo(f"  failed {o.key}: {o.error}", err=True)
    if failed:
        sys.exit(1)


@cli.command()
@click.option("--protocol", required=True, help="Protocol name (see `erasus-bench list`).")
@click.option("--strategies", help="Comma-separated strategy names (default: every applicable).")
@click.option("--seeds", type=int, default=2, show_default=True,
              help="Tuning seeds 1000..1000+N-1 (never reported).")
@click.option("--scenario", help="Protocol scenario (general: random, class).")
@click.option("--dataset", help="Dataset hub name or local path (default: embedded).")
@click.option("--split", help="Protocol forget split (tofu: forget01, forget05, forget10).")
@click.option("--model", help="Model: hub name or local folder.")
@click.option("--option", "extra", multiple=True, metavar="KEY=VALUE",
              help="Any other protocol option, e.g. format=letter (repeatable).")
@click.option("--budget", default="steps", show_default=True,
              help="Budget regime to tune: steps (the step count) or epochs (the epoch count).")
@click.option("--work-dir", type=click.Path(file_okay=False),
              help="Where the trial records go (default runs/tune/PROTOCOL; resumable).")
@click.option("--cache-dir", type=click.Path(), help="Model cache.")
@engine_options
def tune(protocol: str, strategies: str | None, seeds: int, scenario: str | None,
         dataset: str | None, split: str | None, model: str | None, extra: tuple[str, ...],
         budget: str, work_dir: str | None, cache_dir: str | None,
         engine: ExecutorSpec) -> None:
    """Tune each strategy's learning rate and budget knob (steps, or epochs) on held-out seeds;
    write the chosen values and the search log beside the protocol (read by `run`)."""
    from erasus_bench.harness.budget import parse_budgets
    from erasus_bench.harness.run import run_grid
    from erasus_bench.harness.tuning import choose, plan_tuning

    options = {k: v for k, v in {"scenario": scenario, "dataset": dataset, "split": split,
                                 "model": model}.items() if v is not None}
    options.update(parse_options(extra))
    regime = parse_budgets(budget)
    if len(regime) != 1:
        raise UserError(f"--budget takes one regime, got {budget!r}")
    plan = plan_tuning(protocol, options, _split(strategies), seeds, regime[0])
    results = Path(work_dir or Path("runs") / "tune" / protocol) / "results"
    command = "erasus-bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    outcomes = run_grid(plan.cells, plan.config, results_dir=results, cache_dir=cache_dir,
                        command=command, engine=engine)
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed[:20]:
        click.echo(f"  failed {o.key}: {o.error}", err=True)
    entry = choose(plan, results, command)
    n = len({t.strategy for t in plan.trials})
    click.echo(f"tuned {n} strategies x {entry['trials']} trials on seeds "
               f"{list(plan.seeds)} ({entry['objective']}); trial records in {results}")
    for name, chosen in sorted(entry["strategies"].items()):
        click.echo(f"  {name}: {chosen['hparams']} (score {chosen['score']:.4g})")


@cli.command()
@click.option("--protocol", required=True, help="Protocol name (see `erasus-bench list`).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "md"]),
              default="table", show_default=True)
@click.option("--results-dir", default="results", show_default=True, type=click.Path())
def report(protocol: str, fmt: str, results_dir: str) -> None:
    """Print a protocol's leaderboard: a rich table (rank groups, verdicts) or csv/json/md."""
    from erasus_bench.leaderboards.report import print_table, report_text

    if fmt == "table":
        print_table(protocol, results_dir)
    else:
        click.echo(report_text(protocol, results_dir, fmt), nl=False)


# --- `erasus-bench evaluate`: a checkpoint unlearned elsewhere -> a record on the board ------
@cli.command()
@click.option("--protocol", required=True, help="Protocol name (see `erasus-bench list`).")
@click.option("--model", "checkpoint", required=True,
              help="The unlearned checkpoint: a torch state dict file of the protocol's model "
                   "(general), or a Hugging Face model folder / hub name (language protocols).")
@click.option("--label", required=True, help="Its row on the board, e.g. rmu-zephyr.")
@click.option("--gold", help="A retrained (gold) checkpoint to compare against instead of the "
              "protocol's own gold model.")
@click.option("--base", help="The protocol's base model option (--model of `run`), e.g. the "
              "model the checkpoint was unlearned from.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Which seed's data split and reference models to score against.")
@click.option("--scenario", help="Protocol scenario (general: random, class).")
@click.option("--dataset", help="Dataset hub name or local path (default: embedded).")
@click.option("--split", help="Protocol forget split (tofu: forget01, forget05, forget10).")
@click.option("--option", "extra", multiple=True, metavar="KEY=VALUE",
              help="Any other protocol option, e.g. format=letter (repeatable).")
@click.option("--results-dir", default="results", show_default=True, type=click.Path())
@click.option("--leaderboards-dir", default="leaderboards", show_default=True,
              type=click.Path())
@click.option("--cache-dir", type=click.Path(), help="Model cache.")
@click.option("--no-render", is_flag=True, help="Skip rendering the protocol's board.")
def evaluate(protocol: str, checkpoint: str, label: str, gold: str | None, base: str | None,
             seed: int, scenario: str | None, dataset: str | None, split: str | None,
             extra: tuple[str, ...], results_dir: str, leaderboards_dir: str,
             cache_dir: str | None, no_render: bool) -> None:
    """Score a checkpoint unlearned elsewhere with the protocol's metric suite and write its
    record (strategy = --label, selector null, `source` naming the checkpoint)."""
    from erasus_bench.harness.external import check_label, evaluate_checkpoint

    check_label(label, protocol)
    options = {k: v for k, v in {"scenario": scenario, "dataset": dataset, "split": split,
                                 "model": base}.items() if v is not None}
    options.update(parse_options(extra))
    command = "erasus-bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    record = evaluate_checkpoint(protocol, checkpoint, label=label, gold=gold, seed=seed,
                                 options=options, cache_dir=cache_dir, results_dir=results_dir,
                                 command=command)
    shown = ", ".join(f"{k} {v:.4g}" for k, v in record["metrics"].items()
                      if isinstance(v, float))
    click.echo(f"wrote {record['path']} ({label}: {shown})")
    if not no_render:
        _render(results_dir, leaderboards_dir, [protocol])


def parse_options(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("format=letter",)`` -> ``{"format": "letter"}``; a pair without ``=`` is a UserError."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--option {pair!r} is invalid: give KEY=VALUE, e.g. format=letter")
        out[key.strip()] = value.strip()
    return out


# --- `erasus-bench import`: published evaluation logs -> run records -------------------------
@cli.command("import")
@click.argument("logfile")
@click.option("--format", "fmt", default="auto", show_default=True,
              help="Log format: auto, tofu-legacy (locuslab/tofu eval_log_aggregated.json), "
                   "open-unlearning (TOFU_EVAL.json), lm-eval (lm_eval --output_path results "
                   "JSON of wmdp_bio / wmdp_cyber / mmlu), muse-csv (MUSE eval.py output) or "
                   "open-unlearning-muse (MUSE_EVAL.json).")
@click.option("--strategy", help="Row label (default: from the file name). retain/retain90 "
              "become the `retrain` reference row, finetuned/full (and base, lm-eval) the "
              "`original` one.")
@click.option("--model", required=True, help="Model label, e.g. Llama-2-7b-chat-hf.")
@click.option("--gold", help="TOFU: the retain (gold) model's log, either format: forget "
              "quality is recomputed against its per-item forget truth ratios. MUSE "
              "(MUSE_EVAL.json): the retrained model's, whose Min-K AUC PrivLeak is relative to.")
@click.option("--corpus", default="news", show_default=True,
              help="MUSE corpus the results are on (news, books).")
@click.option("--split", default="forget10", show_default=True,
              help="TOFU forget split the log was evaluated on.")
@click.option("--results-dir", default="results", show_default=True, type=click.Path())
def import_cmd(logfile: str, fmt: str, strategy: str | None, model: str, gold: str | None,
               corpus: str, split: str, results_dir: str) -> None:
    """Import a published evaluation log as run records (TOFU logs: protocol `tofu`; lm-eval
    results: `wmdp-bio` / `wmdp-cyber`; MUSE results: `muse`)."""
    from erasus_bench.importers import (FORMATS, import_lm_eval, import_log, import_muse,
                                        lm_eval_results, muse_logs, read_json)

    command = "erasus-bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    valid = (*FORMATS, lm_eval_results.FORMAT, muse_logs.CSV_FORMAT, muse_logs.OU_FORMAT)
    if fmt not in valid:
        raise unknown_choice("format", fmt, valid)
    if fmt in (muse_logs.CSV_FORMAT, muse_logs.OU_FORMAT) or fmt == "auto" and (
            muse_logs.csv_rows(logfile) is not None
            or muse_logs.looks_like_ou(read_json(logfile))):
        for path, record in import_muse(logfile, model=model, corpus=corpus, strategy=strategy,
                                        gold=gold, results_dir=results_dir, command=command):
            m = record["metrics"]
            shown = ", ".join(f"{k} {m[k]:.4g}" for k in muse_logs.CSV_METRICS
                              if m[k] is not None)
            click.echo(f"wrote {path} (muse, strategy {record['config']['strategy']}: {shown})")
        return
    if fmt == lm_eval_results.FORMAT or (fmt == "auto"
                                         and lm_eval_results.looks_like(read_json(logfile))):
        for path, record in import_lm_eval(logfile, model=model, strategy=strategy,
                                           results_dir=results_dir, command=command):
            m = record["metrics"]
            mmlu = "n/a" if m["mmlu_acc"] is None else f"{m['mmlu_acc']:.4g}"
            click.echo(f"wrote {path} ({record['protocol']}, strategy "
                       f"{record['config']['strategy']}: wmdp_acc {m['wmdp_acc']:.4g}, "
                       f"mmlu_acc {mmlu})")
        return
    path, record, notes = import_log(logfile, model=model, fmt=fmt, strategy=strategy,
                                     gold=gold, split=split, results_dir=results_dir,
                                     command=command)
    m = record["metrics"]
    shown = ", ".join(f"{k} {m[k]:.4g}" for k in ("model_utility", "forget_quality",
                                                  "forget_truth_ratio") if m[k] is not None)
    click.echo(f"wrote {path} ({record['source']['format']}, strategy "
               f"{record['config']['strategy']}: {shown})")
    for note in notes:
        click.echo(f"note: {note}", err=True)


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Console entry point: user errors print one line and exit 2, without a traceback.
    Hugging Face hub access is off unless the environment turns it on (HF_HUB_OFFLINE=0)."""
    from erasus_bench.harness.store import BadRecords
    from erasus_bench.lm.load import set_offline_defaults

    set_offline_defaults()
    # a scheduler stops the command with SIGTERM (scancel, a pre-empted driver): unwind as for
    # Ctrl-C, so that the engine cancels the jobs it submitted
    signal.signal(signal.SIGTERM, _terminated)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except BadRecords as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    except UserError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except SystemExit:
        raise


if __name__ == "__main__":
    main()
