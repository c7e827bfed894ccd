"""Long-term memory of the six MIRIX types: records, the store, the vault, embeddings,
migration, the LangChain vector store, and the vector backends (``backends/``).

Vendor engines are imported only when a backend or an embedding model is opened. The public
names are re-exported, loaded on first use, from :mod:`maximus.memory`.
"""
