"""The web app's build: its API types match the server's OpenAPI document, and what a first
visit downloads stays small."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from pathlib import Path

from litestar.serialization import encode_json

from server.app import create_app
from tests.harness import Client

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
DIST = FRONTEND / "dist"
GENERATOR = ROOT / "node_modules" / ".bin" / "openapi-typescript"
INITIAL_BUDGET_BYTES = 100 * 1024  # the limit: initial JS plus CSS, compressed


def test_generated_api_types_match_the_openapi_document(tmp_path: Path) -> None:
    assert GENERATOR.exists(), "node_modules is missing: run `npm ci` (make does)"
    document = tmp_path / "openapi.json"
    document.write_bytes(encode_json(create_app().openapi_schema.to_schema()))
    fresh = tmp_path / "schema.d.ts"
    subprocess.run([str(GENERATOR), str(document), "-o", str(fresh)], check=True,
                   capture_output=True, cwd=ROOT, timeout=120)
    committed = FRONTEND / "src" / "api" / "schema.d.ts"
    assert fresh.read_text() == committed.read_text(), (
        "frontend/src/api/schema.d.ts is stale: run `make api-types` and commit it")


def _initial_files(manifest: dict[str, dict[str, object]]) -> set[str]:
    """The entry chunk, the chunks it imports statically, and their CSS; lazy chunks are not
    part of a first visit."""
    entries = [key for key, chunk in manifest.items() if chunk.get("isEntry")]
    assert entries, "the manifest names no entry"
    files: set[str] = set()
    seen: set[str] = set()
    pending = list(entries)
    while pending:
        key = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        chunk = manifest[key]
        files.add(str(chunk["file"]))
        files.update(str(css) for css in chunk.get("css", []))  # type: ignore[attr-defined]
        pending.extend(str(k) for k in chunk.get("imports", []))  # type: ignore[attr-defined]
    return files


def test_a_first_visit_downloads_at_most_100_kb_of_compressed_script_and_style() -> None:
    manifest_path = DIST / ".vite" / "manifest.json"
    assert manifest_path.exists(), "the web app is not built: run `make frontend` (make test does)"
    manifest = json.loads(manifest_path.read_text())
    files = _initial_files(manifest)
    assert any(f.endswith(".js") for f in files) and any(f.endswith(".css") for f in files)
    sizes = {f: len(gzip.compress((DIST / f).read_bytes(), compresslevel=9)) for f in files}
    total = sum(sizes.values())
    print(f"initial JS+CSS, gzip -9: {total} bytes {sizes}")
    assert total <= INITIAL_BUDGET_BYTES, f"{total} bytes compressed: over the 100 KB budget {sizes}"


def test_the_server_serves_the_built_app_with_hashed_assets_cached_for_good(anon: Client) -> None:
    page = anon.get("/")
    assert page.status_code == 200 and '<div id="app">' in page.text
    assert "no-cache" in page.headers["cache-control"]
    asset = re.search(r'<script[^>]+src="(/assets/[^"]+\.js)"', page.text)
    assert asset, page.text
    script = anon.get(asset.group(1))
    assert script.status_code == 200
    assert "immutable" in script.headers["cache-control"]
    assert anon.get("/assets/missing-0000.js").status_code == 404
