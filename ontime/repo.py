"""Open a Feast repo and read a FeatureService as a model's input contract.

Nothing here knows a feature name: entity keys, features, dtypes and request fields are
read from the registry, so any Feast repo with a ``contract.py`` next to it works.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from ontime.contract import FeatureContract
from ontime.errors import ConfigError, OntimeError
from ontime.feast_import import import_feast
from ontime.profiles import local_registry, offline_store_type, refuse_foreign_sources
from ontime.sources import SOURCE_KIND_ENV, kind_for_offline_store
from ontime.spark import apply_spark_defaults

log = logging.getLogger(__name__)


def load_repo_module(repo: Path, name: str) -> ModuleType:
    """Import ``name`` from the repo folder the way ``feast apply`` does (bare module names).

    Feast pickles ODFV functions by reference to these bare modules, so every process that
    runs a transform needs the repo folder on ``sys.path``. Modules of the same bare name
    cached from another repo are dropped first, so two domains can share one process.
    """
    repo = Path(repo).resolve()
    if not (repo / f"{name}.py").exists():
        raise ConfigError(f"{repo} has no {name}.py")
    for stem in (p.stem for p in repo.glob("*.py")):
        cached = sys.modules.get(stem)
        cached_file = getattr(cached, "__file__", None)
        if cached_file and Path(cached_file).resolve().parent != repo:
            del sys.modules[stem]
    if str(repo) in sys.path:
        sys.path.remove(str(repo))
    sys.path.insert(0, str(repo))
    return importlib.import_module(name)


def load_contract(repo: Path) -> FeatureContract:
    """The ``CONTRACT`` object declared in the repo's ``contract.py``."""
    contract = getattr(load_repo_module(repo, "contract"), "CONTRACT", None)
    if not isinstance(contract, FeatureContract):
        raise ConfigError(f"{repo}/contract.py must define CONTRACT = FeatureContract(...)")
    return contract


def store_yaml(repo: Path, profile: Path | None = None) -> Path:
    """The ``feature_store.yaml`` a command uses: the repo's own, or another profile.

    Feast substitutes ``${VAR}`` from the environment (secrets such as a Redis connection
    string live there) but leaves an unset one in place, which then fails deep inside a
    client; so an unset variable is named here instead.
    """
    yaml_file = Path(profile).resolve() if profile is not None else repo / "feature_store.yaml"
    if not yaml_file.is_file():
        raise ConfigError(f"no feature_store.yaml at {yaml_file}")
    lines = [ln for ln in yaml_file.read_text().splitlines() if not ln.lstrip().startswith("#")]
    apply_spark_defaults("\n".join(lines))  # unset ONTIME_SPARK_* get single-machine defaults
    unset = sorted(set(re.findall(r"\$\{(\w+)\}", "\n".join(lines))) - set(os.environ))
    if unset:
        raise ConfigError(f"{yaml_file} needs environment variable(s) {', '.join(unset)}")
    return yaml_file


