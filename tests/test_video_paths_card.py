"""The model card's video section (scripts/model_card.py, measured by
engine/evaluation/video_paths.py, shared with benchmarks/video_paths.py): the held-out
items do not depend on the split's order, the table says what was measured, and the
section can be regenerated on its own without touching the rest of the card."""

from __future__ import annotations

import dataclasses
import random

from engine.evaluation.video_paths import held_out_sample
from scripts.model_card import replace_section, video_section


@dataclasses.dataclass
class _Item:
    id: str


def test_the_held_out_sample_is_the_same_whatever_the_order():
    items = [_Item(f"{i:06d}") for i in range(40)]
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)
    sample = held_out_sample(items, 10)
    assert len(sample) == 10 and len({item.id for item in sample}) == 10
    assert [item.id for item in held_out_sample(shuffled, 10)] == [item.id for item in sample]
    assert len(held_out_sample(items, 0)) == 40 and len(held_out_sample(items, 99)) == 40


def _measured(both_r1: float, video_encoder: bool = True) -> dict:
    def metrics(r1: float) -> dict:
        return {"R@1": r1, "R@5": r1 + 10, "R@10": r1 + 20}

    paths = {"lifting": 40.0, "video encoder": 60.0, "both": both_r1}
    if not video_encoder:
        paths = {"lifting": 40.0}
    return {
        "video_encoder": video_encoder,
        "items": 500,
        "paths": {
            name: {
                protocol: {"video→motion": metrics(r1), "video→text": metrics(r1 / 2)}
                for protocol in ("all", "dissimilar")
            }
            for name, r1 in paths.items()
        },
        "text_to_motion": {"all": metrics(55.0), "dissimilar": metrics(85.0)},
    }


def test_the_video_section_has_a_row_per_way_in_and_protocol():
    section = video_section(_measured(69.2))
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 3 * 2 + 2  # header, 3 ways in x 2 protocols, text→motion x 2
    both_all = next(r for r in rows if r.startswith("| both") and "| all |" in r)
    assert "| 69.2 / 79.2 / 89.2 | 34.6 / 44.6 / 54.6 |" in both_all
    assert "| *text→motion, same items* | dissimilar | 85.0 / 95.0 / 105.0 | |" in rows
    assert "500 motions of the test split" in section
    lifting_only = video_section(_measured(0.0, video_encoder=False))
    assert "lifting alone is measured" in lifting_only and "| both" not in lifting_only


def test_the_video_section_is_replaced_in_place_or_added_before_real_capture():
    card = "# Card\n\n## Descriptions\n\ntable\n\n## Real motion capture\n\nclips\n"
    added = replace_section(card, video_section(_measured(50.0)))
    assert added.index("## Descriptions") < added.index("## Video queries")
    assert added.index("## Video queries") < added.index("## Real motion capture")
    assert "\n\n## Real motion capture\n\nclips\n" in added
    again = replace_section(added, video_section(_measured(70.0)))
    assert again.count("## Video queries") == 1
    assert "| 70.0 / 80.0 / 90.0 |" in again and "| 50.0 / 60.0 / 70.0 |" not in again
    assert replace_section(again, video_section(_measured(50.0))) == added
