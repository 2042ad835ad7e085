"""The rule half of the safety decision: concepts, the shape of a report, scoped negation."""

import pytest

from bot.core.safety import SafetyClass, default_guard

URGENT, PERSONAL = SafetyClass.URGENT, SafetyClass.PERSONAL


def verdict(text):
    return default_guard().check(text).safety_class


@pytest.mark.parametrize(
    "text",
    [
        "my face is swollen and hot since the injections, I have a fever",
        "I can't breathe properly after my mesotherapy",
        "وجهي منتفخ وحار من بعد الحقن وعندي حرارة",
        "میرا چہرہ سوج گیا ہے اور بخار ہے",
        "mera chehra sooj gaya hai aur bukhar hai",
        # a sign of a red-flag concept by itself, without the word "swollen" or "pain"
        "my vision is blurry since the injections near my eyes",
        "I had meso 2 days ago and my cheek looks weird and feels cold",
        # hedges are not negations; "not going down" is a report
        "I'm not sure but I think it's infected",
        "the swelling is not going down and it's hot",
        # Spanish and Portuguese visitors of the Mexico and Brazil pages
        "no puedo respirar y tengo los labios hinchados",
        "não consigo respirar, lábios inchando",
    ],
)
def test_urgent(text):
    assert verdict(text) is URGENT


@pytest.mark.parametrize(
    "text",
    [
        "I'm pregnant, can I have it?",
        "I take warfarin",
        "does it hurt? I'm 4 months pregnant",
        "I'm 14 weeks along, can I have it",
        "I want to do it for my hair, which is better for my hair meso or PRP",
        "can I combine it with botox before my wedding",
        "أنا حامل هل أقدر أسوي ميزو",
        "میں حاملہ ہوں کیا میں کروا سکتی ہوں",
        "main pregnant hoon kya meso karwa sakti hoon",
        "اخذ دواء للضغط، هل المنتج مسجل في هيئة الغذاء والدواء؟",
        "هل الميزو آمن على بشرتي؟",
    ],
)
def test_personal(text):
    assert verdict(text) is PERSONAL


@pytest.mark.parametrize(
    "text",
    [
        "does it hurt?",
        "what are the side effects?",
        "is swelling normal after mesotherapy?",
        "how many sessions do I need",
        "هل يوجد آثار جانبية؟",
        "کتنے سیشن چاہئیں",
        "price kya hai",
        # symptoms named only to deny them
        "no swelling, no fever, when will results show?",
        "no swelling, redness or fever, all good, when do results show",
        # asking about a complication or the signs in general
        "can mesotherapy cause blurred vision?",
        "what signs should I watch for after mesotherapy?",
        # curiosity about why clinics ask
        "why do clinics ask if you're pregnant?",
        # after a session that went fine
        "had my session yesterday, can I wear make-up today?",
        "day 3, skin looks amazing",
        "if I have it done today, will I swell?",
        # The Saudi regulator's name holds the word "medicine": asking whether a product is
        # registered is not a question about the person's medicines.
        "هل المنتجات مسجلة في هيئة الغذاء والدواء؟",
        # "آمن على البشرة" is "safe on the skin" in general.
        "هل الميزو آمن على البشرة السمراء؟",
        # General questions about the new topics (issue 13) stay information questions.
        "what signs should i watch for after mesotherapy",
        "is there an age limit for mesotherapy",
        "does a meso injection break the fast",
        "is mesotherapy safe for dark skin",
    ],
)
def test_information_questions_stay_information(text):
    assert verdict(text) is None


def test_urgent_wins_over_personal():
    assert verdict("I'm pregnant and my face is swollen and hot since the injections") is URGENT


def test_a_negation_does_not_reach_across_but():
    assert verdict("no fever but my face is swollen and hot since the injections") is URGENT
    assert verdict("my cheek is not swollen but it went white and cold after my session") is URGENT


@pytest.mark.parametrize(
    "text",
    [
        "ｍｙ ｆａｃｅ ｉｓ ｓｗｏｌｌｅｎ ａｎｄ ｈｏｔ since the injections",
        "my f\u200bace is sw\u200dollen and h\u2060ot since the injections",
        "\u202emy face is swollen and hot since the injections\u202c",
        "m\u0443 f\u0430ce is swollen \u0430nd hot since the injections",  # Cyrillic look-alikes
        "ﻭﺟﻬﻲ ﻣﻨﺘﻔﺦ ﻭﺣﺎﺭ ﻣﻦ ﺑﻌﺪ ﺍﻟﺤﻘﻦ",  # Arabic presentation forms
    ],
)
def test_disguised_text_reads_like_plain_text(text):
    assert verdict(text) is URGENT


def test_the_matched_signs_and_concepts_are_reported_for_audits():
    result = default_guard().check("my vision is blurry since the injections")
    assert result.rule and result.matched and result.mentions_health
    assert default_guard().check("how much is it").mentions_health is False
    assert default_guard().check("my cheek since the meso hmm").mentions_health is True
