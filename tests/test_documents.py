"""Documents in five layouts and four file formats, built as real files, parse with every item, heading and department right."""

from __future__ import annotations

import datetime as _dt
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from assistant.errors import CorpusError
from assistant.parse import load_corpus, load_corrections, parse_file
from assistant.structure.departments import find as find_departments
from assistant.structure.numbering import detect
from assistant.types import Document

from .conftest import CORPUS, PLAN_TITLE, RAW
from .fixtures import texts

# --- layout A: 一、 + "1." restarting, （X牵头，Y配合）, sign-off at the end -----------------------------

MEASURES_2016 = [
    # label, heading, title, lead, co
    ("第一部分第1条", "一、提升政务服务效能", "推行企业开办“一窗通办”", ("区政务服务局",), ("区市场监管局", "区税务局", "公安柏川分局")),
    ("第一部分第2条", "一、提升政务服务效能", "推进审批事项“最多跑一次”", ("区政务服务局",), ("区发改局", "区审改办")),
    ("第一部分第3条", "一、提升政务服务效能", "实行容缺受理", ("区审改办",), ("区直各审批部门",)),
    ("第二部分第1条", "二、降低企业经营成本", "落实小微企业税收优惠政策", ("区国税局",), ("区地税局",)),
    ("第二部分第2条", "二、降低企业经营成本", "降低企业用电成本", ("区经信局",), ("区财政局", "区供电公司")),
    ("第二部分第3条", "二、降低企业经营成本", "清理规范涉企收费", ("区发改局",), ("区财政局", "区物价局")),
    ("第二部分第4条", "二、降低企业经营成本", "减轻企业物流成本", ("区交通局",), ("区财政局",)),
    ("第三部分第1条", "三、加大金融支持力度", "设立中小企业转贷资金", ("区金融办",), ("区财政局", "各商业银行")),
    ("第三部分第2条", "三、加大金融支持力度", "实施创业担保贷款贴息", ("区人社局",), ("区财政局", "区金融办")),
]


def _items(doc: Document) -> list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]]:
    return [(m.label, m.path[-1], m.title, m.lead_departments, m.co_departments) for m in doc.measures]


@pytest.mark.parametrize("name", ["measures.txt", "measures.pdf"])
def test_measures_2016_lead_and_cooperating_departments(files: dict[str, Path], name: str) -> None:
    doc = parse_file(files[name])
    assert _items(doc) == MEASURES_2016
    assert [m.number for m in doc.measures] == list(range(1, 10))  # "1." restarts: ordinals keep keys unique
    assert all(m.departments == m.lead_departments + m.co_departments for m in doc.measures)
    assert doc.categories == ("提升政务服务效能", "降低企业经营成本", "加大金融支持力度")
    assert doc.title == "柏川区人民政府关于进一步优化营商环境的若干措施" and doc.levels == ("一、", "1.")
    # No cover page: issuer and date come from the sign-off, which is not part of the last measure.
    assert (doc.issuer, doc.issued, doc.effective) == ("柏川区人民政府", _dt.date(2016, 9, 20), _dt.date(2016, 10, 1))
    assert doc.number is None and doc.expires is None and doc.short_title == "进一步优化营商环境的若干措施"
    assert [w.split(" (")[0] for w in doc.warnings] == ["no document number"]
    assert doc.measures[-1].text.endswith("按规定给予全额贴息。")
    assert [(a.text, a.value) for a in doc.measures[4].amounts] == [("0.02元", 0.02), ("最高不超过50万元", 500000.0)]
    assert [(d.text, d.date) for d in doc.measures[1].deadlines] == [("2016年底前", _dt.date(2016, 12, 31))]
    keys = [s.key_name for s in doc.sections]
    assert keys == ["facts", "preface", "validity"] and doc.sections[1].text.startswith("为深化“放管服”改革")


# --- layout B: 一、/（一）/1., 〔牵头单位：…，责任单位：…〕 and （牵头单位：…；责任单位：…） -----------------

