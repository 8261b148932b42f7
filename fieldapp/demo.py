"""Demo data: real Shanghai districts and streets, made-up grids and realistic records.

Deterministic for a given seed, so tests and benchmarks can rely on it. Street codes follow
the GB/T 10114 shape but are illustrative; grid codes are community code + G + number.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from fieldapp.domain.areas import DISTRICTS, Area
from fieldapp.domain.catalog import SCENES
from fieldapp.domain.demo_areas import DISTRICT_TARGETS, STREETS, demo_areas, pilot_communities
from fieldapp.domain.joint_review import DEPARTMENTS
from fieldapp.domain.project import PIPELINE, date_field, facility_for, facility_id_for
from fieldapp.domain.records import FIELD_INDEX, title_of
from fieldapp.store.db import transaction
from fieldapp.store.records import Record, RecordStore

ROADS = {
    "310104": ["天平路", "衡山路", "建国西路", "肇嘉浜路", "漕溪北路", "宛平南路", "斜土路", "零陵路",
               "田林路", "钦州路", "虹漕路", "桂林路"],
    "310101": ["南京东路", "河南中路", "福州路", "九江路", "复兴东路", "中华路", "方斜路", "蒙自路"],
    "310106": ["江宁路", "西康路", "昌平路", "北京西路", "威海路", "愚园路", "万航渡路", "长寿路",
               "共和新路", "临汾路"],
    "310110": ["定海路", "平凉路", "杨树浦路", "四平路", "控江路", "国定路", "政通路", "殷行路", "黄兴路"],
}

OWNERS = ["上海{road}物业管理有限公司", "{district}房屋管理局", "{street}集体资产管理中心",
          "上海{road}商贸有限公司", "个人业主", "上海市{district}国资公司"]
USES = ["空置", "临时仓库", "原便利店", "原餐饮店", "原服装店", "原办公室", "停车库", "自行车棚"]
NOTES = ["临街门面,采光良好,适合社区助餐", "底层,有无障碍坡道,可改造为养老服务点",
         "需结构加固后使用", "业主愿意低价出租,适合宝宝屋", "消防通道需整改", "可与党群服务站错时使用",
         "周边老年人多,建议养老托育", "层高较高,适合体育健身", ""]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


class DemoMaker:
    def __init__(self, seed: int = 7, statuses: tuple[str, ...] | None = None) -> None:
        self.rng = random.Random(seed)
        # A worker's laptop can only create drafts and submissions; benchmarks that push the
        # records as that worker ask for just those.
        self.statuses = statuses
        self.grids = [a for a in demo_areas() if a.level == "grid"]
        self.street_of = {}
        for district, streets in STREETS.items():
            for street_code, street_name, _, _ in streets:
                self.street_of[street_code] = (district, street_name)

    def _grid(self) -> tuple[Area, str, str]:
        grid = self.rng.choice(self.grids)
        district, street_name = self.street_of[grid.code[:9]]
        return grid, district, street_name

    def _address(self, district: str) -> str:
        road = self.rng.choice(ROADS[district])
        n = self.rng.randint(1, 1200)
        if self.rng.random() < 0.4:
            return f"{road}{n}弄{self.rng.randint(1, 40)}号"
        return f"{road}{n}号"

    def _point(self, grid: Area) -> tuple[float, float]:
        return (round(grid.lat + self.rng.uniform(-0.003, 0.003), 6),
                round(grid.lng + self.rng.uniform(-0.003, 0.003), 6))

    def _when(self) -> tuple[str, str]:
        created = date(2025, 1, 1) + timedelta(days=self.rng.randint(0, 600))
        stamp = f"{created.isoformat()}T{self.rng.randint(8, 18):02d}:{self.rng.randint(0, 59):02d}:00.000+00:00"
        return stamp, stamp

    def _status(self) -> str:
        status = self.rng.choices(["draft", "submitted", "returned", "approved"], [2, 3, 1, 4])[0]
        if self.statuses and status not in self.statuses:
            return self.statuses[-1]
        return status

    def site(self) -> dict:
        grid, district, street = self._grid()
        lat, lng = self._point(grid)
        road = self.rng.choice(ROADS[district])
        floor = self.rng.choices([1, 2, 3, -1], [6, 2, 1, 1])[0]
        source = self.rng.choices(
            ["storefront", "community", "commercial", "office", "industrial", "warehouse"],
            [5, 2, 2, 1, 1, 1])[0]
        # The first ten scenes, so the demo's random stream (and the tests' pictures) stays
        # as it was before 儿童托管 became a scene of its own.
        functions = self.rng.sample([s.code for s in SCENES][:10], self.rng.randint(1, 3))
        return {
            "grid_code": grid.code, "address": self._address(district),
            "building_unit": self.rng.choice(["", "底层商铺", f"{self.rng.randint(1, 12)}号楼", "1-2层"]),
            "lat": lat, "lng": lng, "coord_system": "wgs84", "source_type": source,
            "floor_from": floor, "usable_area": float(self.rng.choice([35, 60, 85, 120, 180, 260, 420, 650, 900])),
            "street_frontage": source == "storefront", "current_use": self.rng.choice(USES),
            "idle_since": (date(2023, 1, 1) + timedelta(days=self.rng.randint(0, 900))).isoformat(),
            "ownership_type": self.rng.choice(["state", "collective", "private", "public_institution"]),
            "owner_name": self.rng.choice(OWNERS).format(road=road[:2], district=DISTRICTS[district], street=street),
            "owner_contact": self.rng.choice(SURNAMES) + self.rng.choice(["先生", "女士", "经理"]),
            "owner_phone": f"13{self.rng.randint(0, 9)}{self.rng.randint(10000000, 99999999)}",
            "owner_consent": self.rng.choices(["agreed", "negotiating", "not_asked", "refused"], [4, 3, 2, 1])[0],
            "authority_consent": self.rng.choice(["agreed", "negotiating", "not_asked"]),
            "land_use_unchanged": True,
            "structure_condition": self.rng.choices(["good", "fair", "needs_work", "unsafe"], [5, 3, 2, 1])[0],
            "fire_condition": self.rng.choices(["good", "fair", "needs_work", "unsafe"], [5, 3, 2, 1])[0],
            "accessibility": self.rng.choice(["full", "partial", "none"]),
            "elevator": "not_needed" if floor == 1 else self.rng.choice(["present", "feasible", "infeasible"]),
            "candidate_functions": functions, "notes": self.rng.choice(NOTES),
        }

    def facility(self) -> dict:
        grid, district, street = self._grid()
        lat, lng = self._point(grid)
        kind = self.rng.choices(["complex", "single"], [1, 3])[0]
        base = street[:-2]
        if kind == "complex":
            functions = ["elderly", "meal", self.rng.choice(["childcare", "health", "culture", "party"])]
            name, area = f"{base}社区嵌入式服务综合体", float(self.rng.choice([450, 650, 900, 1200]))
        else:
            fn = self.rng.choice(["elderly", "childcare", "meal", "party", "health", "sports", "culture"])
            label = {"elderly": "长者照护之家", "childcare": "宝宝屋", "meal": "社区食堂", "party": "党群服务站",
                     "health": "卫生服务站", "sports": "市民健身驿站", "culture": "睦邻中心"}[fn]
            functions, name, area = [fn], f"{base}{label}", float(self.rng.choice([60, 120, 200, 300]))
        return {
            "name": name, "grid_code": grid.code, "address": self._address(district),
            "lat": lat, "lng": lng, "coord_system": "wgs84", "facility_kind": kind,
            "functions": functions, "building_area": area,
            "operator": self.rng.choice(["街道自营", "上海福苑养老服务有限公司", "上海爱育托育服务中心", "社区基金会"]),
            "operating_mode": self.rng.choice(["self", "commissioned", "chain"]),
            "opening_hours": "08:00-20:00", "staggered_use": self.rng.random() < 0.4,
            "multi_function_hall": self.rng.random() < 0.5,
            "support": self.rng.sample(["construction_subsidy", "operating_subsidy", "rent_reduction"], 1),
        }

    def inspection(self, target: Record) -> dict:
        results = lambda: self.rng.choices(["ok", "issue", "na"], [7, 2, 1])[0]  # noqa: E731
        checks = {k: results() for k in ("structure", "fire_safety", "accessibility", "elevator",
                                         "equipment", "cleanliness")}
        issues = [k for k, v in checks.items() if v == "issue"]
        return {
            "target_kind": target.kind, "target_id": target.id, "grid_code": target.grid_code,
            "inspected_on": (date(2025, 6, 1) + timedelta(days=self.rng.randint(0, 300))).isoformat(),
            "inspector": self.rng.choice(SURNAMES) + self.rng.choice(["明", "华", "芳", "伟", "静"]),
            **checks, "open_issues": "需整改: " + "、".join(
                FIELD_INDEX["inspection"][k].zh for k in issues) if issues else "",
            "follow_up_needed": bool(issues),
        }

    def records(self, n: int, author: str = "demo") -> list[Record]:
        out: list[Record] = []
        if n <= 0:
            return out
        n_facilities = max(1, n // 5)
        n_inspections = n // 10
        n_sites = max(1, n - n_facilities - n_inspections)
        for kind, count in (("site", n_sites), ("facility", n_facilities)):
            for _ in range(count):
                data = self.site() if kind == "site" else self.facility()
                data = {k: v for k, v in data.items() if v not in ("", None)}
                created, updated = self._when()
                out.append(Record(id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                                  kind=kind, status=self._status(), data=data,
                                  grid_code=data["grid_code"], title=title_of(kind, data),
                                  created_at=created, updated_at=updated, author=author))
        targets = [r for r in out]
        for _ in range(n_inspections):
            data = self.inspection(self.rng.choice(targets))
            data = {k: v for k, v in data.items() if v not in ("", None)}
            created, updated = self._when()
            out.append(Record(id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                              kind="inspection", status=self._status(), data=data,
                              grid_code=data["grid_code"], title=title_of("inspection", data),
                              created_at=created, updated_at=updated, author=author))
        for r in out:
            if r.status == "returned":
                r.review_comment = self.rng.choice(["请补充权属方联系电话", "面积与现场不符,请复核", "请补拍照片"])
        return out


# The share of approved pilot-community sites at each project stage (None: not a project).
_STAGE_WEIGHTS = (("selected", 5), ("reviewing", 4), ("passed", 3), ("converting", 3),
                  ("built", 2), ("opened", 3), ("terminated", 1), (None, 3))
FUNDING = ("special_bonds", "central_budget", "practical_projects", "district_finance",
           "social_capital")
OPERATORS = ("上海福苑养老服务有限公司", "上海爱育托育服务中心", "街道社区服务中心", "上海乐龄社会工作服务社")
END_REASONS = ("权属方收回房屋", "消防条件无法整改到位", "业主租金要求过高")


class ProjectMaker:
    """Sites of the pilot communities at every stage of the pipeline, and the facilities the
    open ones created, dated so that this year's openings stay this year's whatever the date.
    Its own random stream: the demo records before it stay as they were."""

    def __init__(self, seed: int, today: date | None = None) -> None:
        self.rng = random.Random(seed * 7919 + 1)
        self.today = today or date.today()

    def _day(self, back: int) -> date:
        return self.today - timedelta(days=back)

    def _dates(self, stages: list[str], last: date) -> dict:
        """Each stage's date, the last on `last`, the earlier ones weeks before it."""
        out, day = {}, last
        for stage in reversed(stages):
            out[date_field(stage)] = day.isoformat()
            day -= timedelta(days=self.rng.randint(10, 40))
        return out

    def _last_day(self, stage: str) -> date:
        if stage != "opened":
            return self._day(self.rng.randint(0, 150))
        start = date(self.today.year, 1, 1)
        if self.rng.random() < 0.6:  # opened this year: between 1 January and today
            return start + timedelta(days=self.rng.randint(0, (self.today - start).days))
        return start - timedelta(days=self.rng.randint(1, 300))  # opened last year

    def apply(self, records: list[Record], pilots: set[str]) -> list[Record]:
        """Move the approved sites of pilot communities into the pipeline (in place); the
        facilities the open ones created are returned."""
        stages, weights = zip(*_STAGE_WEIGHTS, strict=True)
        facilities = []
        for r in records:
            if r.kind != "site" or r.status != "approved" or r.grid_code[:12] not in pilots:
                continue
            stage = self.rng.choices(stages, weights)[0]
            if stage is None:
                continue
            data = r.data
            steps = list(PIPELINE[:PIPELINE.index(stage) + 1]) if stage in PIPELINE else \
                list(PIPELINE[:self.rng.randint(1, 3)])
            data.update(project_stage=stage, project_name=f"{data['address']}社区嵌入式服务点")
            data.update(funding_source=self.rng.sample(FUNDING, self.rng.randint(1, 2)))
            data["planned_functions"] = list(data.get("candidate_functions") or ["elderly"])
            if "reviewing" in steps or "passed" in steps:
                for code, *_ in DEPARTMENTS:
                    data[f"jr_{code}_result"] = "pass"
                    data[f"jr_{code}_date"] = self._day(self.rng.randint(0, 60)).isoformat()
                if "passed" not in steps and stage != "terminated":
                    data.pop(f"jr_{DEPARTMENTS[-1][0]}_result")  # the fire review is pending
                    data.pop(f"jr_{DEPARTMENTS[-1][0]}_date")
            if "converting" in steps:
                data.update(owner_consent="agreed", authority_consent="agreed")
                for key in ("structure_condition", "fire_condition"):
                    if data.get(key) == "unsafe":
                        data[key] = "needs_work"
            last = self._last_day(stage if stage != "terminated" else steps[-1])
            data.update(self._dates(steps, last))
            if stage == "terminated":
                data[date_field("terminated")] = min(last + timedelta(days=20),
                                                     self.today).isoformat()
                data["project_end_reason"] = self.rng.choice(END_REASONS)
            if stage == "opened":
                data.update(project_operator=self.rng.choice(OPERATORS),
                            project_operating_mode=self.rng.choice(["self", "commissioned"]),
                            facility_id=facility_id_for(r.id))
                fdata = facility_for(r.id, data)
                facilities.append(Record(
                    id=facility_id_for(r.id), kind="facility", status="approved", data=fdata,
                    grid_code=fdata["grid_code"], title=title_of("facility", fdata),
                    created_at=r.updated_at, updated_at=r.updated_at, author=r.author))
        return facilities


