"""The virtual network's scenarios, as the CLI and tests write them."""

from __future__ import annotations

import pytest

from tocsin.hal.scenarios import DEFAULT, CallFate, Scenario, SmsFate, parse_scenario, scenario_for


def test_a_scenario_spec_reads_every_rule():
    rule = parse_scenario("+33699*=sms:undelivered,status:0x46,call:press-1,unplug")
    assert rule == Scenario("+33699*", sms=SmsFate.UNDELIVERED, report_status=0x46,
                            call=CallFate.PRESS_1, unplug=True)
    assert parse_scenario("*=cms:42").cms_error == 42


@pytest.mark.parametrize("spec", ["+3361*", "=sms:delivered", "+3361*=sms:lost", "+3361*=colour:red",
                                  "+3361*=cms:x"])
def test_a_bad_scenario_spec_is_refused_with_the_reason(spec):
    with pytest.raises(ValueError, match="scenario"):
        parse_scenario(spec)


def test_the_first_matching_scenario_wins_and_the_default_delivers_and_answers():
    rules = [Scenario("+33699*", sms=SmsFate.UNDELIVERED), Scenario("+336*", call=CallFate.BUSY)]
    assert scenario_for(rules, "+33699123456").sms is SmsFate.UNDELIVERED
    assert scenario_for(rules, "+33612345678").call is CallFate.BUSY
    assert scenario_for(rules, "+4915112345678") is DEFAULT
    assert (DEFAULT.sms, DEFAULT.call) == (SmsFate.DELIVERED, CallFate.ANSWER)
