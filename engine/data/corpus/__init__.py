"""The procedural motion–language corpus: human motions on HumanML3D's 22-joint skeleton
with human-style captions, written in HumanML3D's folder format (the engine's embedded
default data set). See docs/corpus.md.

    from engine.data.corpus import generate_motion, write_corpus
    motion = generate_motion(seed=0, index=7)          # joints, segments, captions, split
    write_corpus("corpus", size=6000, seed=0)          # the whole data set, ~minutes
"""

from engine.data.corpus.actions import ACTIONS
from engine.data.corpus.captions import Caption, uses_heldout
from engine.data.corpus.config import (
    CORPUS_VERSION,
    HELDOUT_COMBO_SPLIT,
    HELDOUT_LAYERS,
    HELDOUT_PHRASING_SPLIT,
    HELDOUT_PHRASINGS,
    HELDOUT_SEQUENCES,
    SPLITS,
    CorpusConfig,
)
from engine.data.corpus.generate import (
    CorpusSummary,
    GeneratedMotion,
    generate_action,
    generate_motion,
    split_of,
    write_corpus,
)
from engine.data.corpus.quality import quality_report

__all__ = [
    "ACTIONS",
    "CORPUS_VERSION",
    "HELDOUT_COMBO_SPLIT",
    "HELDOUT_LAYERS",
    "HELDOUT_PHRASINGS",
    "HELDOUT_PHRASING_SPLIT",
    "HELDOUT_SEQUENCES",
    "SPLITS",
    "Caption",
    "CorpusConfig",
    "CorpusSummary",
    "GeneratedMotion",
    "generate_action",
    "generate_motion",
    "quality_report",
    "split_of",
    "uses_heldout",
    "write_corpus",
]
