"""The corpus layer: the real document parses completely and correctly; bad input fails loudly."""

from __future__ import annotations

import datetime as _dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import CorpusError
from assistant.parse import (
    extract_amounts,
    extract_deadlines,
    load_corpus,
    load_corrections,
    normalise,
    parse_document,
    parse_file,
    split_departments,
)
from assistant.types import Corpus

from .conftest import CORPUS, RAW, ROOT


def test_raw_document_is_unchanged_copy() -> None:
    shared = ROOT.parent / "shared" / "policy" / "wanbailin-2022-15.txt"
    if not shared.exists():
        pytest.skip("../shared is not next to this checkout")
    assert RAW.read_bytes() == shared.read_bytes()


def test_document_facts(corpus: Corpus) -> None:
    d = corpus.document("wanbailin-2022-15")
    assert d.issuer == "太原市万柏林区人民政府"
    assert d.number == "万政〔2022〕15号"
    assert d.issued == _dt.date(2022, 6, 23)
    assert d.effective == _dt.date(2022, 6, 23)
    assert d.validity_years == 5
    assert d.expires == _dt.date(2027, 6, 22)
    assert d.title == "太原市万柏林区创新提升营商环境加快推进市场主体倍增工程行动方案"
    assert d.notice.startswith("各街道办事处、各有关单位：") and d.notice.endswith("请遵照执行。")


def test_84_measures_in_order_with_departments(corpus: Corpus) -> None:
    ms = corpus.document().measures
    assert [m.number for m in ms] == list(range(1, 85))
    assert all(m.departments for m in ms)
    assert len({m.key for m in ms}) == 84
    assert all(m.doc_id == "wanbailin-2022-15" for m in ms)


def test_ten_categories_and_sections(corpus: Corpus) -> None:
    d = corpus.document()
    assert len(d.categories) == 10
    assert d.categories[0] == "持续放宽市场准入" and d.categories[2] == "激发创新创业活力" and d.categories[9] == "壮大行业市场主体"
    keys = [s.key_name for s in d.sections]
    assert keys == ["facts", "preface", "guiding", "goals", "req-1", "req-2", "req-3", "req-4", "req-5", "req-6", "validity"]
    goals = next(s for s in d.sections if s.key_name == "goals")
    assert "城镇新增就业78356人以上" in goals.text
    req1 = next(s for s in d.sections if s.key_name == "req-1")
    assert req1.heading == "工作要求（一）加强组织领导" and "区委组织部" in req1.departments
    assert d.measure(25).category == "激发创新创业活力" and d.measure(25).category_no == 3
    assert d.measure(84).category_no == 10


def test_spot_checks(corpus: Corpus) -> None:
    d = corpus.document()
    assert d.measure(2).departments == ("区审批服务管理局", "区税务局", "区人社局", "区医保局", "公安万柏林分局")
    assert d.measure(25).title == "健全首次创业扶持政策"
    a25 = d.measure(25).amounts
    assert [(a.text, a.value, a.purpose) for a in a25] == [("最高5000元", 5000.0, "一次性创业补贴")]
    d27 = {(x.text, x.date, x.kind) for x in d.measure(27).deadlines}
    assert ("2025年12月31日", _dt.date(2025, 12, 31), "until") in d27
    assert ("2025年底", _dt.date(2025, 12, 31), "until") in d27
    assert [(x.text, x.date) for x in d.measure(3).deadlines] == [("2022年底前", _dt.date(2022, 12, 31))]
    assert [(x.text, x.date) for x in d.measure(48).deadlines] == [("2022年9月底", _dt.date(2022, 9, 30))]
    assert [(x.text, x.date) for x in d.measure(72).deadlines] == [("2024年前", _dt.date(2023, 12, 31))]
    assert [p.text for p in d.measure(25).percents] == ["60%"]
    assert d.measure(1).departments[-1] == "相关部门"  # "区教育局等相关部门"
    assert d.measure(82).departments == ("区工信局", "各有关部门")


