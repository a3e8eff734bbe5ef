"""Where the evaluation data sets live: ../shared/data beside the checkout, read in place.

KEFU_SHARED_DATA overrides it (an installed package has no checkout to be beside).
"""

import os
from pathlib import Path


def shared_data_dir() -> Path:
    override = os.environ.get("KEFU_SHARED_DATA")
    if override:
        return Path(override)
    # src/kefu/core/datasets.py → the checkout's parent folder holds shared/.
    return Path(__file__).resolve().parents[4] / "shared" / "data"
