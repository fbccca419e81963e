"""The official JS SDK (`@runware/sdk-js` 1.3.2, WebSocket), unchanged: its image request
against the mock serving an image model.

Runs in its own session (`nox -s sdk_js`: `npm ci` in tests/sdk/js, then this module, with
RUNWARE_SDK_JS set); elsewhere it skips, as the Python SDKs' modules do outside theirs. In its
session, Node.js or the SDK missing is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mockserver import MockConfig
from mockserver.core import models
from mockserver.testing import serve
from tests.helpers import IMAGE_PAGE, image_file, image_probe

if not os.environ.get("RUNWARE_SDK_JS"):
    pytest.skip("needs @runware/sdk-js: run `nox -s sdk_js`", allow_module_level=True)

HERE = Path(__file__).parent / "js"
CODECS = {"JPG": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}


def node() -> str:
    found = shutil.which("node")
    if found is None or not (HERE / "node_modules" / "@runware" / "sdk-js").is_dir():
        pytest.fail("needs Node.js and @runware/sdk-js (npm ci in tests/sdk/js)")
    return found


@pytest.mark.parametrize(
    ("output_type", "output_format"), [("URL", "JPG"), ("base64Data", "PNG"), ("dataURI", "WEBP")]
)
def test_request_images_returns_every_image(output_type: str, output_format: str) -> None:
    binary = node()
    config = MockConfig(sync_job_seconds=0.2, api_keys=frozenset({"sdk-key"}))
    with serve(config, api_key="sdk-key", models=models.load([], [IMAGE_PAGE])) as mock:
        run = subprocess.run(
            [binary, "image.mjs", mock.ws_url, "acme:still@1", output_type, output_format],
            cwd=HERE, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        images: list[dict[str, Any]] = json.loads(run.stdout.strip().splitlines()[-1])
        assert len(images) == 3 and len({i["imageUUID"] for i in images}) == 3
        for image in images:
            data = image_file(image, lambda url: mock.client.get(url).content)
            assert image_probe(data) == (CODECS[output_format], 1024, 1024)
