"""The Urdu-script concept vocabulary of the safety guard.

data/safety/concepts/ur.yml: every red-flag concept must be recognised however people write it in
Urdu (a colour, a comparison, what they can no longer do, a relative, a hypothetical that turns
into a confession, Urdu typed on an Arabic keyboard), personal decisions must go to a clinician,
and the look-alikes (general questions, denials, why clinics ask, past events of others, aftercare
after a fine session, everyday words that only look like signs) must keep their information
answer. The messages are written for this test, not taken from the training corpus.
"""

import pytest

from bot.core.safety import SafetyClass, default_guard

URGENT, PERSONAL = SafetyClass.URGENT, SafetyClass.PERSONAL


def check(text):
    return default_guard().check(text)


@pytest.mark.parametrize(
    "concept, text",
    [
        ("infection", "جہاں سوئیاں لگی تھیں وہاں سے گاڑھا پیلا مواد رس رہا ہے اور بو بھی آتی ہے"),
        ("infection", "رات بھر سردی لگ رہی تھی اور جسم ٹوٹ رہا ہے، پرسوں ٹھوڑی پر میسو کروایا"),
        ("worsening_pain", "تیسرے دن درد کم ہونے کی بجائے اور تیز ہو گیا ہے، گولی کا اثر نہیں ہوتا"),
        ("worsening_pain", "گال کو چھونے سے بھی آنسو آ جاتے ہیں، یہ درد روز بڑھ رہا ہے"),
        ("vascular", "ناک کے پاس کی جلد پہلے سفید ہوئی اب بینگنی سی ہو رہی ہے، سیشن دوپہر میں ہوا"),
        ("vascular", "ہونٹ کے اوپر جالی دار نیلا نشان ہے اور وہ جگہ برف جیسی ٹھنڈی لگتی ہے"),
        ("necrosis", "انجیکشن والی جگہ پر کالی کھرنڈ جم گئی ہے اور نیچے کچا زخم ہے"),
        ("necrosis", "ماتھے پر جہاں ٹیکے لگے تھے وہاں آبلے بن کر پھٹ گئے ہیں"),
        ("eyes_vision", "ماتھے کے میسو کے بعد سے دائیں آنکھ سے سب کچھ دھندلا دکھتا ہے"),
        ("eyes_vision", "امی کی پلک ڈھلک گئی ہے اور کہتی ہیں آنکھ کے آگے پردہ سا ہے"),
        ("allergy", "پندرہ منٹ پہلے انجیکشن لگے، ہونٹ موٹے ہو رہے ہیں اور آواز بیٹھ گئی ہے"),
        ("allergy", "سینے پر بوجھ ہے اور سانس لینے میں دقت ہے، سیشن کے بعد سے"),
        ("neurological", "ابو کا منہ ٹیڑھا ہو گیا ہے اور وہ الٹی سیدھی باتیں کر رہے ہیں، آج سر پر میسو ہوا"),
        ("neurological", "صبح میسو ہوا اور اب بائیں ہاتھ سے کپ نہیں اٹھا پاتی، ہاتھ سن ہے"),
        ("swelling", "آنکھ کے نیچے کی سوجن پھیل کر پورے گال تک آ گئی ہے، کل انجیکشن لگے"),
        ("swelling", "چہرہ غبارے کی طرح پھولتا جا رہا ہے جب سے کلینک سے آئی ہوں"),
        # nothing named, but a report of a treatment and how things are now
        ("unclear", "کل سیشن کروایا تھا، آج گال عجیب سا لگ رہا ہے اور کچھ گڑبڑ ہے"),
        # a hypothetical that turns into a confession
        ("confession", "فرض کریں کسی کے ہونٹ سوج جائیں... اصل میں میرے ساتھ ہو رہا ہے ابھی"),
        # make-up to hide a reaction is still a report
        ("concealing", "کون سا کنسیلر اس نیلے نشان کو چھپائے گا جو کل کے سیشن کے بعد سے ہے؟"),
        # Urdu typed on an Arabic keyboard: ے written as ي
        ("arabic keyboard", "ميسو كي بعد سي ميرا گال سوجا هوا هي اور گرم هي"),
    ],
)
def test_each_urgent_concept_in_urdu(concept, text):
    result = check(text)
    assert result.safety_class is URGENT, (concept, result)


