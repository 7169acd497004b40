"""Region and sector concordances of the bundled datasets (documented in ``data/PROVENANCE.md``).

Three classifications meet here:

* WIOD 2013 release world tables: 41 regions (40 countries + ``RoW``; Romania is ``ROM``) x 35
  industries ``c1..c35`` (NACE Rev.1.1 based).
* JRC WIOD environmental accounts 2000-2016: 44 region sheets (43 countries + ``RoW``; Romania is
  ``ROU``) x 56 industries (NACE Rev.2 / ISIC Rev.4, WIOD 2016 release codes) + ``FC_HH``.
* The demo classification: 8 regions x 17 sectors (close to METHODS.md §7.2's 17-sector list).

Everything here is plain data; :mod:`xlmrio.datasets._raw` applies it.
"""
from __future__ import annotations

# ---------------------------------------------------------------------------- WIOD 2013
WIOD_COUNTRIES: tuple[str, ...] = (
    "AUS", "AUT", "BEL", "BGR", "BRA", "CAN", "CHN", "CYP", "CZE", "DEU", "DNK", "ESP", "EST", "FIN",
    "FRA", "GBR", "GRC", "HUN", "IDN", "IND", "IRL", "ITA", "JPN", "KOR", "LTU", "LUX", "LVA", "MEX",
    "MLT", "NLD", "POL", "PRT", "ROM", "RUS", "SVK", "SVN", "SWE", "TUR", "TWN", "USA", "RoW",
)
"""The 41 WIOD 2013 regions in the order of the release (alphabetical, ``RoW`` last)."""

WIOD_SECTORS: tuple[str, ...] = tuple(f"c{i}" for i in range(1, 36))
"""The 35 WIOD 2013 industry codes (names in ``wiod2013_bquast/industries_c1_c35.csv``)."""

FD_CATEGORIES: tuple[str, ...] = ("Households", "NPISH", "Government", "GFCF", "Inventories")
"""The 5 WIOD final-demand categories per destination country, in release order: final consumption
of households, of non-profit institutions serving households, of government; gross fixed capital
formation; changes in inventories and valuables."""

HOUSEHOLD_CATEGORY = "Households"

EU27: tuple[str, ...] = (
    "AUT", "BEL", "BGR", "CYP", "CZE", "DEU", "DNK", "ESP", "EST", "FIN", "FRA", "GBR", "GRC", "HUN",
    "IRL", "ITA", "LTU", "LUX", "LVA", "MLT", "NLD", "POL", "PRT", "ROM", "SVK", "SVN", "SWE",
)
"""The 27 EU members of 2007 (all in WIOD 2013; Croatia joined in 2013 and is in WIOD 2013's RoW)."""

# ---------------------------------------------------------------------------- demo regions
# (code, name, WIOD 2013 members)
DEMO_REGIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("CHN", "China", ("CHN",)),
    ("JPN", "Japan", ("JPN",)),
    ("KOR+TWN", "Korea and Taiwan", ("KOR", "TWN")),
    ("USA", "United States", ("USA",)),
    ("EU", "European Union (27 members of 2007)", EU27),
    ("OHI", "Other high-income (Australia, Canada)", ("AUS", "CAN")),
    ("OEM", "Other emerging (Brazil, India, Indonesia, Mexico, Russia, Turkey)",
     ("BRA", "IDN", "IND", "MEX", "RUS", "TUR")),
    ("RoW", "Rest of the world (WIOD 2013 RoW)", ("RoW",)),
)

DEMO_REGION_CODES: tuple[str, ...] = tuple(r[0] for r in DEMO_REGIONS)

WIOD_TO_DEMO_REGION: dict[str, str] = {c: code for code, _, members in DEMO_REGIONS for c in members}

# JRC sheet -> WIOD 2013 region. CHE, HRV and NOR are separate in the JRC accounts (WIOD 2016
# classification) but part of WIOD 2013's RoW: their emissions go to RoW, where their output is.
JRC_TO_WIOD_REGION: dict[str, str] = {c: c for c in WIOD_COUNTRIES if c not in ("ROM",)}
JRC_TO_WIOD_REGION.update({"ROU": "ROM", "CHE": "RoW", "HRV": "RoW", "NOR": "RoW"})

JRC_REGION_NOTES: dict[str, str] = {
    "ROU": "Romania: ROU in JRC, ROM in WIOD 2013",
    "CHE": "Switzerland: not a WIOD 2013 country, its output is in WIOD 2013 RoW",
    "HRV": "Croatia: not a WIOD 2013 country (EU member only from 2013), its output is in WIOD 2013 RoW",
    "NOR": "Norway: not a WIOD 2013 country, its output is in WIOD 2013 RoW",
    "RoW": "JRC RoW = world minus 43 countries; WIOD 2013 RoW = JRC RoW + CHE + HRV + NOR",
}

# ---------------------------------------------------------------------------- demo sectors
# (label, WIOD 2013 industries)
DEMO_SECTORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("01 Agriculture", ("c1",)),
    ("02 Mining", ("c2",)),
    ("03 Food & tobacco", ("c3",)),
    ("04 Textiles & apparel", ("c4", "c5")),
    ("05 Wood products", ("c6",)),
    ("06 Paper & printing", ("c7",)),
    ("07 Petroleum & chemicals", ("c8", "c9", "c10")),
    ("08 Non-metallic minerals", ("c11",)),
    ("09 Metals", ("c12",)),
    ("10 Machinery", ("c13",)),
    ("11 Transport equipment", ("c15",)),
    ("12 Electrical & electronic", ("c14",)),
    ("13 Other manufacturing", ("c16",)),
    ("14 Utilities", ("c17",)),
    ("15 Construction", ("c18",)),
    ("16 Trade & transport", ("c19", "c20", "c21", "c23", "c24", "c25", "c26")),
    ("17 Other services", ("c22", "c27", "c28", "c29", "c30", "c31", "c32", "c33", "c34", "c35")),
)

