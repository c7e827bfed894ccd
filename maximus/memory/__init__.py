"""Memory: session checkpointers and the sinks that take reflection's lessons."""

from maximus.memory.lessons import InProcessLessonSink, Lesson, LessonSink, Priority
from maximus.memory.sessions import open_checkpointer, open_sync_checkpointer

__all__ = [
    "InProcessLessonSink",
    "Lesson",
    "LessonSink",
    "Priority",
    "open_checkpointer",
    "open_sync_checkpointer",
]
