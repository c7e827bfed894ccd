"""The shared runs' key names and record encoding, without Redis."""

from __future__ import annotations

from maximus.server._run_keys import RunKeys, decode_record, encode_record, event_seq
from maximus.server._shared_reads import view


def test_keys_live_under_the_prefix() -> None:
    keys = RunKeys("p:runs")
    names = [
        keys.record("r"),
        keys.thread_runs("t"),
        keys.active("t"),
        keys.events("r"),
        keys.owner("r"),
        keys.cancel("r"),
        keys.queue,
        keys.leases,
        keys.channel,
    ]
    assert all(n.startswith("p:runs:") for n in names)
    assert len(set(names)) == len(names)


def test_stream_ids_are_event_numbers() -> None:
    assert event_seq(b"7-0") == 7 and event_seq("12-0") == 12


def test_a_record_round_trips_into_a_read_only_view() -> None:
    fields = {
        "run_id": "r",
        "thread_id": "t",
        "assistant_id": "a",
        "graph_id": "chat",
        "owner": "alice",
        "request": {"input": {"x": 1}},
        "multitask_strategy": "enqueue",
        "stateless": False,
        "status": "success",
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:01+00:00",
        "result": {"messages": []},
        "error": None,
        "attempt": 2,
    }
    run = view(decode_record(encode_record(fields)))
    assert run.finished and run.task is None and run.attempt == 2
    assert run.as_dict()["multitask_strategy"] == "enqueue" and run.result == {"messages": []}