PLAN_2021 = [
    ("（一）第1条", "（一）围绕优化营商环境加强公开", "及时公开惠企政策", ("区政府办公室",), ("区发改局", "区工信局")),
    ("（一）第2条", "（一）围绕优化营商环境加强公开", "公开涉企收费目录", ("区财政局",), ("区市场监管局",)),
    ("（一）第3条", "（一）围绕优化营商环境加强公开", "做好政策解读", ("区政府办公室",), ("区政府有关部门",)),
    ("（二）第1条", "（二）围绕保障改善民生加强公开", "公开就业创业信息", ("区人社局",), ("各街道办事处",)),
    ("（二）第2条", "（二）围绕保障改善民生加强公开", "公开社会救助信息", ("区民政局",), ("各街道办事处",)),
    ("（三）第1条", "（三）加强政务公开平台建设", "优化政府网站", ("区政府办公室",), ("区大数据中心",)),
    ("（三）第2条", "（三）加强政务公开平台建设", "办好政府开放日", ("区政府办公室",), ("区政府有关部门",)),
]


def _check_plan(doc: Document) -> None:
    assert _items(doc) == PLAN_2021
    assert all(m.path[0] == "二、重点任务" for m in doc.measures)
    assert doc.title == PLAN_TITLE and doc.number == "柏政办发〔2021〕8号" and doc.issuer == "柏川区人民政府办公室"
    assert (doc.issued, doc.effective, doc.expires) == (_dt.date(2021, 3, 15), _dt.date(2021, 3, 15), _dt.date(2021, 12, 31))
    assert doc.warnings == () and doc.levels == ("一、", "（一）", "1.")
    sections = {s.key_name: s for s in doc.sections}
    assert sections["s1"].heading == "一、总体要求" and sections["s1"].text.startswith("坚持以人民为中心")
    assert sections["s3-1"].heading == "保障措施（一）加强组织领导" and sections["s3-2"].text.startswith("强化督促检查。")
    assert doc.notice.startswith("各街道办事处，区直各部门：")
    assert [(d.text, d.date) for d in doc.measures[0].deadlines] == [("2021年6月底", _dt.date(2021, 6, 30))]


def test_plan_2021_docx_with_automatic_numbering_and_a_table(files: dict[str, Path]) -> None:
    with zipfile.ZipFile(files["plan.docx"]) as z:  # the numbers really are Word's automatic numbering
        assert "一、总体要求" not in z.read("word/document.xml").decode() and "chineseCounting" in z.read("word/numbering.xml").decode()
    doc = parse_file(files["plan.docx"])
    _check_plan(doc)
    annex = next(s for s in doc.sections if s.key_name == "annex")
    assert annex.heading == "附件" and "编制惠企政策清单｜区政府办公室｜2021年6月底" in annex.text


def test_plan_2021_printed_by_chromium(files: dict[str, Path]) -> None:
    if "plan.chromium.pdf" not in files:
        pytest.skip("Chromium is not installed (make test installs it)")
    assert files["plan.chromium.pdf"].read_bytes().startswith(b"%PDF")
    _check_plan(parse_file(files["plan.chromium.pdf"]))


# --- layout C: 第一章/第一条 on a government web page ------------------------------------------------


def test_rules_2021_articles_on_a_saved_web_page(files: dict[str, Path]) -> None:
    doc = parse_file(files["rules.html"])
    assert [m.label for m in doc.measures] == [f"第{n}条" for n in range(1, 11)]
    assert [m.number for m in doc.measures] == list(range(1, 11))
    assert [m.path[-1] for m in doc.measures] == ["第一章总则"] * 3 + ["第二章扶持措施"] * 4 + ["第三章服务保障"] * 3
    assert doc.categories == ("总则", "扶持措施", "服务保障") and doc.levels == ("第一章", "第一条")
    # The page's metadata lines give the facts; the closing article gives the validity.
    assert (doc.title, doc.number, doc.issuer, doc.issued) == (
        texts.RULES_2021_TITLE,
        "柏政发〔2021〕12号",
        "柏川区人民政府",
        _dt.date(2021, 4, 20),
    )
    assert (doc.effective, doc.validity_years, doc.expires) == (_dt.date(2021, 5, 1), 5, _dt.date(2026, 4, 30))
    # Cases enumerated inside an article stay in it.
    assert doc.measure(5).text.endswith("（一）设备投资额不低于200万元；（二）设备已投入使用并完成验收；（三）企业近三年无重大违法记录。")
    assert doc.measure(4).title == "对首次认定为国家级专精特新“小巨人”的企业"
    everything = "".join(m.text for m in doc.measures) + "".join(s.text for s in doc.sections)
    for chrome in ("首页", "分享到", "网站标识码", "相关文件", "_hmt", "登录", "当前位置"):
        assert chrome not in everything
    assert doc.warnings == ("10 of 10 items name no responsible department",)


