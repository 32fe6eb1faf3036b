"""The gateway simulator answers like Kannel, Jasmin and playSMS do."""

from __future__ import annotations

import httpx2
import pytest

from tocsin.testing.gateway_simulator import PASSWORD, USERNAME, running_gateway_simulator

pytestmark = pytest.mark.timeout(60)


async def test_each_dialect_accepts_and_refuses_in_its_own_words() -> None:
    async with running_gateway_simulator() as base, httpx2.AsyncClient(base_url=base, trust_env=False) as http:
        creds = {"username": USERNAME, "password": PASSWORD}
        ok = await http.get("/cgi-bin/sendsms", params={**creds, "to": "+33612345678", "text": "x"})
        assert (ok.status_code, ok.text) == (202, "0: Accepted for delivery")
        bad = await http.get("/cgi-bin/sendsms", params={**creds, "password": "no", "to": "+3361"})
        assert (bad.status_code, bad.text) == (403, "Authorization failed for sendsms")
        missing = await http.get("/cgi-bin/sendsms", params=creds)
        assert missing.status_code == 400 and "receiver" in missing.text
        jasmin = await http.post("/send", data={**creds, "to": "+33612345678", "content": "x"})
        assert jasmin.status_code == 200 and jasmin.text.startswith('Success "')
        denied = await http.post("/send", data={**creds, "password": "no", "to": "+3361", "content": "x"})
        assert denied.status_code == 403 and denied.text.startswith('Error "Authentication failure')
        play = await http.get("/index.php", params={"app": "ws", "op": "pv", "u": USERNAME, "h": PASSWORD,
                                                      "to": "+33612345678", "msg": "x"})
        assert play.json()["data"][0]["status"] == "OK"
        refused = await http.get("/index.php", params={"app": "ws", "op": "pv", "u": USERNAME, "h": "no"})
        assert refused.json() == {"status": "ERR", "error": "100"}
