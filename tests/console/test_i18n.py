"""The console and the API speak the user's language: 简体中文 by default, English per user.

Source strings are Chinese; English comes from storeops/locale/en/LC_MESSAGES/django.po
(compiled django.mo is committed). Refresh the catalogue with ``scripts/i18n.sh``.
"""

from __future__ import annotations

import datetime as dt
import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from storeops.accounts.models import UserProfile
from storeops.accounts.roles import Role
from storeops.accounts.services import api_token_create
from storeops.audit.models import AuditEntry
from storeops.core.context import Actor
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as store_services

PACKAGE_DIR = Path(settings.BASE_DIR)
PO_FILE = PACKAGE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


# ---- helpers -------------------------------------------------------------------------------


def _unquote(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgstr, context, flags. For a plural entry ``msgstr`` is
    the singular form (``msgstr[0]``) and ``plural`` holds ``msgid_plural``."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {
            "msgid": "",
            "msgstr": "",
            "msgctxt": None,
            "plural": None,
            "flags": set(),
            "obsolete": False,
        }
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("msgctxt "):
                key, entry["msgctxt"] = "msgctxt", _unquote(line[9:-1])
            elif line.startswith("msgid "):
                key, entry["msgid"] = "msgid", _unquote(line[7:-1])
            elif line.startswith("msgid_plural "):
                key, entry["plural"] = "plural", _unquote(line[14:-1])
            elif line.startswith("msgstr "):
                key, entry["msgstr"] = "msgstr", _unquote(line[8:-1])
            elif line.startswith("msgstr[0] "):
                key, entry["msgstr"] = "msgstr", _unquote(line[11:-1])
            elif line.startswith("msgstr["):
                key = None  # further plural forms: not checked
            elif line.startswith('"') and key:
                entry[key] += _unquote(line[1:-1])
        if entry["msgid"] and not entry["obsolete"]:
            entries.append(entry)
    return entries


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _default_language():
    """Requests made with the test client activate their language in this thread and leave it
    active; start every test from the default, as a fresh worker process would."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def finding(store, system, today) -> Finding:
    """An expired food licence → one critical STORE-02 finding (owner: operations)."""
    store_services.qualification_create(
        actor=system,
        store=store,
        kind="food_license",
        title="食品经营许可证",
        issuer="市场监督管理局",
        valid_from=today - dt.timedelta(days=400),
        valid_to=today - dt.timedelta(days=3),
    )
    checks_run(rule="STORE-02", store=store, notify=False)
    return Finding.objects.get(store=store, rule_id="STORE-02")


@pytest.fixture
def en_owner(make_user):
    return make_user(Role.OWNER, username="owner_en", language="en")


@pytest.fixture
def zh_owner(make_user):
    return make_user(Role.OWNER, username="owner_zh", language="zh-hans")


# ---- the catalogue itself --------------------------------------------------------------------


def test_catalogue_is_complete_and_keeps_placeholders():
    entries = read_po(PO_FILE)
    assert len(entries) > 200
    untranslated = [e["msgid"] for e in entries if not e["msgstr"]]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not untranslated, f"untranslated (run scripts/i18n.sh and translate): {untranslated}"
    assert not fuzzy, f"fuzzy translations to review in django.po: {fuzzy}"
    broken = [
        e["msgid"]
        for e in entries
        if sorted(PLACEHOLDER.findall(e["msgid"])) != sorted(PLACEHOLDER.findall(e["msgstr"]))
    ]
    assert not broken, f"placeholders differ between msgid and msgstr: {broken}"
    still_chinese = [e["msgid"] for e in entries if re.search(r"[\u4e00-\u9fff]", e["msgstr"])]
    assert not still_chinese, f"English translations containing Chinese: {still_chinese}"


def test_compiled_catalogue_matches_the_po_file():
    """django.mo is committed (machines without gettext can't compile it); it must not be stale."""
    with MO_FILE.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)

    def compiled_text(e: dict) -> str:
        if e["plural"] is not None:
            return compiled.ngettext(e["msgid"], e["plural"], 1)
        if e["msgctxt"] is not None:
            return compiled.pgettext(e["msgctxt"], e["msgid"])
        return compiled.gettext(e["msgid"])

    stale = [e["msgid"] for e in read_po(PO_FILE) if compiled_text(e) != e["msgstr"]]
    assert not stale, f"django.mo is older than django.po; run scripts/i18n.sh: {stale[:10]}"


@pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgmerge") is None,
    reason="GNU gettext is not installed",
)
def test_every_source_string_is_in_the_catalogue(tmp_path, settings):
    """Runs makemessages on a copy of the package: a new ``_("…")`` without an English
    translation fails here until scripts/i18n.sh is run and the string translated."""
    copy = tmp_path / "storeops"
    shutil.copytree(
        PACKAGE_DIR,
        copy,
        ignore=shutil.ignore_patterns("static", "locale", "__pycache__", "*.pyc", "*.mo", "*.po"),
    )
    settings.LOCALE_PATHS = [copy / "locale"]
    (copy / "locale").mkdir()
    cwd = os.getcwd()
    os.chdir(copy)
    try:
        call_command("makemessages", locale=["en"], verbosity=0)
    finally:
        os.chdir(cwd)
    wanted = {e["msgid"] for e in read_po(copy / "locale" / "en" / "LC_MESSAGES" / "django.po")}
    have = {e["msgid"] for e in read_po(PO_FILE) if e["msgstr"] and "fuzzy" not in e["flags"]}
    missing = sorted(wanted - have)
    assert not missing, (
        f"{len(missing)} source string(s) without English; run scripts/i18n.sh: {missing[:20]}"
    )


def test_role_severity_and_status_labels_translate():
    with translation.override("en"):
        assert str(Role.CUSTOMER_SERVICE.label) == "Customer service"
        assert str(Role.MARKETING.label) == "Marketing"
        assert str(Finding.Severity.CRITICAL.label) == "Critical"
        assert str(Finding.Status.ACKNOWLEDGED.label) == "Acknowledged"
        assert str(Finding._meta.verbose_name) == "Finding"
    with translation.override("zh-hans"):
        assert str(Role.CUSTOMER_SERVICE.label) == "客服"
        assert str(Finding.Severity.CRITICAL.label) == "严重"


# ---- console pages ---------------------------------------------------------------------------


def test_english_user_sees_english_console_home(en_owner, store, channel, finding):
    response = _client_for(en_owner).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "en"
    assert '<html lang="en">' in html
    for text in (
        "Operations overview",
        "Open findings",
        "Findings board",
        "Playbook",
        "Operation log",
        "Qualifications",
        "Latest findings",
        "Open findings by rule",
        "Sign out",
        "Tmall",
        "Critical 1",
    ):
        assert text in html, text
    for text in ("运营总览", "问题看板", "运营手册", "退出", "严重"):
        assert text not in html, text
    assert "Owner / admin" in html  # the role label in the header


def test_chinese_user_sees_chinese_console_home(zh_owner, store, channel, finding):
    response = _client_for(zh_owner).get("/", HTTP_ACCEPT_LANGUAGE="en")  # the saved choice wins
    html = response.content.decode()
    assert response.headers["Content-Language"] == "zh-hans"
    for text in (
        "运营总览",
        "待处理问题",
        "问题看板",
        "运营手册",
        "操作日志",
        "资质",
        "天猫",
        "严重 1",
        "店主/管理员",
    ):
        assert text in html, text
    for text in ("Operations overview", "Findings board", "Playbook"):
        assert text not in html, text


def test_default_language_is_simplified_chinese(make_user, store):
    user = make_user(Role.OWNER, username="owner_default")  # no saved language, no header
    html = _client_for(user).get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "运营总览" in html


def test_findings_board_in_english(en_owner, finding):
    html = _client_for(en_owner).get("/findings/").content.decode()
    for text in (
        "<h1>Findings board</h1>",
        "All severities",
        "All statuses",
        "All roles",
        "Overdue only",
        "Run checks now",
        "Severity",
        "Owner role",
        "First seen",
        "Critical",
        "Open",
        "Operations",
        "STORE-02",
        "Page 1 of 1, 1 in total",
    ):
        assert text in html, text
    assert "问题看板" not in html


def test_findings_board_in_chinese(zh_owner, finding):
    html = _client_for(zh_owner).get("/findings/").content.decode()
    for text in (
        "<h1>问题看板</h1>",
        "全部级别",
        "仅超时",
        "立即运行检查",
        "严重",
        "待处理",
        "运营",
        "第 1 / 1 页，共 1 条",
    ):
        assert text in html, text