# --- layout D: Markdown, items at （一） directly under 一、, nothing on the cover -------------------------


def test_notice_markdown_items_under_top_headings(files: dict[str, Path]) -> None:
    doc = parse_file(files["notice.md"])
    got = [(m.label, m.path, m.title, m.departments, m.lead_departments) for m in doc.measures]
    assert got == [
        ("第一部分第一项", ("一、培育夜间消费场景",), "打造夜间消费街区", ("区商务局", "区财政局"), ()),
        ("第一部分第二项", ("一、培育夜间消费场景",), "支持夜市规范经营", ("区城管局", "各街道办事处"), ()),
        ("第一部分第三项", ("一、培育夜间消费场景",), "延长文旅场馆开放时间", ("区文旅局",), ()),
        ("第二部分第一项", ("二、优化夜间服务保障",), "加密夜间公交线路", ("区交通局",), ()),
        ("第二部分第二项", ("二、优化夜间服务保障",), "保障夜间停车", ("区住建局", "区机关事务中心"), ()),
    ]
    assert doc.title == "柏川区支持夜间经济发展的十条措施" and doc.format == "md"
    assert (doc.number, doc.issuer, doc.issued, doc.effective, doc.expires) == (None, None, None, None, None)
    assert len(doc.warnings) == 4 and any("truncated" in w for w in doc.warnings)  # missing facts warn, never refuse
    table = next(s for s in doc.sections if s.key_name == "s2")
    assert "区级示范街区" in table.text and "50万元" in table.text


# --- the seed, printed to PDF ----------------------------------------------------------------------


def test_seed_printed_to_pdf_parses_like_its_text(files: dict[str, Path], corpus: object) -> None:
    fixes = load_corrections(CORPUS / "corrections.toml")
    pdf = parse_file(files["seed.pdf"], corrections=fixes)
    txt = parse_file(RAW, corrections=fixes)
    fields = ("number", "label", "title", "text", "category", "category_no", "departments", "amounts", "percents", "deadlines", "path")
    assert len(pdf.measures) == 84
    for a, b in zip(pdf.measures, txt.measures, strict=True):
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields], a.number
    assert pdf.sections == txt.sections and (pdf.number, pdf.issued, pdf.expires) == (txt.number, txt.issued, txt.expires)


# --- failures and the corpus folder ------------------------------------------------------------------


def test_scanned_pdf_is_a_clear_error(files: dict[str, Path]) -> None:
    with pytest.raises(CorpusError, match=r"scan\.pdf: no text layer .* scanned image\. Run it through OCR"):
        parse_file(files["scan.pdf"])


def test_unsupported_and_broken_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "a.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(CorpusError, match="unsupported file type '.doc'"):
        parse_file(tmp_path / "a.doc")
    (tmp_path / "b.docx").write_bytes(b"not a zip")
    with pytest.raises(CorpusError, match="not a readable Word .docx"):
        parse_file(tmp_path / "b.docx")
    (tmp_path / "c.pdf").write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(CorpusError, match="PDF"):
        parse_file(tmp_path / "c.pdf")