DEMO_SECTOR_LABELS: tuple[str, ...] = tuple(s[0] for s in DEMO_SECTORS)

WIOD_TO_DEMO_SECTOR: dict[str, str] = {c: label for label, cs in DEMO_SECTORS for c in cs}

DEMO_SECTOR_NOTES: dict[str, str] = {
    "05 Wood products": "wood and cork products only; furniture is in WIOD c16 and so in 13",
    "07 Petroleum & chemicals": "coke, refined petroleum and nuclear fuel + chemicals + rubber and plastics",
    "12 Electrical & electronic": "WIOD c14 electrical and optical equipment (incl. instruments, office machinery)",
    "13 Other manufacturing": "WIOD c16 manufacturing n.e.c. (furniture, jewellery, toys, ...) and recycling",
    "14 Utilities": "electricity, gas and water supply",
    "16 Trade & transport": "motor-vehicle, wholesale and retail trade + inland, water, air transport and "
                            "transport support; hotels and restaurants are in 17",
    "17 Other services": "hotels and restaurants, post and telecommunications (one WIOD industry), finance, "
                         "real estate, business services, public administration, education, health, other "
                         "community services, private households",
}

# ---------------------------------------------------------------------------- JRC 56 -> WIOD 35
# Each JRC industry goes to one or more WIOD 2013 industries, always inside one demo sector.
# Several targets: split in proportion to the WIOD 2013 output (row sums) of the targets in that
# country and year.
JRC_TO_WIOD_SECTOR: dict[str, tuple[str, ...]] = {
    "A01": ("c1",), "A02": ("c1",), "A03": ("c1",),
    "B": ("c2",),
    "C10-C12": ("c3",),
    "C13-C15": ("c4", "c5"),
    "C16": ("c6",),
    "C17": ("c7",), "C18": ("c7",),
    "C19": ("c8",), "C20": ("c9",), "C21": ("c9",), "C22": ("c10",),
    "C23": ("c11",),
    "C24": ("c12",), "C25": ("c12",),
    "C26": ("c14",), "C27": ("c14",),
    "C28": ("c13",),
    "C29": ("c15",), "C30": ("c15",),
    "C31_C32": ("c16",),
    "C33": ("c13",),
    "D35": ("c17",), "E36": ("c17",),
    "E37-E39": ("c34",),
    "F": ("c18",),
    "G45": ("c19",), "G46": ("c20",), "G47": ("c21",),
    "H49": ("c23",), "H50": ("c24",), "H51": ("c25",), "H52": ("c26",),
    "H53": ("c27",),
    "I": ("c22",),
    "J58": ("c7",),
    "J59_J60": ("c34",),
    "J61": ("c27",),
    "J62_J63": ("c30",),
    "K64": ("c28",), "K65": ("c28",), "K66": ("c28",),
    "L68": ("c29",),
    "M69_M70": ("c30",), "M71": ("c30",), "M72": ("c30",), "M73": ("c30",), "M74_M75": ("c30",),
    "N": ("c30",),
    "O84": ("c31",),
    "P85": ("c32",),
    "Q": ("c33",),
    "R_S": ("c34",),
    "T": ("c35",),
    "U": ("c34",),
}
"""Bridge from the 56 JRC (WIOD 2016, NACE Rev.2) industries to WIOD 2013 ``c1..c35``."""

JRC_SECTORS: tuple[str, ...] = tuple(JRC_TO_WIOD_SECTOR)
JRC_HOUSEHOLD_ROW = "FC_HH"

JRC_SECTOR_NOTES: dict[str, str] = {
    "C13-C15": "split between c4 textiles and c5 leather by WIOD output",
    "C33": "repair and installation of machinery (spread over NACE Rev.1 29-35) -> c13 machinery",
    "E37-E39": "sewerage and waste (NACE Rev.1 90, in c34); materials recovery (Rev.1 37, c16) not separated",
    "H53": "postal services -> c27 post and telecommunications (demo 17, not 16)",
    "I": "accommodation and food -> c22 hotels and restaurants (demo 17)",
    "J58": "publishing (NACE Rev.1 22.1, in c7); software publishing (Rev.1 72, c30) not separated",
    "J59_J60": "film, broadcasting (NACE Rev.1 92) -> c34",
    "J62_J63": "computer services (NACE Rev.1 72) -> c30",
    "N": "administrative services (NACE Rev.1 71, 74) -> c30; travel agencies (Rev.1 63.3, c26) not separated",
    "U": "extraterritorial organisations -> c34 (no WIOD 2013 industry)",
}


def jrc_to_demo_sector(code: str) -> str:
    """Demo sector of a JRC industry code (via its WIOD 2013 targets)."""
    targets = {WIOD_TO_DEMO_SECTOR[c] for c in JRC_TO_WIOD_SECTOR[code]}
    if len(targets) != 1:  # pragma: no cover - guarded by the table above
        raise ValueError(f"JRC industry {code} maps to several demo sectors: {sorted(targets)}")
    return targets.pop()
