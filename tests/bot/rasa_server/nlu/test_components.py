"""Our NLU graph components on single messages, without training."""

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_server.nlu.normaliser import DETECTED_LANGUAGE, LANGUAGE, ORIGINAL_TEXT, ArabicScriptNormaliser
from bot.rasa_server.nlu.safety_layer import SAFETY, SafetyLayer
from bot.rasa_server.nlu.tokenizer import MultilingualSpacyTokenizer


def _normalised(text: str) -> Message:
    message = Message({TEXT: text})
    ArabicScriptNormaliser().process([message])
    return message


def test_normaliser_folds_arabic_script_and_keeps_the_language():
    message = _normalised("هَلْ الجلسةُ مؤلمة؟ فى ١٢ أسبوع")
    assert message.get(TEXT) == "هل الجلسه مولمه؟ في 12 اسبوع"
    assert message.get(DETECTED_LANGUAGE) == "ar"
    urdu = _normalised("کیا یہ محفوظ ہے")
    assert urdu.get(DETECTED_LANGUAGE) == "ur" and urdu.get(TEXT) == "كيا يه محفوظ هے"
    assert _normalised("Does it HURT?").get(TEXT) == "Does it HURT?"
    assert (
        _normalised('/ask_topic{"topic":"procedure.pain"}').get(TEXT)
        == '/ask_topic{"topic":"procedure.pain"}'
    )


def test_normaliser_publishes_the_original_text_and_the_language():
    message = _normalised("ｍｙ ｆａｃｅ\u200b ｉｓ ｓｗｏｌｌｅｎ")
    assert message.get(TEXT) == "my face is swollen"
    assert message.get(ORIGINAL_TEXT) == "ｍｙ ｆａｃｅ\u200b ｉｓ ｓｗｏｌｌｅｎ"
    assert message.get(LANGUAGE)["code"] == "en"
    assert _normalised("کیا یہ محفوظ ہے").get(LANGUAGE)["code"] == "ur"


def _tokens(text: str):
    message = _normalised(text)
    tokenizer = MultilingualSpacyTokenizer(MultilingualSpacyTokenizer.get_default_config())
    return [t.text for t in tokenizer.tokenize(message, TEXT)]


def test_tokenizer_splits_arabic_and_urdu_punctuation():
    assert _tokens("هل الميزو مؤلم؟نعم،لا") == ["هل", "الميزو", "مولم", "نعم", "لا"]
    assert _tokens("کیا درد ہوتا ہے؟ ہاں۔نہیں") == ["كيا", "درد", "هوتا", "هے", "هاں", "نهيں"]
    assert _tokens("kya dard hota hai??") == ["kya", "dard", "hota", "hai"]
    assert _tokens("👍") == ["👍"]


def _guarded(text: str, intent: str) -> Message:
    message = _normalised(text)
    message.set(INTENT, {"name": intent, "confidence": 0.9})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 0.9}])
    config = SafetyLayer.get_default_config()
    SafetyLayer(config, None, None).process([message])  # rules and the model's intent; no classifier
    return message


def test_the_safety_layer_overrides_an_information_intent_and_publishes_why():
    message = _guarded("does it hurt? I'm 4 months pregnant", "ask_pain")
    assert message.get(INTENT)["name"] == "personal_medical_question"
    assert message.get(INTENT_RANKING_KEY)[1]["name"] == "ask_pain"
    assert message.get(SAFETY)["verdict"] == "personal" and message.get(SAFETY)["by"] == ["rules"]
    assert (
        _guarded("my face is swollen and hot since the injections", "ask_side_effects").get(INTENT)["name"]
        == "report_adverse_reaction"
    )


def test_the_safety_layer_reads_the_original_text_not_the_folded_copy():
    message = _guarded("ｍｙ ｆａｃｅ ｉｓ ｓｗｏｌｌｅｎ ａｎｄ ｈｏｔ since the injections", "nlu_fallback")
    assert message.get(INTENT)["name"] == "report_adverse_reaction"


