"""The English (and Spanish / Portuguese) concept vocabulary of the safety guard.

data/safety/concepts/en.yml: every red-flag concept must be recognised however people write it
(a colour, a comparison, what they can no longer do, a relative, a hypothetical that turns into a
confession), personal decisions must go to a clinician, and the look-alikes (general questions,
denials, why clinics ask, past events of others, aftercare after a fine session) must keep their
information answer. The messages are written for this test, not taken from the training corpus.
"""

import pytest

from bot.core.safety import SafetyClass, default_guard

URGENT, PERSONAL = SafetyClass.URGENT, SafetyClass.PERSONAL


def check(text):
    return default_guard().check(text)


@pytest.mark.parametrize(
    "concept, text",
    [
        (
            "infection",
            "the spot where she injected my jaw has gone yellow on top and feels like a hot pebble, day 4",
        ),
        ("infection", "my scalp has felt like a radiator since the hair meso on Tuesday and now I'm shivery"),
        (
            "worsening_pain",
            "the ache in my thighs is worse than yesterday and the paracetamol does nothing, 5th day",
        ),
        (
            "worsening_pain",
            "even the pillow on that cheek is too much now, hurts more and more since my jabs",
        ),
        (
            "vascular",
            "a patch by my nostril went whitish and now it's turning a dusky purple, meso was at 2pm",
        ),
        ("vascular", "my upper lip has a lacy blue pattern and feels icy since this morning's session"),
        (
            "necrosis",
            "where the needle went in there's a dark crust and the skin underneath looks like leather",
        ),
        ("necrosis", "one injection point has broken open into a little crater and it's getting deeper"),
        ("eyes_vision", "since my forehead meso everything looks foggy out of my right eye"),
        (
            "eyes_vision",
            "my mum's eyelid has dropped and she says there's a shadow over part of what she sees",
        ),
        ("allergy", "my lips feel fat and tingly and my voice has gone husky, had meso 15 mins ago"),
        ("allergy", "there's a weight on my chest and I can't take a deep breath since the injections"),
        ("neurological", "my dad's mouth looks twisted and he's not making sense since his scalp meso"),
        ("neurological", "I keep leaning to one side and my hand won't grip the cup, had meso this morning"),
        ("swelling", "my under-eye area is puffing shut and the swelling is spreading to my cheeks"),
        ("swelling", "my chin came back bigger today after going down, I had the fat jab on Friday"),
    ],
)
def test_each_urgent_concept_in_english(concept, text):
    result = check(text)
    assert result.safety_class is URGENT, (concept, result)


@pytest.mark.parametrize(
    "text",
    [
        # a hypothetical that turns into a confession
        "hypothetically, can a cheek go grey after meso? asking because mine just did",
        # a relative who minimises it
        "my sister says it's just her period but her forehead is hot and weeping since her meso",
        # a make-up question hiding a reaction
        "what concealer hides a purple blotch? it came up near my injection an hour ago",
        # a long friendly message with the sign in the middle
        "thanks for the lovely session! quick update, my left eye has gone a bit blurry since, "
        "anyway do you sell gift cards?",
    ],
)
def test_indirect_reports_are_urgent(text):
    assert check(text).safety_class is URGENT


@pytest.mark.parametrize(
    "text",
    [
        "se me puso morada y fría la piel junto al piquete, me hicieron meso hace dos horas",
        "desde la sesión de ayer veo borroso de un ojo",
        "fiz meso ontem e agora tem um caroço quente e duro na bochecha, com febre",
        "minha irmã desmaiou depois da meso e está com a boca torta",
    ],
)
def test_spanish_and_portuguese_reports_are_urgent(text):
    assert check(text).safety_class is URGENT


@pytest.mark.parametrize(
    "concept, text",
    [
        ("pregnancy", "we've started fertility injections this month, can I still do my face meso"),
        ("pregnancy", "I had a miscarriage in the spring, is it too soon for hair meso"),
        ("person_age_body", "my teen son wants meso for his acne scars for his 18th birthday, can he"),
        ("person_age_body", "I have loose skin after losing a lot of weight, would meso tighten it for me"),
        ("medicines", "I put tretinoin on every night, do I need to stop before meso"),
        ("conditions", "I've got fibromyalgia and bruise easily, will the needles be too much for me"),
        ("allergies", "my skin reacts to vitamin c, could I react to the meso cocktail"),
        ("amounts_technique", "what needle length should they use on my thinning crown"),
        ("diy", "my cousin does meso from her flat for half the price, is that ok"),
        ("choices", "I'm having a thread lift in May, should I do meso before or after"),
        ("choices", "can I get meso and lip filler on the same day before my holiday"),
    ],
)
def test_each_personal_concept_in_english(concept, text):
    result = check(text)
    assert result.safety_class is PERSONAL, (concept, result)


@pytest.mark.parametrize(
    "text",
    [
        # general questions about risks and signs
        "can mesotherapy cause blurred vision, or is that only fillers?",
        "what would an infection look like after meso, just so I know",
        "can it make my skin blotchy?",
        "what's the difference between meso and botox",
        # denials
        "no swelling, no fever, no numbness, when will I see results?",
        "day 2 after my session, nothing hurts and there's no redness, can I go to the gym?",
        "me hice meso ayer, sin dolor ni hinchazón, cuándo veo resultados?",
        # why clinics ask
        "why does the form ask about blood thinners?",
        "why do you need to know if I'm breastfeeding?",
        # past events of others that resolved
        "my aunt had a bit of redness after meso years ago, it went away in a day, is that common?",
        # aftercare after a fine session
        "had my meso yesterday and it all looks fine, can I wear make-up today?",
        "I'm so happy with my results, my skin is glowing after my second session",
        # ordinary information
        "how many sessions do people usually need for hair loss?",
        "is it ok to get meso at a salon?",
    ],
)
def test_look_alikes_keep_their_information_answer(text):
    assert check(text).safety_class is None


def test_a_denial_does_not_hide_a_sign_after_but():
    assert check("no fever, but my cheek is hot and hard since the injections").safety_class is URGENT


def test_a_hedge_after_no_is_not_a_denial():
    # "no change" means it is still there; the question after the comma is still personal
    assert check("I did three sessions, no change, should I increase the amount").safety_class is PERSONAL


def test_the_recognised_concept_is_reported_for_audits():
    result = check("the skin by my nose looks bluish grey and feels cooler, meso was this afternoon")
    assert "urgent:vascular" in result.concepts