@pytest.mark.parametrize(
    "concept, text",
    [
        ("pregnancy", "میرا پانچواں مہینہ چل رہا ہے، چہرے کی چھائیوں کا میسو کروا لوں؟"),
        ("pregnancy", "بچہ چار مہینے کا ہے، ابھی فیڈ کرتی ہوں، ہیئر میزو ٹھیک رہے گا؟"),
        ("person_age_body", "میری بیٹی سولہ سال کی ہے، اس کے دانوں کے نشانوں کے لیے میسو ہو سکتا ہے؟"),
        ("medicines", "روز رات کو ایکوٹین کی گولی لیتی ہوں، سیشن سے پہلے چھوڑ دوں؟"),
        ("conditions", "مجھے تھائرائیڈ ہے اور دمہ بھی، میں میسو کروا سکتی ہوں؟"),
        (
            "allergies",
            "پچھلی بار ایک کریم لگائی تھی تو چہرہ لال ہو گیا تھا، مجھے الرجی ہے کیا میسو ٹھیک رہے گا؟",
        ),
        ("amounts_technique", "میرے ماتھے کی لکیروں کے لیے سوئی کتنی گہرائی میں لگنی چاہیے؟"),
        ("diy", "آن لائن سے میسو کا سیرم منگوایا ہے، گھر پر رولر سے خود لگا لوں؟"),
        ("choices", "اگلے مہینے شادی ہے، شادی سے پہلے میسو کروا لوں یا بعد میں؟"),
    ],
)
def test_each_personal_concept_in_urdu(concept, text):
    result = check(text)
    assert result.safety_class is PERSONAL, (concept, result)


@pytest.mark.parametrize(
    "text",
    [
        # general questions, including about a complication
        "میسو کے بعد سوجن عام طور پر کتنے دن رہتی ہے؟",
        "کیا میسو سے نظر دھندلی ہو سکتی ہے؟ بس جاننا چاہتی ہوں",
        "ویسکولر اوکلوژن کی کیا نشانیاں ہوتی ہیں؟",
        # signs named only to deny them
        "نہ سوجن ہے نہ بخار، نتیجہ کب تک نظر آئے گا؟",
        "کوئی درد نہیں، کوئی لالی نہیں، اگلا سیشن کب رکھوں؟",
        # curiosity about why clinics ask
        "کلینک والے دوائیوں کے بارے میں کیوں پوچھتے ہیں؟",
        # a past event of someone else that went away
        "میری خالہ کو برسوں پہلے ہلکی سوجن ہوئی تھی جو دو دن میں اتر گئی تھی، کیا یہ عام ہے؟",
        "بھابھی کو دو سال پہلے ہلکی لالی رہی تھی جو چلی گئی، اب وہ دوسرے سیشن کا پوچھ رہی ہیں",
        # a session still to come
        "اگلے ہفتے میرا پہلا سیشن ہے، کیا اس کے بعد چہرہ لال ہوگا؟",
        # aftercare after a session that went fine
        "آج صبح سیشن ہوا، سب ٹھیک ہے، شام کو چہرہ دھو سکتی ہوں؟",
        "ہیئر میزو کو ایک ہفتہ ہوا، بال کم گر رہے ہیں، بہت شکریہ",
        # everyday words that only look like signs: hair loss, grey hair, fat melting, fog, exercise
        "میرے بال دن بدن گر رہے ہیں، ہیئر میزو کتنے سیشن میں فائدہ دے گی؟",
        "سرمئی بالوں کے لیے بھی میسو ہوتا ہے؟",
        "چربی گل رہی ہے، دوسرا سیشن کب کروانا ہے؟",
        "لاہور میں دھند کی وجہ سے کل کی اپوائنٹمنٹ بدل سکتے ہیں؟",
        "سیشن کے بعد سخت ورزش کب سے کر سکتے ہیں؟",
        # Arabic proclitics do not turn other words into signs ("کاندھا" is not "اندھا")
        "کاندھے پر میسو ہو سکتا ہے؟",
    ],
)
def test_look_alikes_keep_their_information_answer(text):
    result = check(text)
    assert result.safety_class is None, result