def test_no_page_break_scars(corpus: Corpus) -> None:
    for m in corpus.measures:
        assert "\n" not in m.text, m.number
        assert "保保" not in m.text and "责责" not in m.text, m.number
        assert not re.search(r"\d\s+[万亿元%年月]|[\u4e00-\u9fff]\s+[\u4e00-\u9fff\d]", m.text), m.number
        assert not re.search(r"[\u4e00-\u9fff][(),:;]|[(),:;][\u4e00-\u9fff]", m.text), m.number
    d = corpus.document()
    assert "节能环保、生物医药" in d.measure(24).text
    assert "城镇新增就业" in next(s for s in d.sections if s.key_name == "goals").text
    assert d.measure(2).text.endswith("加大证照打印投入。")


def test_parsing_loses_no_text(corpus: Corpus) -> None:
    """Every CJK character of the raw measure text survives, except the doubled ones and the fixes."""
    raw = re.sub(r"\s+", "", RAW.read_text(encoding="utf-8"))
    parsed = "".join(m.text for m in corpus.measures)
    raw_body = raw[raw.index("1.坚持") : raw.index("四、工作要求")]
    count = lambda s: len(re.findall(r"[\u4e00-\u9fff]", s))  # noqa: E731
    dept_chars = sum(count("责任单位") + count("".join(m.departments)) for m in corpus.measures)
    headings = sum(count(c) + 1 for c in corpus.document().categories[1:])  # "（二）创优市场环境" …
    lost = count(raw_body) - count(parsed) - dept_chars - headings
    # 保 and 责 doubled across page breaks are dropped; "交又"->"交叉" keeps the count; "等" in 等相关部门.
    assert 0 <= lost <= 4, lost


def test_ocr_corrections_are_applied_and_reviewed(corpus: Corpus) -> None:
    d = corpus.document()
    assert "交叉重复的执法事项" in d.measure(62).text and "交又" not in d.measure(62).text
    assert "规则和标准" in d.measure(66).text and "and" not in d.measure(66).text
    fixes = load_corrections(CORPUS / "corrections.toml")
    assert {f.find for f in fixes} == {"交又重复", "规则and标准"}
    assert all(f.why for f in fixes)