def open_store(repo: Path, profile: Path | None = None):  # -> feast.FeatureStore (lazy import)
    """A FeatureStore for the repo, with the repo importable for its transforms.

    ``profile`` is another ``feature_store.yaml`` for the same definitions (e.g.
    ``profiles/redis.yaml``); relative paths in it (the registry) resolve against the repo.
    """
    import_feast()
    from feast import FeatureStore

    repo = Path(repo).resolve()
    yaml_file = store_yaml(repo, profile)
    load_repo_module(repo, "transforms") if (repo / "transforms.py").exists() else None
    if profile is None:
        store = FeatureStore(repo_path=str(repo))
    else:
        store = FeatureStore(repo_path=str(repo), fs_yaml_file=yaml_file)
    refuse_foreign_sources(store.list_feature_views(), store.config.offline_store.type, yaml_file)
    return store


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Feast resolves repo-relative paths from the current directory while parsing."""
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@dataclass(frozen=True)
class ServiceSpec:
    """A FeatureService as a model input contract, read from the registry."""

    name: str
    features: tuple[str, ...]  # output feature names, in service order
    feature_refs: tuple[str, ...]  # "view:feature" references
    entity_keys: tuple[str, ...]  # join keys the entity frame must carry
    request_fields: tuple[str, ...]  # request-time inputs of on-demand views
    dtypes: dict[str, str]  # feature -> Feast type name
    ttl_seconds: dict[str, float]  # feature -> TTL of the view it comes from (0 = none)
    views: dict[str, str] = field(default_factory=dict)  # feature -> its feature view
    # view -> expected freshness in seconds, from the view's ``freshness_sla`` tag ("6h")
    freshness_sla_s: dict[str, float] = field(default_factory=dict)


def describe_service(store, name: str) -> ServiceSpec:
    """Read features, keys, request fields, types and TTLs of a FeatureService."""
    from feast.errors import FeatureServiceNotFoundException

    try:
        service = store.get_feature_service(name)
    except FeatureServiceNotFoundException:
        known = sorted(s.name for s in store.list_feature_services())
        raise OntimeError(f"unknown FeatureService '{name}'; registered: {known}") from None
    views = {v.name: v for v in store.list_feature_views()}
    odfvs = {v.name: v for v in store.list_on_demand_feature_views()}
    features, refs, keys, request, dtypes, ttls = [], [], [], [], {}, {}
    of_view, slas = {}, {}

    def add_keys(view) -> None:
        for column in view.entity_columns:
            if column.name not in keys:
                keys.append(column.name)

    for projection in service.feature_view_projections:
        view_name = projection.name
        for feature in projection.features:
            features.append(feature.name)
            refs.append(f"{projection.name_to_use()}:{feature.name}")
            dtypes[feature.name] = str(feature.dtype)
            of_view[feature.name] = view_name
        if view_name in views:
            view = views[view_name]
            add_keys(view)
            if SLA_TAG in view.tags:
                slas[view_name] = duration_seconds(view.tags[SLA_TAG], f"{view_name}'s {SLA_TAG}")
            ttl = view.ttl.total_seconds() if view.ttl else 0.0
            ttls.update({f.name: ttl for f in projection.features})
        elif view_name in odfvs:
            odfv = odfvs[view_name]
            source_ttls = []
            for source in odfv.source_feature_view_projections.values():
                add_keys(views[source.name])
                source_ttl = views[source.name].ttl
                source_ttls.append(source_ttl.total_seconds() if source_ttl else 0.0)
            for source in odfv.source_request_sources.values():
                request.extend(f.name for f in source.schema if f.name not in request)
            ttls.update({f.name: min(source_ttls, default=0.0) for f in projection.features})
    return ServiceSpec(
        name=name,
        features=tuple(features),
        feature_refs=tuple(refs),
        entity_keys=tuple(keys),
        request_fields=tuple(request),
        dtypes=dtypes,
        ttl_seconds=ttls,
        views=of_view,
        freshness_sla_s=slas,
    )


SLA_TAG = "freshness_sla"


def freshness_slas(spec: ServiceSpec, overrides: dict[str, str] | None = None) -> dict[str, float]:
    """Seconds each view of the service is expected to stay fresh: its ``freshness_sla`` tag,
    or ``overrides`` (settings, by view name), which win."""
    slas = dict(spec.freshness_sla_s)
    for view, text in (overrides or {}).items():
        if view in set(spec.views.values()):
            slas[view] = duration_seconds(text, f"freshness_sla of view '{view}'")
    return slas


def duration_seconds(text: str, what: str) -> float:
    """ "90s", "30m", "6h", "2d" in seconds; anything else is an error naming ``what``."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = str(text).strip()
    try:
        seconds = float(value[:-1]) * units[value[-1:]]
    except (KeyError, ValueError):
        raise OntimeError(f"{what} '{text}' is not a duration like 90s, 30m, 6h or 2d") from None
    if seconds <= 0:
        raise OntimeError(f"{what} '{text}' must be positive")
    return seconds


