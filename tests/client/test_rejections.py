"""A write the server refuses the same way every time is set aside with the reason, and the
writes after it are still delivered: one bad write never stalls a client."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from mlledger.client.spool import Spool
from mlledger.client.transport import Transport


class Server:
    """An HTTP server stand-in (httpx's MockTransport) that fails one kind of write with a
    500 every time — as a server bug would — and takes everything else."""

    def __init__(self) -> None:
        self.delivered: list[dict] = []
        self.attempts: dict[str, int] = {}
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused")
        body = json.loads(request.content or b"null")
        key = request.headers.get("idempotency-key", "")
        self.attempts[key] = self.attempts.get(key, 0) + 1
        if body and body.get("tag") == "poison":
            return httpx.Response(
                500, json={"error": {"code": "internal", "message": "boom", "details": None}}
            )
        self.delivered.append(body)
        return httpx.Response(200, json={"ok": True})


def transport(server: Server, tmp_path: Path) -> Transport:
    return Transport(
        "http://mlledger.test",
        token=None,
        project="p",
        timeout=5,
        retries=2,
        spool=Spool(tmp_path, server="http://mlledger.test", project="p"),
        transport=httpx.MockTransport(server),
    )


def test_a_repeated_500_is_set_aside_and_delivery_continues(tmp_path: Path) -> None:
    server = Server()
    t = transport(server, tmp_path)
    try:
        assert t.send("POST", "/w", {"n": 1}) == {"ok": True}
        assert t.send("POST", "/w", {"n": 2, "tag": "poison"}) is None  # no exception
        assert t.send("POST", "/w", {"n": 3}) == {"ok": True}  # not queued behind it
        assert [b["n"] for b in server.delivered] == [1, 3]
        assert not t.spool.pending()
        rejected = [json.loads(x) for x in t.spool.path.with_suffix(".rejected").open()]
        assert len(rejected) == 1 and rejected[0]["body"]["n"] == 2
        assert "boom" in rejected[0]["reason"]
        assert max(server.attempts.values()) == 3  # bounded, not retried forever
    finally:
        t.close()


def test_a_poisoned_write_in_the_spool_does_not_block_the_rest(tmp_path: Path) -> None:
    server = Server()
    t = transport(server, tmp_path)
    try:
        server.down = True
        for n, tag in ((1, None), (2, "poison"), (3, None)):
            assert t.send("POST", "/w", {"n": n, "tag": tag}) is None  # spooled while down
        assert t.spool.size() == 3
        server.down = False
        assert t.drain(timeout=30)
        assert [b["n"] for b in server.delivered] == [1, 3]
        assert t.spool.path.with_suffix(".rejected").exists()
        poison = [k for k, v in server.attempts.items() if v > 1]
        assert len(poison) == 1 and server.attempts[poison[0]] == 3
    finally:
        t.close()


def test_an_outage_still_spools_and_waits(tmp_path: Path) -> None:
    """502/503/504 and refused connections mean "not now": nothing is set aside."""
    calls = {"n": 0}

    def gateway(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(503, text="no backend")

    t = Transport(
        "http://mlledger.test",
        token=None,
        project="p",
        timeout=5,
        retries=1,
        spool=Spool(tmp_path, server="http://mlledger.test", project="p"),
        transport=httpx.MockTransport(gateway),
    )
    try:
        assert t.send("POST", "/w", {"n": 1}) is None
        assert t.spool.pending() and not t.spool.path.with_suffix(".rejected").exists()
    finally:
        t.close()


def test_a_refusal_before_anything_was_spooled_is_still_set_aside(tmp_path: Path) -> None:
    """The spool's directory is made by the first spooled write; a rejection can come first."""
    server = Server()
    t = Transport(
        "http://mlledger.test",
        token=None,
        project="p",
        timeout=5,
        retries=0,
        spool=Spool(tmp_path / "not-made-yet", server="http://mlledger.test", project="p"),
        transport=httpx.MockTransport(server),
    )
    try:
        assert t.send("POST", "/w", {"n": 1, "tag": "poison"}) is None
        rejected = t.spool.path.with_suffix(".rejected").read_text().splitlines()
        assert json.loads(rejected[0])["body"]["n"] == 1
    finally:
        t.close()