def test_correction_that_no_longer_matches_fails(tmp_path: Path) -> None:
    text = RAW.read_text(encoding="utf-8").replace("交\n\n又重复", "交叉重复")
    (tmp_path / "wanbailin-2022-15.txt").write_text(text, encoding="utf-8")
    (tmp_path / "corrections.toml").write_text((CORPUS / "corrections.toml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(CorpusError, match="matched 0 times"):
        load_corpus(tmp_path)


def test_normalise_examples() -> None:
    assert normalise("(责任单位: 区税务局)") == "（责任单位：区税务局）"
    assert normalise("公开招标数额标准（400 万）") == "公开招标数额标准（400万）"
    assert normalise("增幅达到 20% 以上") == "增幅达到20%以上"
    assert normalise("按照省奖励资金给予 1:1 配套") == "按照省奖励资金给予1:1配套"


def test_amount_and_deadline_extractors() -> None:
    a = extract_amounts("对新认定的国家级、省级科技企业孵化器，分别给予30万元、20万元补助。")
    assert [(x.text, x.value) for x in a] == [("30万元", 300000.0), ("20万元", 200000.0)]
    assert a[1].purpose == "补助"
    assert [x.value for x in extract_amounts("落实省级首次小升规30万，市级两年在规50万奖励政策。")] == [300000.0, 500000.0]
    assert [(d.text, d.date) for d in extract_deadlines("推进公司改革，5月底完成清产核资。", 2022)] == [("5月底", _dt.date(2022, 5, 31))]
    assert extract_deadlines("在原研发支出辅助账（2015版）基础上", 2022) == ()
    assert split_departments("区发改局、区教育局等相关部门") == ("区发改局", "区教育局", "相关部门")


# --- malformed input ------------------------------------------------------------------


def _write(tmp_path: Path, text: str | bytes) -> Path:
    p = tmp_path / "doc.txt"
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


def test_missing_measure_is_named(tmp_path: Path) -> None:
    raw = RAW.read_text(encoding="utf-8")
    start = raw.index("37. 优化首贷户金融服务")
    end = raw.index("38. 提升转续贷比重")
    with pytest.raises(CorpusError, match=r"measure 37 missing") as ex:
        parse_file(_write(tmp_path, raw[:start] + raw[end:]))
    assert ex.value.line is not None and ex.value.line > 100


def test_cut_off_department_block_is_named(tmp_path: Path) -> None:
    raw = RAW.read_text(encoding="utf-8")
    cut = raw.replace("（责任单位：区人社局、区财政局）", "", 1)
    with pytest.raises(CorpusError, match=r"measure 25: departments \(责任单位") as ex:
        parse_file(_write(tmp_path, cut))
    assert ex.value.line is not None


def test_missing_validity_is_a_warning_that_names_truncation(tmp_path: Path) -> None:
    """Issue 12: validity is optional (a warning, never a refusal), but the warning says the file may be cut off."""
    raw = RAW.read_text(encoding="utf-8")
    doc = parse_file(_write(tmp_path, raw[: raw.index("四、工作要求")]))
    assert len(doc.measures) == 84 and doc.effective is None and doc.expires is None and doc.validity_years is None
    assert doc.number == "万政〔2022〕15号"
    assert [w for w in doc.warnings if "truncated" in w]


def test_document_cut_inside_a_measure_fails(tmp_path: Path) -> None:
    raw = RAW.read_text(encoding="utf-8")
    with pytest.raises(CorpusError, match=r"measure 84: departments"):
        parse_file(_write(tmp_path, raw[: raw.index("84. 实施综合物流提升行动") + 40]))


def test_empty_and_binary_files_fail(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="empty"):
        parse_file(_write(tmp_path, "  \n\n"))
    with pytest.raises(CorpusError, match="NUL"):
        parse_file(_write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    with pytest.raises(CorpusError, match="not UTF-8"):
        parse_file(_write(tmp_path, "一、指导思想\n".encode("gbk") + b"\xff\xfe"))


def test_not_a_policy_document_fails() -> None:
    with pytest.raises(CorpusError, match="section heading"):
        parse_document("Hello world.\nThis is not a policy.", "x")


def test_empty_corpus_dir_fails(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no policy documents"):
        load_corpus(tmp_path)


@pytest.mark.parametrize("n", [1, 25, 27, 84])
def test_cli_corpus_show(n: int, corpus: Corpus) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "corpus", "show", str(n)], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    m = corpus.document().measure(n)
    assert out.startswith(f"第{n}条 {m.title}")
    assert "、".join(m.departments) in out
    assert m.text in out


def test_cli_corpus_show_unknown_number_is_a_clear_error() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}  # as a user runs it: no re-raise
    r = subprocess.run([sys.executable, "-m", "assistant", "corpus", "show", "99"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 2 and "no measure 99" in r.stderr and "Traceback" not in r.stderr


def test_cli_corpus_stats() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "corpus", "stats"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    assert "措施 84" in out and "类别 10" in out and "2027-06-22" in out


def test_every_measure_matches_its_raw_segment(corpus: Corpus) -> None:
    """Measure by measure, the parsed text has the raw segment's characters (the `corpus show N` check for all N)."""
    raw = RAW.read_text(encoding="utf-8")
    cjk = lambda s: re.sub(r"[^\u4e00-\u9fff\d]", "", s)  # noqa: E731
    starts = [raw.index(f"\n{n}. ") for n in range(1, 85)] + [raw.index("四、工作要求")]
    undo = {"交叉重复": "交又重复", "规则和标准": "规则标准"}  # compare with the raw OCR text
    for n in range(1, 85):
        seg = re.sub(r"\s+", "", raw[starts[n - 1] : starts[n]])
        seg = cjk(seg[: seg.rfind("责任单位")].split(".", 1)[1])
        text = corpus.document().measure(n).text
        for fixed, orig in undo.items():
            text = text.replace(fixed, orig)
        text = cjk(text)
        extra = len(seg) - len(text)
        # the raw segment keeps the character doubled at a page break (保 in 24) and the 责 of "（责\n\n责任单位" (82)
        assert extra == (1 if n in (24, 82) else 0), (n, extra)
        if extra == 0:
            assert text == seg, n
