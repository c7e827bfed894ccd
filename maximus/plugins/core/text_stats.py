"""Core plugin ``text_stats``: statistics of a text, its keywords, and a report sub-graph.

The statistics are counted locally: words, sentences, paragraphs, syllables (a vowel-group
heuristic), Flesch reading ease and Flesch-Kincaid grade, reading time at 230 words a
minute, and the most frequent words outside a stop list. The plugin also contributes the
``text_report`` sub-graph (clean → measure → keywords → report), which the agent calls as
one tool.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from langchain_core.tools import BaseTool, tool
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from maximus.plugins.base import BasePlugin, SubGraph
from maximus.plugins.hookspecs import hookimpl
from maximus.plugins.manifest import PluginType

WORDS_PER_MINUTE = 230
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\d+(?:[.,]\d+)*")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")
_VOWELS = re.compile(r"[aeiouy]+")
STOPWORDS = frozenset(
    "a about above after again against all am an and any are as at be because been before "
    "being below between both but by can could did do does doing down during each few for "
    "from further had has have having he her here hers herself him himself his how i if in "
    "into is it its itself just me more most my myself no nor not now of off on once only or "
    "other our ours ourselves out over own same she should so some such than that the their "
    "theirs them themselves then there these they this those through to too under until up "
    "very was we were what when where which while who whom why will with would you your "
    "yours yourself yourselves".split()
)


def words(text: str) -> list[str]:
    """The words of ``text``, in order."""
    return _WORD.findall(text)


def syllables(word: str) -> int:
    """Syllables in an English word (vowel groups, a silent final 'e' dropped)."""
    lowered = word.lower()
    if lowered.isdigit():
        return 1
    count = len(_VOWELS.findall(lowered))
    if lowered.endswith("e") and not lowered.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(count, 1)


def keywords(text: str, top: int = 10) -> list[tuple[str, int]]:
    """The ``top`` most frequent words of three or more letters, outside the stop list."""
    counted = Counter(w.lower() for w in words(text) if len(w) > 2 and w.lower() not in STOPWORDS)
    return sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:top]


def statistics(text: str) -> dict[str, Any]:
    """Counts and readability scores of ``text``."""
    found = words(text)
    n_words = len(found)
    n_sentences = len(_SENTENCE_END.findall(text)) or (1 if n_words else 0)
    n_syllables = sum(syllables(w) for w in found)
    per_sentence = n_words / n_sentences if n_sentences else 0.0
    per_word = n_syllables / n_words if n_words else 0.0
    return {
        "characters": len(text),
        "characters_no_spaces": sum(not c.isspace() for c in text),
        "words": n_words,
        "unique_words": len({w.lower() for w in found}),
        "sentences": n_sentences,
        "paragraphs": len([p for p in re.split(r"\n\s*\n", text) if p.strip()]),
        "syllables": n_syllables,
        "avg_word_length": round(sum(len(w) for w in found) / n_words, 2) if n_words else 0.0,
        "avg_sentence_words": round(per_sentence, 2),
        "flesch_reading_ease": round(206.835 - 1.015 * per_sentence - 84.6 * per_word, 1)
        if n_words
        else 0.0,
        "flesch_kincaid_grade": round(0.39 * per_sentence + 11.8 * per_word - 15.59, 1)
        if n_words
        else 0.0,
        "reading_time_s": round(n_words / WORDS_PER_MINUTE * 60),
    }


class ReportState(TypedDict, total=False):
    """The ``text_report`` sub-graph's state."""

    text: str
    """The input text."""
    clean: str
    """The text with whitespace normalised."""
    stats: dict[str, Any]
    """:func:`statistics` of the text."""
    top: list[tuple[str, int]]
    """Its keywords."""
    report: str
    """The report, the sub-graph's output."""


def build_report_graph() -> Any:
    """The compiled ``text_report`` graph."""

    def clean(state: ReportState) -> ReportState:
        return {"clean": re.sub(r"[ \t]+", " ", state.get("text", "")).strip()}

    def measure(state: ReportState) -> ReportState:
        return {"stats": statistics(state["clean"])}

    def pick(state: ReportState) -> ReportState:
        return {"top": keywords(state["clean"], 5)}

    def report(state: ReportState) -> ReportState:
        s = state["stats"]
        top = ", ".join(f"{w} ({n})" for w, n in state["top"]) or "none"
        return {
            "report": f"{s['words']} words in {s['sentences']} sentences; reading ease "
            f"{s['flesch_reading_ease']} (grade {s['flesch_kincaid_grade']}); about "
            f"{s['reading_time_s']} s to read; keywords: {top}"
        }

    builder = StateGraph(ReportState)
    for name, node in (("clean", clean), ("measure", measure), ("keywords", pick),
                       ("report", report)):  # fmt: skip
        builder.add_node(name, node)
    builder.add_edge(START, "clean")
    builder.add_edge("clean", "measure")
    builder.add_edge("measure", "keywords")
    builder.add_edge("keywords", "report")
    builder.add_edge("report", END)
    return builder.compile(name="text_report")


class TextStatsPlugin(BasePlugin):
    """Text statistics, keywords and a readability report."""

    name = "text_stats"
    version = "1.0.0"
    plugin_type = PluginType.PROCESSING

    def tools(self) -> list[BaseTool]:
        """``text_stats`` and ``text_keywords``."""

        @tool
        def text_stats(text: str) -> str:
            """Statistics of a text as JSON: characters, words, sentences, paragraphs,
            syllables, Flesch reading ease and grade, and reading time."""
            return json.dumps(statistics(text))

        @tool
        def text_keywords(text: str, top: int = 10) -> str:
            """The most frequent meaningful words of a text, with their counts, as JSON."""
            return json.dumps(dict(keywords(text, max(1, min(top, 100)))))

        return [text_stats, text_keywords]

    def graphs(self) -> list[SubGraph]:
        """The ``text_report`` sub-graph."""
        return [
            SubGraph(
                "text_report",
                "Write a short readability report of a text (words, sentences, reading "
                "ease, reading time, keywords). Input: {'text': ...}.",
                build_report_graph(),
                output_key="report",
            )
        ]


@hookimpl
def maximus_register_plugins() -> list[type[BasePlugin]]:
    """Register the text statistics plugin."""
    return [TextStatsPlugin]


__all__ = ["TextStatsPlugin", "build_report_graph", "keywords", "statistics", "syllables"]
