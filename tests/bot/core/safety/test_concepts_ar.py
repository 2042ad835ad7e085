"""The Arabic concept vocabulary of the safety guard (MSA, Gulf, Iraqi, Levantine, Egyptian).

data/safety/concepts/ar.yml: every red-flag concept must be recognised however people write it in
Arabic (a colour, a comparison, what they can no longer do, a relative, a hypothetical that turns
into a confession, dialect words and Iraqi گ spellings), personal decisions must go to a clinician,
and the look-alikes (general questions, denials, why clinics ask, past events of others, aftercare
after a fine session) must keep their information answer. The messages are written for this test,
not taken from the training corpus.
"""

import pytest

from bot.core.safety import SafetyClass, default_guard

URGENT, PERSONAL = SafetyClass.URGENT, SafetyClass.PERSONAL


def check(text):
    return default_guard().check(text)


@pytest.mark.parametrize(
    "concept, text",
    [
        ("infection", "من سويت ميزو الذقن يوم الاحد صار فيه حبه قاسيه وحاره ويطلع منها شي اصفر"),
        ("infection", "عملت ميزو للشعر من يومين وهلق عم ارجف وحرارتي ٣٨ ونص"),
        ("worsening_pain", "الوجع بخدي كل يوم اسوأ من اللي قبله والبندول ما فاد، خامس يوم بعد الحقن"),
        ("worsening_pain", "ما اگدر انام على جنبي من الوجع، من بعد الابر وهو يزيد"),
        ("vascular", "الجلد جنب مناخيري صار ابيض بعدين بدا يغمق ولونه رمادي، الحقن كان الظهر"),
        ("vascular", "شفتي من فوق بارده ومزرقه ومش حاسه فيها من بعد الجلسه"),
        ("necrosis", "مكان الابره صار جرح مفتوح ما يلتئم وحواليه قشره سودا"),
        ("necrosis", "طلعت فقاقيع مي على خدي مكان الحقن من امبارح"),
        ("eyes_vision", "من بعد ميزو الجبهه عيني اليمين تشوف كل شي مغبش"),
        ("eyes_vision", "امي جفنها نازل وتقول تشوف الاشياء دبل من ساعة الحقن"),
        ("allergy", "شفايفي صارت مثل البالون وصوتي مبحوح، الحقن كان قبل ربع ساعه"),
        ("allergy", "مش قادره اخد نفسي وصدري ضيق من بعد الابر"),
        ("neurological", "ابوي بعد الجلسه صار كلامه متلعثم وفمه مايل لجهه وحده"),
        ("neurological", "نص وجهي مخدر وايدي اليسار ما بيها حيل من سويت الابر الصبح"),
        ("swelling", "الورم ماشي من الجبهه لحد عيني وكل ساعه يكبر، سويت ميزو امس"),
        ("swelling", "خدي صار قد البرتقانه وعيني ما تنفتح من الصبح بعد الجلسه"),
    ],
)
def test_each_urgent_concept_in_arabic(concept, text):
    result = check(text)
    assert result.safety_class is URGENT, (concept, result)


@pytest.mark.parametrize(
    "text",
    [
        # a hypothetical that turns into a confession
        "سؤال افتراضي: لو الخد صار لونه رمادي بعد الحقن شو يعني؟ بصراحه انا هيك هلق",
        # a relative who minimises it, Iraqi spelling with گ
        "امي دتگول بس تعب بس خالتي من سوت الميزو حلگها مايل وما تگدر تحچي زين",
        # a make-up question hiding a reaction
        "ابي كونسيلر يغطي لون ازرق غامق طلع جنب خشمي بعد الابر اليوم",
        # a long friendly message with the sign in the middle
        "شكرا على الاستقبال الحلو امس، الدكتوره كانت لطيفه جدا، بس حبيت اقول ان عيني من الصبح "
        "صارت تشوف ضباب، وكمان عندكم عروض الشهر هذا؟",
    ],
)
def test_indirect_reports_are_urgent(text):
    assert check(text).safety_class is URGENT