def mark_pilots(store: RecordStore) -> int:
    """Flag the demo's pilot communities and set the annual targets (local area data)."""
    pilots = pilot_communities()
    with transaction(store.conn):
        store.conn.executemany("UPDATE area SET pilot = 1, annual_target = ? WHERE code = ?",
                               [(target, code) for code, target in pilots.items()])
        store.conn.executemany("UPDATE area SET annual_target = ? WHERE code = ?",
                               [(target, code) for code, target in DISTRICT_TARGETS.items()])
    return len(pilots)


def populate(store: RecordStore, n: int, seed: int = 7, batch: int = 5000,
             statuses: tuple[str, ...] | None = None) -> int:
    """Load demo areas and `n` records into a store; returns `n` (records asked for and
    written). Pilot communities are flagged, and their approved sites stand at every stage of
    the project pipeline (unless `statuses` leaves no approved site); the facilities their
    openings made come on top, as the registry makes them."""
    store.load_areas(demo_areas())
    mark_pilots(store)
    maker = DemoMaker(seed, statuses)
    records = maker.records(n, author=store.user or "demo")
    facilities = ProjectMaker(seed).apply(records, set(pilot_communities()))
    for start in range(0, len(records), batch):
        store.insert_many(records[start:start + batch])
    # The registry makes an opening's facility; on the demo laptop it is the local copy.
    store.insert_many(facilities, enqueue=False)
    return len(records)