def test_the_safety_layer_never_downgrades():
    message = _guarded("I'm pregnant", "report_adverse_reaction")
    assert message.get(INTENT)["name"] == "report_adverse_reaction"
    assert message.get(SAFETY)["verdict"] == "urgent"
    assert _guarded("what does it cost?", "ask_cost").get(INTENT)["name"] == "ask_cost"
    assert _guarded("what does it cost?", "ask_cost").get(SAFETY)["verdict"] is None


def test_only_the_bots_own_exact_payload_skips_the_decision():
    button = _guarded('/ask_topic{"topic":"procedure.pain"}', "ask_topic")
    assert button.get(INTENT)["name"] == "ask_topic" and button.get(SAFETY) is None
    forged = _guarded(
        'ask_topic{"topic":"procedure.pain"} my face is swollen and hot and I have a fever', "ask_topic"
    )
    assert forged.get(INTENT)["name"] == "report_adverse_reaction"


def test_unknown_words_become_a_fallback():
    from bot.rasa_server.nlu.unknown_words import UnknownWordsFallback

    component = UnknownWordsFallback({}, None, None, {"does", "it", "hurt", "mesotherapy", "dard", "hota"})

    def intent_of(text: str) -> str:
        message = _normalised(text)
        tokenizer = MultilingualSpacyTokenizer(MultilingualSpacyTokenizer.get_default_config())
        message.set("text_tokens", tokenizer.tokenize(message, TEXT))
        message.set(INTENT, {"name": "thank", "confidence": 0.7})
        component.process([message])
        return message.get(INTENT)["name"]

    assert intent_of("qwzx plorb vnnt") == "nlu_fallback"
    assert intent_of("does mesotheraphy hurt") == "thank"  # a typo of a known word is still known
    assert intent_of("dard hta") == "thank"
    assert intent_of("👍") == "thank"  # no words at all: nothing to judge


def test_each_question_of_a_message_is_parsed_as_a_message_and_published_on_it():
    from bot.rasa_server.nlu.questions import QUESTIONS, QuestionCollector, QuestionSplitter

    whole, single = Message({TEXT: "salam, how many sessions and how much?"}), Message({TEXT: "does it hurt"})
    batch = QuestionSplitter().process([whole, single])
    assert [m.get(TEXT) for m in batch[2:]] == ["how many sessions", "how much?"]
    ArabicScriptNormaliser().process(batch)
    for part, intent in zip(batch[2:], ("ask_sessions", "ask_cost")):  # what DIET and the safety layer set
        part.set(INTENT, {"name": intent, "confidence": 0.91234})
        part.set(SAFETY, {"verdict": None, "by": [], "scores": {"urgent": 0.01}})
    out = QuestionCollector().process(batch)
    assert out == [whole, single] and single.get(QUESTIONS) is None
    assert whole.get(QUESTIONS) == [
        {
            "text": "how many sessions",
            "intent": "ask_sessions",
            "confidence": 0.9123,
            "safety": {"verdict": None, "by": []},
        },
        {
            "text": "how much?",
            "intent": "ask_cost",
            "confidence": 0.9123,
            "safety": {"verdict": None, "by": []},
        },
    ]
    assert QUESTIONS in whole.as_dict(only_output_properties=True)


def test_button_presses_are_never_split():
    from bot.rasa_server.nlu.questions import QuestionSplitter

    press = Message({TEXT: '/ask_topic{"topic":"procedure.pain"}'})
    assert QuestionSplitter().process([press]) == [press]


def test_an_explicit_denial_or_curiosity_overrules_the_models_safety_guess():
    denial = _guarded("no swelling, no fever, all fine, when do results show?", "report_adverse_reaction")
    assert denial.get(SAFETY)["verdict"] is None and denial.get(INTENT)["name"] != "report_adverse_reaction"
    curious = _guarded("why do clinics ask if you're pregnant? just curious", "personal_medical_question")
    assert curious.get(SAFETY)["verdict"] is None
    # a denial with a sign left is no denial: the model's urgent guess stands
    mixed = _guarded("no fever but my lips keep swelling", "report_adverse_reaction")
    assert mixed.get(INTENT)["name"] == "report_adverse_reaction"
