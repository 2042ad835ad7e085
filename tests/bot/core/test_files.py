import os
import stat

import pytest

from bot.core.files import copy_atomically, write_text_atomically


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_written_whole_and_readable_and_a_secret_is_the_owners_only(tmp_path):
    answers = tmp_path / "content" / "answers.yml"
    write_text_atomically(answers, "procedure.pain:\n  en: ألم\n")
    assert answers.read_text(encoding="utf-8") == "procedure.pain:\n  en: ألم\n"
    assert _mode(answers) == 0o644

    secret = tmp_path / "var" / "endpoints.yml"
    write_text_atomically(secret, "token: s3cret\n", mode=0o600)
    assert _mode(secret) == 0o600


def test_a_replaced_file_keeps_its_permissions_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "regions.yml"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    write_text_atomically(target, "new\n")
    assert target.read_text() == "new\n"
    assert _mode(target) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["regions.yml"]


def test_a_write_that_fails_leaves_the_old_content(tmp_path):
    target = tmp_path / "answers.yml"
    target.write_text("approved text\n")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomically(target, "half \udc80 written")  # a lone surrogate cannot be UTF-8
    assert target.read_text() == "approved text\n"
    assert [p.name for p in tmp_path.iterdir()] == ["answers.yml"]


def test_a_model_is_copied_over_the_one_in_service(tmp_path):
    candidate, current = tmp_path / "candidate.tar.gz", tmp_path / "current.tar.gz"
    candidate.write_bytes(b"new model" * 1000)
    current.write_bytes(b"old model")
    copy_atomically(candidate, current)
    assert current.read_bytes() == candidate.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["candidate.tar.gz", "current.tar.gz"]
