"""The topics visitors from the clinic's regions ask (issue 13), answered through the web channel.

One conversation per written form asks every new topic in that form and gets its answer id,
in the conversation's language and direction. The messages are not training examples.
"""

import pytest

from bot.core.safety import default_guard

pytestmark = pytest.mark.e2e

NEW_IDS = {
    "safety.danger_signs",
    "procedure.aftercare",
    "procedure.session_length",
    "faith.ramadan",
    "faith.wudu_prayer",
    "faith.hajj_umrah",
    "faith.halal",
    "about.legal_regulation",
    "uses.skin_lightening",
    "booking.female_practitioner",
    "procedure.hijab_scalp",
    "about.skin_boosters",
    "uses.hair_options",
    "about.men",
    "safety.age_general",
    "safety.darker_skin",
    "uses.under_eye",
    "uses.neck_hands",
    "uses.stretch_marks",
    "chitchat.acknowledge",
}

ASKED = {
    "en": {
        "safety.danger_signs": "which warning signs after mesotherapy mean i should get help?",
        "procedure.aftercare": "what should i avoid after a meso session, like the sun or the gym?",
        "procedure.session_length": "how many minutes is one mesotherapy appointment?",
        "faith.ramadan": "does having mesotherapy break the fast in ramadan?",
        "faith.wudu_prayer": "is it ok to make wudu after facial mesotherapy?",
        "faith.hajj_umrah": "how long should people wait after meso before going on umrah?",
        "faith.halal": "are the mesotherapy ingredients halal?",
        "about.legal_regulation": "is mesotherapy legal and are the products registered?",
        "uses.skin_lightening": "can mesotherapy whiten skin?",
        "booking.female_practitioner": "can a female doctor do the treatment?",
        "procedure.hijab_scalp": "i wear a hijab, how does scalp mesotherapy work?",
        "about.skin_boosters": "what is the difference between profhilo and mesotherapy?",
        "uses.hair_options": "is mesotherapy an alternative to minoxidil or a hair transplant?",
        "about.men": "can men have mesotherapy too?",
        "safety.age_general": "what age do you have to be for mesotherapy?",
        "safety.darker_skin": "is mesotherapy ok for darker skin tones?",
        "uses.under_eye": "does meso help with dark circles under the eyes?",
        "uses.neck_hands": "can mesotherapy treat the neck and the hands?",
        "uses.stretch_marks": "can mesotherapy improve stretch marks?",
        "chitchat.acknowledge": "okay got it",
    },
    "ar": {
        "safety.danger_signs": "ما هي العلامات التي تستدعي طلب المساعدة بعد الميزو؟",
        "procedure.aftercare": "وش لازم اتجنب بعد جلسة الميزو؟",
        "procedure.session_length": "كم دقيقة تاخذ جلسة الميزو؟",
        "faith.ramadan": "هل حقن الميزو تفطر في رمضان؟",
        "faith.wudu_prayer": "كيف أتوضأ بعد جلسة الميزو؟",
        "faith.hajj_umrah": "كم يوم لازم انتظر بعد الميزو قبل العمرة؟",
        "faith.halal": "هل مكونات حقن الميزو حلال؟",
        "about.legal_regulation": "هل الميزوثيرابي مرخص وقانوني في الكويت؟",
        "uses.skin_lightening": "هل يبيض الميزو لون البشرة؟",
        "booking.female_practitioner": "هل توجد دكتورة تعمل الميزو عندكم؟",
        "procedure.hijab_scalp": "انا محجبة، كيف يكون ميزو فروة الراس؟",
        "about.skin_boosters": "ما الفرق بين البروفايلو والميزوثيرابي؟",
        "uses.hair_options": "الميزو بديل عن المينوكسيديل أو زراعة الشعر؟",
        "about.men": "هل الرجال يعملون ميزوثيرابي؟",
        "safety.age_general": "هل يوجد حد أدنى للعمر لعمل الميزو؟",
        "safety.darker_skin": "هل الميزو آمن على البشرة السمراء؟",
        "uses.under_eye": "هل يفيد الميزو الهالات السوداء تحت العينين؟",
        "uses.neck_hands": "هل يمكن عمل الميزو للرقبة واليدين؟",
        "uses.stretch_marks": "هل يخفف الميزو علامات التمدد؟",
        "chitchat.acknowledge": "تمام فهمت",
    },
    "ur": {
        "safety.danger_signs": "میسو کے بعد کن علامات پر فوراً ڈاکٹر کو دکھانا چاہیے؟",
        "procedure.aftercare": "میسو کے بعد دھوپ اور جم سے کتنے دن بچنا ہے؟",
        "procedure.session_length": "میسو کا ایک سیشن کتنے منٹ لیتا ہے؟",
        "faith.ramadan": "کیا میسو کے انجیکشن سے روزہ ٹوٹتا ہے؟",
        "faith.wudu_prayer": "میسوتھراپی کے بعد وضو کرنا ٹھیک ہے؟",
        "faith.hajj_umrah": "عمرے پر جانے سے کتنے دن پہلے میسو کروائیں؟",
        "faith.halal": "کیا میسو کے انجیکشن حلال ہیں؟",
        "about.legal_regulation": "کیا پاکستان میں میسو کی پروڈکٹس رجسٹرڈ ہوتی ہیں؟",
        "uses.skin_lightening": "کیا میسو سے رنگ گورا ہو جاتا ہے؟",
        "booking.female_practitioner": "کیا علاج کے لیے لیڈی ڈاکٹر مل سکتی ہے؟",
        "procedure.hijab_scalp": "حجاب پہننے والی خواتین کے لیے سر کی میسو کیسے ہوتی ہے؟",
        "about.skin_boosters": "اسکن بوسٹر اور پروفائلو میسو سے کیسے مختلف ہیں؟",
        "uses.hair_options": "ہیئر ٹرانسپلانٹ اور مینوکسیڈل کے مقابلے میں میسو کیسی ہے؟",
        "about.men": "کیا مرد حضرات بھی میسوتھراپی کرواتے ہیں؟",
        "safety.age_general": "میسو کے لیے کم سے کم عمر کتنی ہے؟",
        "safety.darker_skin": "کیا سانولی رنگت پر میسو محفوظ ہے؟",
        "uses.under_eye": "کیا میسو آنکھوں کے نیچے کے حلقے کم کرتی ہے؟",
        "uses.neck_hands": "کیا گردن اور ہاتھوں پر میسو ہوتی ہے؟",
        "uses.stretch_marks": "کیا میسو اسٹریچ مارکس کم کرتی ہے؟",
        "chitchat.acknowledge": "ٹھیک ہے جی",
    },
    "roman_ur": {
        "safety.danger_signs": "meso ke baad kin alamat pe foran doctor ko dikhana chahiye",
        "procedure.aftercare": "meso ke baad dhoop aur gym se kitne din bachna hai",
        "procedure.session_length": "meso ka ek session kitne minute leta hai",
        "faith.ramadan": "roze mein meso ke injection se roza tootta hai?",
        "faith.wudu_prayer": "mesotherapy ke baad wuzu karna theek hai?",
        "faith.hajj_umrah": "umrah pe jane se kitne din pehle meso karwayein",
        "faith.halal": "kya meso ke injection halal hain",
        "about.legal_regulation": "kya pakistan mein meso ke products registered hote hain",
        "uses.skin_lightening": "meso se rang gora ho jata hai?",
        "booking.female_practitioner": "ilaj ke liye lady doctor mil sakti hai?",
        "procedure.hijab_scalp": "hijab pehenne wali khawateen ke liye scalp meso kaise hoti hai",
        "about.skin_boosters": "skin booster aur profhilo meso se kaise alag hain",
        "uses.hair_options": "hair transplant aur minoxidil ke muqable mein meso kaisi hai",
        "about.men": "kya mard hazraat bhi mesotherapy karwate hain",
        "safety.age_general": "meso ke liye kam se kam umar kitni hai",
        "safety.darker_skin": "kya sanwli rangat pe meso safe hai",
        "uses.under_eye": "kya meso aankhon ke neeche ke halqay kam karti hai",
        "uses.neck_hands": "kya gardan aur haathon pe meso hoti hai",
        "uses.stretch_marks": "kya meso stretch marks kam karti hai",
        "chitchat.acknowledge": "theek hai ji samajh gaya",
    },
}
REPLY = {"en": ("en", "ltr"), "ar": ("ar", "rtl"), "ur": ("ur", "rtl"), "roman_ur": ("ur", "rtl")}


