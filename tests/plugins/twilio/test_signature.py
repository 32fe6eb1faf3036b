"""The signature scheme: the provider's published example, and the plugin's verifier
agreeing with the simulator's independent signer on any input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tocsin.plugins.twilio.signature import is_valid, signature
from tocsin.testing.twilio_resources import sign

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
          ("From", "+14158675309"), ("To", "+18005551212")]


def test_the_published_example_signature_is_reproduced() -> None:
    assert signature("12345", URL, PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert sign("12345", URL, PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert is_valid("12345", URL, reversed(PARAMS), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_repeated_parameters_are_signed_sorted_and_once_each() -> None:
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"),
              ("Digits", "1234")]
    assert signature("12345", URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_a_missing_or_wrong_signature_is_invalid() -> None:
    assert not is_valid("12345", URL, PARAMS, None)
    assert not is_valid("12345", URL, PARAMS, "")
    assert not is_valid("12345", URL + "&x=1", PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not is_valid("", URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not is_valid("12345", URL, PARAMS, "invalid 王")


pairs = st.lists(st.tuples(st.text(min_size=1, max_size=8), st.text(max_size=12)), max_size=8)


@given(token=st.text(min_size=1, max_size=20), url=st.text(max_size=40), params=pairs)
def test_the_verifier_accepts_what_the_simulator_signs(
    token: str, url: str, params: list[tuple[str, str]]
) -> None:
    assert is_valid(token, url, params, sign(token, url, params))