@pytest.mark.parametrize(
    "concept, text",
    [
        ("pregnancy", "انا بالشهر الخامس حمل ووجهي فيه كلف، ينفع اعمل ميزو؟"),
        ("pregnancy", "لسه والده من شهرين وبرضع طبيعي، ميزو الشعر مسموح؟"),
        ("person_age_body", "اختي عمرها ١٥ سنه وعندها حبوب، تقدر تسوي ميزو؟"),
        ("medicines", "اخذ مونجارو للتنحيف، اوقفه قبل ميزو البطن؟"),
        ("conditions", "عندي صدفيه بفروة الراس، ميزو الشعر ينفع معي؟"),
        ("allergies", "جسمي يتحسس من البنسلين والعطور، اقدر اسوي الجلسه؟"),
        ("amounts_technique", "قديش المل المناسب لتحت عيوني؟ الجلد عندي رقيق"),
        ("diy", "اشتريت كيت ميزو من تيمو، كيف اعقم الابر واحقن نفسي؟"),
        ("choices", "ايهما احسن لشعري الميزو ام البلازما؟"),
        ("choices", "سويت بوتوكس قبل ثلاث ايام، اقدر اسوي ميزو هالاسبوع؟"),
    ],
)
def test_each_personal_concept_in_arabic(concept, text):
    result = check(text)
    assert result.safety_class is PERSONAL, (concept, result)


@pytest.mark.parametrize(
    "text",
    [
        # general questions about risks and signs
        "هل يمكن ان يسبب الميزو ازرقاق او ورم؟ سؤال عام",
        "وش العلامات اللي لازم انتبه لها بعد الجلسه؟",
        "شو يعني انسداد وعائي؟ بيصير مع الميزو ولا بس مع الفيلر؟",
        "الميزو بيعمل صداع عموما؟ عايزه اعرف قبل ما احجز",
        # "ما" meaning "what" is not a negation
        "ما الفرق بين ميزو الوجه وميزو الشعر؟",
        # denials
        "لا ورم ولا احمرار ولا حراره الحمد لله، متى تبان النتيجه؟",
        "ماكو وجع ولا انتفاخ، اگدر اروح للجيم باچر؟",
        "مفيش سخونيه ولا صديد، امتى الجلسه الجايه؟",
        # why clinics ask
        "ليش تسألون عن الحمل والادويه قبل الجلسه؟",
        "ليه الاستماره فيها سؤال عن السكر والضغط؟",
        # past events of others that resolved
        "بنت عمي سوت ميزو من سنتين وطلع عندها ورم خفيف وراح بعد يومين، هذا عادي؟",
        # aftercare after a fine session, and a session still to come
        "سويت الجلسه امس وكلشي تمام، اقدر احط مكياج اليوم؟",
        "ثالث يوم بعد الميزو وبشرتي تلمع، شكرا للدكتوره",
        "عندي موعد بكره، هل يكون في احمرار بعد الجلسه؟",
        # ordinary information
        "كم سعر جلسة ميزو الشعر عندكم؟",
        "هل تستخدمون كريم مخدر قبل الحقن؟",
    ],
)
def test_look_alikes_keep_their_information_answer(text):
    assert check(text).safety_class is None


def test_a_denial_does_not_hide_a_sign_after_but():
    assert check("ما في حراره، بس خدي حار وقاسي من بعد الابر").safety_class is URGENT


def test_still_is_not_a_denial():
    # "ما زال" is "still": the swelling after it is there
    assert check("ما زال خدي منتفخ ويوجعني من بعد الجلسه").safety_class is URGENT


def test_cant_with_its_own_negation_is_a_sign():
    # the negation is part of the sign ("ما اقدر افتح"), so it is not read as a denial
    assert check("من بعد الحقن ما اقدر افتح عيني زين").safety_class is URGENT


def test_the_recognised_concept_is_reported_for_audits():
    result = check("خدي صار لونه مثل الرخام وبارد من بعد الجلسه")
    assert "urgent:vascular" in result.concepts