def test_every_new_topic_is_asked_in_every_written_form_and_none_trips_the_safety_guard(store):
    assert NEW_IDS <= set(store.answers)
    for form, asked in ASKED.items():
        assert set(asked) == NEW_IDS, form
        for message in asked.values():
            assert not default_guard().check(message).fired, message


@pytest.mark.parametrize("form", list(ASKED))
def test_every_new_topic_answers_in_each_language(conversation, store, form):
    c = conversation()
    lang, direction = REPLY[form]
    got = {}
    for answer_id, message in ASKED[form].items():
        reply = c.say(message)[0]
        got[answer_id] = (reply["answer_id"], reply["lang"], reply["dir"])
        if reply["answer_id"] == answer_id:
            assert reply["text"].startswith(store.get(answer_id).text[lang].split("{")[0][:40])
    wrong = {k: v for k, v in got.items() if v != (k, lang, direction)}
    assert not wrong, f"{form}: {wrong}"


def test_ok_after_an_answer_is_an_acknowledgement_not_a_goodbye(conversation):
    c = conversation()
    assert c.say("کیا میسوتھراپی میں درد ہوتا ہے؟")[0]["answer_id"] == "procedure.pain"
    for ok in ("ok", "👍"):
        reply = c.say(ok)[0]
        assert (reply["answer_id"], reply["lang"]) == ("chitchat.acknowledge", "ur"), ok
    c = conversation()
    c.say("how many sessions will i need?")
    assert c.say("great")[0]["answer_id"] == "chitchat.acknowledge"
    assert c.say("bye")[0]["answer_id"] == "chitchat.goodbye"


def test_the_danger_signs_answer_gives_the_regions_emergency_number(conversation, store):
    reply = conversation(region="PK").say("what are the warning signs to look out for after meso?")[0]
    assert reply["answer_id"] == "safety.danger_signs"
    assert store.regions.get("PK").emergency["en"] in reply["text"]
    reply = conversation().say("شنو العلامات الخطيرة بعد الميزو؟ احنا في اربيل")[0]
    assert (reply["answer_id"], reply["lang"]) == ("safety.danger_signs", "ar")
    assert store.regions.get("IQ-KR").emergency["ar"] in reply["text"]