def apply_repo(repo: Path, profile: Path | None = None) -> str:
    """``feast apply``, but only after every FeatureService passes the leakage gate.

    The gate runs on the parsed definitions, so a leaking service never reaches the registry.
    ``feast apply`` itself runs in a subprocess, as a user would run it, with ``profile``
    (another ``feature_store.yaml``) passed as ``feast -f``.
    """
    import subprocess

    from feast.repo_operations import parse_repo

    from ontime.leakage import assert_no_leaks

    repo = Path(repo).resolve()
    yaml_file = store_yaml(repo, profile)
    profile_args = ["-f", str(yaml_file)] if profile is not None else []
    offline_type = offline_store_type(yaml_file)
    # The declarations build the source kind this profile's offline store reads.
    kind = {SOURCE_KIND_ENV: kind_for_offline_store(offline_type)}
    contract = load_contract(repo)
    with working_directory(repo), environment(kind):
        forget_repo_modules(repo)  # imported under another profile, they hold other sources
        load_repo_module(repo, "transforms") if (repo / "transforms.py").exists() else None
        try:
            contents = parse_repo(repo)
        except OntimeError:
            raise
        except Exception as exc:  # a broken definition file: say which, without a traceback
            raise OntimeError(f"cannot parse feature repo {repo}: {exc}") from exc
        finally:
            forget_repo_modules(repo)
    refuse_relative_sources(contents)
    refuse_foreign_sources(contents.feature_views, offline_type, yaml_file)
    views = {v.name: v for v in contents.feature_views}
    odfvs = {v.name: v for v in contents.on_demand_feature_views}
    for service in contents.feature_services:
        assert_no_leaks(service, views, odfvs, contract.future_only_fields)
    result = subprocess.run(
        [sys.executable, "-m", "feast.cli.cli", *profile_args, "apply"],
        cwd=repo,
        env={**os.environ, **kind},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise OntimeError(f"feast apply failed: {failure_line(result.stderr)}")
    return result.stdout


def failure_line(stderr: str) -> str:
    """One line saying why a subprocess failed: its last exception and what follows it.

    A validation error puts the exception on one line and the offending key and reason on
    the next two, so the last line alone ("at path") says nothing.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    found = [i for i, line in enumerate(lines) if re.match(r"^[\w.]+(Error|Exception)\b", line)]
    if not found:
        return lines[-1] if lines else "no output"
    return "; ".join(lines[found[-1] : found[-1] + 3])


def refuse_relative_sources(contents) -> None:
    """Refuse a file source whose path is relative, naming it.

    Feast's DuckDB store reads a relative path against the process's working directory, not
    the repo, so the same repo would read other files (or none) from another folder.
    """
    for source in _sources(contents):
        path = getattr(source, "path", None)
        kind = type(source).__name__
        if kind not in ("FileSource", "SparkSource") or not path or "://" in path:
            continue
        if not Path(path).is_absolute():
            raise ConfigError(
                f"source '{source.name}' reads the relative path '{path}'; Feast resolves it "
                "against the working directory, not the repo (so does Spark): make it "
                "absolute, e.g. "
                "Path(__file__).parent / 'data' / ... (see feature_repo/locations.py)"
            )


def forget_repo_modules(repo: Path) -> None:
    """Drop the repo's declaration modules from the import cache, so they run again."""
    for stem in (p.stem for p in repo.glob("*.py")):
        cached_file = getattr(sys.modules.get(stem), "__file__", None)
        if cached_file and Path(cached_file).resolve().parent == repo and stem != "transforms":
            del sys.modules[stem]


@contextlib.contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """Run a block with these environment variables set (the previous values come back)."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _sources(contents) -> list:
    sources = list(contents.data_sources)
    for view in contents.feature_views:
        sources += [s for s in (view.batch_source, getattr(view, "stream_source", None)) if s]
    return sources


def reset_feature_store(repo: Path, profile: Path | None = None) -> None:
    """Drop the embedded registry and online store so a new world starts clean.

    Materialization state lives in the registry; reusing it across regenerated worlds would
    skip or mix history. Only local files are touched: the embedded default's, and a
    profile's own registry file (e.g. the Spark profile's), never a remote registry.
    """
    for name in ("registry.db", "online_store.db"):
        (repo / "data" / name).unlink(missing_ok=True)
    if profile is not None:
        registry = local_registry(Path(profile), repo)
        if registry is not None:
            registry.unlink(missing_ok=True)
