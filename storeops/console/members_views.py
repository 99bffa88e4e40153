"""Console pages of members (MEM-01/02/03/05): the member list with tier/referral/birthday-month
filters, tier counts and the rewards catalogue (coupons and goods; staff add goods rewards
there), the member detail with ledger, tier coupons, birthday gifts and referral, the profile
form (birthday included) and the manual points adjustment (through
:mod:`storeops.members.services`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    console_view,
    posted,
    querystring,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError, ValidationError
from storeops.members import rules as member_rules
from storeops.members import selectors as member_selectors
from storeops.members import services as member_services
from storeops.stores.selectors import playbook_get

if TYPE_CHECKING:
    from storeops.stores.models import Store

REFERRED_CHOICES = (
    ("", gettext_lazy("全部")),
    ("yes", gettext_lazy("受邀加入")),
    ("no", gettext_lazy("自行加入")),
)


@console_view("members.view_member")
def members_list(request: HttpRequest) -> HttpResponse:
    return _members_page(request, store_or_404(request))


def _members_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The members and rewards; ``sent``: a refused new goods reward, shown again as typed."""
    q = request.GET.get("q", "").strip()
    tier = request.GET.get("tier", "")
    referred = request.GET.get("referred", "")
    month_text = request.GET.get("birth_month", "")
    birth_month = int(month_text) if month_text.isdigit() and 1 <= int(month_text) <= 12 else None
    qs = member_selectors.member_list(store=store, q=q, tier=tier, referred=referred, birth_month=birth_month)
    this_month = timezone.localdate().month
    book = playbook_get(store=store)
    counts = member_selectors.tier_counts(store=store)
    stats = member_selectors.referral_stats(store=store, limit=5)
    return render(
        request,
        "console/members_list.html",
        _base_context(
            request,
            page=Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            q=q,
            tier=tier,
            referred=referred,
            birth_month=birth_month,
            months=range(1, 13),
            this_month=this_month,
            birthdays_this_month=member_selectors.birthdays_in_month(store=store, month=this_month),
            tiers=member_selectors.TIER_CHOICES,
            referred_choices=[(v, str(label)) for v, label in REFERRED_CHOICES],
            tier_counts=[(label, counts.get(v, 0)) for v, label in member_selectors.TIER_CHOICES],
            stats=stats,
            rewards=member_selectors.reward_rows(store=store, book=book),
            points_rate=book.points_per_yuan_redeemed,
            can_add_reward=request.user.has_perm("members.add_pointsreward"),
            can_change_reward=request.user.has_perm("members.change_pointsreward"),
            reward_templates=member_selectors.templates_for_rewards(store=store),
            querystring=querystring(request),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


@console_view("members.view_member")
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    return _member_page(request, store_or_404(request), member_id)


def _member_page(
    request: HttpRequest,
    store: Store,
    member_id: int,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The member; ``sent``: a refused points adjustment, shown again as typed."""
    member = member_selectors.member_get(store=store, member_id=member_id)
    kind = request.GET.get("kind", "")
    book = playbook_get(store=store)
    return render(
        request,
        "console/member_detail.html",
        _base_context(
            request,
            member=member,
            tier_label=member_selectors.tier_label(member.tier),
            page=Paginator(member_selectors.member_ledger(member=member, kind=kind), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            kind=kind,
            kinds=member_selectors.ENTRY_KIND_CHOICES,
            querystring=querystring(request),
            # the invitees page on their own (``invitees_page``), keeping the ledger's page
            invitees=Paginator(member_selectors.member_invitees(member=member), PAGE_SIZE).get_page(
                request.GET.get("invitees_page")
            ),
            invitees_querystring=querystring(request, page="invitees_page"),
            grants=member_selectors.member_grants(member=member),
            birthday=member_rules.birthday_text(member.birth_month, member.birth_day),
            birthday_gifts=member_selectors.member_birthday_gifts(member=member),
            birthday_days_before=book.birthday_gift_days_before,
            genders=member_selectors.GENDER_CHOICES,
            can_edit=request.user.has_perm("members.change_member"),
            can_adjust=request.user.has_perm("members.adjust_points"),
            unlimited=request.user.has_perm("members.adjust_points_any"),
            adjust_limit=book.points_adjust_limit,
            offset_rate=book.points_per_yuan_redeemed,
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


def _whole(text: str) -> int | None:
    """A typed whole number (empty is 0); None when it is not one."""
    try:
        return int(text or "0")
    except ValueError:
        return None


@console_view("members.adjust_points")
@require_POST
def member_adjust(request: HttpRequest, member_id: int) -> HttpResponse:
    """Adjust points by hand with a reason (MEM-01); a refused one saves nothing and comes back
    as typed."""
    store = store_or_404(request)
    member = member_selectors.member_get(store=store, member_id=member_id)
    sent = posted(request, "points", "growth", "reason")
    try:
        points, growth = _whole(sent["points"]), _whole(sent["growth"])
        if points is None or growth is None:
            raise ValidationError(
                _("积分与成长值应为整数"),
                fields={name: _("应为整数") for name in ("points", "growth") if _whole(sent[name]) is None},
            )
        member_services.points_adjust(
            actor=_actor(request),
            member=member,
            points=points,
            growth=growth,
            reason=sent["reason"],
            unlimited=request.user.has_perm("members.adjust_points_any"),
        )
    except DomainError as exc:
        return _member_page(
            request, store, member.pk, sent=sent, errors=refused(request, exc, sent), code=422
        )
    messages.success(request, _("积分已调整"))
    return HttpResponseRedirect(reverse("console:member_detail", args=[member.pk]))


@console_view("members.change_member")
@require_POST
def member_profile(request: HttpRequest, member_id: int) -> HttpResponse:
    """Change a member's profile (gender, birth year, birthday for the MEM-01 birthday gift,
    city); a refused change saves nothing and comes back as typed."""
    store = store_or_404(request)
    member = member_selectors.member_get(store=store, member_id=member_id)
    sent = posted(request, "gender", "birth_year", "birthday", "city")
    try:
        year_text = sent["birth_year"].strip()
        if year_text and not year_text.isdigit():
            raise ValidationError(
                _("出生年份应在 1900 与今年之间"), fields={"birth_year": _("出生年份应在 1900 与今年之间")}
            )
        member_services.member_update(
            actor=_actor(request),
            member=member,
            gender=sent["gender"],
            birth_year=int(year_text) if year_text else None,
            birthday=sent["birthday"],
            city=sent["city"],
        )
    except DomainError as exc:
        return _member_page(
            request, store, member.pk, sent=sent, errors=refused(request, exc, sent), code=422
        )
    messages.success(request, _("会员资料已保存"))
    return HttpResponseRedirect(reverse("console:member_detail", args=[member.pk]))


@console_view("members.add_pointsreward")
@require_POST
def member_reward_goods_create(request: HttpRequest) -> HttpResponse:
    """Offer a SKU (by code) for a points price (MEM-02 points for goods); a refused one saves
    nothing and comes back as typed."""
    store = store_or_404(request)
    sent = posted(request, "sku_code", "points_price")
    try:
        points_price = _whole(sent["points_price"])
        if points_price is None:
            raise ValidationError(
                _("所需积分应为大于 0 的整数"), fields={"points_price": _("所需积分应为大于 0 的整数")}
            )
        member_services.reward_create_goods(
            actor=_actor(request), store=store, sku_code=sent["sku_code"], points_price=points_price
        )
    except DomainError as exc:
        return _members_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(request, _("兑换商品已新增"))
    return HttpResponseRedirect(reverse("console:members_list"))


@console_view("members.add_pointsreward")
@require_POST
def member_reward_coupon_create(request: HttpRequest) -> HttpResponse:
    """Offer a no-threshold coupon template for points (MEM-02 cash offset); its points price
    follows its face value and the playbook's rate."""
    store = store_or_404(request)
    sent = posted(request, "coupon_template_id")
    try:
        template_id = _whole(sent["coupon_template_id"])
        if not template_id:
            raise ValidationError(
                _("请选择无门槛券模板"), fields={"coupon_template_id": _("请选择无门槛券模板")}
            )
        member_services.reward_create(actor=_actor(request), store=store, coupon_template_id=template_id)
    except DomainError as exc:
        return _members_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(request, _("抵现券兑换项已新增"))
    return HttpResponseRedirect(reverse("console:members_list"))


@console_view("members.change_pointsreward")
@require_POST
def member_reward_active(request: HttpRequest, reward_id: int) -> HttpResponse:
    """Switch a points reward on or off (MEM-02)."""
    store = store_or_404(request)
    reward = member_selectors.reward_get(store=store, reward_id=reward_id)
    active = request.POST.get("active") == "1"
    member_services.reward_set_active(actor=_actor(request), reward=reward, active=active)
    messages.success(request, _("兑换项已启用") if active else _("兑换项已停用"))
    return HttpResponseRedirect(reverse("console:members_list"))
