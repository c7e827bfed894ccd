"""Lessons: what reflection learns, and the sinks that write it off the critical path.

``base`` holds the types, ``sink`` the in-process sink, ``queue`` the Redis reflection queue and
its lesson log (import it from there, or from :mod:`maximus.memory`, which loads it on first
use), and ``factory`` opens the sink the settings call for.
"""

from maximus.memory.lessons.base import Lesson, LessonSink, LessonWriter, Priority
from maximus.memory.lessons.factory import open_lesson_sink
from maximus.memory.lessons.sink import InProcessLessonSink

__all__ = [
    "InProcessLessonSink",
    "Lesson",
    "LessonSink",
    "LessonWriter",
    "Priority",
    "open_lesson_sink",
]
