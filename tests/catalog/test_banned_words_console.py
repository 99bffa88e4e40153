"""SOP LIST-02 in the console: operations edit the banned-word list (one a line) and the live
copy is re-scanned; an empty list is refused and comes back as typed; others only read it."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.catalog import selectors

pytestmark = pytest.mark.django_db


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def test_list_02_console_edits_the_banned_word_list(store, make_user):
    ops = _client(make_user, Role.OPERATIONS)
    page = ops.get("/catalog/banned-words/").content.decode()
    assert "当前使用系统自带的词表" in page
    assert 'action="/catalog/banned-words/save/"' in page
    saved = ops.post("/catalog/banned-words/save/", {"words": "最\n 最 \n\n绝绝子"})
    assert saved.status_code == 302
    assert selectors.banned_words_of(store=store) == ("最", "绝绝子")
    assert "本店已编辑的词表" in ops.get("/catalog/banned-words/").content.decode()
    refused = ops.post("/catalog/banned-words/save/", {"words": "  \n "})
    assert refused.status_code == 422
    assert "禁用词列表不能为空" in refused.content.decode()
    assert selectors.banned_words_of(store=store) == ("最", "绝绝子")


def test_list_02_console_word_list_is_read_only_without_the_change_permission(store, make_user):
    page = _client(make_user, Role.ANALYST).get("/catalog/banned-words/")  # catalog.view_*
    assert page.status_code == 200
    assert "绝对" in page.content.decode()  # the bundled list
    assert 'action="/catalog/banned-words/save/"' not in page.content.decode()
