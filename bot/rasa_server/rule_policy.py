"""Rasa's RulePolicy, trained and deciding exactly as Rasa's, with its rule matching remembered.

Before each prediction (two per message) RulePolicy matches every rule of the model (about a
hundred here: one per intent, and what follows each) against the conversation's states, in
Python: about half of its time per message (make bench's profile, 2026-12-05). Which rules
match depends only on the last states, as many as the longest rule has (a rule is applicable
to every state before its own beginning), and people's conversations repeat the same few:
so once the model is loaded, the answer for those last states is kept and reused.
Training is Rasa's own (the cache is made only by `load`, after the rules are final).
"""

from __future__ import annotations

from typing import Any, Dict, List, Set, Text, Tuple

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.generator import State

_KEPT = 10_000  # distinct (rule set, last states) answers kept before starting again


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class RememberingRulePolicy(RulePolicy):
    """RulePolicy whose `_get_possible_keys` answer is kept per rule set and last states."""

    _matches: Dict[Tuple[int, str], Set[Text]]
    _longest: Dict[int, int]

    @classmethod
    def load(cls, *args: Any, **kwargs: Any) -> "RememberingRulePolicy":
        policy = super().load(*args, **kwargs)
        policy._matches, policy._longest = {}, {}
        return policy

    def _get_possible_keys(self, lookup: Dict[Text, Text], states: List[State]) -> Set[Text]:
        matches = getattr(self, "_matches", None)
        if matches is None:  # training: the rules may still change
            return super()._get_possible_keys(lookup, states)
        longest = self._longest.get(id(lookup))
        if longest is None:
            longest = max((len(self._rule_key_to_state(key)) for key in lookup), default=0)
            self._longest[id(lookup)] = longest
        # repr: equal text means equal states (a different order of equal states only misses)
        key = (id(lookup), repr(states[-longest:] if longest else []))
        found = matches.get(key)
        if found is None:
            if len(matches) >= _KEPT:
                matches.clear()
            found = matches[key] = frozenset(super()._get_possible_keys(lookup, states))
        return set(found)
