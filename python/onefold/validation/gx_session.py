"""Declared checks -> great-expectations 1.x expectations, checkpoints and back to outcomes.

Everything that touches great-expectations lives here. It is imported lazily (the import
takes a few seconds) and always after `offline_environment()` has switched analytics off.

Two ways in, one per target:

- PostgreSQL: GX SQL datasources (`add_postgres`, one per schema) with one table asset
  per table; the password reaches GX only as a `${...}` substitution from the context's
  runtime environment, so the datasource's config, repr and logs show the placeholder.
- DuckDB: GX's SQL path closes the DuckDB connection before it reads results, so each
  table is read (read-only, only the columns the checks need) into a pandas DataFrame and
  validated through a pandas datasource (one dataframe asset per table).

Each table gets its own suite, validation definition and checkpoint: a checkpoint passes
the same batch parameters and result format to all its validation definitions, and both
differ per table (its dataframe, its key columns).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from onefold.erasure.session_salt import salt_from_environment, warehouse_options
from onefold.errors import ConfigError, WarehouseError
from onefold.settings import PostgresSettings
from onefold.validation.report import Outcome, format_examples, format_value, is_null
from onefold.validation.report import age_text as _age_text
from onefold.validation.spec import Check, TableSpec
from onefold.warehouse import quote_ident

if TYPE_CHECKING:
    import pandas as pd

_PASSWORD_VARIABLE = "ONEFOLD_GX_PG_PASSWORD"
# libpq options of the warehouse session (the erasure salt among them): staging views
# need the salt once suppressions exist. A variable, like the password, so the secret
# is in no connection string GX keeps or prints.
_OPTIONS_VARIABLE = "ONEFOLD_GX_PG_OPTIONS"
_META_KEY = "onefold_check"
_SHORT_EXPECTATIONS = {
    "row_count": "ExpectTableRowCountToBeBetween",
    "not_null": "ExpectColumnValuesToNotBeNull",
    "between": "ExpectColumnValuesToBeBetween",
    "in_set": "ExpectColumnValuesToBeInSet",
    "regex": "ExpectColumnValuesToMatchRegex",
    "freshness": "ExpectColumnMaxToBeBetween",
    "share": "ExpectColumnProportionOfNonNullValuesToBeBetween",
    "mean": "ExpectColumnMeanToBeBetween",
    "median": "ExpectColumnMedianToBeBetween",
}


def offline_environment() -> None:
    """No usage statistics and no network from great-expectations; call before importing it."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"


offline_environment()  # this module is the only importer of great_expectations


@dataclass(frozen=True)
class PreparedCheck:
    """A declared check, resolved against the warehouse (column types, other tables' row
    counts, the reference time) and turned into one GX expectation."""

    check: Check
    expectation: Any  # a great_expectations.expectations.Expectation
    expected: str


def _is_temporal(data_type: str) -> bool:
    kind = data_type.lower()
    return "timestamp" in kind or "datetime" in kind or kind == "date"


def temporal_bound(value: dt.datetime, data_type: str, target: str) -> dt.datetime | dt.date:
    """A bound comparable with what GX reads from the column: GX compares Python values,
    and naive vs aware datetimes (or dates vs datetimes) do not compare.

    `value` is aware UTC. Timestamps with time zone read as aware values; plain timestamps
    (dbt's UTC convention) as naive ones; PostgreSQL dates as dates (DuckDB dates reach
    pandas as naive timestamps)."""
    kind = data_type.lower()
    if "with time zone" in kind or kind == "timestamptz":
        return value
    if kind == "date" and target == "postgres":
        return value.date()
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _describe_bounds(low: Any, high: Any, subject: str) -> str:
    def text(value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, float) and value.is_integer():
            return f"{int(value):,}"
        return format_value(value)

    if low is not None and high is not None:
        return f"{text(low)} ≤ {subject} ≤ {text(high)}"
    if low is not None:
        return f"{subject} ≥ {text(low)}"
    return f"{subject} ≤ {text(high)}"


def _percent(value: Any) -> str | None:
    return None if value is None else f"{float(value):.2%}"


