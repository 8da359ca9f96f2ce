"""What the policy-simulator page shows: parameters, the curated controls and their labels.

Every parameter comes from :func:`nswn.scenario.reference.rows` (path, section, unit, help,
basis) and from the validating schema (numeric range, type, choices), so the page cannot
drift from the validator. A short curated list — the levers and assumptions that matter
most — is shown prominently, with plain-language help in English and Chinese; every other
parameter sits in an "all parameters" expander with the reference's own help.

A curated entry names one or more candidate paths; the first that exists is used, so the
page keeps working while parameters move between sections.
"""

from __future__ import annotations

import math
import typing
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

# The page's export-control composite (a new batch plus whether the base's batches stay).
EXPORT_CONTROLS_PATH = "levers.export_controls.batches"

# Curated levers and assumptions: candidate paths, English and Chinese label and help, and
# how to show the number (``percent``: ×100 with a % sign; ``step``: slider step in model units).
CURATED: dict[str, list[dict[str, Any]]] = {
    "levers": [
        {
            "paths": ["levers.priorities.mode"],
            "en": (
                "Priority mode",
                "How the state picks its priority areas: none, a broad list (~50), a shortlist, …",
            ),
            "zh": ("重点领域模式", "国家如何确定重点领域：不设重点、宽泛清单（约50个领域）、短名单等"),
            "choice_labels": {
                "none": ("no priorities", "不设重点"),
                "broad": ("broad (~50 areas)", "宽泛（约50个领域）"),
                "shortlist": ("shortlist", "短名单"),
                "lobbying": ("set by issue owners' lobbying", "由议题主导方游说决定"),
                "adaptive": ("adaptive (towards the fastest-closing gaps)", "自适应（向差距缩小最快的领域倾斜）"),
            },
        },
        {
            "paths": ["levers.priorities.shortlist_size"],
            "en": ("Shortlist size", "How many technologies the shortlist holds (used when the mode is shortlist)"),
            "zh": ("短名单规模", "短名单包含的技术数量（仅在短名单模式下生效）"),
            "step": 1,
        },
        {
            "paths": ["levers.central_budget.share_of_gdp"],
            "en": ("Central S&T budget", "Central government science and technology spending, as a share of GDP"),
            "zh": ("中央科技预算", "中央财政科技支出占GDP的比重"),
            "percent": True,
            "step": 0.0001,  # 0.01 % of GDP: issue 15's acceptance moves it from 0.50 % to 0.51 % on the page
        },
        {
            "paths": ["levers.instruments.*.share"],
            "group": "instruments",
            "en": (
                "Budget split by instrument",
                "How the central budget is divided; the shares always add up to 100 %",
            ),
            "zh": ("中央预算的工具分配", "中央预算在各政策工具间的分配，合计始终为100%"),
            "percent": True,
            "step": 0.01,
        },
        {
            "paths": ["levers.local_allocation.budget_share_of_gdp"],
            "en": ("Local S&T subsidies", "Local governments' subsidies to firms in these industries, share of GDP"),
            "zh": ("地方科技补贴", "地方政府对相关产业企业的补贴占GDP的比重"),
            "percent": True,
            "step": 0.0005,
        },
        {
            "paths": ["levers.local_allocation.centralisation"],
            "en": (
                "Centralisation",
                "Share of local money pooled and handed out by export success instead of local discretion",
            ),
            "zh": ("集中统筹程度", "地方资金中集中起来、按出口业绩（而非地方自行裁量）分配的比例"),
            "percent": True,
            "step": 0.05,
        },
        {
            "paths": [EXPORT_CONTROLS_PATH],
            "group": "export_controls",
            "en": (
                "Foreign export controls",
                "A new batch of controls: which technologies (the yard), how tight (the fence) and from when",
            ),
            "zh": ("外国出口管制", "新一轮管制：覆盖哪些技术（院子）、多严格（围栏高度）、何时开始"),
        },
        {
            "paths": ["levers.keep_manufacturing.keep", "levers.manufacturing.keep"],
            "en": (
                "Keep manufacturing",
                "Share of the labour-cost-driven decline of traditional industry that subsidies refuse",
            ),
            "zh": ("保留制造业", "用补贴抵消传统产业因劳动力成本上升而萎缩的比例"),
            "percent": True,
            "step": 0.05,
        },
        {
            "paths": ["levers.upgrade_traditional.upgrade", "levers.manufacturing.upgrade"],
            "en": (
                "Upgrade traditional industry",
                "Yearly subsidy for upgrading traditional industry, share of its value",
            ),
            "zh": ("传统产业升级补贴", "每年对传统产业升级的补贴，占其增加值的比重"),
            "percent": True,
            "step": 0.001,
        },
        {
            "paths": ["levers.patent_reform.inventor_share"],
            "en": (
                "Patent reform",
                "Inventors' ownership share of patents from state research (more → more spin-offs)",
            ),
            "zh": ("职务科技成果产权改革", "科研人员对国有科研成果专利的所有权比例（越高，衍生企业越多）"),
            "percent": True,
            "step": 0.05,
        },
    ],
    "assumptions": [
        {
            "paths": ["assumptions.environment.frontier_growth_scale"],
            "en": ("Foreign frontier growth", "How fast the foreign technology frontier moves, × the catalog's rates"),
            "zh": ("国外技术前沿增速", "国外技术前沿的推进速度（相对目录基准的倍数）"),
            "step": 0.05,
        },
        {
            "paths": ["assumptions.innovation.emulation_rate"],
            "en": (
                "Emulation rate",
                "How quickly Chinese firms catch up by copying a visible foreign template, per year",
            ),
            "zh": ("模仿追赶速度", "中国企业借鉴国外样板追赶的年速度"),
            "step": 0.01,
        },
        {
            "paths": ["assumptions.environment.decoupling_rate"],
            "en": ("Decoupling speed", "Yearly rise in the cut-off of joint research and returning scientists"),
            "zh": ("脱钩速度", "国际合作研究和海归人才流动每年被切断的增幅"),
            "percent": True,
            "step": 0.005,
        },
        {
            "paths": ["assumptions.environment.decoupling_max"],
            "en": ("Decoupling ceiling", "How far decoupling can go at most"),
            "zh": ("脱钩上限", "脱钩程度的最高值"),
            "percent": True,
            "step": 0.05,
        },
        {
            "paths": ["assumptions.markets.labour_cost_growth"],
            "en": (
                "Labour-cost rise",
                "Yearly rise of China's unit labour cost relative to foreign rivals (log units)",
            ),
            "zh": ("劳动力成本上升", "中国单位劳动力成本相对国外对手的年上升幅度（对数单位）"),
            "step": 0.005,
        },
        {
            "paths": ["assumptions.research.elasticity"],
            "en": ("Returns to research money", "How strongly research output responds to funding (an exponent)"),
            "zh": ("科研经费回报", "科研产出对经费投入的弹性"),
            "step": 0.05,
        },
        {
            "paths": ["assumptions.innovation.soe_rd_efficiency"],
            "en": ("SOE R&D efficiency", "Effective R&D per yuan at state-owned firms, relative to private firms"),
            "zh": ("国企研发效率", "国有企业每元研发投入的有效产出（相对民营企业）"),
            "step": 0.05,
        },
        {
            "paths": ["assumptions.environment.controls_block_sales"],
            "en": ("Controls also block sales", "How far a control also stops foreign firms selling the item in China"),
            "zh": ("管制阻断对华销售", "出口管制在多大程度上同时阻止外国企业在华销售该产品"),
            "percent": True,
            "step": 0.05,
        },
    ],
}