def test_corpus_folder_picks_up_every_format(files: dict[str, Path], tmp_path: Path) -> None:
    for name in ("wanbailin-2022-15.txt", "corrections.toml", "synonyms.toml"):
        shutil.copy(CORPUS / name, tmp_path / name)
    for key in ("measures.pdf", "plan.docx", "rules.html", "notice.md"):
        shutil.copy(files[key], tmp_path / files[key].name)
    (tmp_path / "README.md").write_text("# 说明\n一、这不是文件\n二、也不是\n", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["measures-2016", "notice", "plan-2021", "rules-2021", "wanbailin-2022-15"]
    assert [d.format for d in corpus.documents] == ["pdf", "md", "docx", "html", "txt"]
    assert len({m.key for m in corpus.measures}) == len(corpus.measures) == 9 + 5 + 7 + 10 + 84
    shutil.copy(files["measures.txt"], tmp_path / "measures-2016.txt")
    with pytest.raises(CorpusError, match="two files for document 'measures-2016'"):
        load_corpus(tmp_path)


# --- the pattern table and the department forms -------------------------------------------------------


def test_numbering_styles_are_chosen_per_document() -> None:
    assert [s.example for s in detect(["第一章 总则", "第一条 …", "第二条 …", "（一）…", "（二）…", "第二章 …"])] == ["第一章", "第一条"]
    assert [s.example for s in detect(["一、…", "1. …", "2. …", "（1）…", "（2）…", "二、…"])] == ["一、", "1.", "（1）"]
    assert [s.example for s in detect(["①…", "②…", "10.5万元以上", "2022年…"])] == ["①"]


@pytest.mark.parametrize(
    ("text", "every", "lead", "co"),
    [
        ("…。（责任单位：区税务局、区财政局）", ("区税务局", "区财政局"), (), ()),
        (
            "…。（区政务服务局牵头，区发改局、区审改办配合）",
            ("区政务服务局", "区发改局", "区审改办"),
            ("区政务服务局",),
            ("区发改局", "区审改办"),
        ),
        (
            "…。（区政务服务局牵头，区发改局，区审改办配合）",
            ("区政务服务局", "区发改局", "区审改办"),
            ("区政务服务局",),
            ("区发改局", "区审改办"),
        ),
        (
            "…。〔牵头单位：区政府办公室，责任单位：区政府有关部门〕",
            ("区政府办公室", "区政府有关部门"),
            ("区政府办公室",),
            ("区政府有关部门",),
        ),
        (
            "…。（牵头单位：区商务局；责任单位：区财政局、各街道办事处）",
            ("区商务局", "区财政局", "各街道办事处"),
            ("区商务局",),
            ("区财政局", "各街道办事处"),
        ),
        ("…（区发改局牵头）", ("区发改局",), ("区发改局",), ()),
    ],
)
def test_department_forms(text: str, every: tuple[str, ...], lead: tuple[str, ...], co: tuple[str, ...]) -> None:
    found = find_departments(text)
    assert found is not None
    assert (found[0], found[1].all, found[1].lead, found[1].co) == ("…。" if "。" in text else "…", every, lead, co)


def test_brackets_without_a_role_are_not_departments() -> None:
    assert find_departments("公开招标数额标准（400万）") is None
    assert find_departments("按《就业创业证》（2021年版）") is None


def test_a_gap_in_the_numbering_is_lost_text(tmp_path: Path) -> None:
    p = tmp_path / "gap.txt"
    p.write_text(re.sub(r"\n2\. 推进审批事项.*?\n", "\n", texts.MEASURES_2016, count=1), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"gap\.txt:\d+: measure 2 missing: expected '2\.' but found '3\.'"):
        parse_file(p)


def test_page_laid_out_in_tables_keeps_its_paragraphs(tmp_path: Path) -> None:
    """Older sites put the whole page in a layout table: its cells hold paragraphs, not table rows."""
    page = (
        "<html><head><title>关于印发柏川区档案管理办法的通知_柏川区人民政府</title></head><body><table>"
        '<tr><td class="nav">首页 政务公开</td></tr><tr><td><p>第一章 总则</p><p>第一条 为了规范档案管理，制定本办法。</p>'
        "<p>第二条 本办法适用于本区各级机关。</p><table><tr><td>序号</td><td>事项</td></tr><tr><td>1</td><td>移交</td></tr></table>"
        "</td></tr></table></body></html>"
    )
    p = tmp_path / "archive.html"
    p.write_text(page, encoding="utf-8")
    doc = parse_file(p)
    assert doc.title == "柏川区档案管理办法" and [m.label for m in doc.measures] == ["第1条", "第2条"]
    assert doc.measure(2).text == "本办法适用于本区各级机关。序号｜事项；1｜移交；" and "首页" not in doc.measure(1).text
