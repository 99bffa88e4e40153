"""Benchmark: banned-word scan of 100,000 product titles against a 1,000-word list (SOP LIST-02).

Titles are generated from a seeded vocabulary (brand, season, attribute, core and scene
words, some Latin/full-width text, and a banned word in a few per cent of titles). The word
list is the bundled default list plus generated Advertising-Law style words.

Reference, measured in the same run: a plain loop calling ``str.find`` for every word on
every title (on pre-folded titles, so the reference does not even pay for case/width
folding, which our timing includes). With ``--quick`` the reference runs on a subset and is
extrapolated linearly; the output says so. Both must find the same (title, position, word)
hits on the titles the reference scanned.

    python benchmarks/banned_words.py [--quick] [--titles N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storeops.catalog.banned_words import BannedWordScanner, load_default_words, normalise

WORD_LIST_SIZE = 1_000


def _words(text: str) -> list[str]:
    return text.split()


BRANDS = _words(
    "南极人 优衣库 森马 小米 美的 九阳 苏泊尔 罗莱 "
    "水星家纺 李宁 安踏 回力 百雀羚 自然堂 三只松鼠 "
    "良品铺子 得力 晨光 公牛 绿联 倍思 Anker NIKE"
)
SEASONS = _words("2024 2025 春季 夏季 秋冬 冬季 春秋款 四季通用")
NEW = _words("新款 爆款 热卖 官方旗舰店 正品 现货 包邮 加厚 升级款")
# category: (core words, attribute words, scene words)
CATEGORIES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "服饰": (
        _words("连衣裙 T恤 卫衣 牛仔裤 羽绒服 衬衫 半身裙 运动鞋 风衣"),
        _words(
            "纯棉 宽松 修身 碎花 雪纺 显瘦 高腰 oversize 百搭 韩版 法式 复古 冰丝 透气 加绒 长袖 短袖 Ｓ码 XL"
        ),
        _words("通勤 约会 度假 学生 上班 居家 运动 出游 海边"),
    ),
    "家电": (
        _words("电饭煲 空气炸锅 破壁机 电水壶 扫地机器人 吹风机 加湿器 电热水器"),
        _words("智能 家用 大容量 5L 静音 负离子 不锈钢 一级能效 预约定时 WiFi 2000W 迷你 多功能"),
        _words("厨房 宿舍 办公室 卧室 租房 母婴 送礼"),
    ),
    "数码": (
        _words("数据线 充电宝 蓝牙耳机 手机壳 平板电脑 机械键盘 鼠标 充电器"),
        _words("Type-C USB 快充 20000毫安 超薄 无线 降噪 防摔 磁吸 PD20W 轻薄 RGB 静音 iPhone15 华为"),
        _words("游戏 办公 出差 学习 户外 车载 电竞"),
    ),
    "美妆个护": (
        _words("洗发水 面霜 精华液 口红 防晒霜 面膜 沐浴露 洗面奶"),
        _words("补水 保湿 氨基酸 温和 控油 清爽 滋润 持久 哑光 敏感肌 无硅油 SPF50+ 500ml 玻尿酸"),
        _words("日常 熬夜 换季 旅行 男士 女士 学生党"),
    ),
    "食品": (
        _words("坚果 牛奶 苹果 大米 茶叶 咖啡豆 牛肉干 蜂蜜"),
        _words("每日 原味 有机 东北 新疆 红富士 特级 低脂 高钙 散装 礼盒装 5斤 1kg 云南"),
        _words("早餐 办公室 零食 送礼 孕妇 儿童 露营"),
    ),
}
FILLERS = _words("女 男 男女同款 儿童 套装 官方 （送礼袋） 【顺丰】 ！ ， ins风")

BANNED_PREFIXES = _words(
    "最 第一 顶级 全网 全国 史上 国家级 世界级 绝对 唯一 "
    "极致 终极 首个 独家 100% 行业第一 销量冠军 至尊 "
    "王牌 万能"
)
BANNED_STEMS = _words(
    "好用 便宜 畅销 热销 舒适 安全 实惠 正宗 耐用 保暖 "
    "时尚 专业 好评 品质 低价 省电 静音 快充 美白 有效 "
    "纯天然 无添加 健康 新鲜 好喝 好吃 显瘦 透气 补水 "
    "不伤发 无刺激 高端 奢华 经典 耐磨 防水 清洁 除菌 "
    "除螨 抗菌 防滑 护眼 降噪 续航 智能 轻薄 柔软 环保 "
    "正品 工艺"
)


def make_word_list(rng: random.Random, size: int) -> list[str]:
    """The default list plus generated prefix+stem words, ``size`` distinct after folding."""
    words = list(load_default_words())
    keys = {normalise(word) for word in words}
    combos = [prefix + stem for prefix in BANNED_PREFIXES for stem in BANNED_STEMS]
    rng.shuffle(combos)
    for word in combos:
        if len(words) == size:
            break
        if normalise(word) not in keys:
            keys.add(normalise(word))
            words.append(word)
    if len(words) != size:
        raise SystemExit(f"could only generate {len(words)} words")
    return words


def make_titles(rng: random.Random, count: int, banned: Sequence[str]) -> list[str]:
    """Marketplace-style titles of 30–60 characters; about 4% carry a banned word."""
    categories = list(CATEGORIES.values())
    titles: list[str] = []
    for _ in range(count):
        cores, attributes, scenes = rng.choice(categories)
        target = rng.randint(30, 60)
        parts = [rng.choice(BRANDS), rng.choice(SEASONS), rng.choice(NEW)]
        parts += [*rng.sample(attributes, 2), rng.choice(cores), rng.choice(scenes)]
        if rng.random() < 0.04:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(banned))
        title = "".join(parts)
        while len(title) < target:
            title += rng.choice(attributes if rng.random() < 0.5 else scenes + FILLERS)
        titles.append(title[:60])  # the last word may overshoot the target; cut only past 60
    return titles


def naive_hits(titles: Sequence[str], words: Sequence[str]) -> set[tuple[int, int, str]]:
    """The reference: ``str.find`` for every word on every (pre-folded) title."""
    hits: set[tuple[int, int, str]] = set()
    for index, title in enumerate(titles):
        for word in words:
            start = title.find(word)
            while start != -1:
                hits.add((index, start, word))
                start = title.find(word, start + 1)
    return hits


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times: list[float] = []
    result: object = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reference on a subset, extrapolated")
    parser.add_argument("--titles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20260315)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    words = make_word_list(rng, WORD_LIST_SIZE)
    titles = make_titles(rng, args.titles, words)
    lengths = [len(t) for t in titles]
    span = f"{min(lengths)}–{max(lengths)} chars, median {statistics.median(lengths)}"
    print(f"titles: {len(titles):,} ({span})")
    print(f"words:  {len(words):,} (default list {len(load_default_words())} + generated)")
    print(f"sample: {titles[0]}")

    build_repeats, scan_repeats = (3, 3) if args.quick else (5, 5)
    build_time, built = timed(lambda: BannedWordScanner.from_words(words), build_repeats)
    scanner = built if isinstance(built, BannedWordScanner) else BannedWordScanner.from_words(words)
    scan_time, scanned = timed(lambda: scanner.scan_many(titles), scan_repeats)
    results = scanned if isinstance(scanned, list) else scanner.scan_many(titles)
    total_hits = sum(len(r) for r in results)
    print(f"build:  {build_time * 1000:.1f} ms (median of {build_repeats}, version {scanner.version})")
    print(
        f"scan:   {scan_time:.3f} s for {len(titles):,} titles (median of {scan_repeats}), "
        f"{total_hits:,} hits in {sum(1 for r in results if r):,} titles"
    )

    subset = len(titles) // 10 if args.quick else len(titles)
    naive_repeats = 3
    folded_titles = [normalise(t) for t in titles[:subset]]  # untimed: the reference skips folding
    folded_words = [normalise(w) for w in words]
    naive_time, naive = timed(lambda: naive_hits(folded_titles, folded_words), naive_repeats)
    naive_full = naive_time * len(titles) / subset
    if subset == len(titles):
        print(
            f"naive:  {naive_full:.3f} s for all {len(titles):,} titles "
            f"(str.find per word, median of {naive_repeats})"
        )
    else:
        print(
            f"naive:  {naive_time:.3f} s for {subset:,} titles (median of {naive_repeats}), "
            f"extrapolated linearly to {naive_full:.3f} s for {len(titles):,} (--quick)"
        )

    ours = {(i, m.start, normalise(m.word)) for i, found in enumerate(results[:subset]) for m in found}
    if ours != naive:
        raise SystemExit(f"MISMATCH: scanner {len(ours)} hits vs naive {len(naive)} on {subset:,} titles")
    print(f"check:  identical (title, position, word) hits on {subset:,} titles: {len(naive):,}")
    print(f"RESULT seconds={scan_time:.4f} ratio_vs_naive={naive_full / scan_time:.1f} "
          f"titles={len(titles)} words={len(words)}")  # fmt: skip


if __name__ == "__main__":
    main()
