"""An action package whose `action_answer` always fails, quoting the person's message.

Served by a real action server (`BotServers(actions_package="tests.e2e.failing_actions")`)
to drive the action-server error path: the failure must reach neither the Rasa server's
reply nor any log with the message in it.
"""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class FailingAnswer(Action):
    def name(self) -> Text:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        # the worst kind of failure: its message repeats what the person wrote
        raise ValueError(f"cannot answer {tracker.latest_message.get('text')!r} for {tracker.sender_id}")
