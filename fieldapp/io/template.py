"""The import template: a workbook with the header row, one example row, drop-down lists for
choice columns, and a second sheet documenting every column (label, type, required, allowed
values), all generated from `SPECS` so it can never disagree with the importer.
"""

from __future__ import annotations

import os
from pathlib import Path

from fieldapp.domain.choices import RECORD_KIND
from fieldapp.domain.records import (
    BOOL,
    CHOICE,
    DATE,
    FLOAT,
    GRID,
    INT,
    LONGTEXT,
    MULTI,
    PHONE,
    REF,
    SPECS,
    TEXT,
    FieldSpec,
)
from fieldapp.io.exporter import column_widths, display_value

TYPE_LABELS = {
    TEXT: ("文字", "text"), LONGTEXT: ("长文字", "long text"), INT: ("整数", "whole number"),
    FLOAT: ("数字", "number"), DATE: ("日期", "date"), CHOICE: ("单选", "one choice"),
    MULTI: ("多选(用、分隔)", "several choices, separated by 、"), BOOL: ("是/否", "yes/no"),
    PHONE: ("电话", "phone"), GRID: ("网格编码", "grid code"), REF: ("记录编号", "record id"),
}

#: A plausible value per field name for the example row (fields without one stay empty).
EXAMPLE = {
    "grid_code": "310104003001G01", "address": "天平路100号", "building_unit": "1层101室",
    "external_id": "TPL-2024-001", "lat": 31.2051, "lng": 121.4432, "coord_system": "wgs84",
    "source_type": "storefront", "floor_from": 1, "usable_area": 120.0,
    "street_frontage": True, "idle_since": "2024-03-05", "current_use": "空置",
    "ownership_type": "state", "owner_name": "徐汇区房屋管理局", "owner_contact": "王芳",
    "owner_phone": "02164001234", "owner_consent": "agreed", "authority_consent": "negotiating",
    "land_use_unchanged": True, "structure_condition": "good", "fire_condition": "fair",
    "accessibility": "partial", "elevator": "not_needed",
    "candidate_functions": ["elderly", "meal"], "notes": "临街门面,采光良好",
    "name": "天平路街道社区综合服务中心", "facility_kind": "complex",
    "functions": ["elderly", "meal", "childcare"], "building_area": 850.0,
    "operator": "上海某某养老服务有限公司", "operating_mode": "commissioned",
    "opening_hours": "8:00-20:00", "staggered_use": True, "multi_function_hall": True,
    "support": ["construction_subsidy"],
}


def example_data(kind: str) -> dict:
    """The template's example row as the importer reads it back (codes, numbers), so a row
    left as it was in the template is recognised and skipped instead of saved."""
    from fieldapp.domain.validation import InvalidValue, coerce

    out = {}
    for spec in SPECS[kind]:
        if spec.name in EXAMPLE:
            try:
                out[spec.name] = coerce(spec, EXAMPLE[spec.name])
            except InvalidValue:  # pragma: no cover - the example is written to be valid
                continue
    return out


def _limits(spec: FieldSpec) -> str:
    parts = []
    if spec.min is not None and spec.max is not None:
        parts.append(f"{spec.min:g}–{spec.max:g}{spec.unit}")
    elif spec.unit:
        parts.append(spec.unit)
    if spec.max_len:
        parts.append(f"≤{spec.max_len} 字")
    if spec.aliases:
        parts.append("也可写作 / also: " + "、".join(spec.aliases))
    return "; ".join(parts)


def write_template(path: str | os.PathLike, kind: str = "site") -> Path:
    """Write the import template for sites or facilities to `path` (.xlsx)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    specs = SPECS[kind]
    book = Workbook()
    sheet = book.active
    sheet.title = RECORD_KIND.label(kind, "zh")
    headers = [s.zh for s in specs]
    example = [display_value(s, EXAMPLE.get(s.name), typed=True) for s in specs]
    sheet.append(headers)
    sheet.append(example)
    sheet.freeze_panes = "A2"
    required = Font(bold=True, color="C00000")
    fill = PatternFill("solid", fgColor="F2F2F2")
    widths = column_widths([headers, example])
    for index, (spec, width) in enumerate(zip(specs, widths, strict=False), start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(width, 12)
        cell = sheet.cell(row=1, column=index)
        cell.font = required if spec.required else Font(bold=True)
        cell.fill = fill
        if spec.type == CHOICE and spec.choices:
            labels = ",".join(c.zh for c in spec.choices)
            if len(labels) < 250 and '"' not in labels:  # Excel's limit for a list
                rule = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=True)
                rule.add(f"{letter}2:{letter}5000")
                sheet.add_data_validation(rule)

    doc = book.create_sheet("填写说明")
    doc.append(["列名", "Column", "字段", "类型 / type", "提交时必填 / required",
                "可选值 / allowed values", "范围与说明 / limits"])
    for spec in specs:
        allowed = "、".join(f"{c.zh}" for c in spec.choices) if spec.choices else ""
        kind_zh, kind_en = TYPE_LABELS[spec.type]
        doc.append([spec.zh, spec.en, spec.name, f"{kind_zh} / {kind_en}",
                    "是 / yes" if spec.required else "", allowed, _limits(spec)])
    doc.append([])
    for line in (
        "第二行是示例,导入时若未改动会被跳过,可以直接删除或覆盖。",
        "Row 2 is an example: left as it is, the importer skips it; delete or overwrite it.",
        "第一行是表头,可用中文或英文列名;红色列在提交审核前必须填写,草稿可以先空着。",
        "Row 1 is the header (Chinese or English names). Red columns are required before "
        "submitting; a draft may leave them empty.",
        "面积可写 120㎡、约80平方米、1,200;日期可写 2024/3/5 或 2024年3月5日;全角数字也可以。",
        "Areas like 120㎡ or 1,200, dates like 2024/3/5 or 2024年3月5日, and full-width digits "
        "are all understood.",
        "同一条记录再次导入时按「外部编号」识别,没有外部编号时按「地址+网格」识别。",
        "A row is matched to an existing record by External id, else by Address + Grid.",
        "经纬度默认按「坐标系(录入时)」列理解:填 GCJ-02(高德/腾讯)的点在导入时换算为 WGS-84;"
        "列名写明「纬度(WGS-84)」的导出文件不再换算。",
        "Latitude/longitude follow the 坐标系 (coordinates entered as) column: GCJ-02 points "
        "(Amap/Tencent) are converted to WGS-84 on import; an export's 纬度(WGS-84) columns are "
        "already WGS-84 and are not converted again.",
    ):
        doc.append([line])
    doc.freeze_panes = "A2"
    for letter, width in zip("ABCDEFG", (16, 24, 20, 22, 16, 60, 40), strict=True):
        doc.column_dimensions[letter].width = width
    book.save(path)
    return path
