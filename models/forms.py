"""The 申报书 forms as data: every field, its Chinese label, its type and when it is required.

Both forms (附件2 platform, 附件3 experience centre) share part 一; part 二 and the
sections of part 三 differ. "除另有说明外，申报表中栏目不得空缺": every field is required
unless `required` says otherwise (`False`, or the name of a yes/no field it depends on).
"""

from dataclasses import dataclass
from typing import Literal

Kind = Literal["str", "text", "money", "decimal", "int", "date", "bool", "choice", "email", "phone", "uscc",
               "honours"]
Form = Literal["platform", "experience_centre"]
BOTH: tuple[Form, ...] = ("platform", "experience_centre")

OWNERSHIP = ("事业单位", "社会团体", "国有企业", "民营企业", "外资企业", "合资企业",
             "国有控股企业", "国有参股企业", "其他")


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    kind: Kind
    forms: tuple[Form, ...] = BOTH
    required: bool | str = True  # True, False, or "if:<bool field>" / "if:ownership=其他"
    max_length: int = 200
    part: str = "一"


def _f(key, label, kind="str", forms=BOTH, required=True, max_length=None, part="一") -> FormField:
    default_len = {"text": 20000, "str": 200}.get(kind, 200)
    return FormField(key, label, kind, forms, required, max_length or default_len, part)


P, C = ("platform",), ("experience_centre",)

FIELDS: tuple[FormField, ...] = (
    _f("enterprise_name", "单位名称"),
    _f("contact_name", "申报联系人姓名"),
    _f("contact_title", "申报联系人职务"),
    _f("contact_mobile", "申报联系人手机", "phone"),
    _f("contact_fax", "申报联系人传真", "phone"),
    _f("contact_email", "申报联系人邮箱", "email"),
    _f("registered_capital", "注册资本（万元）", "money"),
    _f("legal_representative", "法定代表人"),
    _f("registered_address", "单位注册地址"),
    _f("office_address", "单位办公地址"),
    _f("uscc", "统一社会信用代码", "uscc"),
    _f("ownership", "单位性质", "choice"),
    _f("ownership_other", "单位性质（其他，请注明）", required="if:ownership=其他"),
    _f("listed", "是否上市公司", "bool"),
    _f("listing_date", "上市时间", "date", required="if:listed"),
    _f("listing_place", "上市地点", required="if:listed"),
    _f("stock_code", "股票代码", required="if:listed"),
    _f("exports", "是否有业务出口", "bool"),
    _f("export_destinations", "主要出口地点", required="if:exports"),
    _f("honours", "相关荣誉", "honours", required=False, max_length=2000),  # typed parts: models.honours
    _f("rd_capability", "研发能力", "text", max_length=2000),
    _f("main_revenue", "主营业务收入（万元）", "money"),
    _f("rd_investment", "研发投入（万元）", "money"),
    _f("info_revenue", "信息消费相关业务收入（万元）", "money"),
    _f("rd_staff", "研发人员规模", "int"),
    _f("is_software_enterprise", "是否软件业企业", "bool"),
    _f("software_product_revenue", "软件产品收入总额（万元）", "money", required="if:is_software_enterprise"),
    _f("it_service_revenue", "信息技术服务收入总额（万元）", "money", required="if:is_software_enterprise"),
    _f("embedded_revenue", "嵌入式系统软件收入总额（万元）", "money", required="if:is_software_enterprise"),
    _f("profile", "申报单位简介", "text", max_length=20000),
    # 二、申报项目基本信息
    _f("project_name", "项目名称（平台名称/体验中心名称）", part="二"),
    _f("launch_date", "平台上线运营日期", "date", P, part="二"),
    _f("registered_users", "用户注册规模（亿）", "decimal", P, part="二"),
    _f("mau", "上一年度平均月活用户数量（亿）", "decimal", P, part="二"),
    _f("centre_address", "体验中心地址", forms=C, part="二"),
    _f("area", "体验中心面积（平方米）", "decimal", C, part="二"),
    _f("monthly_visitors", "月均人流量（人次）", "int", C, part="二"),
    _f("construction_start", "建设开始日期", "date", C, part="二"),
    _f("construction_end", "建设结束日期", "date", C, part="二"),
    _f("investment", "项目投资（万元）", "money", part="二"),
    _f("leader_name", "项目负责人姓名", part="二"),
    _f("leader_title", "项目负责人职务", part="二"),
    _f("leader_mobile", "项目负责人手机", "phone", part="二"),
    _f("leader_email", "项目负责人邮箱", "email", part="二"),
    _f("overview", "项目概述（平台概述/体验中心概述）", "text", part="二"),
    # 三、申报项目详细介绍
    _f("sec_qualification", "项目承担方资质与能力", "text", part="三"),
    _f("sec_plan", "项目实施方案", "text", part="三"),
    _f("sec_collaboration", "产学研用联合协作情况", "text", P, part="三"),
    _f("sec_team", "项目负责人与项目团队实力", "text", C, part="三"),
    _f("sec_innovation", "项目实施的创新性", "text", part="三"),
    _f("sec_replicability", "项目的可推广性", "text", part="三"),
    _f("sec_scenarios", "项目实施主体、服务对象及适用场景", "text", part="三"),
    _f("sec_progress", "项目实施情况", "text", part="三"),
    _f("sec_next_steps", "下一步实施计划", "text", part="三"),
)

BY_KEY = {f.key: f for f in FIELDS}
ATTACHMENT_KINDS = {"附1": "申报单位相关证明材料", "附2": "申报项目相关证明材料", "附3": "申报主体责任声明"}
ATTACHMENT_NAMES_EN = {"附1": "the applicant's supporting documents", "附2": "the project's supporting documents",
                       "附3": "the signed declaration of responsibility"}


def form_fields(form: str) -> dict[str, FormField]:
    """Return the fields of one form, in form order."""
    return {f.key: f for f in FIELDS if form in f.forms}
