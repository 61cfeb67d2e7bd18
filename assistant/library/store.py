"""Stage 4, vectors -> Chroma: the embedded store under the index folder, or a Chroma server.

Chunks are written in llama-index's node format (text as the document, the node as `_node_content`), so
the collection also opens with llama-index's `ChromaVectorStore`. We write and query the collection
directly because we need upserts (re-runs after a crash) and cosine similarity as the score.

The collection's metadata is the index manifest (`manifest.py`), so every process pointed at one
Chroma server sees the same one. The connection itself, and what its failures mean, are in `chroma.py`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

from assistant.config import Settings
from assistant.errors import IndexMissingError
from assistant.library.chroma import Guarded, connect, describe_location
from assistant.library.corpus import Article
from assistant.library.manifest import Manifest, check_readable, check_writable

PAGE_SIZE = 2000
GENERATION_KEY = "index_generation"
DOCUMENTS_SUFFIX = ".articles"


@dataclass
class IndexedArticle:
    """What the store holds for one doc_id: chunks counted per content version."""

    doc_id: str
    title: str = ""
    path: str = ""
    text_hash: str = ""
    found: dict[str, int] = field(default_factory=dict)  # content_hash -> chunks present
    expected: dict[str, int] = field(default_factory=dict)  # content_hash -> chunk_count

    def is_complete(self, content_hash: str) -> bool:
        """True when exactly this version is stored, with all of its chunks and nothing else."""
        return set(self.found) == {content_hash} and (self.found[content_hash] == self.expected[content_hash])


def is_served(recorded: str | None, version: object) -> bool:
    """Is a chunk of this article version served? When its article's full-text record names the
    version, or the article has no record (an index from before records were kept). Chunks of other
    versions are leftovers of an update still running in another process, or cut short."""
    return recorded is None or recorded == version


class Store:
    """One Chroma collection of article chunks plus its manifest."""

    def __init__(self, client: Any, collection: Any, settings: Settings) -> None:
        self.client = client  # from `connect`, already guarded
        self.raw_collection = collection  # unguarded, for llama-index components and benchmarks
        self.collection = Guarded(
            collection,
            settings,
            reopen=lambda: self.client.get_collection(settings.collection, embedding_function=None),
        )
        self.settings = settings
        self._documents: Any = None

    def close(self) -> None:
        """Release the Chroma client (its connection; embedded, the database once no other client
        of the same folder is open). Idempotent."""
        self.client.close()

    @property
    def manifest(self) -> Manifest | None:
        return Manifest.from_metadata(self.collection.metadata)

    @property
    def location(self) -> str:
        return describe_location(self.settings)

    def count(self) -> int:
        return self.collection.count()

    def articles(self, doc_ids: list[str] | None = None) -> dict[str, IndexedArticle]:
        """Every stored doc_id (or these only) with its versions, read page by page from chunk
        metadata."""
        where = {"doc_id": {"$in": doc_ids}} if doc_ids else None
        articles: dict[str, IndexedArticle] = {}
        metadatas = (meta for page in self._pages(["metadatas"], where) for meta in page["metadatas"])
        for metadata in metadatas:
            doc_id = metadata["doc_id"]
            entry = articles.setdefault(
                doc_id,
                IndexedArticle(doc_id, metadata["title"], metadata["path"], metadata["text_hash"]),
            )
            version = metadata["content_hash"]
            entry.found[version] = entry.found.get(version, 0) + 1
            entry.expected[version] = metadata["chunk_count"]
        return articles

    def generation(self) -> str:
        """A token that changes whenever the collection's content changes (set by `touch`)."""
        fresh = self.client.get_collection(self.settings.collection, embedding_function=None)
        return str((fresh.metadata or {}).get(GENERATION_KEY, ""))

    def touch(self) -> None:
        """Record that the content changed, so caches built on the old content are dropped."""
        manifest = self.manifest
        metadata = manifest.to_metadata() if manifest else {}
        self.collection.modify(metadata={**metadata, GENERATION_KEY: uuid.uuid4().hex})

    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """(ids, texts, metadatas) of every chunk."""
        return self._chunks([None])

    def chunks_of(self, doc_ids: list[str]) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """(ids, texts, metadatas) of every chunk of these articles."""
        step = PAGE_SIZE // 4
        return self._chunks(
            [{"doc_id": {"$in": doc_ids[i : i + step]}} for i in range(0, len(doc_ids), step)]
        )

    def _chunks(
        self, wheres: list[dict[str, Any] | None]
    ) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        for where in wheres:
            for page in self._pages(["documents", "metadatas"], where):
                ids.extend(page["ids"])
                texts.extend(page["documents"])
                metas.extend(page["metadatas"])
        return ids, texts, metas

    def _pages(
        self, include: list[str], where: dict[str, Any] | None = None, collection: Any = None
    ) -> Iterator[dict[str, Any]]:
        collection = collection or self.collection
        offset = 0
        while True:
            page = collection.get(where=where, include=include, limit=PAGE_SIZE, offset=offset)
            yield page
            if len(page["ids"]) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def get_nodes(self, ids: list[str]) -> dict[str, TextNode]:
        """The stored nodes for these chunk ids (missing ids are left out)."""
        if not ids:
            return {}
        page = self.collection.get(ids=ids, include=["documents", "metadatas"])
        return {
            chunk_id: metadata_dict_to_node(meta, text=text)
            for chunk_id, text, meta in zip(page["ids"], page["documents"], page["metadatas"], strict=True)
        }

    def upsert(self, nodes: list[TextNode]) -> None:
        """Write nodes that carry embeddings; ids are deterministic, so a re-run overwrites."""
        batch = self.client.get_max_batch_size()
        for i in range(0, len(nodes), batch):
            part = nodes[i : i + batch]
            self.collection.upsert(
                ids=[n.node_id for n in part],
                embeddings=[n.get_embedding() for n in part],
                documents=[n.text for n in part],
                metadatas=[node_to_metadata_dict(n, remove_text=True, flat_metadata=True) for n in part],
            )

    def text_holders(self, text_hashes: list[str]) -> dict[str, str]:
        """text_hash -> the doc_id of an article whose chunks carry that text, for these texts."""
        where = {"text_hash": {"$in": text_hashes}}
        return {
            meta["text_hash"]: meta["doc_id"]
            for page in self._pages(["metadatas"], where)
            for meta in page["metadatas"]
        }

    def held_documents(self, doc_ids: list[str]) -> set[str]:
        """Those of these articles whose full-text record is stored."""
        return set(self.documents.get(ids=doc_ids, include=[])["ids"])

    def has_article(self, doc_id: str) -> bool:
        """True when the article has chunks or a full text stored."""
        if self.collection.get(where={"doc_id": doc_id}, limit=1, include=[])["ids"]:
            return True
        return bool(self.held_documents([doc_id]))

    def delete_article(self, doc_id: str, keep_version: str | None = None) -> None:
        """Remove an article (chunks and full text), or only its chunks of versions but `keep_version`."""
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_version is not None:
            where = {"$and": [where, {"content_hash": {"$ne": keep_version}}]}
        else:
            self.documents.delete(ids=[doc_id])
        self.collection.delete(where=where)

    # --- whole articles, for "open the source" ---------------------------------------------------

    @property
    def documents(self) -> Any:
        """A side collection holding each article's full text, keyed by doc_id.

        Kept in Chroma, beside the chunks, so that every process sharing a server sees it. It holds no
        meaningful vectors: each record carries a constant one-number embedding.
        """
        if self._documents is None:

            def documents() -> Any:
                name = f"{self.settings.collection}{DOCUMENTS_SUFFIX}"
                return self.client.get_or_create_collection(name, embedding_function=None)

            self._documents = Guarded(documents(), self.settings, reopen=documents)
        return self._documents

    def put_documents(self, articles: list[Article], chunks: dict[str, int] | None = None) -> None:
        """Store the full texts of these articles, in one round trip, with how many chunks each was
        split into when that is known (`chunks`: doc_id -> count)."""
        if not articles:
            return
        indexed = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        counts = chunks or {}
        self.documents.upsert(
            ids=[a.doc_id for a in articles],
            embeddings=[[0.0]] * len(articles),
            documents=[a.text for a in articles],
            metadatas=[
                {"title": a.title, "source": a.source, "published": a.published, "url": a.url,
                 "content_hash": a.content_hash, "indexed": indexed, "listed_by": a.listed_by,
                 "entry": a.entry, "author": a.author}
                | ({"chunks": counts[a.doc_id]} if a.doc_id in counts else {})
                for a in articles
            ],
        )  # fmt: skip

    def listed_by(self, listing: str) -> dict[str, str]:
        """The articles read from this feed or sitemap: doc_id -> the link it listed."""
        page = self.documents.get(where={"listed_by": listing}, include=["metadatas"])
        return {i: m.get("entry", "") for i, m in zip(page["ids"], page["metadatas"], strict=True)}

    def current_only(self, results: list[NodeWithScore]) -> list[NodeWithScore]:
        """The results less chunks of article versions that the article's full-text record no longer
        names. An update writes the new version's chunks, then its record, then drops the old chunks:
        cut short (`kill -9`) or still running in another process, it leaves two versions' chunks,
        and only the recorded one is served, so a citation always fits the text `/view` shows."""
        doc_ids = sorted({str(r.node.metadata.get("doc_id", "")) for r in results})
        if not doc_ids:
            return results
        page = self.documents.get(ids=doc_ids, include=["metadatas"])
        current = {
            i: (m or {}).get("content_hash") for i, m in zip(page["ids"], page["metadatas"], strict=True)
        }
        return [
            r
            for r in results
            if is_served(current.get(r.node.metadata.get("doc_id")), r.node.metadata.get("content_hash"))
        ]

    def recorded_versions(self) -> dict[str, str]:
        """doc_id -> the version (content hash) its full-text record names, for every article."""
        return {
            doc_id: str((meta or {}).get("content_hash", ""))
            for page in self._pages(["metadatas"], collection=self.documents)
            for doc_id, meta in zip(page["ids"], page["metadatas"], strict=True)
        }

    def document_ids(self) -> set[str]:
        return set(self.documents.get(include=[])["ids"])

    def list_documents(self) -> list[dict[str, Any]]:
        """doc_id, title, source, published, url, when it was indexed (UTC; empty for an index made
        before this was kept) and its chunks, of every article, by title."""
        page = self.documents.get(include=["metadatas"])
        rows = [
            {"doc_id": i, "indexed": "", **m} for i, m in zip(page["ids"], page["metadatas"], strict=True)
        ]
        uncounted = [row for row in rows if "chunks" not in row]  # records written before counts were kept
        if uncounted:  # counted from the chunks themselves (a pass over every chunk's metadata)
            counts = {doc_id: sum(entry.found.values()) for doc_id, entry in self.articles().items()}
            for row in uncounted:
                row["chunks"] = counts.get(row["doc_id"], 0)
        return sorted(rows, key=lambda row: (row["title"].lower(), row["doc_id"]))

    def get_document(self, doc_id: str) -> dict[str, Any] | None:
        """The article's metadata and full text, or None."""
        page = self.documents.get(ids=[doc_id], include=["documents", "metadatas"])
        if not page["ids"]:
            return None
        return {"doc_id": doc_id, **page["metadatas"][0], "text": page["documents"][0]}

    def nearest_ids(
        self, embedding: list[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the nearest chunks, without fetching their content."""
        result = self.collection.query(
            query_embeddings=[embedding], n_results=k, where=where or None, include=["distances"]
        )
        return [(i, 1.0 - d) for i, d in zip(result["ids"][0], result["distances"][0], strict=True)]

    def query(
        self, embedding: list[float], k: int, where: dict[str, Any] | None = None
    ) -> list[NodeWithScore]:
        """Nearest chunks to a normalised vector, scored by cosine similarity, best first."""
        result = self.collection.query(
            query_embeddings=[embedding],
            n_results=k,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            NodeWithScore(node=metadata_dict_to_node(meta, text=text), score=1.0 - distance)
            for text, meta, distance in zip(
                result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]


def open_store(settings: Settings) -> Store:
    """Open an existing, non-empty index for reading; checks its model against the settings."""
    from chromadb.errors import NotFoundError

    client = connect(settings, create=False)
    try:
        collection = client.get_collection(settings.collection, embedding_function=None)
    except NotFoundError:
        client.close()
        raise IndexMissingError(
            f"no index in {describe_location(settings)}; run `assistant ingest` first"
        ) from None
    store = Store(client, collection, settings)
    try:
        check_readable(store.count(), store.manifest, settings)
    except Exception:
        store.close()
        raise
    return store


def open_store_for_writing(settings: Settings, manifest: Manifest, *, rebuild: bool = False) -> Store:
    """Open or create the collection for ingestion; refuses to mix models or chunkings."""
    from chromadb.errors import NotFoundError

    client = connect(settings, create=True)
    try:
        if rebuild:
            for name in (settings.collection, f"{settings.collection}{DOCUMENTS_SUFFIX}"):
                with contextlib.suppress(NotFoundError):
                    client.delete_collection(name)
        collection = client.get_or_create_collection(
            settings.collection,
            metadata={"hnsw:space": "cosine", **manifest.to_metadata()},
            embedding_function=None,
        )
        store = Store(client, collection, settings)
        check_writable(store.manifest, manifest, settings)
    except Exception:
        client.close()
        raise
    return store
