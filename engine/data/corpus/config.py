"""Configuration of the procedural corpus: sizes, splits, held-out sets and the ranges the
generator samples from. One frozen dataclass, recorded in every corpus.json."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

CORPUS_VERSION = "procedural-motion-language-1.0"
SPLITS = ("train", "val", "test")
HELDOUT_PHRASING_SPLIT = "test_heldout_phrasing"
HELDOUT_COMBO_SPLIT = "test_heldout_combo"

# Ordered action pairs that never follow each other in train/val, and (locomotion,
# upper-body) layerings never generated there. Closed under mirroring (turn_left ↔
# turn_right), so mirrored training copies cannot leak them.
HELDOUT_SEQUENCES = (
    ("clap", "bow"),
    ("kick", "spin"),
    ("walk_backward", "jump_forward"),
    ("jumping_jacks", "squat"),
    ("turn_left", "throw"),
    ("turn_right", "throw"),
    ("stomp", "walk_forward"),
)
HELDOUT_LAYERS = (
    ("walk_backward", "wave"),
    ("run", "clap"),
    ("walk_in_circle", "drink"),
    ("walk_sideways", "punch"),
)
# Words that mark a held-out phrasing: a caption template, synonym or subject containing
# one is never used for train/val captions (see captions.py, which owns the wording).
HELDOUT_PHRASINGS = (
    "stroll",
    "dash",
    "leap",
    "pivot",
    "twirl",
    "creep",
    "applaud",
    "jab",
    "toss",
    "sip",
    "boogie",
    "scrub",
    "seen",
    "proceed",
    "individual",
)


@dataclass(frozen=True)
class CorpusConfig:
    """Everything the generator draws from. Speeds in m/s, times in seconds."""

    size: int = 6000  # originals; each also gets a mirrored copy
    fps: float = 20.0
    min_seconds: float = 2.1  # loaders drop clips under 40 frames
    max_seconds: float = 9.8  # HumanML3D clips are at most 196 frames at 20 fps
    train_fraction: float = 0.75
    val_fraction: float = 0.10  # the rest (0.15) is test
    heldout_combo_share: float = 0.2  # of test motions, built around a held-out combination
    heldout_phrasing_share: float = 0.2  # of test motions, captioned with held-out phrasings
    sequence_weights: tuple[float, ...] = (0.32, 0.36, 0.22, 0.10)  # 1, 2, 3 or 4 actions
    layer_probability: float = 0.3  # an upper-body action laid over a locomotion segment
    lead_seconds: tuple[float, float] = (0.0, 0.6)  # idle standing before and after
    blend_seconds: tuple[float, float] = (0.3, 0.5)  # cross-fade between actions
    captions: tuple[int, int] = (3, 5)  # captions per motion
    typo_rate: float = 0.04  # share of captions with a slip of the keyboard
    walk_speed: tuple[float, float] = (0.6, 1.8)
    backward_speed: tuple[float, float] = (0.4, 0.9)
    sideways_speed: tuple[float, float] = (0.3, 0.6)
    run_speed: tuple[float, float] = (2.2, 4.0)
    crawl_speed: tuple[float, float] = (0.3, 0.5)
    circle_radius: tuple[float, float] = (0.6, 2.2)
    jump_height: tuple[float, float] = (0.15, 0.4)
    turn_angles: tuple[int, ...] = (45, 90, 135, 180)
    heldout_sequences: tuple[tuple[str, str], ...] = HELDOUT_SEQUENCES
    heldout_layers: tuple[tuple[str, str], ...] = HELDOUT_LAYERS
    heldout_phrasings: tuple[str, ...] = HELDOUT_PHRASINGS

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"corpus size must be at least 1, got {self.size}")
        if not 0 < self.train_fraction + self.val_fraction < 1:
            raise ValueError("train and val fractions must leave room for a test split")

    @property
    def test_fraction(self) -> float:
        return 1.0 - self.train_fraction - self.val_fraction

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> CorpusConfig:
        return dataclasses.replace(self, **changes)
