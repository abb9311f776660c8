"""The carbon-pricing asset over a real local folder: the sample, a dropped file, a rejected one."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from cdr_dagster.assets.datasets.carbon_pricing import carbon_pricing
from cdr_dagster.assets.datasets.checks import dataset_checks
from cdr_dagster.deployments import resources_for
from cdr_dagster.domain import quality
from cdr_dagster.domain.transforms.carbon_pricing import CARBON_PRICING_MIN_YEAR

[CHECKS] = [c for c in dataset_checks if any(k.asset_key == dg.AssetKey("carbon_pricing") for k in c.check_keys)]


def _materialize(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.ExecuteInProcessResult:
    monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
    return dg.materialize(
        [carbon_pricing, CHECKS],
        resources=resources_for("local"),
        raise_on_error=False,
    )


def test_without_a_dropped_file_the_labelled_sample_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _materialize(tmp_path, monkeypatch)
    assert result.success
    [materialization] = result.asset_materializations_for_node("carbon_pricing")
    meta = {k: v.value for k, v in materialization.metadata.items()}
    assert meta["source"] == "sample" and meta["latest_year"] == 2026
    assert meta["countries_count"] == 62 and meta["global_emissions_pct"] == 28.3
    # the metadata points at the file that was read: the bundled sample, which exists
    assert Path(str(meta["input"])).is_file() and Path(str(meta["input"])).name == "world_bank_carbon_pricing.csv"
    # each column says what it means, from the dataset spec
    schema = meta["dagster/column_schema"]
    assert {c.name: c.description for c in schema.columns}["global_emissions_pct"].startswith("Share of global")
    assert "e+" not in str(meta["preview"])
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    assert {e.check_name for e in evaluations} == {
        "contract_columns",
        "not_empty",
        "consecutive_years",
        "emissions_share_is_a_percentage",
        "counts_not_negative",
    }


def test_a_dropped_file_wins_over_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw/world_bank_carbon_pricing.csv").write_text(
        "year,countries_count,global_emissions_pct\n2024,55,24.1\n2025,59,27.9\n"
    )
    result = _materialize(tmp_path, monkeypatch)
    assert result.success
    [materialization] = result.asset_materializations_for_node("carbon_pricing")
    assert materialization.metadata["source"].value == "dropped"
    [staged] = (tmp_path / "staging").glob("*/carbon_pricing_*.csv")  # staging/<run_id>/
    assert staged.read_text() == "year,countries_count,global_emissions_pct\n2024,55,24.1\n2025,59,27.9\n"


def test_a_bad_file_fails_once_naming_every_line_and_stages_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw/world_bank_carbon_pricing.csv").write_text(
        "year,countries_count,global_emissions_pct\n2024,55,124.1\n2024,-3,27.9\n"
    )
    result = _materialize(tmp_path, monkeypatch)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.user_failure_data.description
    assert message.count("rejected, nothing published") == 1
    assert "line 2: global_emissions_pct '124.1' is not a number from 0 to 100" in message
    assert "line 3: countries_count '-3' is not a whole number from 0 to 250" in message
    assert "lines 2-3: year 2024 appears 2 times" in message
    assert not (tmp_path / "staging").exists()


def test_the_percentage_rule_names_the_offending_years() -> None:
    frame = pd.DataFrame({"year": [2024, 2025], "countries_count": [1, 2], "global_emissions_pct": [99.0, 101.5]})
    outcome = quality.within_range(frame, "global_emissions_pct", 0, 100, "year", "carbon_pricing")
    assert not outcome.passed
    assert outcome.description == "carbon_pricing: 1 global_emissions_pct values not from 0 to 100: 2025: 101.50"
    assert outcome.metadata == {"offending_rows": ["2025: 101.50"]}
    assert CARBON_PRICING_MIN_YEAR == 1990
