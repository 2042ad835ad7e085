"""Interface strings exist in all three languages, compiled with Babel."""

from bot.i18n import USED_MSGIDS, compile_catalogs, interface_text, missing_translations


def test_every_interface_string_is_translated():
    assert missing_translations() == []


def test_catalogs_compile_and_translate(tmp_path):
    assert len(compile_catalogs()) == 3
    for msgid in USED_MSGIDS:
        ar, ur = interface_text("ar", msgid), interface_text("ur", msgid)
        assert ar != msgid and ur != msgid and ar != ur
