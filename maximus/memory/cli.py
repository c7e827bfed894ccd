"""``maximus memory``: add, search, list, export, import, sweep, migrate, verify, vault keys.

Every command opens the store the settings name (``MAXIMUS_MEMORY__*``); ``--backend``,
``--path`` and ``--url`` override them. ``search`` and ``list`` take the memory type the same
way, as ``--type`` (repeatable), and say so when they find nothing. Exit codes: 0 ok, 1 failed
(or differences found by ``verify``), 2 bad input, 3 configuration.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from maximus.errors import ConfigError, InvalidInputError, MaximusError
from maximus.memory.longterm.records import MEMORY_TYPES

memory_app = typer.Typer(
    help="Long-term memory: add, search, list, export/import, migrate and verify.",
    no_args_is_help=True,
)
_out = Console()
_err = Console(stderr=True)

Backend = Annotated[
    str | None,
    typer.Option(
        "--backend", metavar="NAME", help="qdrant-edge, qdrant or chroma (default: settings)."
    ),
]
PathOpt = Annotated[
    Path | None, typer.Option("--path", metavar="DIR", help="Embedded store directory.")
]
UrlOpt = Annotated[
    str | None, typer.Option("--url", metavar="URL", help="Server URL (qdrant, chroma).")
]
UserOpt = Annotated[
    str | None, typer.Option("--user", metavar="ID", help="User id (default: settings).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON lines.")]
TypeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--type",
        metavar="TYPE",
        help=f"Memory type, repeatable: {', '.join(MEMORY_TYPES)} (default: all of them).",
    ),
]


def _fail(exc: MaximusError) -> typer.Exit:
    _err.print(f"[bold red]{type(exc).__name__}:[/] {escape(exc.message)}")
    if isinstance(exc, ConfigError):
        return typer.Exit(3)
    return typer.Exit(2 if isinstance(exc, InvalidInputError) else 1)


def _settings(backend: str | None, path: Path | None, url: str | None) -> Any:
    from maximus.config import get_settings

    settings = get_settings()
    update: dict[str, Any] = {}
    if backend:
        update["backend"] = backend
    if path:
        update["path"] = path
    if url:
        update["url"] = url
    if not update:
        return settings
    try:
        memory = settings.memory.model_validate({**settings.memory.model_dump(), **update})
    except ValueError as exc:
        raise ConfigError(f"bad memory option: {exc}") from exc
    return settings.model_copy(update={"memory": memory})


@contextmanager
def _store(backend: str | None, path: Path | None, url: str | None) -> Iterator[Any]:
    from maximus.memory.longterm.store import MemoryStore

    try:
        store = MemoryStore.from_settings(_settings(backend, path, url))
    except MaximusError as exc:
        raise _fail(exc) from None
    try:
        yield store
    except MaximusError as exc:
        raise _fail(exc) from None
    finally:
        store.close()


@memory_app.command("add")
def add(
    data: Annotated[
        str,
        typer.Argument(help="A JSON record (with its kind), or - for JSON lines on stdin."),
    ],
    backend: Backend = None,
    path: PathOpt = None,
    url: UrlOpt = None,
) -> None:
    """Add records: one JSON object, or JSON lines on standard input when DATA is -."""
    lines = sys.stdin.read().splitlines() if data == "-" else [data]
    try:
        rows = [json.loads(line) for line in lines if line.strip()]
    except json.JSONDecodeError as exc:
        raise _fail(InvalidInputError(f"not JSON: {exc}")) from None
    with _store(backend, path, url) as store:
        added = []
        with Progress(console=_err, transient=True, disable=len(rows) < 100) as bar:
            task = bar.add_task("adding", total=len(rows))
            for start in range(0, len(rows), 64):
                added += store.add(rows[start : start + 64])
                bar.advance(task, len(rows[start : start + 64]))
        store.flush()
    for record in added:
        _out.print(f"{record.kind} {record.id}")


@memory_app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    type_: TypeOpt = None,
    k: Annotated[int, typer.Option("-k", metavar="N", help="How many results.")] = 5,
    user: UserOpt = None,
    since: Annotated[
        str | None, typer.Option(metavar="TIME", help="ISO time: events at or after it.")
    ] = None,
    before: Annotated[
        str | None, typer.Option(metavar="TIME", help="ISO time: events before it.")
    ] = None,
    as_json: JsonFlag = False,
    backend: Backend = None,
    path: PathOpt = None,
    url: UrlOpt = None,
) -> None:
    """Search memory (vault entries come back redacted)."""
    from maximus.tools.memory import render

    with _store(backend, path, url) as store:
        results = store.search(query, types=type_, k=k, user_id=user, since=since, before=before)
    if not results:
        _nothing(f"no {_described(type_)} match {query!r}", user, as_json)
        return
    if as_json:
        for r in results:
            row = {"score": r.score, **r.record.model_dump(mode="json")}
            typer.echo(json.dumps(row))
        return
    table = Table("score", "memory")
    for r in results:
        table.add_row(f"{r.score:.3f}", render(r.record))
    _out.print(table)


@memory_app.command("list")
def list_(
    type_: TypeOpt = None,
    limit: Annotated[int, typer.Option(metavar="N", help="Most records of each type.")] = 50,
    user: UserOpt = None,
    as_json: JsonFlag = False,
    backend: Backend = None,
    path: PathOpt = None,
    url: UrlOpt = None,
) -> None:
    """List live records (vault entries redacted), of every type unless --type says which."""
    from maximus.tools.memory import render

    with _store(backend, path, url) as store:
        records = [
            record
            for kind in type_ or MEMORY_TYPES
            for record in store.list(kind, user_id=user, limit=limit).records
        ]
    if not records:
        _nothing(f"no {_described(type_)}", user, as_json)
        return
    for record in records:
        typer.echo(json.dumps(record.model_dump(mode="json")) if as_json else render(record))


def _described(types: list[str] | None) -> str:
    """``semantic memories``, ``core or vault memories``, or ``memories`` (every type)."""
    if not types:
        return "memories"
    named = list(dict.fromkeys(types))
    head = ", ".join(named[:-1])
    return f"{head + ' or ' if head else ''}{named[-1]} memories"


def _nothing(message: str, user: str | None, as_json: bool) -> None:
    """Say that nothing was found: on stdout, or on stderr so JSON lines stay empty."""
    message += f" for user {user!r}" if user else ""
    if as_json:
        _err.print(message, markup=False, highlight=False)
    else:
        _out.print(message, markup=False, highlight=False)


@memory_app.command("export")
def export(
    out: Annotated[
        Path, typer.Argument(metavar="FILE", help="JSON-lines file to write (- for stdout).")
    ],
    backend: Backend = None,
    path: PathOpt = None,
    url: UrlOpt = None,
) -> None:
    """Export every record with its vector (vault secrets stay encrypted)."""
    with _store(backend, path, url) as store:
        handle = sys.stdout if str(out) == "-" else _open(out, "w")
        count = 0
        try:
            with Progress(console=_err, transient=True) as bar:
                task = bar.add_task("exporting", total=None)
                for row in store.export():
                    handle.write(json.dumps(row) + "\n")
                    count += 1
                    bar.advance(task)
        finally:
            if handle is not sys.stdout:
                handle.close()
    _err.print(f"exported {count} records")


@memory_app.command("import")
def import_(
    src: Annotated[Path, typer.Argument(metavar="FILE", help="A JSON-lines file made by export.")],
    backend: Backend = None,
    path: PathOpt = None,
    url: UrlOpt = None,
) -> None:
    """Import an export (no re-embedding)."""
    with _store(backend, path, url) as store:
        with _open(src, "r") as handle, Progress(console=_err, transient=True) as bar:
            task = bar.add_task("importing", total=None)
            count = 0
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise InvalidInputError(f"{src} line {number} is not JSON: {exc}") from None
                    count += store.import_([row])
                    bar.advance(task)
        store.flush()
    _out.print(f"imported {count} records")


def _open(file: Path, mode: str) -> Any:
    """``file`` opened as text, or an :class:`InvalidInputError` that says why it cannot be."""
    try:
        return file.open(mode)
    except OSError as exc:
        action = "read" if mode == "r" else "write"
        raise InvalidInputError(f"cannot {action} {file}: {exc.strerror or exc}") from None


@memory_app.command("sweep")
def sweep(backend: Backend = None, path: PathOpt = None, url: UrlOpt = None) -> None:
    """Delete expired records."""
    with _store(backend, path, url) as store:
        removed = store.sweep()
    typer.echo(json.dumps(removed))


def _backend(name: str, path: Path | None, url: str | None) -> Any:
    from maximus.memory.longterm.backends import open_backend
    from maximus.memory.longterm.embeddings import embedding_dimension, make_embeddings

    settings = _settings(None, None, None)
    dim = embedding_dimension(make_embeddings(settings.memory))
    return open_backend(name, path, url, settings=settings, dim=dim)


def _target_name(to: str, to_url: str | None) -> str:
    # ``--to qdrant`` without a URL means the embedded engine.
    return "qdrant-edge" if to == "qdrant" and not to_url else to


def _backends(
    from_: str,
    from_path: Path | None,
    from_url: str | None,
    to: str,
    to_path: Path | None,
    to_url: str | None,
) -> tuple[Any, Any]:
    """Open the source and target backends of a migrate or verify (exit 2/3 on bad input)."""
    try:
        source = _backend(from_, from_path, from_url)
    except MaximusError as exc:
        raise _fail(exc) from None
    try:
        return source, _backend(to, to_path, to_url)
    except MaximusError as exc:
        source.close()
        raise _fail(exc) from None


FromOpt = Annotated[
    str, typer.Option("--from", metavar="BACKEND", help="Source: qdrant-edge, qdrant or chroma.")
]
ToOpt = Annotated[
    str,
    typer.Option(
        "--to",
        metavar="BACKEND",
        help="Target: qdrant-edge, qdrant or chroma (qdrant without --to-url is qdrant-edge).",
    ),
]
FromPathOpt = Annotated[
    Path | None, typer.Option(metavar="DIR", help="Source store directory (embedded engines).")
]
FromUrlOpt = Annotated[str | None, typer.Option(metavar="URL", help="Source server URL.")]
ToPathOpt = Annotated[
    Path | None, typer.Option(metavar="DIR", help="Target store directory (embedded engines).")
]
ToUrlOpt = Annotated[str | None, typer.Option(metavar="URL", help="Target server URL.")]


@memory_app.command("migrate")
def migrate_cmd(
    from_: FromOpt,
    to: ToOpt,
    from_path: FromPathOpt = None,
    from_url: FromUrlOpt = None,
    to_path: ToPathOpt = None,
    to_url: ToUrlOpt = None,
    batch: Annotated[int, typer.Option(metavar="N", help="Records copied per batch.")] = 256,
    state_file: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Where progress is kept, to resume (default: data dir)."),
    ] = None,
) -> None:
    """Copy memory between backends in batches; run again to resume after an interruption."""
    from maximus.config import get_settings
    from maximus.memory.longterm.migration import migrate, verify

    to = _target_name(to, to_url)
    source, target = _backends(from_, from_path, from_url, to, to_path, to_url)
    state = state_file or get_settings().data_dir / "memory" / f"migrate-{from_}-{to}.json"
    try:
        total = sum(source.count(kind) for kind in source.kinds())
        with Progress(console=_err) as bar:
            task = bar.add_task(f"{from_} -> {to}", total=total)
            report = migrate(
                source,
                target,
                state_file=state,
                batch=batch,
                progress=lambda _kind, n: bar.advance(task, n),
            )
        result = verify(source, target)
    except MaximusError as exc:
        raise _fail(exc) from None
    finally:
        source.close()
        target.close()
    typer.echo(
        json.dumps({"copied": report.copied, "resumed": report.resumed, "verified": result.ok})
    )
    if not result.ok:
        raise typer.Exit(1)


@memory_app.command("verify")
def verify_cmd(
    from_: FromOpt,
    to: ToOpt,
    from_path: FromPathOpt = None,
    from_url: FromUrlOpt = None,
    to_path: ToPathOpt = None,
    to_url: ToUrlOpt = None,
) -> None:
    """Compare two backends (counts, ids, checksums); exit 1 on any difference."""
    from maximus.memory.longterm.migration import verify

    source, target = _backends(
        from_, from_path, from_url, _target_name(to, to_url), to_path, to_url
    )
    try:
        report = verify(source, target)
    finally:
        source.close()
        target.close()
    rows = {
        kind: {
            "source": d.source_count,
            "target": d.target_count,
            "missing": d.missing[:20],
            "extra": d.extra[:20],
            "mismatched": d.mismatched[:20],
        }
        for kind, d in report.kinds.items()
    }
    typer.echo(json.dumps({"ok": report.ok, "kinds": rows}))
    if not report.ok:
        raise typer.Exit(1)


@memory_app.command("vault-keygen")
def vault_keygen() -> None:
    """Print a new vault key (put it first in MAXIMUS_MEMORY__VAULT_KEY to rotate)."""
    from maximus.memory.longterm.vault import generate_key

    typer.echo(generate_key())


@memory_app.command("vault-rotate")
def vault_rotate(backend: Backend = None, path: PathOpt = None, url: UrlOpt = None) -> None:
    """Re-encrypt every vault secret with the newest key."""
    with _store(backend, path, url) as store:
        done = store.rotate_vault()
        store.flush()
    _out.print(f"re-encrypted {done} secrets")


__all__ = ["memory_app"]
