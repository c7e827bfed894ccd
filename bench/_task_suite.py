"""The tool tasks of ``bench.tasks``: goals whose answers a program checks.

33 tasks in six categories: calculator chains, date arithmetic, JSON queries, text statistics,
files written and read back in the workspace, and memory (remember in one run, recall in a
later run on a new thread). Each task names its category's tools (the same for every agent),
its runs (one goal each; memory tasks have two), the *needles* its final answer must contain
(numbers compared as numbers, text case-insensitively), and files that must exist afterwards.
An answer that echoes the input quoted in the goal (the JSON document, the text; say, a tool
call written out as text) is not credited for it: runs of 5 or more words or numbers
copied from the input are removed before the needles are looked for.

Expected values are computed here with Python (``datetime``, ``json``, the text plugin's own
counting rules), never copied from a model. Each run also has a *gold* list of tool calls that
solves it: the ``--fake`` model follows it, and a unit test checks that following it passes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from maximus.plugins.core.text_stats import keywords, statistics

Category = Literal["calculator", "dates", "json", "text", "files", "memory"]
Call = tuple[str, dict[str, Any]]

TOOLS: dict[Category, tuple[str, ...]] = {
    "calculator": ("calculate",),
    "dates": ("datetime_diff", "datetime_shift", "datetime_convert"),
    "json": ("json_query",),
    "text": ("text_stats", "text_keywords"),
    "files": ("file_read", "file_write", "file_list", "calculate"),
    "memory": (),  # the memory tools over the task's own store (see bench.tasks)
}
"""The tools each category's tasks get, by name (core plugin tools)."""


@dataclass(frozen=True, slots=True)
class Run:
    """One run of a task: a goal on a new thread, and tool calls that solve it."""

    goal: str
    gold: tuple[Call, ...]


@dataclass(frozen=True, slots=True)
class Task:
    """A tool task with a checkable answer."""

    id: str
    category: Category
    runs: tuple[Run, ...]
    needles: tuple[str | float, ...]
    """What the last run's answer must contain: numbers (as numbers) and text."""
    setup: dict[str, str] = field(default_factory=dict)
    """Files put in the workspace before the first run."""
    files: dict[str, str] = field(default_factory=dict)
    """Files that must exist afterwards, and text each must contain."""
    quoted: tuple[str, ...] = ()
    """Input quoted in the goal, whose echo earns nothing."""


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")
ECHO_SPAN = 5
"""Words or numbers in a row, copied from the input, that count as an echo."""


def numbers_in(text: str) -> list[float]:
    """The numbers in ``text`` (thousands separators dropped)."""
    return [float(n) for n in _NUMBER.findall(re.sub(r"(?<=\d),(?=\d{3}\b)", "", text))]


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers (punctuation, quotes and escapes dropped)."""
    return _TOKEN.findall(re.sub(r"(?<=\d),(?=\d{3}\b)", "", text).lower())


def without_echo(answer: str, quoted: tuple[str, ...]) -> list[str]:
    """The answer's tokens less every run of :data:`ECHO_SPAN` copied from ``quoted``."""
    said = tokens(answer)
    grams = {
        tuple(source[i : i + ECHO_SPAN])
        for source in map(tokens, quoted)
        for i in range(len(source) - ECHO_SPAN + 1)
    }
    keep = [True] * len(said)
    for i in range(len(said) - ECHO_SPAN + 1):
        if tuple(said[i : i + ECHO_SPAN]) in grams:
            keep[i : i + ECHO_SPAN] = [False] * ECHO_SPAN
    return [t for t, k in zip(said, keep, strict=True) if k]


def answer_ok(task: Task, answer: str) -> bool:
    """Whether ``answer`` states every needle of ``task`` (outside any echo of its input)."""
    said = without_echo(answer, task.quoted)
    text = " ".join(said)
    found = [float(t) for t in said if t[0].isdigit()]
    for needle in task.needles:
        if isinstance(needle, float | int):
            if not any(math.isclose(n, needle, rel_tol=1e-6, abs_tol=1e-6) for n in found):
                return False
        elif " ".join(tokens(needle)) not in text:
            return False
    return True


def one(task_id: str, category: Category, goal: str, needles: tuple[str | float, ...],
        *gold: Call, **files: Any) -> Task:  # fmt: skip
    """A one-run task."""
    return Task(task_id, category, (Run(goal, gold),), needles, **files)


def calculate(expression: str) -> Call:
    """A call of the calculator tool."""
    return ("calculate", {"expression": expression})


