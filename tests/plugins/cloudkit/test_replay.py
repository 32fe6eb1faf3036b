"""Each delivery is accepted once within the window; a released claim can be retried."""

from __future__ import annotations

from tocsin.plugins.cloudkit.replay import ReplayGuard


def test_a_claim_is_refused_the_second_time_and_after_release_accepted() -> None:
    guard = ReplayGuard()
    assert guard.claim("sms/status", "k")
    assert not guard.claim("sms/status", "k")
    assert guard.claim("voice/status", "k")
    guard.release("sms/status", "k")
    assert guard.claim("sms/status", "k")


def test_claims_expire_after_the_window_and_the_size_is_bounded() -> None:
    now = [0.0]
    guard = ReplayGuard(window=10, max_entries=3, monotonic=lambda: now[0])
    assert guard.claim("s", "old")
    now[0] = 11
    assert guard.claim("s", "old")
    for key in "abcd":
        assert guard.claim("s", key)
    assert len(guard._seen) <= 4