# Chinese names of the central-budget instruments (the English name is the instrument's id in words).
INSTRUMENT_LABELS_ZH = {
    "basic_research": "基础研究",
    "megaprojects": "重大专项",
    "unveiling_the_list": "揭榜挂帅",
    "innovation_associations": "创新联合体",
    "new_rd_institutes": "新型研发机构",
    "guidance_funds": "政府引导基金",
    "national_teams": "国家队",
}

# Ledger lines that are not central-budget instruments, for the funding chart.
FUNDING_LINE_LABELS = {
    "export_discipline": ("local money by export discipline", "地方资金（按出口业绩集中分配）"),
    "local_discretion": ("local money at local discretion", "地方资金（地方自主裁量）"),
    "keep_manufacturing": ("keeping manufacturing", "保留制造业补贴"),
    "upgrade_traditional": ("upgrading traditional industry", "传统产业升级补贴"),
    "manufacturing_support": ("manufacturing support", "制造业扶持"),
}

GROUP_LABELS = {
    "stranglehold": ("stranglehold (卡脖子)", "卡脖子技术"),
    "bottleneck": ("bottleneck", "瓶颈技术"),
    "competitive_advantage": ("competitive advantage", "优势产业"),
    "future": ("future industries", "未来产业"),
    "traditional": ("traditional industry", "传统产业"),
}


