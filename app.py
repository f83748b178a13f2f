"""Entry point (also on Hugging Face Spaces): `python app.py --help` lists the options."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from demo.app import launch
from demo.config import parse_args

if __name__ == "__main__":
    launch(parse_args())
