"""The API reference pages load everything from Hearth itself: they work without internet
access, and the versions served are the ones package.json pins."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

import pytest

from tests.harness import ROOT, Server

PAGES = ["/schema", "/schema/swagger"]


def _assets(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("page", PAGES)
def test_reference_page_assets_are_same_origin_and_served(server: Server, page: str) -> None:
    client = server.client()
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assets = _assets(response.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), assets
    origin = urlsplit(server.url)
    for asset in assets:
        url = urlsplit(urljoin(server.url + page, asset))
        assert (url.scheme, url.netloc) == (origin.scheme, origin.netloc), f"{asset} is not same-origin"
        served = client.get(url.path)
        assert served.status_code == 200, f"{asset}: {served.status_code}"
        kind = "text/css" if asset.endswith(".css") else "text/javascript"
        assert served.headers["content-type"].startswith(kind), (asset, served.headers["content-type"])
        assert served.content, asset
    # No inline script: every <script> loads a file (a strict Content-Security-Policy holds).
    assert not re.search(r"<script\b(?![^>]*\bsrc=)[^>]*>", response.text)
    spec = re.search(r'data-url="([^"]+)"', response.text)
    assert spec and client.get(spec.group(1)).json()["info"]["title"] == "Hearth API"


def test_served_viewers_are_the_pinned_versions(server: Server) -> None:
    pins = json.loads((ROOT / "package.json").read_text())["dependencies"]
    client = server.client()
    scalar = client.get("/schema/assets/scalar.js").text
    assert f"@scalar/api-reference@{pins['@scalar/api-reference']}" in scalar
    swagger = client.get("/schema/assets/swagger-ui-bundle.js").text
    assert f'"{pins["swagger-ui-dist"]}"' in swagger


def test_unknown_asset_is_a_404_in_the_error_shape(server: Server) -> None:
    response = server.client().get("/schema/assets/jquery.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
