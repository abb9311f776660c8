"""Quality gates as Dagster checks: each rule is a check of its own (its name, description and
result in the UI, in alerts and in what publication verifies), and all the rules on one asset run
together in one step, ``<asset>_checks``.

One step per asset rather than one per rule: the table is read once, a bad week reports every
problem on the asset at once, and a run has a dozen check steps instead of some fifty process
starts (the weekly run takes about half the time). A rule can still be run alone from the UI
(the step runs only the checks selected).

A blocking gate that fails stops everything downstream of its asset, so nothing is published and
the page keeps the last good week; a warning (``blocking=False``) only shows.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.domain.numbers import markdown_table
from cdr_dagster.domain.published import BASELINE_METADATA_KEY, Published, read_published
from cdr_dagster.domain.quality import Outcome
from cdr_dagster.resources.quality_thresholds import QualityThresholds
from cdr_dagster.resources.storage import Storage

GATE_RESOURCES = {"storage", "quality_thresholds"}
REJECTED_ROWS = "rejected_rows"  # metadata: the table of the rows a failed check rejects
REJECTED_COUNT = "rejected_count"
REJECTED_ROWS_SHOWN = 25


@dataclass
class GateInputs:
    """What a rule may look at: the asset's table, the other tables its gate reads, the
    published week (read once per step, when a rule first asks) and the thresholds."""

    frame: pd.DataFrame
    reads: Mapping[str, pd.DataFrame]
    storage: Storage
    thresholds: QualityThresholds

    @cached_property
    def published(self) -> Published:
        return read_published(self.storage)


@dataclass(frozen=True)
class Gate:
    """One quality rule on an asset, as a check named ``name``."""

    name: str
    description: str
    rule: Callable[[GateInputs], Outcome]
    blocking: bool = True  # False: a warning a person should look at, never stops the run
    reads: tuple[str, ...] = ()  # other assets the rule compares with


def check_result(
    outcome: Outcome, asset: str, name: str, warning: bool = False, baseline: str | None = None
) -> dg.AssetCheckResult:
    """A quality rule's outcome as a Dagster check result (lists and dicts as JSON metadata), with
    a failure's rejected rows as a table (the first REJECTED_ROWS_SHOWN, and how many in all),
    naming the publication it was judged against (the publication compares it with what is live)."""
    metadata: dict[str, Any] = {
        k: dg.MetadataValue.json(v) if isinstance(v, (list, dict)) else v for k, v in outcome.metadata.items() if v is not None
    }
    if outcome.rejected is not None and not outcome.rejected.empty:
        metadata[REJECTED_ROWS] = dg.MetadataValue.md(markdown_table(outcome.rejected, REJECTED_ROWS_SHOWN))
        metadata[REJECTED_COUNT] = len(outcome.rejected)
    if baseline is not None:
        metadata[BASELINE_METADATA_KEY] = baseline
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(asset),
        check_name=name,
        passed=outcome.passed,
        description=outcome.description,
        metadata=metadata,
        severity=dg.AssetCheckSeverity.WARN if warning else dg.AssetCheckSeverity.ERROR,
    )


def asset_gates(asset: str, gates: Sequence[Gate]) -> dg.AssetChecksDefinition:
    """Every gate on ``asset`` as one check step, ``<asset>_checks``."""
    names = [gate.name for gate in gates]
    if len(set(names)) != len(names):
        raise ValueError(f"{asset}: two gates share a name: {names}")
    reads = sorted({name for gate in gates for name in gate.reads})

    @dg.multi_asset_check(
        name=f"{asset}_checks",
        description=f"The quality gates on {asset}: {', '.join(names)}.",
        specs=[
            dg.AssetCheckSpec(
                gate.name, asset=asset, description=gate.description, blocking=gate.blocking, additional_deps=gate.reads
            )
            for gate in gates
        ],
        ins={asset: dg.AssetIn(asset), **{name: dg.AssetIn(name) for name in reads}},
        required_resource_keys=GATE_RESOURCES,
        can_subset=True,
    )
    def evaluate(context: dg.AssetCheckExecutionContext, **frames: Any) -> Iterator[dg.AssetCheckResult]:
        inputs = GateInputs(
            frame=frames.pop(asset),
            reads=frames,
            storage=context.resources.storage,
            thresholds=context.resources.quality_thresholds,
        )
        selected = {key.name for key in context.selected_asset_check_keys}
        for gate in gates:
            if gate.name in selected:
                outcome = gate.rule(inputs)
                yield check_result(outcome, asset, gate.name, warning=not gate.blocking, baseline=inputs.published.stamp)

    return evaluate
