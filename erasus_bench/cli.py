"""The `erasus-bench` command line."""
from __future__ import annotations

import shlex
import sys
from collections import Counter
from pathlib import Path

import click

from erasus_bench.errors import UserError, unknown_choice

KINDS = ("protocols", "strategies", "selectors", "metrics")


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


@click.group()
@click.version_option(package_name="erasus-bench")
def cli() -> None:
    """erasus-bench: benchmark machine-unlearning strategies x coreset selectors."""


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
                where = f"modality {', '.join(e.applies_to)}"
            elif name == "metrics":
                where = f"protocols {', '.join(e.applies_to)}"
            else:
                protos = sorted({p for m in e.applies_to for p in by_modality.get(m, [])})
                where = f"protocols {', '.join(protos) or '-'}"
            click.echo(f"  {e.name:<20} {e.description}  [{where}]")


@cli.command()
@click.option("--protocol", required=True, help="Protocol name (see `erasus-bench list`).")
@click.option("--all-methods", is_flag=True,
              help="Every applicable strategy x selector (the default when none are named).")
@click.option("--strategies", help="Comma-separated strategy names.")
@click.option("--selectors", help="Comma-separated selector names.")
@click.option("--fractions", default="0.1", show_default=True,
              help="Coreset fractions of the forget set, each in (0, 1].")
@click.option("--seeds", type=int, default=3, show_default=True, help="Seeds 0..N-1.")
@click.option("--scenario", help="Protocol scenario (general: random, class).")
@click.option("--dataset", help="Dataset hub name or local path (default: embedded).")
@click.option("--workers", type=int, help="Worker processes (default: all cores).")
@click.option("--force", is_flag=True, help="Redo cells that already have an ok record.")
@click.option("--results-dir", default="results", show_default=True, type=click.Path())
@click.option("--leaderboards-dir", default="leaderboards", show_default=True,
              type=click.Path())
@click.option("--cache-dir", type=click.Path(), help="Model cache (default ~/.cache/erasus-bench"
              " or $ERASUS_BENCH_CACHE).")
@click.option("--no-render", is_flag=True, help="Skip rendering the leaderboards.")
def run(protocol: str, all_methods: bool, strategies: str | None, selectors: str | None,
        fractions: str, seeds: int, scenario: str | None, dataset: str | None,
        workers: int | None, force: bool, results_dir: str, leaderboards_dir: str,
        cache_dir: str | None, no_render: bool) -> None:
    """Run the grid on a protocol, then render its leaderboard."""
    from erasus_bench.harness.grid import build_grid, parse_fractions
    from erasus_bench.harness.run import run_grid

    if all_methods and (strategies or selectors):
        raise UserError("--all-methods cannot be combined with --strategies/--selectors")
    options = {k: v for k, v in (("scenario", scenario), ("dataset", dataset)) if v is not None}
    _, config, cells = build_grid(protocol, options, _split(strategies), _split(selectors),
                                  parse_fractions(fractions), seeds)
    if workers is not None and workers < 1:
        raise UserError(f"--workers {workers} is invalid: must be >= 1")
    command = "erasus-bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    outcomes = run_grid(cells, config, results_dir=results_dir, cache_dir=cache_dir,
                        command=command, workers=workers, force=force)
    if not no_render:
        _render(results_dir, leaderboards_dir, [protocol], skip_unchanged=True)
    counts = Counter(o.status for o in outcomes)
    click.echo(f"{len(cells)} cells: {counts['ok']} ran ok, {counts['failed']} failed, "
               f"{len(cells) - len(outcomes)} already done")
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed[:20]:
        click.echo(f"  failed {o.key}: {o.error}", err=True)
    if failed:
        sys.exit(1)


def _render(results_dir: str, out_dir: str, protocols: list[str] | None,
            skip_unchanged: bool = False) -> None:
    from erasus_bench.leaderboards.render import render

    written = render(Path(results_dir), Path(out_dir), protocols, skip_unchanged=skip_unchanged)
    for path in written:
        click.echo(f"wrote {path}")
    if skip_unchanged and not written:
        click.echo(f"pages in {out_dir} are up to date")


@cli.command("render")
@click.option("--results-dir", default="results", show_default=True, type=click.Path())
@click.option("--out-dir", "--leaderboards-dir", default="leaderboards", show_default=True,
              type=click.Path())
@click.option("--protocol", "protocols", multiple=True, help="Only these protocols.")
def render_cmd(results_dir: str, out_dir: str, protocols: tuple[str, ...]) -> None:
    """Render Markdown/HTML leaderboards and plots from the run records."""
    _render(results_dir, out_dir, list(protocols) or None)


def main() -> None:
    """Console entry point: user errors print one line and exit 2, without a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except UserError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except SystemExit:
        raise


if __name__ == "__main__":
    main()
