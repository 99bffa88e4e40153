"""DATA-09: a member's profile (gender, birth year, birthday, city) is personal data. A copy
lists it with the membership; deletion clears the profile and keeps the membership, its points
and tier (the customer's own balance, which they did not ask to give up)."""

from __future__ import annotations

from typing import Any

from storeops.members.models import Member
from storeops.stores.models import Store


def personal_data(store: Store, customer_ref: str) -> dict[str, list[dict[str, Any]]]:
    return {
        "member": [
            {
                "customer_ref": m.customer_ref,
                "joined_at": m.joined_at.isoformat(),
                "tier": m.tier,
                "points_balance": m.points_balance,
                "gender": m.gender,
                "birth_year": m.birth_year,
                "birthday": f"{m.birth_month:02d}-{m.birth_day:02d}" if m.birth_month else None,
                "city": m.city,
            }
            for m in Member.objects.filter(store=store, customer_ref=customer_ref)
        ]
    }


def erase(store: Store, customer_ref: str) -> dict[str, int]:
    members = Member.objects.filter(store=store, customer_ref=customer_ref)
    return {
        "member_profiles": members.update(
            gender="", birth_year=None, birth_month=None, birth_day=None, birthday_set_at=None, city=""
        )
    }