def test_finding_detail_and_flash_message_in_english(en_owner, finding):
    client = _client_for(en_owner)
    html = client.get(f"/findings/{finding.pk}/").content.decode()
    for text in (
        "Resolution note (required)",
        "Mark as resolved",
        "Acknowledge",
        "Notifications",
        "Activity",
    ):
        assert text in html, text
    response = client.post(f"/findings/{finding.pk}/resolve/", {"note": "renewed the licence"}, follow=True)
    assert "Resolved: " in response.content.decode()
    # an error from the service layer, translated too
    finding.refresh_from_db()
    response = client.post(f"/findings/{finding.pk}/acknowledge/", {"note": ""}, follow=True)
    assert "Only open findings can be acknowledged" in response.content.decode()


def test_playbook_labels_follow_the_language(en_owner, zh_owner, store):
    en = _client_for(en_owner).get("/playbook/").content.decode()
    zh = _client_for(zh_owner).get("/playbook/").content.decode()
    assert "Warn days before a qualification expires" in en
    assert "Store-level settings (all channels)" in en
    assert "资质到期提前预警天数" in zh


# ---- switching language ------------------------------------------------------------------------


def test_set_language_switches_and_persists(zh_owner, store):
    client = _client_for(zh_owner)
    response = client.post("/language/", {"language": "en", "next": "/findings/"})
    assert response.status_code == 302
    assert response["Location"] == "/findings/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert UserProfile.objects.get(user=zh_owner).language == "en"
    assert AuditEntry.objects.filter(action="user.set_language", after__language="en").exists()
    # persisted on the profile: a brand-new session (other browser, no cookie) is English too
    assert "<h1>Findings board</h1>" in _client_for(zh_owner).get("/findings/").content.decode()
    # and back
    client.post("/language/", {"language": "zh-hans", "next": "/"})
    assert UserProfile.objects.get(user=zh_owner).language == "zh-hans"
    assert "运营总览" in client.get("/").content.decode()


def test_set_language_rejects_unknown_languages_and_foreign_redirects(en_owner, store):
    client = _client_for(en_owner)
    response = client.post("/language/", {"language": "fr"}, follow=True)
    assert "Unsupported language" in response.content.decode()
    assert UserProfile.objects.get(user=en_owner).language == "en"
    response = client.post("/language/", {"language": "en", "next": "https://evil.example.com/"})
    assert response["Location"] == "/"


