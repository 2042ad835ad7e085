"""domain.yml's built-in urgent reply is generated from regions.yml, and validate catches drift."""

from bot.tools.content.offline_reply import RESPONSE, build, check, write
from bot.tools.content.validate import check_all
from tests.bot.tools.content.conftest import edit


def _offline(domain_path):
    import yaml

    return yaml.safe_load(domain_path.read_text(encoding="utf-8"))["responses"][RESPONSE]


def test_the_projects_offline_reply_is_in_step_with_regions_yml(project):
    assert check(project.domain, project.answers / "regions.yml") == []
    replies = {v["metadata"]["lang"]: v["text"] for v in _offline(project.domain)}
    # Every region's emergency numbers, Pakistan's Edhi 115 and the Kurdistan Region included.
    for number in ("999", "997", "911", "998", "112", "122", "1122", "115", "192"):
        for lang in ("en", "ar", "ur"):
            assert number in replies[lang], (number, lang)
    assert "Kurdistan Region" in replies["en"] and "كردستان" in replies["ar"] and "کردستان" in replies["ur"]
    # The regions of the reader's language come first.
    assert replies["ur"].index("پاکستان") < replies["ur"].index("برطانیہ")
    assert replies["ar"].index("السعودية") < replies["ar"].index("المملكة المتحدة")


def test_a_number_changed_in_regions_yml_makes_validate_fail_until_the_reply_is_regenerated(project):
    regions = project.answers / "regions.yml"
    edit(regions, '- {number: "192", use: emergency', '- {number: "193", use: emergency')
    edit(regions, '"call 192 for a SAMU ambulance now"', '"call 193 for a SAMU ambulance now"')
    edit(regions, '"اتصل فورًا بالرقم 192 لطلب إسعاف SAMU"', '"اتصل فورًا بالرقم 193 لطلب إسعاف SAMU"')
    edit(
        regions,
        '"SAMU ایمبولینس کے لیے فوراً 192 پر کال کریں"',
        '"SAMU ایمبولینس کے لیے فوراً 193 پر کال کریں"',
    )
    stale = [p for p in check_all(project, rasa=False) if p.severity == "error"]
    assert [p.path for p in stale] == [project.domain]
    assert (
        "utter_urgent_offline (the built-in urgent reply) is out of step with data/answers/regions.yml"
        in stale[0].message
        and "make offline-reply" in stale[0].message
    )
    domain_before = project.domain.read_text(encoding="utf-8")
    assert write(project.domain, regions) == []
    assert [p for p in check_all(project, rasa=False) if p.severity == "error"] == []
    replies = _offline(project.domain)
    assert all(" 193" in v["text"] and " 192" not in v["text"] for v in replies)
    assert [v["metadata"] for v in replies] == [v["metadata"] for v in build(regions)]
    # Only the response changed: every other line of domain.yml is as it was.
    before, after = domain_before.splitlines(), project.domain.read_text(encoding="utf-8").splitlines()
    start = before.index("  utter_urgent_offline:")
    assert after[:start] == before[:start]


def test_a_hand_edit_of_the_offline_reply_is_caught(project):
    edit(project.domain, "Brazil 192", "Brazil 190")
    problems = check(project.domain, project.answers / "regions.yml")
    assert len(problems) == 1 and "(en)" in problems[0].message


def test_the_reply_keeps_its_name_and_metadata_shape(project):
    for variation in build(project.answers / "regions.yml"):
        meta = variation["metadata"]
        assert set(meta) == {"answer_id", "kind", "lang", "dir", "version"}
        assert (meta["answer_id"], meta["kind"]) == ("safety.urgent", "urgent")
        assert meta["dir"] == ("ltr" if meta["lang"] == "en" else "rtl")
