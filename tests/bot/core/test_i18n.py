"""Interface strings exist in all three languages, compiled with Babel."""

from bot.core.i18n import USED_MSGIDS, compile_catalogs, interface_text, missing_translations


def test_every_interface_string_is_translated():
    assert missing_translations() == []


def test_catalogs_compile_and_translate(tmp_path):
    assert len(compile_catalogs()) == 3
    for msgid in USED_MSGIDS:
        ar, ur = interface_text("ar", msgid), interface_text("ur", msgid)
        assert ar != msgid and ur != msgid and ar != ur


def test_translations_keep_every_placeholder():
    """{number}, {time}, {day}, {count}...: a translation that drops or renames one breaks the text."""
    import re

    for msgid in USED_MSGIDS:
        wanted = sorted(re.findall(r"\{\w+\}", msgid))
        for lang in ("en", "ar", "ur"):
            assert sorted(re.findall(r"\{\w+\}", interface_text(lang, msgid))) == wanted, (lang, msgid)


def test_the_clinics_contact_and_the_widgets_new_words_exist_in_three_languages():
    """Issue 14: contact lines, opening hours, link buttons, the handoff form, the widget's new messages."""
    from bot.core.i18n import CONTACT_MSGIDS, WIDGET_STRINGS

    new_keys = (
        "unreachable_start",
        "timeout_start",
        "not_answered",
        "urgent_heading",
        "open_unread",
        "open_urgent",
        "too_long_count",
        "queued",
        "wait_for_answer",
        "new_conversation_confirm",
        "confirm_new",
        "cancel",
        "handoff_open",
        "handoff_intro",
        "name",
        "phone",
        "email",
        "handoff_contact_hint",
        "handoff_consent",
        "handoff_send",
        "handoff_need_name",
        "handoff_need_contact",
        "handoff_bad_phone",
        "handoff_bad_email",
        "handoff_need_consent",
        "handoff_delivered",
        "handoff_queued",
        "handoff_failed",
    )
    for msgid in (*CONTACT_MSGIDS, *(WIDGET_STRINGS[key] for key in new_keys)):
        texts = [interface_text(lang, msgid) for lang in ("en", "ar", "ur")]
        assert texts[0] == msgid and len(set(texts)) == 3, msgid
        assert all(
            "\u0600" <= ch <= "\u06ff" for ch in texts[1] + texts[2] if ch.isalpha() and ord(ch) > 0x7F
        )
