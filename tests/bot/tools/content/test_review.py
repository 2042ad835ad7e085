"""`make review`: badly handled messages from a real Rasa tracker store, without personal data."""

import asyncio

import pytest
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.answer_store import AnswerStore
from bot.tools.content.review import collect, pseudonym, review, sign_off_list, sign_off_sheet
from bot.tools.content.signoff import approve


def _user(text, intent, confidence, ranking=()):
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}]
        + [{"name": n, "confidence": c} for n, c in ranking],
        "entities": [],
    }
    return UserUttered(text, intent=parse["intent"], parse_data=parse, input_channel="webchat")


def _bot(answer_id, kind="answer", lang="en"):
    return BotUttered("…", metadata={"answer_id": answer_id, "kind": kind, "lang": lang})


def _save(db, sender, events):
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen"), *events])
    asyncio.run(store.save(tracker))


@pytest.fixture
def tracker_db(tmp_path):
    db = tmp_path / "tracker.db"
    _save(
        db,
        "web-1",
        [
            _user(
                "does it hurt a lot afterwards",
                "nlu_fallback",
                0.45,
                [("ask_pain", 0.41), ("ask_downtime", 0.3)],
            ),
            _bot("fallback.not_understood", "fallback"),
            _user("how much is it", "ask_cost", 0.97),
            _bot("booking.cost"),  # fine: not exported
            _user('/ask_topic{"topic":"procedure.pain"}', "ask_topic", 1.0),
            _bot("procedure.pain"),  # a button
            _user(
                "please call me on +44 7700 900123 or mail sara.k@example.com",
                "nlu_fallback",
                0.3,
                [("ask_booking", 0.25)],
            ),
            _bot("fallback.not_understood", "fallback"),
            _user("is meso good for my dark circles", "ask_pigmentation", 0.52),
            _bot("uses.pigmentation"),
        ],
    )
    _save(
        db,
        "+923001234567",
        [  # a WhatsApp conversation: its id is a phone number
            _user("mere chehre pe sujan aur bukhar hai injection ke baad", "report_adverse_reaction", 1.0),
            _bot("safety.urgent", "urgent", "ur"),
            _user("کیا درد ہوتا ہے", "ask_pain", 0.99),
            _bot("procedure.pain", lang="ur"),
            SlotSet("feedback", {"answer_id": "procedure.pain", "helpful": False, "version": "2026-11-20"}),
            _user("شکریہ", "thank", 0.99),
            _bot("chitchat.thanks", "chitchat", "ur"),
            SlotSet("feedback", {"answer_id": "chitchat.thanks", "helpful": True}),
        ],
    )
    _save(
        db,
        "web-2",
        [
            _user("does it hurt a lot afterwards", "nlu_fallback", 0.40, [("ask_pain", 0.39)]),
            _bot("fallback.not_understood", "fallback"),
        ],
    )
    return db


def test_review_groups_badly_handled_messages_by_language_and_guessed_intent(tracker_db, tmp_path):
    out = tmp_path / "review.yml"
    assert review(tracker_db, out) == 5
    data = yaml.safe_load(out.read_text(encoding="utf-8"))["review"]
    assert set(data) == {"en", "roman_ur", "ur"}
    pain = data["en"]["ask_pain"]
    assert pain == [
        {
            "text": "does it hurt a lot afterwards",
            "intent": "ask_pain",
            "why": "not understood",
            "confidence": 0.45,
            "times": 2,
            "conversations": [pseudonym("web-1"), pseudonym("web-2")],
        }
    ]
    assert data["en"]["ask_pigmentation"][0]["why"] == "low confidence"
    assert data["roman_ur"]["report_adverse_reaction"][0]["why"] == "safety layer: safety.urgent"
    assert data["ur"]["ask_pain"][0] == {
        "text": "کیا درد ہوتا ہے",
        "intent": "ask_pain",
        "why": "thumbs-down on procedure.pain",
        "confidence": 0.99,
        "conversations": [pseudonym("+923001234567")],
    }
    all_texts = [m["text"] for lang in data.values() for msgs in lang.values() for m in msgs]
    assert "how much is it" not in all_texts and "شکریہ" not in all_texts  # handled well
    assert not any(t.startswith("/") for t in all_texts)  # button payloads are the bot's own text


def test_review_keeps_no_personal_data(tracker_db, tmp_path):
    out = tmp_path / "review.yml"
    review(tracker_db, out)
    text = out.read_text(encoding="utf-8")
    for secret in ("923001234567", "7700 900123", "7700", "sara.k", "example.com", "web-1", "web-2"):
        assert secret not in text
    assert "please call me on [number] or mail [email]" in text


def test_one_line_per_message(tracker_db, tmp_path):
    out = tmp_path / "review.yml"
    count = review(tracker_db, out)
    lines = [line for line in out.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("- {")]
    assert len(lines) == count
    for line in lines:
        assert yaml.safe_load(line.strip())[0]["text"]


