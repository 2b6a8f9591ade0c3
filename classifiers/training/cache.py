"""An on-disk cache of sentence embeddings (under ``var/``), so retraining is quick."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from classifiers.encoder import Encoder

log = logging.getLogger(__name__)


class EmbeddingCache:
    """Embeddings keyed by model version and a hash of the prepared text."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._store: dict[str, npt.NDArray[np.float32]] = {}
        self._dirty = False
        if path is not None and path.is_file():
            with np.load(path) as data:
                keys = data["keys"]
                vecs = data["vecs"]
            self._store = {str(k): vecs[i] for i, k in enumerate(keys)}

    @staticmethod
    def _key(encoder: Encoder, text: str) -> str:
        digest = hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()
        return f"{encoder.version}:{encoder.max_tokens}:{digest}"

    def embed(
        self, encoder: Encoder, texts: Sequence[str], progress: bool = False
    ) -> npt.NDArray[np.float32]:
        """Embeddings for ``texts``, computing only those not cached."""
        keys = [self._key(encoder, t) for t in texts]
        missing = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self._store}.items()
        )
        if missing:
            log.info("embedding %d new texts", len(missing))
            step = 2048
            for start in range(0, len(missing), step):
                chunk = missing[start : start + step]
                vecs = encoder.encode([t for _, t in chunk])
                for (k, _), v in zip(chunk, vecs, strict=True):
                    self._store[k] = v
                self._dirty = True
                if progress:
                    log.info("embedded %d/%d", min(start + step, len(missing)), len(missing))
        out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = self._store[k]
        return out

    def save(self) -> None:
        """Write the cache back to disk if it changed."""
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._store.keys()))
        vecs = np.stack(list(self._store.values())).astype(np.float32)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vecs=vecs)
        tmp.replace(self.path)
        self._dirty = False
