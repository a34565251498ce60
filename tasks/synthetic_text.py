"""Word pools for clearly fictional applications: company names, people, and filler prose.

Every name carries （虚构） or is built from invented words; e-mail domains are the reserved
example.com / example.org. Nothing here describes a real enterprise or person.
"""

import random

from tasks.validation import text_length

NAME_HEADS = ("星河", "云帆", "青禾", "澄江", "远岫", "明川", "拾光", "汀兰", "嘉木", "若水", "北辰", "望舒",
              "朗月", "松涛", "晴岚", "锦程", "栖梧", "溪山", "翠微", "浩渺")
NAME_TAILS = ("智联", "数创", "云启", "信达", "e家", "优享", "悦动", "智汇", "通衢", "合鸣", "新象", "灵犀",
              "万象", "启明", "纵横", "同舟", "致远", "恒信", "易达", "知行")
INDUSTRIES = ("数字科技", "信息技术", "网络科技", "智能科技", "数据服务", "互联网科技", "电子商务", "文化传媒")
PLATFORM_WORDS = ("云生活服务平台", "智慧出行平台", "数字文旅平台", "在线教育平台", "社区电商平台",
                  "健康服务平台", "数字内容平台", "乡村振兴电商平台")
CENTRE_WORDS = ("5G+XR 信息消费体验中心", "智能家居体验馆", "数字生活体验街区", "元宇宙体验中心",
                "智慧零售体验店", "沉浸式文旅体验中心")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("示明", "虚文", "例华", "测安", "构宁", "样辰", "演思", "拟远", "设然", "假蓝")
TITLES = ("总经理", "副总经理", "项目经理", "运营总监", "技术总监", "市场部经理", "办公室主任")
EXCHANGES = ("上海证券交易所", "深圳证券交易所", "北京证券交易所", "香港联合交易所")
DESTINATIONS = ("东南亚", "欧洲", "中东", "拉丁美洲", "非洲", "北美")
SENTENCES = (
    "本单位为虚构示例企业，相关数据仅用于演示推荐流程。",
    "公司长期深耕信息消费领域，坚持以用户需求为导向推进产品与服务创新。",
    "依托云计算、大数据和人工智能技术，构建了覆盖多场景的数字化服务体系。",
    "项目聚焦网络销售、生活服务、社交娱乐和信息资讯等领域，带动消费扩容提质。",
    "建立了完善的数据安全与个人信息保护制度，切实保障消费者合法权益。",
    "与高校、科研院所共建联合实验室，推动技术成果转化和产业化应用。",
    "运营团队具备丰富的平台运营和线下体验服务经验，服务能力持续提升。",
    "通过线上线下融合的方式，打造沉浸式、互动式的信息消费新场景。",
    "项目形成了可复制、可推广的经验做法，具备在同类城市推广应用的条件。",
    "下一步将加大研发投入，拓展服务范围，提升用户体验与服务质量。",
    "积极参与乡村振兴和适老化改造，推动数字服务惠及更多群体。",
    "配套开展数字技能培训活动，帮助消费者更好地使用智能产品与服务。",
)

LENGTHS = {sentence: text_length(sentence) for sentence in SENTENCES}


def company_name(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """Return an unused fictional company name and its short form."""
    for _ in range(50):
        short = rng.choice(NAME_HEADS) + rng.choice(NAME_TAILS)
        name = f"{short}{rng.choice(INDUSTRIES)}有限公司（虚构）"
        if name not in taken:
            taken.add(name)
            return name, short
    short = f"{rng.choice(NAME_HEADS)}{len(taken)}号"
    name = f"{short}{rng.choice(INDUSTRIES)}有限公司（虚构）"
    taken.add(name)
    return name, short


def person(rng: random.Random) -> str:
    """Return a fictional person's name."""
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile(rng: random.Random) -> str:
    """Return an 11-digit mainland mobile number of the right shape."""
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def landline(rng: random.Random) -> str:
    """Return a landline number like 027-83456789."""
    return f"0{rng.randint(10, 99)}-{rng.randint(20000000, 89999999)}"


def prose(rng: random.Random, *, target: int, limit: int | None = None) -> str:
    """Return filler prose of about `target` characters, never over `limit` (字数 as counted)."""
    parts: list[str] = []
    length = 0
    while length < target:
        parts.append(rng.choice(SENTENCES))
        length += LENGTHS[parts[-1]]
    while limit is not None and length > limit and len(parts) > 1:
        length -= LENGTHS[parts.pop()]
    return "".join(parts)


def padded_prose(rng: random.Random, *, length: int) -> str:
    """Return prose of exactly `length` counted characters (for over-limit examples)."""
    text = prose(rng, target=length)
    while text_length(text) > length:
        text = text[:-1]
    return text
