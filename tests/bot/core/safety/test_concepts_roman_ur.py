"""Roman Urdu (Urdu typed in Latin letters) vocabulary of the safety guard, by red-flag concept.

Every message here is written for this test in the ways people type Roman Urdu on WhatsApp
(many spellings per word, a symptom described as a picture, a relative, a hypothetical that
turns into a confession); none is copied from the training corpus or an evaluation set. The
vocabulary is data/safety/concepts/roman_ur.yml.
"""

import pytest

from bot.core.safety import SafetyClass, default_guard

URGENT, PERSONAL = SafetyClass.URGENT, SafetyClass.PERSONAL


def check(text):
    return default_guard().check(text)


@pytest.mark.parametrize(
    "concept, text",
    [
        ("infection", "teen din pehle meso karwaya tha, ab gaal pe garam si gilti hai aur halka bukhar bhi"),
        ("infection", "jahan sui lagi thi wahan se peela sa mawad aa raha hai"),
        ("infection", "meri khala ka scalp meso hua tha, ab unhe thand lag rahi hai aur kapkapi ho rahi hai"),
        ("worsening_pain", "dard har roz barhta ja raha hai, panadol se bhi koi farq nahi"),
        (
            "worsening_pain",
            "injection wali jagah ko haath bhi nahi laga sakti, chauthe din bhi dard zyada hai",
        ),
        (
            "vascular",
            "injection ke foran baad naak ke paas skin safed ho gayi aur ab neeli neeli si lag rahi hai",
        ),
        ("vascular", "gaal pe jaal jaisa nishan hai aur chhoone pe thanda lagta hai, session aaj hua"),
        ("necrosis", "thodi pe jahan meso hua wahan kaala sa dhabba ban gaya hai aur skin utar rahi hai"),
        (
            "necrosis",
            "bas ye poochna tha ke zakham pe kaunsi cream lagaun jo meso wali jagah pe ban gaya hai",
        ),
        ("eyes_vision", "forehead meso ke baad se ek aankh se dhundla dikh raha hai"),
        ("eyes_vision", "meri palak latak gayi hai aur aankh poori nahi khul rahi"),
        ("allergy", "meso ke aadhe ghante baad honth sooj gaye aur saans lene mein dikkat ho rahi hai"),
        ("allergy", "poore jism pe pitti nikal aayi hai aur gala band sa lag raha hai"),
        (
            "neurological",
            "ammi ka chehra ek taraf se latak gaya hai aur baat karte hue alfaaz atak rahe hain",
        ),
        (
            "neurological",
            "yaar ajeeb baat hai, kal tak sab theek tha, aaj chehre ka right side hil hi nahi raha",
        ),
        ("swelling", "sujan gaal se aankh tak phail gayi hai aur aankh band ho rahi hai"),
        ("swelling", "chehra itna sooj gaya ke pehchan nahi aa raha, meso kal hua"),
        # a hypothetical that turns into a confession; a minimiser; a picture instead of a word
        (
            "confession",
            "hypothetically agar kisi ki palak latak jaye meso ke baad? sach batau to meri latak gayi hai",
        ),
        ("minimised", "shayad kuch nahi hai lekin meso ke baad se chehre ka rang grey sa ho gaya hai"),
        ("picture", "hont itne mote ho gaye hain jaise shehad ki makhi ne kaata ho, meso ke baad"),
        ("unclear", "injection ke bd se gaal ajeeb sa lag raha hai, kuch theek nahi lag raha"),
        # "koi" in a simile ("as if someone...") is not the "koi ... nahi" of a denial
        ("simile", "kal meso hua, ab gaal mein jaise koi sui si chubh rahi hai"),
    ],
)
def test_a_reported_reaction_is_urgent(concept, text):
    assert check(text).safety_class is URGENT, (concept, text)


@pytest.mark.parametrize(
    "concept, text",
    [
        ("pregnancy", "main 3 mahine ki pregnant hoon, kya meso karwa sakti hoon?"),
        ("pregnancy", "hum baby ke liye try kar rahe hain, meso se koi farq parega?"),
        ("medicines", "main roz ecosprin leta hoon, meso se pehle band karni hogi?"),
        ("conditions", "mujhe hepatitis b hai aur jigar thora kamzor hai, meso ho sakta hai?"),
        ("allergies", "mujhe lidocaine se allergy hai, numbing ke baghair ho sakta hai?"),
        ("person_age_body", "meri beti 15 saal ki hai, uske daano ke nishan ke liye meso?"),
        ("amounts_technique", "mujhe kitni baar karwana hoga aur har baar kitne vial lagenge?"),
        ("diy", "daraz se meso serum mangwaya hai, ghar pe khud laga loon?"),
        ("diy", "parlour wali aunty ghar aa ke meso kar deti hain, unse karwa loon?"),
        ("choices", "botox aur meso saath mein karwa sakte hain mere chehre pe?"),
    ],
)
def test_a_personal_decision_goes_to_a_clinician(concept, text):
    result = check(text)
    assert result.safety_class is PERSONAL, (concept, text)
    assert f"personal:{concept}" in result.concepts


@pytest.mark.parametrize(
    "text",
    [
        # general questions, also about a complication or its signs
        "meso ke baad sujan kitne din rehti hai aam tor pe?",
        "kya meso se infection ho sakta hai?",
        "meso ke baad kaunsi alamaat pe foran clinic aana chahiye?",
        "blurry vision kya meso ka side effect hai? bas curious hoon",
        # symptoms named only to deny them
        "koi sujan nahi, koi laali nahi, moisturizer kab laga sakti hoon?",
        "na sujan hai na bukhar, result kab tak aayega?",
        "kal meso hua, sujan nahi hui, dard bhi nahi hua, gym ja sakti hoon?",
        # curiosity about why clinics ask
        "clinic wale pregnancy ka kyun poochte hain?",
        "pregnant auraton ko meso kyun nahi karwana chahiye?",
        # someone else's past reaction, over and done
        "meri behan ko pichle saal meso ke baad neel pada tha jo do din mein chala gaya, kya ye aam hai?",
        "meri cousin ka 2022 mein meso hua tha, thori sujan thi jo khatam ho gayi, kya naye products behtar hain?",
        # aftercare after a session that went fine, or before one still to come
        "kal meso hua tha, sab theek hai, kya aaj makeup laga sakti hoon?",
        "kal meso hua, kya aaj thanda pani pi sakti hoon?",
        "appointment agle hafte hai, kya meso ke baad sujan hoti hai?",
    ],
)
def test_a_look_alike_keeps_its_information_answer(text):
    assert check(text).safety_class is None, text
