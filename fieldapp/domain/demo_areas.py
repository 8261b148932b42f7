"""The demo's area tree: real Shanghai districts and streets, made-up communities and grids.

Reference data, not records: the laptop demo (fieldapp/demo.py) and the registry's
`fieldapp admin load-demo-areas` both load it. Street codes follow the GB/T 10114 shape but
are illustrative; grid codes are community code + G + number.
"""

from __future__ import annotations

import zlib

from fieldapp.domain.areas import DISTRICTS, Area

# district code → [(street code, name, lat, lng)] (approximate centres, WGS-84)
STREETS: dict[str, list[tuple[str, str, float, float]]] = {
    "310104": [("310104003", "天平路街道", 31.205, 121.443), ("310104004", "湖南路街道", 31.212, 121.440),
               ("310104007", "斜土路街道", 31.195, 121.456), ("310104010", "田林街道", 31.175, 121.418),
               ("310104012", "康健新村街道", 31.165, 121.420), ("310104013", "徐家汇街道", 31.190, 121.435)],
    "310101": [("310101002", "南京东路街道", 31.238, 121.480), ("310101013", "外滩街道", 31.240, 121.488),
               ("310101017", "豫园街道", 31.227, 121.488), ("310101019", "五里桥街道", 31.200, 121.480)],
    "310106": [("310106006", "江宁路街道", 31.240, 121.445), ("310106011", "石门二路街道", 31.235, 121.455),
               ("310106012", "南京西路街道", 31.228, 121.455), ("310106013", "静安寺街道", 31.222, 121.445),
               ("310106014", "曹家渡街道", 31.228, 121.430), ("310106021", "彭浦新村街道", 31.302, 121.450)],
    "310110": [("310110001", "定海路街道", 31.270, 121.545), ("310110006", "平凉路街道", 31.260, 121.525),
               ("310110008", "四平路街道", 31.280, 121.505), ("310110009", "控江路街道", 31.275, 121.525),
               ("310110012", "五角场街道", 31.300, 121.510), ("310110013", "殷行街道", 31.315, 121.525)],
}

COMMUNITY_NAMES = ["第一居委", "新村居委", "花园居委", "东苑居委", "西苑居委", "南园居委"]


def demo_areas() -> list[Area]:
    areas = [Area(code, name, "district") for code, name in DISTRICTS.items()]
    for district, streets in STREETS.items():
        for street_code, street_name, lat, lng in streets:
            areas.append(Area(street_code, street_name, "street", district, lat, lng))
            for c in range(3):
                community_code = f"{street_code}{c + 1:03d}"
                c_lat, c_lng = lat + (c - 1) * 0.006, lng + (c % 2) * 0.004
                areas.append(Area(community_code, street_name[:-2] + COMMUNITY_NAMES[c],
                                  "community", street_code, c_lat, c_lng))
                for g in range(3):
                    areas.append(Area(
                        f"{community_code}G{g + 1:02d}",
                        f"{street_name[:-2]}{COMMUNITY_NAMES[c][:-2]}{g + 1}号网格",
                        "grid", community_code,
                        round(c_lat + (g - 1) * 0.0025, 6), round(c_lng + (g - 1) * 0.002, 6),
                        households=1200 + zlib.crc32(f"{street_code}{c}{g}".encode()) % 1800))
    return areas


#: The demo's pilot communities: the first of every street, and the second of each Xuhui one.
def pilot_communities() -> dict[str, int]:
    """Pilot community code → its annual target (facilities to open this year)."""
    out = {}
    for district, streets in STREETS.items():
        for i, (street_code, *_rest) in enumerate(streets):
            out[f"{street_code}001"] = 2 + i % 2
            if district == "310104":
                out[f"{street_code}002"] = 2
    return out


#: District plans (the district's own target, beside its communities').
DISTRICT_TARGETS = {"310104": 14}
