"""Approximate coordinates of China's provincial capitals, for allocation (ORD-02) when an
order or warehouse has no coordinates of its own. Distances from province centres are
coarse, but they rank warehouses the way a dispatcher would (Shanghai is nearer Hangzhou
than Chengdu), which is all the allocator needs."""

from __future__ import annotations

PROVINCE_CENTRES: dict[str, tuple[float, float]] = {
    "北京": (39.90, 116.41),
    "天津": (39.13, 117.20),
    "河北": (38.04, 114.51),
    "山西": (37.87, 112.55),
    "内蒙古": (40.84, 111.75),
    "辽宁": (41.80, 123.43),
    "吉林": (43.82, 125.32),
    "黑龙江": (45.80, 126.53),
    "上海": (31.23, 121.47),
    "江苏": (32.06, 118.80),
    "浙江": (30.27, 120.16),
    "安徽": (31.82, 117.23),
    "福建": (26.07, 119.30),
    "江西": (28.68, 115.86),
    "山东": (36.65, 117.12),
    "河南": (34.75, 113.62),
    "湖北": (30.59, 114.31),
    "湖南": (28.23, 112.94),
    "广东": (23.13, 113.26),
    "广西": (22.82, 108.37),
    "海南": (20.04, 110.35),
    "重庆": (29.56, 106.55),
    "四川": (30.57, 104.07),
    "贵州": (26.65, 106.63),
    "云南": (25.04, 102.71),
    "西藏": (29.65, 91.17),
    "陕西": (34.34, 108.94),
    "甘肃": (36.06, 103.83),
    "青海": (36.62, 101.78),
    "宁夏": (38.49, 106.23),
    "新疆": (43.83, 87.62),
    "香港": (22.32, 114.17),
    "澳门": (22.20, 113.54),
    "台湾": (25.03, 121.56),
}
# The geographic centre of China, for a region nobody recognises (it ranks every warehouse
# at a similar distance, so cost and stock decide).
UNKNOWN = (35.0, 105.0)


def province_centre(region: str) -> tuple[float, float]:
    region = (region or "").strip()
    for name, point in PROVINCE_CENTRES.items():
        if region.startswith(name):
            return point
    return UNKNOWN
