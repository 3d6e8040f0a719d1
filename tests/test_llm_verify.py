"""The generative mode's verifier, with a scripted LLM (a real llama-index ``CustomLLM``) and the real index.

No server is needed: the scripted model returns fixed text, so these tests pin
down what may reach the user — never an invented number, never an item that
was not given to the model — and that every failure falls back to the
extractive answer with ``mode="llm-fallback"``.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from llama_index.core.base.llms.types import CompletionResponse, CompletionResponseGen, LLMMetadata
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback

from assistant import Assistant, Reply, Settings
from assistant.answer import grounding_violations
from assistant.llm import MAX_TOKENS, LLMAnswerer, segments

from .conftest import TODAY

SECRET = "sk-test-DO-NOT-LOG-4242"


class ScriptedLLM(CustomLLM):
    """Answers every prompt with the next scripted text (the last one repeats), or raises ``error``."""

    replies: list[str] = []
    error: Any = None
    delay: float = 0.0
    prompts: list[str] = []

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted", is_chat_model=False)

    def _next(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._next(prompt))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        text = self._next(prompt)

        def gen() -> CompletionResponseGen:
            acc = ""
            for i in range(0, len(text), 3):  # a few characters per token, like a real model
                acc += text[i : i + 3]
                yield CompletionResponse(text=acc, delta=text[i : i + 3])

        return gen()


def scripted(*replies: str, error: Exception | None = None, delay: float = 0.0) -> ScriptedLLM:
    return ScriptedLLM(replies=list(replies) or [""], error=error, delay=delay, prompts=[])


def answerer(bot: Assistant, llm: ScriptedLLM, timeout: float = 5, **kw: Any) -> LLMAnswerer:
    return LLMAnswerer(llm, bot.corpus, timeout=timeout, **kw)


def rewrite(bot: Assistant, question: str, *replies: str, **kw: Any) -> tuple[Reply, Reply]:
    """(extractive reply, reply after the scripted LLM) for ``question``."""
    ext = bot.ask(question)
    assert ext.answered and ext.mode == "extractive"
    out = answerer(bot, scripted(*replies, **kw)).rewrite(question, ext.question, ext, ext.hits, TODAY)
    return ext, out


def assert_safe(bot: Assistant, reply: Reply) -> None:
    """What every reply must satisfy: grounded numbers, citations among the retrieved items."""
    assert grounding_violations(reply, bot.corpus) == []
    retrieved = {h.item.key for h in reply.hits}
    for c in reply.citations:
        if c.item is not None:
            assert f"{c.doc_id}#{c.item}" in retrieved


Q_PRECISE = "新认定的高新技术企业奖励多少钱？"  # extractive: 第22条, 10万元
# Explicit references make the extractive reply cite exactly these items (第25条: 5000元; 第3条 has a
# passed deadline), whatever the fitted answer decision would pick for a free question.
Q_AGG = "第25条、第3条、第27条说的个体户补贴有哪些？"


def other_item(ext: Reply) -> tuple[str, str, list[str]]:
    """(label, first quoted sentence, departments) of a cited measure other than 第25条."""
    c = next(c for c in ext.citations if c.item not in (None, 25) and c.departments)
    return c.label, c.quote.split("。")[0].split("；")[0], c.departments


# --- faithful answers -----------------------------------------------------------------------


def test_faithful_answer_is_used_with_departments_added(bot: Assistant) -> None:
    ext, out = rewrite(bot, Q_AGG, "符合条件的首次创业人员可获得最高5000元一次性创业补贴【第25条】。")
    assert out.mode == "llm" and out.answered
    assert out.text.startswith("符合条件的首次创业人员可获得最高5000元一次性创业补贴【第25条】。")
    assert "办理部门：区人社局、区财政局" in out.text  # from the cited item, not from the model
    assert [c.item for c in out.citations] == [25]  # only what the answer tags, not all five items
    assert out.citations[0] == next(c for c in ext.citations if c.item == 25)
    assert out.hits == ext.hits and out.question == ext.question
    assert_safe(bot, out)


def test_prompt_is_short_and_holds_only_the_cited_items(bot: Assistant) -> None:
    ext = bot.ask(Q_AGG)
    llm = scripted("最高5000元一次性创业补贴【第25条】。")
    answerer(bot, llm).rewrite(Q_AGG, ext.question, ext, ext.hits, TODAY)
    prompt = llm.prompts[0]
    question_part = prompt.rsplit("材料：", 1)[1]
    for c in ext.citations:
        assert f"【{c.label}】" in question_part
    assert question_part.count("【第") == len(ext.citations)
    assert "（办理部门：区人社局、区财政局）" in question_part
    assert len(question_part) < 1200  # a few hundred tokens: prompt reading dominates latency on a CPU


def test_answer_citing_several_items_lists_their_departments(bot: Assistant) -> None:
    label, sentence, depts = other_item(bot.ask(Q_AGG))
    _, out = rewrite(bot, Q_AGG, f"首次创业人员可获得最高5000元一次性创业补贴【第25条】；{sentence}【{label}】。")
    assert out.mode == "llm" and [c.label for c in out.citations] == ["第25条", label]
    assert f"办理部门：【第25条】区人社局、区财政局；【{label}】{'、'.join(depts)}" in out.text
    assert_safe(bot, out)


def test_tag_first_style_and_preamble_and_markdown_are_accepted(bot: Assistant) -> None:
    _, out = rewrite(bot, Q_PRECISE, "回答：**【第22条】对新认定的高新技术企业给予10万元奖励。**")
    assert out.mode == "llm" and out.text.startswith("【第22条】对新认定的高新技术企业给予10万元奖励。")
    assert_safe(bot, out)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("这个文件文号是多少？", "本文件文号为万政〔2022〕15号【文件信息】。"),
        ("到2025年全区市场主体要达到多少户？每年增长多少？", "到2025年全区市场主体数量达到15万户以上、年均增长16%以上【二、总体目标】。"),
    ],
)
def test_answers_from_document_sections_are_used(bot: Assistant, question: str, answer: str) -> None:
    ext, out = rewrite(bot, question, answer)
    assert [c.item for c in ext.citations] == [None]
    assert out.mode == "llm" and out.text.startswith(answer) and out.citations == ext.citations
    assert_safe(bot, out)


def test_passed_deadline_note_is_kept_for_its_item(bot: Assistant) -> None:
    ext = bot.ask(Q_AGG)
    note = next(n for n in ext.notes if n.startswith("【第3条】"))
    a = answerer(bot, scripted("2022年底前实现个体工商户开办业务全程网办【第3条】。首次创业可获最高5000元补贴【第25条】。"))
    out = a.rewrite(Q_AGG, ext.question, ext, ext.hits, TODAY)
    assert out.mode == "llm" and note in out.text and note in out.notes
    b = answerer(bot, scripted("首次创业可获最高5000元补贴【第25条】。"))
    out = b.rewrite(Q_AGG, ext.question, ext, ext.hits, TODAY)
    assert out.mode == "llm" and note not in out.text  # its item is not cited, so neither is its note
    assert_safe(bot, out)


# --- unsupported content never reaches the user --------------------------------------------


def test_made_up_amount_is_dropped_or_falls_back(bot: Assistant) -> None:
    ext, out = rewrite(bot, Q_AGG, "首次创业人员最高8000元【第25条】。")
    assert "8000" not in out.text
    assert out.mode == "llm-fallback" and out.text == ext.text  # nothing else was said


def test_made_up_sentence_is_dropped_and_the_rest_kept(bot: Assistant) -> None:
    _, out = rewrite(bot, Q_AGG, "首次创业人员可获得最高5000元一次性创业补贴【第25条】。创业失败的还可以再领最高8000元【第25条】。")
    assert out.mode == "llm"
    assert "5000元" in out.text and "8000" not in out.text and "再领" not in out.text
    assert_safe(bot, out)


@pytest.mark.parametrize(
    "invented",
    [
        "首次创业人员最高可获得八千元补贴【第25条】。",  # Chinese numerals escape the digit check
        "首次创业人员可获得百分之九十的社保补贴【第25条】。",
        "符合条件的首次创业人员可获得补贴【第27条】，由区人力资源局办理。【第25条】",  # a department not in the item
        "在3年内按每户每年14400元为限额扣减【第25条】。",  # a true number, but not in the item it is tagged with
    ],
)
def test_other_unsupported_claims_are_dropped(bot: Assistant, invented: str) -> None:
    _, out = rewrite(bot, Q_AGG, "首次创业人员可获得最高5000元一次性创业补贴【第25条】。" + invented)
    assert out.mode == "llm" and invented.split("【")[0] not in out.text
    assert_safe(bot, out)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("个体户 刻章 免费", "个体户刻章免费【第3条】。"),  # echoes the question: says nothing the items back
        ("开公司刻公章收钱不？", "是的，开公司刻公章收钱【第2条】。"),  # the item says 免费刻制公章
        ("跟人打经济官司，去法院立案得跑几趟？", "去法院立案得跑两趟【第14条】。"),  # a Chinese numeral count
        (Q_PRECISE, "新认定的高新技术企业不能获得10万元奖励【第22条】。"),  # a negation the item does not state
        ("十一税合一", "十一税合一是指将增值税、消费税、企业所得税、个人所得税等合并为一个新的税种【第11条】。"),  # made-up wording
        # 50万元 is the 国家级 amount; a 重点实验室 in general gets 30万元 (省级) or 50万元 (国家级)
        ("我们是做不锈钢深加工的，想牵头建个重点实验室，区里给多少支持？", "想牵头建个重点实验室，区里给50万元经费支持【第24条】。"),
        ("个体户经营所得的个税有优惠吗？", "个体户经营所得的个税有优惠，具体优惠政策见材料【第26条】。"),  # says nothing
    ],
)
def test_answers_seen_from_the_real_model_that_must_not_pass(bot: Assistant, question: str, answer: str) -> None:
    ext, out = rewrite(bot, question, answer)
    assert answer.split("【")[1].split("】")[0] in [c.label for c in ext.citations]  # rejected for its content, not its tag
    assert out.mode == "llm-fallback" and out.text == ext.text


def test_sentences_after_a_leading_tag_belong_to_it(bot: Assistant) -> None:
    lead = "【第25条】健全首次创业扶持政策。对符合条件的首次创业人员给予最高5000元一次性创业补贴。"
    _, out = rewrite(bot, Q_AGG, lead + "创业失败的还可以再领最高8000元。")
    assert out.mode == "llm" and out.text.startswith(lead) and "8000" not in out.text
    assert [c.item for c in out.citations] == [25]
    # After a trailing tag, an untagged sentence is nobody's: dropped.
    _, out = rewrite(bot, Q_AGG, "首次创业人员可获得最高5000元一次性创业补贴【第25条】。符合条件的首次创业人员都可以领取。")
    assert out.mode == "llm" and "都可以领取" not in out.text


def test_false_premise_in_the_question_is_not_confirmed(bot: Assistant) -> None:
    q = "首次创业补贴是八千元吗？"
    ext, out = rewrite(bot, q, "首次创业补贴是八千元【第25条】。")
    assert 25 in [c.item for c in ext.citations]
    assert out.mode == "llm-fallback" and "八千" not in out.text


def test_small_counts_from_the_question_may_be_repeated(bot: Assistant) -> None:
    q = "个体户开了两家店，得办两个营业执照吗？"
    ext = bot.ask(q)
    label = next(c.label for c in ext.citations if c.item == 5)
    a = answerer(bot, scripted(f"个体户开了两家店，分支机构只需上级营业执照上注明本分支机构的住所即可【{label}】。"))
    out = a.rewrite(q, ext.question, ext, ext.hits, TODAY)
    assert out.mode == "llm" and "两家店" in out.text


def test_an_amount_with_its_level_passes(bot: Assistant) -> None:
    q = "我们是做不锈钢深加工的，想牵头建个重点实验室，区里给多少支持？"
    _, out = rewrite(bot, q, "新认定的国家级重点实验室给予50万元经费支持【第24条】；省级的给予30万元【第24条】。")
    assert out.mode == "llm" and "50万元" in out.text and "30万元" in out.text
    _, out = rewrite(bot, "区里双创资金预算安排了多少？", "区里双创资金预算安排300万元【第17条】。")  # 区级 is no level to keep
    assert out.mode == "llm"


def test_citations_keep_the_extractive_order(bot: Assistant) -> None:
    ext = bot.ask(Q_AGG)
    label, sentence, _ = other_item(ext)
    a = answerer(bot, scripted(f"{sentence}【{label}】。首次创业人员可获得最高5000元一次性创业补贴【第25条】。"))
    out = a.rewrite(Q_AGG, ext.question, ext, ext.hits, TODAY)
    order = [c.label for c in ext.citations]
    assert out.mode == "llm" and [c.label for c in out.citations] == sorted(["第25条", label], key=order.index)


def test_untagged_yes_or_no_is_dropped(bot: Assistant) -> None:
    _, out = rewrite(bot, Q_PRECISE, "不是。对新认定的高新技术企业给予10万元奖励【第22条】。")
    assert out.mode == "llm" and out.text.startswith("对新认定的高新技术企业给予10万元奖励【第22条】。")


@pytest.mark.parametrize("tag", ["第99条", "第70条", "第 99 条"])
def test_citing_an_item_not_given_falls_back(bot: Assistant, tag: str) -> None:
    ext, out = rewrite(bot, Q_AGG, f"首次创业人员可获得最高5000元一次性创业补贴【第25条】。另有专项资金支持【{tag}】。")
    assert out.mode == "llm-fallback" and out.text == ext.text and out.citations == ext.citations


def test_loose_item_reference_is_checked_too(bot: Assistant) -> None:
    _, out = rewrite(bot, Q_AGG, "首次创业人员可获得最高5000元一次性创业补贴（第99条）。")
    assert out.mode == "llm-fallback"


def test_number_hidden_in_brackets_falls_back(bot: Assistant) -> None:
    # grounding_violations skips 【…】 as tags, so a number inside one must not pass as a tag.
    _, out = rewrite(bot, Q_AGG, "首次创业人员可获得一次性创业补贴【最高8000元】【第25条】。")
    assert out.mode == "llm-fallback" and "8000" not in out.text


def test_model_saying_not_found_falls_back(bot: Assistant) -> None:
    ext, out = rewrite(bot, Q_PRECISE, "未找到")
    assert out.mode == "llm-fallback" and out.text == ext.text and out.answered


def test_departments_line_from_the_model_is_replaced(bot: Assistant) -> None:
    _, out = rewrite(bot, Q_PRECISE, "对新认定的高新技术企业给予10万元奖励【第22条】。\n办理部门：区人社局")
    assert out.mode == "llm" and "区人社局" not in out.text
    assert out.text.count("办理部门：") == 1
    assert_safe(bot, out)


@pytest.mark.parametrize("text", ["", "【第22条】", "好的。【第22条】", "对新认定的高新技术企业给予奖励。"])
def test_answer_stating_nothing_or_citing_nothing_falls_back(bot: Assistant, text: str) -> None:
    _, out = rewrite(bot, Q_PRECISE, text)
    assert out.mode == "llm-fallback"


def test_list_numbers_are_not_taken_for_claims(bot: Assistant) -> None:
    label, sentence, _ = other_item(bot.ask(Q_AGG))
    _, out = rewrite(bot, Q_AGG, f"1. 首次创业人员可获得最高5000元一次性创业补贴【第25条】。\n2. {sentence}【{label}】。")
    assert out.mode == "llm" and out.text.startswith("首次创业") and len(out.citations) == 2
    assert_safe(bot, out)


def test_refusals_are_not_rewritten(bot: Assistant) -> None:
    ext = bot.ask("公积金怎么提取？")
    assert not ext.answered
    llm = scripted("公积金可以提取8000元【第25条】。")
    assert answerer(bot, llm).rewrite("公积金怎么提取？", ext.question, ext, ext.hits, TODAY) is ext
    assert llm.prompts == []


# --- failures fall back, quietly ------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        RuntimeError("500 Internal Server Error"),
    ],
)
def test_llm_errors_fall_back_with_one_log_line(bot: Assistant, error: Exception, caplog: pytest.LogCaptureFixture) -> None:
    """One failure is one INFO line naming the error; the breaker warns only when failures repeat (tests/test_breaker.py)."""
    with caplog.at_level(logging.INFO, logger="assistant.llm"):
        ext, out = rewrite(bot, Q_PRECISE, error=error)
    assert out.mode == "llm-fallback" and out.text == ext.text and out.citations == ext.citations
    lines = [r for r in caplog.records if r.name == "assistant.llm"]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO and type(error).__name__ in lines[0].getMessage()


def test_slow_llm_times_out_and_falls_back(bot: Assistant) -> None:
    ext = bot.ask(Q_PRECISE)
    a = answerer(bot, scripted("对新认定的高新技术企业给予10万元奖励【第22条】。", delay=1.5), timeout=0.2)
    t0 = time.perf_counter()
    out = a.rewrite(Q_PRECISE, ext.question, ext, ext.hits, TODAY)
    assert out.mode == "llm-fallback" and out.text == ext.text
    assert time.perf_counter() - t0 < 1.0  # the caller does not wait for the hung call


def test_assistant_with_a_failing_llm_still_answers(bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot, "llm", answerer(bot, scripted(error=httpx.ConnectError("refused"))))
    reply = bot.ask(Q_PRECISE)
    assert reply.answered and reply.mode == "llm-fallback" and "10万元" in reply.text


def test_assistant_uses_the_verified_llm_answer(bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot, "llm", answerer(bot, scripted("新认定的高新技术企业可获得10万元奖励【第22条】。")))
    reply = bot.ask(Q_PRECISE)
    assert reply.mode == "llm" and reply.text.startswith("新认定的高新技术企业可获得10万元奖励【第22条】。")
    assert [c.item for c in reply.citations] == [22]
    assert_safe(bot, reply)


# --- the API key is never shown ---------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_api_key_is_not_in_repr_or_logs(bot: Assistant, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(llm_base_url=f"http://127.0.0.1:{_closed_port()}/v1", llm_model="m", llm_api_key=SECRET, llm_timeout=5)
    assert SECRET not in repr(settings)
    a = LLMAnswerer.from_settings(settings, bot.corpus)
    assert SECRET not in repr(a)
    ext = bot.ask(Q_PRECISE)
    with caplog.at_level(logging.DEBUG):
        out = a.rewrite(Q_PRECISE, ext.question, ext, ext.hits, TODAY)  # real client, refused connection
        assert a.condense("那国家级的呢？", [{"role": "user", "content": "省级重点实验室有什么支持？"}]) is None
    assert out.mode == "llm-fallback"
    assert any("failed" in r.getMessage() for r in caplog.records if r.name == "assistant.llm")
    assert SECRET not in caplog.text


def test_api_key_in_an_error_message_is_redacted(bot: Assistant, caplog: pytest.LogCaptureFixture) -> None:
    llm = scripted(error=RuntimeError(f"401 Incorrect API key provided: {SECRET}"))
    a = answerer(bot, llm, secret=SECRET)
    ext = bot.ask(Q_PRECISE)
    with caplog.at_level(logging.DEBUG):
        assert a.rewrite(Q_PRECISE, ext.question, ext, ext.hits, TODAY).mode == "llm-fallback"
    assert "Incorrect API key" in caplog.text and SECRET not in caplog.text


def test_from_settings_builds_an_openai_like_client() -> None:
    from llama_index.llms.openai_like import OpenAILike

    from assistant.parse import load_corpus

    settings = Settings(llm_base_url="http://127.0.0.1:9/v1", llm_timeout=12.5)
    a = LLMAnswerer.from_settings(settings, load_corpus(settings.corpus_dir))
    assert isinstance(a.llm, OpenAILike) and a.llm.is_chat_model
    assert a.llm.api_base == "http://127.0.0.1:9/v1" and a.llm.model == "local" and a.llm.api_key == "none"
    assert a.llm.max_retries == 0 and a.llm.timeout == 12.5 and a.llm.max_tokens == MAX_TOKENS
    assert a.timeout == 12.5 and a.condense_timeout <= 12.5


# --- streaming ---------------------------------------------------------------------------------


def stream_all(bot: Assistant, question: str, *replies: str, **kw: Any) -> tuple[Reply, list[str], Reply]:
    ext = bot.ask(question)
    s = answerer(bot, scripted(*replies, **kw)).stream(question, ext.question, ext, ext.hits, TODAY)
    pieces = list(s)
    assert s.reply is not None
    return ext, pieces, s.reply


def test_stream_spells_out_the_final_verified_text(bot: Assistant) -> None:
    text = (
        "首次创业人员可获得最高5000元一次性创业补贴【第25条】。创业失败的还可以领最高8000元【第25条】。"
        "高校毕业生落实人才补贴政策【第25条】。"
    )
    _, pieces, final = stream_all(bot, Q_AGG, text)
    assert final.mode == "llm" and "".join(pieces) == final.text
    assert len(pieces) >= 3  # sentence by sentence, then the departments line
    assert not any("8000" in p for p in pieces)
    assert_safe(bot, final)


def test_stream_stops_at_an_item_not_given(bot: Assistant) -> None:
    ext, pieces, final = stream_all(bot, Q_AGG, "首次创业人员可获得最高5000元一次性创业补贴【第25条】。另有奖励【第99条】。更多内容。")
    assert final.mode == "llm-fallback" and final.text == ext.text
    assert "".join(pieces) == "首次创业人员可获得最高5000元一次性创业补贴【第25条】。"  # the UI replaces it with final.text


def test_stream_error_falls_back(bot: Assistant) -> None:
    ext, pieces, final = stream_all(bot, Q_PRECISE, error=httpx.ConnectError("refused"))
    assert pieces == [] and final.mode == "llm-fallback" and final.text == ext.text


# --- condense ------------------------------------------------------------------------------------

HISTORY: Sequence[dict[str, str]] = [
    {"role": "user", "content": "省级重点实验室有什么支持？"},
    {"role": "assistant", "content": "对新认定的省级重点实验室给予30万元经费支持。【第24条】\n办理部门：区科技局"},
]


def test_condense_returns_the_rewritten_question(bot: Assistant) -> None:
    llm = scripted("国家级重点实验室有什么支持？\n")
    assert answerer(bot, llm).condense("那国家级的呢？", HISTORY) == "国家级重点实验室有什么支持？"
    assert "省级重点实验室有什么支持？" in llm.prompts[0] and "那国家级的呢？" in llm.prompts[0]


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   \n",
        "国家级重点实验室" * 12,  # longer than 80 characters
        "那国家级的呢？",  # unchanged
        "省级重点实验室给予30万元经费支持。",  # an answer, not a question
        "国家级重点实验室能拿50万元吗？",  # a number from nowhere
        "重点实验室有什么支持？",  # lost what this turn asked about
    ],
)
def test_condense_rejects_unusable_rewrites(bot: Assistant, raw: str) -> None:
    assert answerer(bot, scripted(raw)).condense("那国家级的呢？", HISTORY) is None


@pytest.mark.parametrize(
    ("first", "follow", "raw"),
    [  # rewrites the real 1.5B model gave, each retrieving the wrong item
        ("到2025年高企要发展到多少家？", "那科技型中小企业呢？", "科技型中小企业数量是多少？"),
        ("新备案的省级众创空间能补多少钱？", "国家级的呢？", "国家级的科技企业孵化器能补多少钱？"),
    ],
)
def test_condense_rejects_rewrites_that_lose_the_context(bot: Assistant, first: str, follow: str, raw: str) -> None:
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": bot.ask(first).text}]
    assert answerer(bot, scripted(raw)).condense(follow, history) is None


def test_condense_returns_none_on_failure(bot: Assistant) -> None:
    assert answerer(bot, scripted(error=httpx.ConnectError("refused"))).condense("那国家级的呢？", HISTORY) is None
    slow = answerer(bot, scripted("国家级重点实验室有什么支持？", delay=1.5), timeout=5, condense_timeout=0.2)
    t0 = time.perf_counter()
    assert slow.condense("那国家级的呢？", HISTORY) is None
    assert time.perf_counter() - t0 < 1.0


def test_assistant_uses_the_condensed_question_for_follow_ups(bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    a = answerer(bot, scripted("国家级重点实验室有什么支持？", "对新认定的国家级重点实验室给予50万元经费支持【第24条】。"))
    monkeypatch.setattr(bot, "llm", a)
    reply = bot.ask("那国家级的呢？", HISTORY)
    assert reply.question == "国家级重点实验室有什么支持？"
    assert reply.citations[0].item == 24 and "50万元" in reply.text
    assert_safe(bot, reply)


def test_segments_keep_tags_with_their_sentence() -> None:
    assert segments("甲。【第1条】\n乙；丙") == ["甲。【第1条】", "乙；", "丙"]
    assert segments("甲【第1条】\n\n乙：\n丙") == ["甲【第1条】。", "乙：", "丙"]
