"""bot/rasa_server/rule_policy.py: the trained rules predict exactly as Rasa's RulePolicy does."""

import pytest

from tests.support.models import loaded_component


@pytest.mark.slow
def test_remembered_rule_matches_give_rasas_predictions_turn_after_turn():
    import asyncio

    from rasa.core.agent import Agent
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered

    from bot.rasa_server.rule_policy import RememberingRulePolicy
    from bot.tools.model import model_path, train

    train()
    agent = Agent.load(str(model_path()))
    policy = loaded_component(agent, RememberingRulePolicy)
    domain = agent.domain
    conversations = [
        ["greet", "ask_pain", "ask_downtime", "thank", "goodbye"],
        ["ask_hair_loss", "personal_medical_question", "ask_booking"],
        ["greet", "report_adverse_reaction", "request_human"],
        ["ask_pain", "ask_pain", "nlu_fallback", "ask_pain"],
    ] * 2  # the second time round, every answer comes from what was kept

    def predictions(tracker):
        kept = policy.predict_action_probabilities(tracker, domain)
        matches, policy._matches = policy._matches, None  # Rasa's own matching, nothing kept
        try:
            rasas = policy.predict_action_probabilities(tracker, domain)
        finally:
            policy._matches = matches
        return kept, rasas

    compared = 0
    for n, intents in enumerate(conversations):
        tracker = asyncio.run(agent.processor.fetch_tracker_with_initial_session(f"rules-{n}"))
        for intent in intents:
            tracker.update(UserUttered("x", {"name": intent, "confidence": 1.0}))
            kept, rasas = predictions(tracker)
            assert (kept.probabilities, kept.policy_name) == (rasas.probabilities, rasas.policy_name)
            assert domain.action_names_or_texts[kept.max_confidence_index] == "action_answer", intent
            tracker.update(ActionExecuted("action_answer"))
            kept, rasas = predictions(tracker)
            assert (kept.probabilities, kept.policy_name) == (rasas.probabilities, rasas.policy_name)
            assert domain.action_names_or_texts[kept.max_confidence_index] == ACTION_LISTEN_NAME
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            compared += 2
    assert compared == 2 * sum(len(c) for c in conversations)
    assert policy._matches  # answers were kept, and reused in the second round