def test_since_leaves_out_older_conversations(tracker_db):
    import datetime as dt

    assert collect(tracker_db, since=dt.date.today() + dt.timedelta(days=1)) == []


def test_a_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no tracker store at"):
        review(tmp_path / "nope.db", tmp_path / "out.yml")


# ---- what clinicians must sign ----------------------------------------------------------
def test_the_sign_off_list_names_every_medical_entry_not_approved_by_file_and_line(project):
    store = AnswerStore.load(project.answers)
    listed = sign_off_list(store)
    waiting = [
        a
        for a in store.answers.values()
        if (a.medical or a.kind in ("safety", "urgent")) and a.review_status != "approved"
    ]
    assert len(listed) == len(waiting) > 0
    for line in listed:
        where, rest = line.split(": ", 1)
        path, number = where.rsplit(":", 1)
        answer_id = rest.split(" ", 1)[0]
        text = (
            (project.root / path).read_text(encoding="utf-8")
            if (project.root / path).exists()
            else store.get(answer_id).path.read_text(encoding="utf-8")
        )
        assert text.splitlines()[int(number) - 1].strip() == f"- id: {answer_id}"
    assert not any(" chitchat." in line or " booking.consultation " in line for line in listed)
    approve(
        "procedure.pain",
        "Dr Amina Rahman",
        "aesthetic physician",
        "GMC 7654321",
        "2026-12-02",
        folder=project.answers,
    )
    after = sign_off_list(AnswerStore.load(project.answers))
    assert len(after) == len(listed) - 1 and not any(" procedure.pain " in line for line in after)


def test_the_sign_off_sheet_shows_the_texts_in_three_languages(store):
    sheet = sign_off_sheet(store)
    urgent = store.get("safety.urgent")
    assert "## safety.urgent" in sheet
    for lang in ("en", "ar", "ur"):
        assert urgent.text[lang] in sheet
    assert "make sign-off ID=" in sheet


# ---- WhatsApp reactions (issue 18) ---------------------------------------------------------


def _reaction(answer_id, helpful, message, lang="en"):
    return SlotSet(
        "feedback",
        {
            "answer_id": answer_id,
            "helpful": helpful,
            "version": "2026-11-20",
            "lang": lang,
            "channel": "whatsapp",
            "reaction": "x",
            "message": message,
        },
    )


def test_reactions_count_as_the_person_left_them(tmp_path):
    db = tmp_path / "tracker.db"
    _save(
        db,
        "wa-1",
        [
            _user("does it hurt", "ask_pain", 0.99),
            _bot("procedure.pain"),
            _reaction("procedure.pain", False, "m1"),  # 👎 ...
            _reaction("procedure.pain", True, "m1"),  # ... changed to 👍
            _user("how long is recovery", "ask_downtime", 0.98),
            _bot("procedure.downtime"),
            _reaction("procedure.downtime", False, "m2"),  # 👎 stays
            _user("how many sessions", "ask_sessions", 0.98),
            _bot("procedure.sessions"),
            _reaction("procedure.sessions", False, "m3"),
            _reaction("procedure.sessions", None, "m3"),  # removed
        ],
    )
    _save(
        db,
        "wa-2",
        [
            _user("کیا درد ہوتا ہے", "ask_pain", 0.99),
            _bot("procedure.pain", lang="ur"),
            _reaction("procedure.pain", False, "m1", "ur"),  # the same message key in another conversation
        ],
    )
    out = tmp_path / "review.yml"
    review(db, out)
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["feedback"] == {
        "procedure.pain": {"en": {"helpful": 1, "not_helpful": 0}, "ur": {"helpful": 0, "not_helpful": 1}},
        "procedure.downtime": {"en": {"helpful": 0, "not_helpful": 1}},
    }
    flagged = {
        m["text"]: m["why"]
        for by_intent in data["review"].values()
        for items in by_intent.values()
        for m in items
    }
    assert flagged == {
        "how long is recovery": "thumbs-down on procedure.downtime",
        "کیا درد ہوتا ہے": "thumbs-down on procedure.pain",
    }
    assert list(data["feedback"])[0] in ("procedure.pain", "procedure.downtime")


def test_widget_ratings_are_counted_too(tracker_db, tmp_path):
    out = tmp_path / "review.yml"
    review(tracker_db, out)
    feedback = yaml.safe_load(out.read_text(encoding="utf-8"))["feedback"]
    assert feedback == {
        "procedure.pain": {"unknown": {"helpful": 0, "not_helpful": 1}},
        "chitchat.thanks": {"unknown": {"helpful": 1, "not_helpful": 0}},
    }


def test_no_ratings_is_an_empty_mapping(tmp_path):
    db = tmp_path / "tracker.db"
    _save(db, "web-9", [_user("hello", "greet", 0.99), _bot("chitchat.greet", "chitchat")])
    out = tmp_path / "review.yml"
    review(db, out)
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["feedback"] == {}