def test_set_language_needs_sign_in_and_post(client):
    response = client.post("/language/", {"language": "en"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/language/").status_code == 405


# ---- API errors ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "message", "language"),
    [
        ("en", "Sign in or provide a valid API token", "en"),
        ("en-US,en;q=0.9", "Sign in or provide a valid API token", "en"),
        ("zh-CN,zh;q=0.9", "请先登录或提供有效的 API 令牌", "zh-hans"),
        (None, "请先登录或提供有效的 API 令牌", "zh-hans"),
    ],
)
def test_api_401_follows_accept_language(client, accept, message, language):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    response = client.get("/api/v1/stores/", **headers)
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": message, "fields": {}}
    assert response.headers["Content-Language"] == language


@pytest.mark.django_db
def test_api_401_for_a_bad_token_follows_accept_language(client):
    response = client.get(
        "/api/v1/stores/", HTTP_AUTHORIZATION="Bearer so_not-a-token", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 401
    assert response.json()["message"] == "Sign in or provide a valid API token"


def test_api_errors_follow_the_signed_in_users_language(make_user, store):
    analyst = make_user(Role.ANALYST, username="analyst_en", language="en")
    client = _client_for(analyst)
    response = client.post(
        "/api/v1/stores/",
        data={"code": "x", "name": "y"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )  # the profile's language wins over the header
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "You do not have permission to do this (requires stores.add_store)",
        "fields": {},
    }
    zh = _client_for(make_user(Role.ANALYST, username="analyst_zh", language="zh-hans"))
    response = zh.post("/api/v1/stores/", data={"code": "x", "name": "y"}, content_type="application/json")
    assert response.json()["message"] == "没有执行此操作的权限（需要 stores.add_store）"


def test_api_validation_and_domain_errors_in_english(en_owner, store):
    client = _client_for(en_owner)
    response = client.post(
        "/api/v1/stores/", data={"code": "s1", "name": "again"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["message"] == "Store code already exists"
    assert response.json()["fields"] == {"code": "Store code already exists"}
    response = client.post("/api/v1/stores/", data={"name": 1}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["message"] == "The submitted data is invalid"


def test_api_token_errors_follow_accept_language(owner, store):
    _token, raw = api_token_create(actor=Actor(user=owner, via="cli"), name="bi", role=Role.ANALYST)
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    response = client.post(
        "/api/v1/stores/",
        data={"code": "x", "name": "y"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **auth,
    )
    assert response.status_code == 403
    assert response.json()["message"] == "You do not have permission to do this (requires stores.add_store)"
    response = client.post(
        "/api/v1/stores/", data={"code": "x", "name": "y"}, content_type="application/json", **auth
    )
    assert response.json()["message"] == "没有执行此操作的权限（需要 stores.add_store）"


def test_me_language_endpoint_switches_the_console(zh_owner, store):
    client = _client_for(zh_owner)
    response = client.put(
        "/api/v1/accounts/me/language", data={"language": "en"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert UserProfile.objects.get(user=zh_owner).language == "en"
    assert client.get("/api/v1/accounts/me").json()["language"] == "en"
    assert "Operations overview" in client.get("/").content.decode()


def test_me_language_response_shows_the_new_language(zh_owner, store):
    response = _client_for(zh_owner).put(
        "/api/v1/accounts/me/language", data={"language": "en"}, content_type="application/json"
    )
    assert response.json()["language"] == "en"


# ---- finding titles --------------------------------------------------------------------------


def test_finding_titles_follow_the_readers_language(en_owner, zh_owner, finding):
    # given one stored STORE-02 finding (its check gave a message key and parameters)
    # when an English and a Chinese reader open the board and the API
    english = _client_for(en_owner).get("/findings/").content.decode()
    chinese = _client_for(zh_owner).get("/findings/").content.decode()
    api = _client_for(en_owner).get(f"/api/v1/findings/{finding.pk}").json()
    # then each sees it in their own language; the stored title stays in the store's language
    assert "expired on" in english
    assert "已于" in chinese
    assert "expired on" in api["title"]
    assert "已于" in finding.title


def test_a_title_without_a_message_key_is_shown_as_stored(en_owner, store):
    from storeops.sop.models import Finding

    Finding.objects.create(store=store, rule_id="X-01", subject_key="x", title="旧标题", owner_role="owner")
    assert "旧标题" in _client_for(en_owner).get("/findings/").content.decode()


def test_checks_run_by_an_english_user_still_store_titles_in_the_store_language(en_owner, store, today):
    # given a qualification about to expire, and an English-speaking owner running the checks
    import datetime as dt

    from storeops.core.context import Actor
    from storeops.sop.models import Finding
    from storeops.stores.services import qualification_create

    qualification_create(
        actor=Actor.system(),
        store=store,
        kind="trademark",
        title="商标注册证",
        issuer="国家知识产权局",
        valid_from=today - dt.timedelta(days=10),
        valid_to=today + dt.timedelta(days=3),
    )
    response = _client_for(en_owner).post("/findings/run/", {"rule": "STORE-02"})
    assert response.status_code == 302
    # then the stored title is in the store's language (zh-hans), not the runner's
    assert "将于" in Finding.objects.get(rule_id="STORE-02").title


# makemessages (xgettext) only knows gettext's own names and `_`: a string marked through an
# alias such as `gettext_lazy as _l` is never extracted and silently stays Chinese in English.
EXTRACTED_NAMES = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy",
                   "pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}  # fmt: skip
ALIAS = re.compile(r"from django\.utils\.translation import[^\n]*?\b(\w+) as (\w+)")


def test_translation_functions_are_imported_under_names_makemessages_extracts():
    aliased = [
        f"{path.relative_to(PACKAGE_DIR)}: {name} as {alias}"
        for path in PACKAGE_DIR.rglob("*.py")
        for name, alias in ALIAS.findall(path.read_text(encoding="utf-8"))
        if alias not in EXTRACTED_NAMES
    ]
    assert not aliased, f"use the function's own name or `_`: {aliased}"
