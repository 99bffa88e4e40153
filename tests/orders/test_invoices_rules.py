"""Pure rules of marketplace import and invoices (h6): the GB 32100-2015 credit-code check
(ORD-07), name normalisation, the three-flow comparison and the address splitter."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeops.orders.rules import (
    USCC_ALPHABET,
    FlowProblem,
    normalise_party_name,
    split_address,
    three_flow_problems,
    uscc_check_char,
    uscc_valid,
)

# Real, published codes (business licences of listed companies).
KNOWN_VALID = ["91110000600037341L", "91440300708461136T"]

_CODE_BODY = st.tuples(
    st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
).map("".join)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_ord_07_published_credit_codes_are_valid(code):
    assert uscc_valid(code)
    assert uscc_valid(code.lower())  # case does not matter


@pytest.mark.parametrize(
    "code",
    [
        "91110000600037341X",
        "9111000060003734",
        "91110000600037341LL",
        "911100006000373I1L",
        "",
        "91110A00600037341L",
    ],
)
def test_ord_07_malformed_or_wrong_check_character_is_invalid(code):
    assert not uscc_valid(code)


@given(_CODE_BODY)
def test_ord_07_the_computed_check_character_always_validates(body):
    assert uscc_valid(body + uscc_check_char(body))


@given(_CODE_BODY, st.sampled_from(USCC_ALPHABET))
def test_ord_07_any_other_check_character_is_refused(body, other):
    right = uscc_check_char(body)
    assert uscc_valid(body + other) == (other == right)


@given(_CODE_BODY, st.integers(min_value=0, max_value=16), st.sampled_from(USCC_ALPHABET))
def test_ord_07_a_single_changed_character_is_detected(body, position, char):
    code = body + uscc_check_char(body)
    changed = code[:position] + char + code[position + 1 :]
    if changed != code and changed[2:8].isdigit():
        assert not uscc_valid(changed)


def test_ord_07_names_compare_without_spaces_punctuation_or_bracket_width():
    assert normalise_party_name("杭州某某科技（上海）有限公司") == normalise_party_name(
        " 杭州某某科技(上海) 有限公司 "
    )
    assert normalise_party_name("abc Co., Ltd.") == "ABCCOLTD"


def _flows(**kw):
    base = {
        "company": True,
        "title": "杭州某某科技有限公司",
        "payer_name": "杭州某某科技有限公司",
        "consignee": "张三",
        "delivery_address": "浙江省杭州市西湖区文三路100号杭州某某科技有限公司",
        "invoice_amount": Decimal("100.00"),
        "net_paid": Decimal("100.00"),
    }
    return three_flow_problems(**{**base, **kw})


def test_ord_07_three_flows_agree():
    assert _flows() == []


def test_ord_07_each_flow_mismatch_is_named():
    assert _flows(payer_name="李四") == [FlowProblem.FUNDS]
    assert _flows(delivery_address="浙江省杭州市西湖区文三路100号") == [FlowProblem.GOODS]
    assert _flows(consignee="杭州某某科技有限公司 张三", delivery_address="文三路1号") == []
    assert _flows(invoice_amount=Decimal("120.00")) == [FlowProblem.AMOUNT]
    # personal titles: only the amount must agree
    assert _flows(company=False, payer_name="", delivery_address="x") == []


@given(
    st.decimals(min_value=0, max_value=10**6, places=2), st.decimals(min_value=0, max_value=10**6, places=2)
)
def test_ord_07_amount_flow_disagrees_exactly_when_the_invoice_exceeds_net_paid(a, b):
    # a partial invoice the customer asked for is allowed by invoice_request, so not a finding
    assert (FlowProblem.AMOUNT in _flows(invoice_amount=a, net_paid=b)) == (a > b)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("浙江省 杭州市 西湖区 文三路100号", ("浙江省", "杭州市", "西湖区", "文三路100号")),
        ("北京北京市朝阳区建国路1号", ("北京市", "北京市", "朝阳区", "建国路1号")),
        ("上海市浦东新区世纪大道100号", ("上海市", "上海市", "浦东新区", "世纪大道100号")),
        ("江苏省苏州市昆山市前进路1号", ("江苏省", "苏州市", "昆山市", "前进路1号")),
        ("吉林省延边朝鲜族自治州延吉市人民路1号", ("吉林省", "延边朝鲜族自治州", "延吉市", "人民路1号")),
        (
            "新疆维吾尔自治区乌鲁木齐市天山区人民路1号",
            ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "人民路1号"),
        ),
        ("不知道在哪", ("", "", "", "不知道在哪")),
    ],
)
def test_split_address(text, parts):
    assert split_address(text) == parts


@given(st.text(max_size=60))
def test_split_address_never_loses_characters(text):
    province, city, district, detail = split_address(text)
    joined = "".join("".join((province, city, district, detail)).split())
    # the municipality short form "北京" becomes "北京市"; everything else is kept
    assert set("".join(text.split())) <= set(joined)