def _clean(text: str) -> str:
    """The reference escapes pipes for markdown tables; the page wants plain text."""
    return text.replace("\\|", "|")


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _field_types(model: type[BaseModel], prefix: str, out: dict[str, dict[str, Any]]) -> None:
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        inner = _inner_model(info.annotation)
        if inner is not None and typing.get_origin(info.annotation) is not tuple:
            _field_types(inner, path + ".", out)
            continue
        lo = hi = None
        for item in info.metadata:
            lo = getattr(item, "ge", lo)
            hi = getattr(item, "le", hi)
        annotation = info.annotation
        if typing.get_origin(annotation) is Literal:
            kind, choices = "choice", [str(c) for c in typing.get_args(annotation)]
        elif annotation is bool:
            kind, choices = "boolean", []
        elif annotation is int:
            kind, choices = "integer", []
        elif annotation is float:
            kind, choices = "number", []
        else:
            kind, choices = "other", []
        out[path] = {"kind": kind, "lo": lo, "hi": hi, "choices": choices}


@cache
def _schema_types() -> dict[str, dict[str, Any]]:
    from nswn.scenario.schema import scenario_model

    out: dict[str, dict[str, Any]] = {}
    _field_types(scenario_model(), "", out)
    return out


def _nice_step(lo: float | None, hi: float | None, kind: str) -> float:
    if kind == "integer":
        return 1
    if lo is None or hi is None or hi <= lo:
        return 0.01
    raw = (hi - lo) / 200
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(f"{factor * power:.12g}")
    return float(f"{10 * power:.12g}")


@cache
def parameters() -> tuple[dict[str, Any], ...]:
    """Every parameter with its section, unit, range, type, default and help (JSON-ready)."""
    from nswn.scenario import reference

    types = _schema_types()
    out = []
    for row in reference.rows():
        path = row["path"]
        info = types.get(path, {"kind": "other", "lo": None, "hi": None, "choices": []})
        out.append(
            {
                "path": path,
                "section": row["section"],
                "unit": row["unit"],
                "help": _clean(row["help"]),
                "basis": row["basis"],
                "range": _clean(row["range"]),
                "kind": info["kind"],
                "lo": info["lo"],
                "hi": info["hi"],
                "choices": info["choices"],
                "step": _nice_step(info["lo"], info["hi"], info["kind"]),
            }
        )
    ranges = calibration_ranges()
    for param in out:
        judged, posterior = ranges.get(param["path"], (None, None))
        param["judged_range"] = judged
        param["posterior_range"] = posterior
        if judged is not None:
            param["help"] = f"{param['help']} {range_note(judged, posterior, 'en')}".strip()
    return tuple(out)


def calibration_ranges() -> dict[str, tuple[list[float] | None, list[float] | None]]:
    """``{path: (judged range, posterior 90 % interval or None)}`` of the uncertain assumptions:
    the judged ranges the claims sample, and the shipped posterior of ``nswn calibrate --history``
    (none shipped: only judged ranges)."""
    from nswn.experiments import posterior as post
    from nswn.experiments.claims.orchestration import UNCERTAINTIES

    out: dict[str, tuple[list[float] | None, list[float] | None]] = {
        path: ([float(lo), float(hi)], None) for path, (lo, hi) in UNCERTAINTIES.items()
    }
    found = post.shipped()
    if found is not None:
        for path in found.parameters:
            lo, hi = found.interval(path)
            out[path] = ([float(x) for x in found.prior[path]], [lo, hi])
    return out


