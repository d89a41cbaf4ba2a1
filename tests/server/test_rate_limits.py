import uuid

from tests.harness import Stack


def test_login_and_registration_are_rate_limited(stack: Stack) -> None:
    env = {"HEARTH_LOGIN_RATE_LIMIT": "3/60", "HEARTH_REGISTER_RATE_LIMIT": "2/60",
           "HEARTH_REDIS_PREFIX": "t" + uuid.uuid4().hex[:10]}
    limited = stack.start_server(env=env)
    try:
        client = limited.client()
        statuses = [client.login("ghost", "wrong password").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        blocked = client.login("ghost", "wrong password")
        assert blocked.json()["error"]["code"] == "rate_limited"
        assert "try again in" in blocked.json()["error"]["message"]
        assert int(blocked.headers["retry-after"]) > 0

        made = [limited.client().post("/api/register", {
            "handle": "r" + uuid.uuid4().hex[:8], "email": f"{uuid.uuid4().hex[:8]}@x.test",
            "password": "long enough pass"}).status_code for _ in range(3)]
        assert made == [201, 201, 429]
    finally:
        limited.process.stop()


def test_posting_is_rate_limited_per_member(stack: Stack, category: dict) -> None:
    limited = stack.start_server(env={"HEARTH_WRITE_RATE_LIMIT": "3/60",
                                      "HEARTH_REDIS_PREFIX": "t" + uuid.uuid4().hex[:10]})
    try:
        spammer = limited.client().register()
        thread = spammer.post(f"/api/categories/{category['id']}/threads",
                              {"title": "Spam incoming", "body": "1"}).json()["thread"]["id"]
        statuses = [spammer.post(f"/api/threads/{thread}/posts", {"body": "more"}).status_code
                    for _ in range(3)]
        assert statuses == [201, 201, 429]
        other = limited.client().register()
        assert other.post(f"/api/threads/{thread}/posts", {"body": "mine"}).status_code == 201
    finally:
        limited.process.stop()


def test_previews_are_rate_limited_per_member_apart_from_writes(stack: Stack, category: dict) -> None:
    limited = stack.start_server(env={"HEARTH_WRITE_RATE_LIMIT": "2/60",
                                      "HEARTH_REDIS_PREFIX": "t" + uuid.uuid4().hex[:10]})
    try:
        writer = limited.client().register()
        statuses = [writer.post("/api/community/preview", {"body": "*draft*"}).status_code
                    for _ in range(3)]
        assert statuses == [200, 200, 429]
        # Previewing used none of the writes.
        created = writer.post(f"/api/categories/{category['id']}/threads",
                              {"title": "After previews", "body": "posted"})
        assert created.status_code == 201, created.text
    finally:
        limited.process.stop()
