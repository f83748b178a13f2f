"""A contact sheet of generated motions: one row per action, frames evenly spread in time.

    python -m scripts.contact_sheet [--out docs/corpus_contact_sheet.png] [--actions a,b,...]

For a person to judge at a glance whether the corpus's motions look human. Each row is
one clip of one action from the generator (`generate_action`), drawn by the engine's
renderer, labelled with the action and the clip's first caption.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.data.corpus.generate import generate_action
from engine.motion.features import features_to_joints, joints_to_features
from engine.render import RenderSettings, iter_frames

DEFAULT_ACTIONS = (
    "walk_forward",
    "run",
    "jump_forward",
    "turn_left",
    "crawl",
    "wave",
    "throw",
    "kick",
    "squat",
    "sit_down",
    "bow",
    "jumping_jacks",
    "pick_up",
    "dance",
    "golf_swing",
)
FRAMES_PER_ROW = 6
TILE = 160
LABEL_WIDTH = 230


def sheet(actions: list[str], seed: int) -> Image.Image:
    settings = RenderSettings(width=TILE, height=TILE, show_trajectory=True)
    font = ImageFont.load_default()
    canvas = Image.new("RGB", (LABEL_WIDTH + FRAMES_PER_ROW * TILE, len(actions) * TILE), "white")
    draw = ImageDraw.Draw(canvas)
    for row, action in enumerate(actions):
        motion = generate_action(action, seed)
        # what the data set stores: HumanML3D's processing of the generated joints
        joints = features_to_joints(joints_to_features(motion.joints))
        picks = np.linspace(0, len(joints) - 1, FRAMES_PER_ROW).round().astype(int)
        for column, picture in enumerate(iter_frames(joints, settings, frames=list(picks))):
            canvas.paste(Image.fromarray(picture), (LABEL_WIDTH + column * TILE, row * TILE))
        text = f"{action}\n{len(joints) / 20:.1f} s\n\n" + _wrap(motion.captions[0], 38)
        draw.multiline_text((10, row * TILE + 12), text, fill=(30, 30, 30), font=font, spacing=4)
    return canvas


def _wrap(text: str, width: int) -> str:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="docs/corpus_contact_sheet.png")
    parser.add_argument("--actions", default=",".join(DEFAULT_ACTIONS))
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    image = sheet(args.actions.split(","), args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    # a 256-colour palette keeps the picture small enough to commit (the renders are flat)
    image.quantize(256, dither=Image.Dither.NONE).save(args.out, optimize=True)
    print(f"{args.out}: {image.width}x{image.height}")


if __name__ == "__main__":
    main()