def _calculator() -> list[Task]:
    cases = [
        ("calc_brackets", "What is (128 + 256) * 3 - 17?", "(128 + 256) * 3 - 17", 1135),
        ("calc_plus", "What is 17 * 23, plus 9?", "17 * 23 + 9", 400),
        ("calc_power", "Compute 2 to the power of 20, minus 1000.", "2**20 - 1000", 2**20 - 1000),
        ("calc_sqrt", "What is the square root of 1764, times 7?", "sqrt(1764) * 7", 294),
        ("calc_percent", "What is 15% of 2480?", "2480 * 15 / 100", 372),
        ("calc_divide", "Divide 9876 by 12, then add 77.", "9876 / 12 + 77", 9876 / 12 + 77),
        ("calc_factorial", "What is the factorial of 8, divided by 64?", "factorial(8) / 64",
         math.factorial(8) / 64),
        ("calc_modulo", "What is the remainder of 123456 divided by 97?", "123456 % 97",
         123456 % 97),
    ]  # fmt: skip
    return [one(i, "calculator", goal, (float(v),), calculate(e)) for i, goal, e, v in cases]


def _dates() -> list[Task]:
    d1, d2 = date(2024, 2, 10), date(2024, 3, 5)
    later = date(2025, 1, 20) + timedelta(days=45)
    earlier = date(2025, 6, 1) - timedelta(days=100)
    weekday = date(2024, 7, 4).strftime("%A")
    tokyo = datetime(2025, 6, 1, 12, tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    hours = (datetime(2025, 3, 3, 20) - datetime(2025, 3, 1, 8)).total_seconds() / 3600
    start = "2024-02-10T00:00:00"
    return [
        one("date_diff", "dates", "How many days are there from 2024-02-10 to 2024-03-05?",
            (float((d2 - d1).days),),
            ("datetime_diff", {"start": start, "end": "2024-03-05T00:00:00", "unit": "days"})),
        one("date_after", "dates", "What date is 45 days after 2025-01-20?", (later.isoformat(),),
            ("datetime_shift", {"timestamp": "2025-01-20T00:00:00", "days": 45})),
        one("date_before", "dates", "What date was 100 days before 2025-06-01?",
            (earlier.isoformat(),),
            ("datetime_shift", {"timestamp": "2025-06-01T00:00:00", "days": -100})),
        one("date_weekday", "dates", "What day of the week was 2024-07-04?", (weekday,),
            ("datetime_shift", {"timestamp": "2024-07-04T00:00:00", "days": 0})),
        one("date_tokyo", "dates",
            "When it is 2025-06-01T12:00:00 in UTC, what time is it in Tokyo (Asia/Tokyo)?",
            (tokyo.strftime("%H:%M"),),
            ("datetime_convert", {"timestamp": "2025-06-01T12:00:00", "to_timezone": "Asia/Tokyo",
                                  "from_timezone": "UTC"})),
        one("date_hours", "dates",
            "How many hours are there from 2025-03-01T08:00:00 to 2025-03-03T20:00:00?",
            (hours,),
            ("datetime_diff", {"start": "2025-03-01T08:00:00", "end": "2025-03-03T20:00:00",
                               "unit": "hours"})),
    ]  # fmt: skip


SHOP: dict[str, list[dict[str, Any]]] = {
    "items": [
        {"name": "apple", "price": 1.2, "qty": 10},
        {"name": "bread", "price": 2.5, "qty": 2},
        {"name": "cheese", "price": 7.0, "qty": 1},
        {"name": "dates", "price": 4.8, "qty": 3},
    ]
}


def _json() -> list[Task]:
    data = json.dumps(SHOP)
    items = SHOP["items"]
    priciest = max(items, key=lambda i: i["price"])["name"]
    cheap = tuple(i["name"] for i in items if i["price"] < 3)
    many = tuple(i["name"] for i in items if i["qty"] > 2)

    def query(path: str) -> Call:
        return ("json_query", {"data": data, "path": path})

    return [
        replace(task, quoted=(data,))
        for task in [
        one("json_priciest", "json", f"Which item has the highest price in this JSON? {data}",
            (str(priciest),), query("$.items[?(@.price > 5)].name")),
        one("json_cheap", "json", f"Which items cost less than 3 in this JSON? {data}",
            cheap, query("$.items[?(@.price < 3)].name")),
        one("json_count", "json", f"How many items does this JSON list? {data}",
            (float(len(items)),), query("$.items.`len`")),
        one("json_qty", "json", f"What is the quantity (qty) of bread in this JSON? {data}",
            (2.0,), query("$.items[?(@.name == 'bread')].qty")),
        one("json_many", "json", f"Which items have a qty greater than 2 in this JSON? {data}",
            many, query("$.items[?(@.qty > 2)].name")),
        one("json_price", "json", f"What is the price of dates in this JSON? {data}", (4.8,),
            query("$.items[?(@.name == 'dates')].price")),
        ]
    ]  # fmt: skip


FOX = "The quick brown fox jumps over the lazy dog. The dog sleeps. A fox runs."
RIVERS = "Rivers feed lakes. Rivers carve valleys. Rivers flood plains in spring."


def _text() -> list[Task]:
    fox, rivers = statistics(FOX), statistics(RIVERS)
    top = keywords(RIVERS, 1)[0][0]

    def stats(text: str) -> Call:
        return ("text_stats", {"text": text})

    return [
        replace(task, quoted=(FOX, RIVERS))
        for task in [
        one("text_words", "text", f'How many words are in this text: "{FOX}"',
            (float(fox["words"]),), stats(FOX)),
        one("text_sentences", "text", f'How many sentences are in this text: "{RIVERS}"',
            (float(rivers["sentences"]),), stats(RIVERS)),
        one("text_keyword", "text", f'What is the most frequent keyword of this text: "{RIVERS}"',
            (top,), ("text_keywords", {"text": RIVERS, "top": 1})),
        one("text_unique", "text", f'How many unique words does this text have: "{FOX}"',
            (float(fox["unique_words"]),), stats(FOX)),
        one("text_chars", "text",
            f'How many characters, not counting spaces, does this text have: "{RIVERS}"',
            (float(rivers["characters_no_spaces"]),), stats(RIVERS)),
        ]
    ]  # fmt: skip


def _files() -> list[Task]:
    numbers = [4, 8, 15, 16, 23, 42]
    return [
        one("file_roundtrip", "files",
            "Write the text 'alpha beta gamma' to the file notes/greek.txt in the workspace, then "
            "read the file back and tell me its content.",
            ("alpha beta gamma",),
            ("file_write", {"path": "notes/greek.txt", "content": "alpha beta gamma"}),
            ("file_read", {"path": "notes/greek.txt"}),
            files={"notes/greek.txt": "alpha beta gamma"}),
        one("file_lookup", "files",
            "The workspace file data/prices.txt lists fruit prices. What is the price of pears?",
            (5.0,), ("file_read", {"path": "data/prices.txt"}),
            setup={"data/prices.txt": "apples 3\npears 5\nplums 7\n"}),
        one("file_list", "files",
            "Create the file todo.md containing 'buy milk' in the workspace, then list the "
            "workspace's files and tell me their names.",
            ("todo.md", "readme.txt"),
            ("file_write", {"path": "todo.md", "content": "buy milk"}), ("file_list", {}),
            setup={"readme.txt": "hello\n"}, files={"todo.md": "buy milk"}),
        one("file_sum", "files",
            "Read numbers.txt in the workspace, add up its numbers, write the sum to sum.txt, "
            "and tell me the sum.",
            (float(sum(numbers)),), ("file_read", {"path": "numbers.txt"}),
            calculate(" + ".join(map(str, numbers))),
            ("file_write", {"path": "sum.txt", "content": str(sum(numbers))}),
            setup={"numbers.txt": "\n".join(map(str, numbers)) + "\n"},
            files={"sum.txt": str(sum(numbers))}),
    ]  # fmt: skip


def _memory() -> list[Task]:
    facts = [
        ("memory_locker", "My locker code is 4711.", "What is my locker code?", "locker code",
         (4711.0,)),
        ("memory_birthday", "My sister Ana's birthday is on 14 March.",
         "When is my sister Ana's birthday?", "Ana birthday", (14.0, "march")),
        ("memory_wifi", "The office Wi-Fi network is called BlueHeron-5G.",
         "What is the office Wi-Fi network called?", "office Wi-Fi network", ("blueheron",)),
        ("memory_restart", "To restart the build server, run the command svc-restart --hard.",
         "Which command restarts the build server?", "restart build server", ("svc-restart",)),
    ]  # fmt: skip
    return [
        Task(
            task_id,
            "memory",
            (
                Run(f"Remember this for later: {fact}", (("remember", {"content": fact}),)),
                Run(
                    f"{question} Look it up in your long-term memory.",
                    (("search_semantic_memory", {"query": query}),),
                ),
            ),
            needles,
        )
        for task_id, fact, question, query, needles in facts
    ]


def all_tasks() -> list[Task]:
    """Every task, in a fixed order."""
    return [*_calculator(), *_dates(), *_json(), *_text(), *_files(), *_memory()]


__all__ = [
    "TOOLS",
    "Call",
    "Category",
    "Run",
    "Task",
    "all_tasks",
    "answer_ok",
    "numbers_in",
    "tokens",
    "without_echo",
]