def prepare_checks(
    spec: TableSpec,
    column_types: Mapping[str, str],
    row_counts: Mapping[str, int],
    now: dt.datetime,
    target: str,
) -> list[PreparedCheck]:
    """Build the GX expectations of one table. ConfigError names the entry whose arguments
    do not fit the table (a date bound on a number column, bad `gx` kwargs, ...)."""
    offline_environment()
    import great_expectations as gx
    import pydantic

    # GX re-exports its expectation classes without `__all__`, which strict mypy rejects
    # as implicit re-exports; the classes are the documented `gx.expectations.*`.
    catalog: Any = gx.expectations
    prepared: list[PreparedCheck] = []
    for index, check in enumerate(spec.checks):
        meta = {_META_KEY: index}
        column = check.columns[0] if check.columns else ""
        data_type = column_types.get(column, "")
        mostly: dict[str, float] = {} if check.mostly is None else {"mostly": check.mostly}
        expectation: Any
        mostly_text = "" if check.mostly is None else f" (mostly {check.mostly:.2%})"
        kind = check.kind
        if kind == "row_count":
            low, high = check.min_value, check.max_value
            assert not isinstance(low, dt.datetime) and not isinstance(high, dt.datetime)
            if check.relative_to is not None:
                other_key = check.relative_to.key
                other = row_counts[other_key]
                low_rows = None if low is None else math.ceil(low * other)
                high_rows = None if high is None else math.floor(high * other)
                parts = []
                if low is not None:
                    parts.append(f"≥ {low:g} * {other_key} = {low_rows:,}")
                if high is not None:
                    parts.append(f"≤ {high:g} * {other_key} = {high_rows:,}")
                expected = "rows " + " and ".join(parts)
            else:
                low_rows = None if low is None else int(low)
                high_rows = None if high is None else int(high)
                expected = _describe_bounds(low, high, "rows")
            expectation = catalog.ExpectTableRowCountToBeBetween(
                min_value=low_rows, max_value=high_rows, meta=meta
            )
        elif kind == "unique" and len(check.columns) > 1:
            expectation = catalog.ExpectCompoundColumnsToBeUnique(
                column_list=list(check.columns), meta=meta, **mostly
            )
            expected = "unique together" + mostly_text
        elif kind == "unique":
            expectation = catalog.ExpectColumnValuesToBeUnique(column=column, meta=meta, **mostly)
            expected = "unique" + mostly_text
        elif kind == "not_null":
            expectation = catalog.ExpectColumnValuesToNotBeNull(column=column, meta=meta, **mostly)
            expected = "not null" + mostly_text
        elif kind == "between":
            bounds: list[Any] = []
            for bound in (check.min_value, check.max_value):
                if isinstance(bound, dt.datetime):
                    if not _is_temporal(data_type):
                        raise ConfigError(
                            f"{check.where}: date bounds on column {column!r} of type "
                            f"{data_type}; use numbers"
                        )
                    bounds.append(temporal_bound(bound, data_type, target))
                else:
                    if bound is not None and _is_temporal(data_type):
                        raise ConfigError(
                            f"{check.where}: column {column!r} is a {data_type}; give `min`/"
                            "`max` as dates (2000-01-01) or timestamps"
                        )
                    bounds.append(bound)
            expectation = catalog.ExpectColumnValuesToBeBetween(
                column=column, min_value=bounds[0], max_value=bounds[1], meta=meta, **mostly
            )
            expected = _describe_bounds(bounds[0], bounds[1], "value") + mostly_text
        elif kind == "in_set":
            expectation = catalog.ExpectColumnValuesToBeInSet(
                column=column, value_set=list(check.values), meta=meta, **mostly
            )
            shown = ", ".join(str(v) for v in check.values[:8])
            more = f", … ({len(check.values)} values)" if len(check.values) > 8 else ""
            expected = f"in {{{shown}{more}}}" + mostly_text
        elif kind == "regex":
            expectation = catalog.ExpectColumnValuesToMatchRegex(
                column=column, regex=check.pattern, meta=meta, **mostly
            )
            expected = f"matches {check.pattern}" + mostly_text
        elif kind == "freshness":
            if not _is_temporal(data_type):
                raise ConfigError(
                    f"{check.where}: freshness needs a timestamp or date column; {column!r} "
                    f"is {data_type}"
                )
            assert check.max_age is not None
            cutoff = temporal_bound(now - check.max_age, data_type, target)
            expectation = catalog.ExpectColumnMaxToBeBetween(
                column=column, min_value=cutoff, meta=meta
            )
            expected = f"latest ≥ now - {_age_text(check.max_age)} ({format_value(cutoff)})"
        elif kind == "share":
            expectation = catalog.ExpectColumnProportionOfNonNullValuesToBeBetween(
                column=column, min_value=check.min_value, max_value=check.max_value, meta=meta
            )
            expected = _describe_bounds(
                _percent(check.min_value), _percent(check.max_value), "share with a value"
            )
        elif kind in ("mean", "median"):
            if _is_temporal(data_type):
                raise ConfigError(
                    f"{check.where}: {kind} needs a number column; {column!r} is {data_type}"
                )
            expectation_type = (
                catalog.ExpectColumnMeanToBeBetween
                if kind == "mean"
                else catalog.ExpectColumnMedianToBeBetween
            )
            expectation = expectation_type(
                column=column, min_value=check.min_value, max_value=check.max_value, meta=meta
            )
            expected = _describe_bounds(check.min_value, check.max_value, kind)
        else:  # gx passthrough
            expectation_class = getattr(catalog, check.gx_expectation or "", None)
            if not isinstance(expectation_class, type):
                raise ConfigError(
                    f"{check.where}: great-expectations has no expectation "
                    f"{check.gx_expectation!r} (see gx.expectations)"
                )
            try:
                expectation = expectation_class(**check.gx_kwargs, meta=meta)
            except (pydantic.ValidationError, TypeError, ValueError) as exc:
                raise ConfigError(
                    f"{check.where}: invalid kwargs for {check.gx_expectation}: "
                    + " ".join(str(exc).split())
                ) from exc
            expected = check.gx_expectation or ""
            arguments = {
                k: v
                for k, v in check.gx_kwargs.items()
                if k not in ("column", "column_list", "column_A", "column_B")
            }
            if arguments:
                expected += " " + ", ".join(f"{k}={v}" for k, v in arguments.items())
        prepared.append(PreparedCheck(check=check, expectation=expectation, expected=expected))
    return prepared


