"""The API reference pages (/schema: Scalar, /schema/swagger: Swagger UI), served with their
scripts and styles from Hearth itself, so they work without internet access.

Scalar and Swagger UI come from npm packages pinned in package.json, installed by `make`
(npm ci) into node_modules/; the small start-up scripts are in server/static/apidocs. The
pages have no inline script or style, and load nothing from another origin.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.response import File

from server.errors import NotFound

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
STATIC = Path(__file__).resolve().parent / "static" / "apidocs"
ASSETS_PATH = "/schema/assets"
JS, CSS = "text/javascript", "text/css"

# name served under ASSETS_PATH -> (file, content type)
ASSETS: dict[str, tuple[Path, str]] = {
    "scalar.js": (NODE_MODULES / "@scalar/api-reference/dist/browser/standalone.js", JS),
    "swagger-ui-bundle.js": (NODE_MODULES / "swagger-ui-dist/swagger-ui-bundle.js", JS),
    "swagger-ui-standalone-preset.js": (NODE_MODULES / "swagger-ui-dist/swagger-ui-standalone-preset.js", JS),
    "swagger-ui.css": (NODE_MODULES / "swagger-ui-dist/swagger-ui.css", CSS),
    "scalar-init.js": (STATIC / "scalar-init.js", JS),
    "swagger-init.js": (STATIC / "swagger-init.js", JS),
    "apidocs.css": (STATIC / "apidocs.css", CSS),
}


@get(f"{ASSETS_PATH}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def asset(name: str) -> File:
    """One of the reference pages' scripts or styles."""
    if name not in ASSETS:
        raise NotFound(f"no API docs asset {name!r}")
    file, content_type = ASSETS[name]
    if not file.is_file():
        raise NotFound(f"{file.relative_to(ROOT)} is not installed: run `make` (npm ci) first")
    # Pinned versions behind unversioned names: cached for a day, not forever.
    return File(file, content_disposition_type="inline", media_type=content_type,
                headers={"Cache-Control": "public, max-age=86400"})


def _url(name: str) -> str:
    return f"{ASSETS_PATH}/{name}"


def _page(title: str, styles: list[str], body: str, scripts: list[str], spec_url: str) -> bytes:
    """The page; its last script starts the viewer on the OpenAPI document at spec_url."""
    *libraries, start = scripts
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        + "".join(f'<link rel="stylesheet" href="{escape(s)}">' for s in styles)
        + "</head><body><noscript>The API reference needs JavaScript.</noscript>"
        + body
        + "".join(f'<script src="{escape(s)}"></script>' for s in libraries)
        + f'<script src="{escape(start)}" data-url="{escape(spec_url)}"></script></body></html>'
    ).encode()


class ScalarPage(ScalarRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _page(openapi_schema["info"]["title"], [self.css_url], '<div id="reference"></div>',
                     [self.js_url, _url("scalar-init.js")], self.get_openapi_json_route(request))


class SwaggerPage(SwaggerRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _page(openapi_schema["info"]["title"], [_url("apidocs.css"), self.css_url],
                     '<div id="swagger-container"></div>',
                     [self.js_url, self.standalone_preset_js_url, _url("swagger-init.js")],
                     self.get_openapi_json_route(request))


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Scalar at /schema (the first plugin is served at the root too), Swagger UI at /schema/swagger."""
    return [
        ScalarPage(js_url=_url("scalar.js"), css_url=_url("apidocs.css")),
        SwaggerPage(path="/swagger", js_url=_url("swagger-ui-bundle.js"), css_url=_url("swagger-ui.css"),
                    standalone_preset_js_url=_url("swagger-ui-standalone-preset.js")),
    ]
