"""SOP LIST-02: the Aho–Corasick banned-word scanner."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storeops.catalog.banned_words import (
    BannedWordScanner,
    Match,
    load_default_words,
    normalise,
    parse_word_list,
    word_list_version,
)


def test_list_02_scan_reports_chinese_positions_as_str_indices_with_overlaps():
    # given
    scanner = BannedWordScanner.from_words(["最", "最佳", "第一", "全网第一"])
    text = "这款面霜效果最佳，全网第一"

    # when
    matches = scanner.scan(text)

    # then
    assert sorted(matches, key=lambda m: (m.start, m.end)) == [
        Match("最", 6, 7),
        Match("最佳", 6, 8),
        Match("全网第一", 9, 13),
        Match("第一", 11, 13),
    ]
    assert [text[m.start : m.end] for m in matches] == [m.word for m in matches]


def test_list_02_full_width_digits_and_percent_match_the_half_width_word():
    # given
    scanner = BannedWordScanner.from_words(["100%"])
    text = "纯棉T恤 １００％ 新疆长绒棉"

    # when
    matches = scanner.scan(text)

    # then
    assert matches == [Match("100%", 5, 9)]
    assert text[5:9] == "１００％"


def test_list_02_latin_letters_match_regardless_of_case_and_width():
    # given
    scanner = BannedWordScanner.from_words(["NO.1"])

    # when
    half = scanner.scan("销量no.1的好物")
    full = scanner.scan("销量ＮＯ．１的好物")

    # then
    assert half == [Match("NO.1", 2, 6)]
    assert full == [Match("NO.1", 2, 6)]


def test_list_02_full_width_word_in_the_list_matches_half_width_text():
    # given a word typed with full-width characters
    scanner = BannedWordScanner.from_words(["ＴＯＰ１"])

    # when
    matches = scanner.scan("年度top1爆款")

    # then
    assert matches == [Match("ＴＯＰ１", 2, 6)]


def test_list_02_positions_stay_right_after_a_character_whose_lower_case_is_longer():
    # given "İ" lowers to two characters in Python
    scanner = BannedWordScanner.from_words(["最好"])

    # when
    matches = scanner.scan("İstanbul最好")

    # then
    assert matches == [Match("最好", 8, 10)]


def test_list_02_repeated_word_is_reported_at_every_occurrence():
    # given
    scanner = BannedWordScanner.from_words(["顶级"])

    # when
    matches = scanner.scan("顶级面料，顶级做工")

    # then
    assert matches == [Match("顶级", 0, 2), Match("顶级", 5, 7)]


def test_list_02_text_without_banned_words_has_no_matches():
    # given
    scanner = BannedWordScanner.default()

    # when / then
    assert scanner.scan("2024夏季新款法式碎花雪纺连衣裙女装收腰显瘦气质长裙海边度假沙滩裙") == []
    assert scanner.scan("") == []


def test_list_02_empty_word_list_matches_nothing():
    # given
    scanner = BannedWordScanner.from_words(["", "  "])

    # when / then
    assert len(scanner) == 0
    assert scanner.scan("最好的第一") == []


def test_list_02_scan_many_scans_each_text_in_order():
    # given
    scanner = BannedWordScanner.from_words(["绝对", "万能"])

    # when
    results = scanner.scan_many(["绝对好用", "普通", "万能清洁剂"])

    # then
    assert results == [[Match("绝对", 0, 2)], [], [Match("万能", 0, 2)]]


def test_list_02_version_ignores_order_duplicates_and_surrounding_spaces():
    # given
    words = ["最", "第一", "顶级"]

    # when
    scanner = BannedWordScanner.from_words(words)

    # then
    assert scanner.version == word_list_version(["顶级", " 第一", "最", "最"])
    assert scanner.version != word_list_version(["最", "第一"])
    assert len(scanner.version) == 16


def test_list_02_words_equal_after_folding_are_kept_once_in_first_spelling():
    # given
    scanner = BannedWordScanner.from_words(["NO.1", "no.1", "ＮＯ．１"])

    # when / then
    assert scanner.words == ("NO.1",)


def test_list_02_default_list_holds_the_advertising_law_core_terms():
    # given
    words = load_default_words()

    # then
    assert {"最", "第一", "顶级", "极致", "国家级", "绝对", "100%", "最佳", "唯一", "根治"} <= set(words)
    assert len(words) == len(set(words)) >= 60
    assert not any(word.startswith("#") for word in words)


def test_list_02_word_list_text_skips_comments_and_blank_lines():
    # when
    words = parse_word_list("# 注释\n最\n\n第一  # 行尾注释\n最\n")

    # then
    assert words == ("最", "第一")


_ALPHABET = "最佳第一顶级好aAbB1%１％ＡａＢ％，。 \u3000İ"


@given(
    words=st.lists(st.text(alphabet=_ALPHABET, min_size=1, max_size=4), min_size=1, max_size=8),
    text=st.text(alphabet=_ALPHABET, max_size=40),
)
def test_list_02_scan_finds_exactly_what_a_naive_search_over_the_folded_text_finds(words, text):
    # SOP: LIST-02
    # given
    scanner = BannedWordScanner.from_words(words)
    keys = {normalise(w.strip()) for w in words if w.strip()}
    folded = normalise(text)

    # when
    found = {(m.start, m.end, normalise(m.word)) for m in scanner.scan(text)}

    # then
    expected = {
        (i, i + len(key), key)
        for key in keys
        for i in range(len(folded) - len(key) + 1)
        if folded.startswith(key, i)
    }
    assert found == expected
    assert len(folded) == len(text)
