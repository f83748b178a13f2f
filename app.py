"""Entry point (also on Hugging Face Spaces): `python app.py --help` lists the options."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

if __name__ == "__main__":
    # Imported here, not at the top: worker processes (corpus generation, rendering) are
    # spawned, and a spawned process re-imports this module; at the top these imports
    # (gradio, torch, the demo) would cost every worker seconds before its first job.
    from demo.app import launch
    from demo.config import parse_args

    launch(parse_args())
