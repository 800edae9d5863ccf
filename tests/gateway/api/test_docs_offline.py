"""The interactive API docs work offline: /docs and /redoc load their assets from the gateway, never a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from gateway.infra.settings import Settings
from tests.support.served import Served, serve_gateway

ASSET_ATTRIBUTE = re.compile(r'\b(?:src|href)="([^"]+)"')
EXPECTED_TYPE = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A gateway of this module's own, without its anchoring worker (nothing is anchored here)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("docs"), start_worker=False)
    with serve_gateway(settings) as running:
        yield running


@pytest.mark.parametrize(("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
def test_the_docs_pages_reference_only_assets_the_gateway_serves(served: Served, page: str, script: str) -> None:
    """No http(s) URL in the page; every script, stylesheet and icon it names answers 200 with its type."""
    with httpx.Client(base_url=served.url, timeout=30) as client:
        response = client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert "http://" not in html
        assert "https://" not in html
        assets = ASSET_ATTRIBUTE.findall(html)
        assert any(asset.endswith(script) for asset in assets), assets
        assert "/openapi.json" in html
        for asset in assets:
            assert asset.startswith("/docs-assets/"), asset
            answer = client.get(asset)
            assert answer.status_code == 200, asset
            kind = EXPECTED_TYPE[asset[asset.rindex(".") :]]
            assert kind in answer.headers["content-type"], (asset, answer.headers["content-type"])
            assert len(answer.content) > 0


def test_the_swagger_ui_shipped_reads_openapi_3_1(served: Served) -> None:
    """The bundled Swagger UI is a 5.x release, the first to render the OpenAPI 3.1 document FastAPI writes."""
    with httpx.Client(base_url=served.url, timeout=30) as client:
        document = client.get("/openapi.json").json()
        bundle = client.get("/docs-assets/swagger-ui-bundle.js").text
    assert document["openapi"].startswith("3.1")
    versions = set(re.findall(r'PACKAGE_VERSION:"(\d+)\.\d+\.\d+"', bundle))
    assert versions == {"5"}, versions
