"""Rebuild the map's world outline (lenslet/static/vendor/world-110m.json) from world-atlas's land-110m.json.

The outline is Natural Earth's 1:110m land (public domain) as the npm package world-atlas@2 ships it, in TopoJSON
(ISC licence); the map draws it when LENSLET_MAP_TILES is `none`. To rebuild it:

    cd "$(mktemp -d)" && npm pack world-atlas@2 && tar xzf world-atlas-*.tgz
    python bench/world_outline.py package/land-110m.json lenslet/static/vendor/world-110m.json
"""

import json
import sys

PLACES = 2  # decimals kept: about a kilometre, finer than the outline's own detail


def arcs_of(topology):
    """Return each arc of a quantized TopoJSON topology as a list of [longitude, latitude]."""
    (scale_x, scale_y), (move_x, move_y) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append([x * scale_x + move_x, y * scale_y + move_y])
        arcs.append(points)
    return arcs


def ring_of(arcs, indexes):
    """Join a ring's arcs (a negative index is an arc reversed, ~index), each arc's first point shared."""
    ring = []
    for index in indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(points[1:] if ring else points)
    return ring


def unwrapped(ring):
    """A ring drawn on a flat map: its longitudes kept continuous where it crosses the antimeridian (the map draws
    the world beside it too, so Fiji's east reaches past 180), and one around a pole closed along that pole."""
    flat = []
    for lon, lat in ring:
        if flat:
            lon += 360 * round((flat[-1][0] - lon) / 360)
        flat.append([lon, lat])
    turns = round((flat[-1][0] - flat[0][0]) / 360)
    if turns:  # it went all the way round: Antarctica
        pole = -90 if sum(lat for _, lat in flat) < 0 else 90
        flat += [[flat[-1][0], pole], [flat[0][0], pole], flat[0]]
    return flat


def rounded(ring):
    """Round a ring's points and drop a point that rounds onto the one before."""
    kept = []
    for lon, lat in ring:
        point = [round(lon, PLACES), round(lat, PLACES)]
        if not kept or kept[-1] != point:
            kept.append(point)
    return kept


def polygons_of(geometry, arcs):
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    if geometry["type"] == "GeometryCollection":
        return [polygon for inner in geometry["geometries"] for polygon in polygons_of(inner, arcs)]
    return []


def outline(topology):
    """Return the land as one GeoJSON MultiPolygon feature, rings of fewer than four points dropped."""
    arcs = arcs_of(topology)
    polygons = []
    for geometry in topology["objects"].values():
        for polygon in polygons_of(geometry, arcs):
            rings = [rounded(unwrapped(ring_of(arcs, ring))) for ring in polygon]
            rings = [ring for ring in rings if len(ring) >= 4]
            if rings:
                polygons.append(rings)
    return {"type": "Feature", "properties": {"source": "Natural Earth 1:110m land, via world-atlas@2"},
            "geometry": {"type": "MultiPolygon", "coordinates": polygons}}


def main(source, target):
    with open(source, encoding="utf-8") as file:
        feature = outline(json.load(file))
    text = json.dumps(feature, separators=(",", ":"))
    with open(target, "w", encoding="utf-8") as file:
        file.write(text + "\n")
    polygons = feature["geometry"]["coordinates"]
    print(f"{target}: {len(polygons)} polygons, {sum(len(ring) for p in polygons for ring in p)} points, "
          f"{len(text) / 1024:.0f} KB")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python bench/world_outline.py land-110m.json world-110m.json")
    main(sys.argv[1], sys.argv[2])