class GXSession:
    """One ephemeral GX context (nothing written to disk, no progress bars, no analytics)
    and its datasources."""

    def __init__(
        self, target: str, now: dt.datetime, postgres: PostgresSettings | None = None
    ) -> None:
        offline_environment()
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self.gx: Any = gx
        self.target = target
        self.now = now
        runtime: dict[str, str] = {}
        self._secret = ""
        self._secrets: list[str] = []
        if postgres is not None:
            self._secret = postgres.password.get_secret_value()
            runtime[_PASSWORD_VARIABLE] = quote(self._secret, safe="")
            salt = salt_from_environment()
            runtime[_OPTIONS_VARIABLE] = quote(warehouse_options(salt), safe="")
            self._secrets = [s for s in (self._secret, salt) if s]
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        self.context: Any = gx.get_context(
            mode="ephemeral", project_config=config, runtime_environment=runtime
        )
        self._postgres = postgres
        # PostgreSQL: one datasource per schema (see _postgres_datasource); DuckDB: one
        # pandas datasource.
        self._datasources: dict[str, Any] = {}
        if target != "postgres":
            self._datasources[""] = self.context.data_sources.add_pandas("onefold_duckdb")

    def _postgres_datasource(self, schema: str) -> Any:
        """A GX PostgreSQL datasource whose connection puts `schema` first on the search
        path. GX 1.x deprecates `schema_name` on table assets ("pass the schema in your
        datasource's connection configuration instead"), and a Postgres connection URL
        carries a schema only as a `search_path` option."""
        if schema in self._datasources:
            return self._datasources[schema]
        settings = self._postgres
        assert settings is not None
        search_path = quote_ident(schema).replace("\\", "\\\\").replace(" ", "\\ ")
        url = (
            f"postgresql+psycopg2://{quote(settings.user, safe='')}:${{{_PASSWORD_VARIABLE}}}"
            f"@{settings.host}:{settings.port}/{quote(settings.database, safe='')}"
            f"?options={quote(f'-csearch_path={search_path} ', safe='')}${{{_OPTIONS_VARIABLE}}}"
        )
        try:
            datasource = self.context.data_sources.add_postgres(
                f"onefold_postgres_{len(self._datasources)}", connection_string=url
            )
        except Exception as exc:  # GX wraps driver errors in its own types
            raise WarehouseError(
                f"great-expectations cannot connect to PostgreSQL at {settings.host}:"
                f"{settings.port} database {settings.database!r}: {self.scrub(exc)}"
            ) from None
        self._datasources[schema] = datasource
        return datasource

    def scrub(self, error: BaseException | str) -> str:
        """An error message with the password and the salt (plain or URL-quoted) blanked
        out."""
        text = " ".join(str(error).split())
        for secret in self._secrets:
            for spelling in {secret, quote(secret, safe="")}:
                text = text.replace(spelling, "***")
        return text

    def close(self) -> None:
        if self.target == "postgres":
            for datasource in self._datasources.values():
                with contextlib.suppress(Exception):  # closing is best effort
                    datasource.get_engine().dispose()

    def validate_table(
        self,
        spec: TableSpec,
        relation_schema: str,
        prepared: Sequence[PreparedCheck],
        examples: int,
        frame: pd.DataFrame | None = None,
        table_name: str | None = None,
    ) -> list[Outcome]:
        """Run one checkpoint over one table (`table_name` in `relation_schema`, default
        the declared name); one Outcome per prepared check, in order."""
        gx = self.gx
        key = spec.table.key
        table_name = table_name or spec.table.name
        if self.target == "postgres":
            datasource = self._postgres_datasource(relation_schema)
            asset = datasource.add_table_asset(key, table_name=table_name)
            batch = asset.add_batch_definition_whole_table("whole table")
            batch_parameters: dict[str, Any] | None = None
        else:
            asset = self._datasources[""].add_dataframe_asset(key)
            batch = asset.add_batch_definition_whole_dataframe("whole dataframe")
            batch_parameters = {"dataframe": frame}
        suite = self.context.suites.add(
            gx.ExpectationSuite(name=key, expectations=[p.expectation for p in prepared])
        )
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=key, data=batch, suite=suite)
        )
        result_format: dict[str, Any] = {
            "result_format": "SUMMARY",
            "partial_unexpected_count": max(examples, 1),
            "return_unexpected_index_query": False,
        }
        if spec.key_columns:
            result_format["unexpected_index_column_names"] = list(spec.key_columns)
        checkpoint = self.context.checkpoints.add(
            gx.Checkpoint(
                name=key, validation_definitions=[definition], result_format=result_format
            )
        )
        try:
            run = checkpoint.run(batch_parameters=batch_parameters)
        except Exception as exc:
            raise WarehouseError(
                f"great-expectations could not validate {relation_schema}.{table_name}: "
                f"{self.scrub(exc)}"
            ) from None
        by_index: dict[int, Any] = {}
        for suite_result in run.run_results.values():
            for result in suite_result.results:
                config = result.expectation_config
                index = (config.meta or {}).get(_META_KEY) if config is not None else None
                if isinstance(index, int):
                    by_index[index] = result
        relation = f"{relation_schema}.{table_name}"
        outcomes = []
        for index, item in enumerate(prepared):
            try:
                outcome = self._outcome(spec, relation, item, by_index.get(index), examples)
            except Exception as exc:  # a result we cannot read is an error, not a failure
                outcome = Outcome(
                    table=spec.table.key,
                    relation=relation,
                    position=item.check.position,
                    check=item.check.kind,
                    expectation=str(item.expectation.expectation_type),
                    columns=item.check.columns,
                    expected=item.expected,
                    success=False,
                    observed="error",
                    error=f"cannot read the great-expectations result: {self.scrub(exc)}",
                )
            outcomes.append(outcome)
        return outcomes

    def _outcome(
        self,
        spec: TableSpec,
        relation: str,
        item: PreparedCheck,
        result: Any,
        examples: int,
    ) -> Outcome:
        check = item.check
        expectation_type = str(item.expectation.expectation_type)
        base = Outcome(
            table=spec.table.key,
            relation=relation,
            position=check.position,
            check=check.kind,
            expectation=expectation_type,
            columns=check.columns,
            expected=item.expected,
            success=False,
            observed="",
        )
        if result is None:
            return replace(base, success=False, observed="no result", error="GX returned no result")
        error = _exception_message(result.exception_info)
        body: Mapping[str, Any] = result.result or {}
        success = bool(result.success) and error is None
        if error is not None:
            return replace(base, success=False, observed="error", error=self.scrub(error))
        pii = spec.pii_columns
        if "observed_value" in body:
            value = body["observed_value"]
            masked = bool(check.columns) and check.columns[0] in pii
            if check.kind == "row_count":
                observed = f"{int(value):,} rows"
            elif check.kind == "freshness" and is_null(value):
                # an empty table (or only nulls): nothing is fresh
                return replace(base, success=False, observed="no rows")
            elif check.kind in ("share", "mean", "median") and is_null(value):
                empty = "no rows" if check.kind == "share" else "no values"
                return replace(base, success=False, observed=empty)
            elif check.kind == "share":
                observed = f"{float(value):.2%} with a value"
            elif check.kind == "freshness":
                observed = "latest " + format_value(value, masked)
                age = _age_since(value, self.now)
                if age is not None and not masked:
                    observed += f" (age {_age_text(age)})"
            else:
                observed = format_value(value, masked)
            return replace(base, success=success, observed=observed)
        count = body.get("unexpected_count")
        percent = body.get("unexpected_percent")
        unexpected = int(count) if count is not None else None
        observed = (
            "?"
            if unexpected is None
            else f"{unexpected:,} unexpected"
            + (f" ({float(percent):.2f}%)" if unexpected and percent is not None else "")
        )
        found = format_examples(body, check.columns, spec.key_columns, pii, examples)
        return replace(
            base,
            success=success,
            observed=observed,
            unexpected_count=unexpected,
            unexpected_percent=float(percent) if percent is not None else None,
            examples=found,
        )


def _age_since(value: Any, now: dt.datetime) -> dt.timedelta | None:
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return now - aware
    if isinstance(value, dt.date):
        return now - dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    return None


def _exception_message(info: Any) -> str | None:
    """GX reports errors either flat or keyed by the metric that raised; find the message."""
    if not isinstance(info, Mapping):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "error")
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message") or "error")
    return None
