"""Lifting vs the video encoder vs both, on held-out simulated observations of the test
split (video→motion and video→text R@1/5/10, next to text→motion), and what each finds
for OpenCV's pedestrian (vtest.avi) when Debian's opencv-doc is installed.

    python -m benchmarks.video_paths --video-encoder runs/video_encoder.safetensors [--items 500]

The same measurement (engine/evaluation/video_paths.py) is in the model card
(`python -m scripts.model_card`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.catalog import open_search_engine
from engine.evaluation.video_paths import HELD_OUT_ITEMS, evaluate_held_out, video_paths_table
from engine.models.video_encoder import combined, load_video_encoder
from engine.video import video_to_motion
from engine.video.samples import clip, find_vtest


def vtest_actions(engine, video_encoder, folder: Path) -> dict[str, list[str]]:
    """The top-5 results' action labels for the vtest pedestrian, per path."""
    source = find_vtest()
    if source is None:
        return {}
    result = video_to_motion(clip(source, folder / "vtest.mp4", 5.0, 10.0))
    lifted = engine.embed_motion(result.motion.features)
    encoded = video_encoder.embed([result.track])[0]
    paths = {"lifting": lifted, "video encoder": encoded, "both": combined(lifted, encoded)}
    return {
        name: ["/".join(h.actions) for h in engine.search_distinct(vector, 5)]
        for name, vector in paths.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video-encoder", type=Path, required=True)
    parser.add_argument("--items", type=int, default=HELD_OUT_ITEMS, help="0: all")
    parser.add_argument("--out", type=Path, default=Path("test-output/video-paths.json"))
    args = parser.parse_args()
    engine = open_search_engine(None, None, None, "cpu")
    video_encoder = load_video_encoder(args.video_encoder, engine.encoder.fingerprint)
    results = evaluate_held_out(engine.encoder, video_encoder, engine.gallery.items, args.items)
    report = {
        "items": results.items,
        "paths": results.paths,
        "text→motion": results.text_to_motion,
        "vtest.avi top 5": vtest_actions(engine, video_encoder, args.out.parent),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(json.dumps(report, indent=1, ensure_ascii=False))
    print(video_paths_table(results))


if __name__ == "__main__":
    main()