def range_note(judged: list[float], posterior: list[float] | None, lang: str) -> str:
    """The slider's note: the judged range and, when calibrated, the posterior's 90 % interval."""
    j = f"[{judged[0]:.3g}, {judged[1]:.3g}]"
    if posterior is None:
        return f"Judged range {j}." if lang == "en" else f"判断范围 {j}。"
    p = f"[{posterior[0]:.3g}, {posterior[1]:.3g}]"
    if lang == "en":
        return f"Judged range {j}; calibrated to 2006–2018: 90 % {p}."
    return f"判断范围 {j}；按2006–2018年历史校准：90% 区间 {p}。"


def _words(identifier: str) -> str:
    return identifier.replace("_", " ")


@cache
def curated_controls() -> dict[str, tuple[dict[str, Any], ...]]:
    """The prominent controls per section, resolved against the parameters that exist."""
    known = {p["path"]: p for p in parameters()}
    out: dict[str, tuple[dict[str, Any], ...]] = {}
    for section, entries in CURATED.items():
        resolved: list[dict[str, Any]] = []
        for entry in entries:
            base = {
                "label_en": entry["en"][0],
                "help_en": entry["en"][1],
                "label_zh": entry["zh"][0],
                "help_zh": entry["zh"][1],
                "percent": entry.get("percent", False),
            }
            group = entry.get("group")
            if group == "instruments":
                paths = [p for p in known if p.startswith("levers.instruments.") and p.endswith(".share")]
                members = []
                for path in paths:
                    name = path.split(".")[2]
                    members.append(
                        {
                            "path": path,
                            "instrument": name,
                            "label_en": _words(name).capitalize(),
                            "label_zh": INSTRUMENT_LABELS_ZH.get(name, _words(name)),
                            "step": entry["step"],
                        }
                    )
                if members:
                    resolved.append({**base, "kind": "instruments", "members": members, "id": "instruments"})
                continue
            if group == "export_controls":
                if EXPORT_CONTROLS_PATH in known:
                    resolved.append({**base, "kind": "export_controls", "id": "export_controls"})
                continue
            path = next((p for p in entry["paths"] if p in known), None)
            if path is None:
                continue
            param = known[path]
            control = {
                **base,
                **{k: param[k] for k in ("kind", "lo", "hi", "choices", "unit", "judged_range", "posterior_range")},
            }
            if param["judged_range"] is not None:
                for lang in ("en", "zh"):
                    note = range_note(param["judged_range"], param["posterior_range"], lang)
                    control[f"help_{lang}"] = f"{control[f'help_{lang}']} {note}"
            control["id"] = path
            control["path"] = path
            control["step"] = entry.get("step", param["step"])
            if "choice_labels" in entry:
                control["choice_labels"] = {k: list(v) for k, v in entry["choice_labels"].items()}
            resolved.append(control)
        out[section] = tuple(resolved)
    return out


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested scenario data → ``{dotted.path: value}`` (lists stay values)."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.update(flatten(value, path))
            else:
                out[path] = value
    return out


def scenario_values(scenario: BaseModel) -> dict[str, Any]:
    """A validated scenario's value for every parameter path (``None``: instrument off)."""
    flat = flatten(scenario.model_dump(mode="json"))
    return {p["path"]: flat.get(p["path"]) for p in parameters()}


def group_labels() -> dict[str, list[str]]:
    """Technology groups → [English, Chinese] labels."""
    return {k: list(v) for k, v in GROUP_LABELS.items()}


def funding_labels() -> dict[str, list[str]]:
    """Funding lines (instruments and other ledger lines) → [English, Chinese] labels."""
    from nswn.instruments import registry

    out = {name: [_words(name), INSTRUMENT_LABELS_ZH.get(name, _words(name))] for name in registry()}
    out.update({k: list(v) for k, v in FUNDING_LINE_LABELS.items()})
    return out
