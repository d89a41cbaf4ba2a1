from tests.harness import MODE, Client


def test_health_reports_mode_and_each_backing_service(anon: Client) -> None:
    response = anon.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["mode"] == MODE
    services = body["services"]
    assert services["database"]["ok"] is True
    if MODE == "scaled":
        assert services["database"]["backend"] == "postgresql"
        assert services["redis"]["ok"] is True
        assert services["pubsub"]["backend"] == "redis"
        assert services["tasks"]["backend"] == "celery"
    else:
        assert services["database"]["backend"] == "sqlite"
        assert "redis" not in services
        assert services["pubsub"]["backend"] == "memory"
        assert services["tasks"]["backend"] == "in-process"


def test_openapi_schema_and_docs_page_are_served(anon: Client) -> None:
    schema = anon.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/threads/{thread_id}" in paths
    assert "/api/register" in paths
    docs = anon.get("/schema")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
