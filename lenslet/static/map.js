// The map (#map=<zoom>/<lat>/<lon>): the photos with a GPS position the person may see, as counted clusters
// (GET /map for the view shown, asked again as it comes to rest) over the tiles /health names, or over a small outline
// of the world when it names none. A big cluster clicked zooms in; a small one lists its photos in the grid
// (#map=...&cell=<cell>, GET /map/photos), where the viewer opens them. Leaflet (vendor/leaflet/) is read
// when the map is first shown. Nothing happens on import.

import {enc} from "./api.js";
import {placesCredit} from "./dom.js";
import {hashOf} from "./router.js";

const LEAFLET = "/static/vendor/leaflet/leaflet.js";  // its minified build: a third of the bytes
const LEAFLET_CSS = "/static/vendor/leaflet/leaflet.css";
const OUTLINE = "/static/vendor/world-atlas/world-110m.json";
const WAIT_MS = 200;      // the map at rest this long before its clusters are asked for
const PAGE = 200;         // a cluster's photos read at a time
const OPEN_AT_MOST = 20;  // a bigger cluster zooms in while the map can; a smaller one lists its photos
const ZOOM_STEP = 3;      // levels a big cluster clicked zooms in: its cell (an eighth of a tile) about a tile then
const MAX_ZOOM = 18;
const MAX_LATITUDE = 85;  // where Web Mercator ends, as far as /map is asked
const OSM_TILES = /^https:\/\/tile\.openstreetmap\.org\//;
const WORLD = "zoom=2&west=-180&south=-85&east=180&north=85";

export const photosText = (count) => `${count} ${count === 1 ? "photo" : "photos"}`;

/** The {zoom, lat, lon} a #map= value names ("6/38.72/-9.14"), or null (none, or not a view). */
export function readView(text) {
  const parts = (text || "").split("/");
  if (parts.length !== 3 || parts.some((part) => part.trim() === "")) return null;
  const [zoom, lat, lon] = parts.map(Number);
  if (!Number.isInteger(zoom) || zoom < 0 || zoom > MAX_ZOOM || !(Math.abs(lat) <= MAX_LATITUDE) ||
    !(Math.abs(lon) <= 180)) return null;
  return {zoom, lat, lon};
}

export const viewText = (zoom, lat, lon) => `${zoom}/${lat.toFixed(4)}/${wrap(lon).toFixed(4)}`;

/** A longitude brought into -180..180 (Leaflet's go on past the antimeridian as the map is dragged). */
const wrap = (lon) => (lon >= -180 && lon <= 180 ? lon : ((((lon + 180) % 360) + 360) % 360) - 180);

/** The /map query of a view's bounds: latitudes within Web Mercator's, a view as wide as the world the world,
 *  and one across the antimeridian with its west east of its east, as the API takes it. */
export function viewQuery(zoom, {west, south, east, north}) {
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
  const whole = east - west >= 360;
  const sides = whole ? [-180, 180] : [wrap(west), wrap(east)];
  const fixed = (value) => value.toFixed(5);
  return `zoom=${zoom}&west=${fixed(sides[0])}&south=${fixed(clamp(south, MAX_LATITUDE))}` +
    `&east=${fixed(sides[1])}&north=${fixed(clamp(north, MAX_LATITUDE))}`;
}

/** The longitude of a cluster moved by whole turns to the copy of the world nearest the view's centre. */
export const nearest = (lon, centre) => lon + 360 * Math.round((centre - lon) / 360);

/** How wide a cluster's disc is drawn, in pixels: larger as it holds more, by orders of magnitude. */
export const discSize = (count) => Math.round(30 + 8 * Math.log10(Math.max(1, count)));

/** The photos a map place shows: a folder's (path), a person's (person), or all. */
const scopeOf = (place) => (place.path ? `&path=${enc(place.path)}` : "") +
  (place.person ? `&person=${enc(place.person)}` : "");

/** Send now what the map an address opens asks for first, before /me answers: Leaflet, and where the photos are
 *  when the address names no view (MapView.ask's first request). */
export function prefetch(api, place) {
  import(LEAFLET).catch(() => {});
  leafletStyles();
  if (!readView(place.map) && place.cell == null) api.prefetch(`/map?${WORLD}${scopeOf(place)}`);
}

/** Leaflet's stylesheet, asked for once: resolved once it applies (or failed). */
function leafletStyles() {
  let link = document.querySelector(`link[href="${LEAFLET_CSS}"]`);
  if (!link) {
    link = Object.assign(document.createElement("link"), {rel: "stylesheet", href: LEAFLET_CSS});
    link.applied = new Promise((done) => { link.onload = link.onerror = done; });
    document.head.append(link);
  }
  return link.applied;
}

export class MapView {
  /** section: the element the map is drawn in; crumbs: the heading's breadcrumbs (a way back to the map from
   *  a cluster's photos); go(place, replace) goes to a place; settings: /health's map ({tiles, attribution}). */
  constructor(section, crumbs, {api, go, settings}) {
    Object.assign(this, {section, crumbs, api, go});
    this.tiles = typeof settings?.tiles === "string" && settings.tiles ? settings.tiles : "none";
    this.attribution = typeof settings?.attribution === "string" ? settings.attribution : "";
    this.map = null;       // Leaflet's map, made at the first show
    this.starting = null;  // Promise of it
    this.place = null;     // the map's place shown (its path: a folder's photos only)
    this.markers = new Map();  // cell and count -> {marker, unload}
    this.asking = false;   // a /map request is under way
    this.again = false;    // the map moved meanwhile: its view is asked for when that request answers
    this.fitted = false;   // the first answer of a map without a view: the view moved to its photos
    this.reshown = false;  // shown again after it was hidden: its size and clusters read again
    this.otherPath = false;  // another folder's map: the clusters drawn forgotten
    this.outline = null;   // Promise of the world's land, without tiles
    this.turns = new Set();  // its copies drawn: 0, and -360 or 360 (a turn of the world west or east)
  }

  /** What the listing reads on the map: nothing on the map itself, a cluster's photos for #map=...&cell=. */
  source(place) {
    if (place.map == null) return null;
    if (place.cell == null) {
      return {title: "Map", empty: "", next: async () => ({items: [], total: 0, done: true, said: ""})};
    }
    const api = this.api;
    const scope = scopeOf(place);
    let offset = 0;
    return {
      title: "Photos on the map", where: true,
      empty: "No photos here any more: they were moved, trashed or lost their place.",
      async next() {
        const page = await api.getJSON(`/map/photos?cell=${enc(place.cell)}&offset=${offset}&limit=${PAGE}${scope}`);
        offset += page.items.length;
        const places = new Set(page.items.map((item) => item.place).filter((name) => typeof name === "string"));
        return {items: page.items, total: page.total, done: offset >= page.total || !page.items.length,
          title: places.size === 1 ? [...places][0] : "Photos on the map"};
      },
    };
  }

  /** Show the map on #map= (made at the first show, moved to the view the address names), hide it elsewhere. */
  async show(place) {
    const onMap = place.map != null && place.cell == null;
    if (onMap && this.section.hidden) this.reshown = true;  // its size, and what it shows, to be read again
    this.section.hidden = !onMap;
    document.body.classList.toggle("on-map", onMap);
    document.body.classList.toggle("map-photos", place.map != null && place.cell != null);
    if (place.map != null && place.cell != null) this.backCrumbs(place);
    if (!onMap) return;
    if (!this.place || scopeOf(this.place) !== scopeOf(place)) {
      this.otherPath = true;  // another folder's or person's photos: moved to where they are, unless a view is named
      this.fitted = Boolean(readView(place.map));
    }
    this.place = place;
    try {
      await (this.starting ??= this.start());
    } catch (ex) {
      this.starting = null;
      this.note(`The map cannot be shown: ${ex.message || ex}.`);
      return;
    }
    if (this.place !== place) return;  // shown again meanwhile: that show goes on
    const {reshown, otherPath} = this;
    this.reshown = this.otherPath = false;
    if (reshown) {
      this.map.invalidateSize();  // drawn while hidden, its size was unknown
      this.fill();
    }
    this.follow(place);
    if (otherPath) this.clear();
    if (reshown || otherPath) this.ask();
  }

  /** Move the map to the view the address names (a link, the back button), unless it is there already (the
   *  address follows the map as it moves). */
  follow(place) {
    const view = readView(place.map);
    if (!this.map || this.section.hidden || !view) return;
    this.fitted = true;
    const now = this.map.getCenter();
    const there = this.map.getZoom() === view.zoom && Math.abs(now.lat - view.lat) < 1e-3 &&
      Math.abs(wrap(now.lng) - view.lon) < 1e-3;
    if (!there) {
      this.map.setView([view.lat, view.lon], view.zoom, {animate: false});
    }
  }

  /** Read Leaflet and its stylesheet, and make the map. */
  async start() {
    // Leaflet is a script of its own, not a module: it names itself L. A map drawn before its stylesheet applies has
    // its controls in the page's flow, then moved (a layout shift).
    await Promise.all([import(LEAFLET), leafletStyles()]);
    const L = this.L = window.L;
    const element = Object.assign(document.createElement("div"), {className: "map"});
    element.setAttribute("aria-label", "Map of where the photos were taken");
    this.section.append(element);
    // The world's copies side by side as far as it is dragged, never a band beyond its poles.
    const map = L.map(element, {center: [30, 0], zoom: 2, minZoom: 1, maxZoom: MAX_ZOOM, worldCopyJump: true,
      maxBounds: [[-MAX_LATITUDE, -540], [MAX_LATITUDE, 540]], maxBoundsViscosity: 1});
    map.on("resize", () => this.fill());
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    map.attributionControl.addAttribution(placesCredit().outerHTML);  // the listed photos' places are named so
    if (this.tiles === "none") {
      element.classList.add("no-tiles");
      map.attributionControl.addAttribution("Natural Earth");
    } else {
      L.tileLayer(this.tiles, {maxZoom: MAX_ZOOM, attribution: this.credit()}).addTo(map);
    }
    this.clusters = L.layerGroup().addTo(map);
    map.on("moveend", () => {
      clearTimeout(this.waiting);
      this.waiting = setTimeout(() => this.ask(), WAIT_MS);
      if (!this.section.hidden) {
        const centre = map.getCenter();
        this.go({...this.place, map: viewText(map.getZoom(), centre.lat, centre.lng), view: null}, true);
      }
    });
    this.map = map;
    return map;
  }

  /** Zoomed out at most as far as the world still fills the map's height (a tile is 256 pixels). */
  fill() {
    const height = this.map.getContainer().clientHeight;
    if (height > 0) this.map.setMinZoom(Math.max(1, Math.ceil(Math.log2(height / 256))));
  }

  /** The tiles' credit as the admin wrote it (text, never markup), linked to OpenStreetMap's copyright page
   *  for its tiles, as its usage policy asks. */
  credit() {
    const text = Object.assign(document.createElement("span"), {textContent: this.attribution}).innerHTML;
    return OSM_TILES.test(this.tiles) ? `<a href="https://www.openstreetmap.org/copyright">${text}</a>` : text;
  }

  /** Say what the map shows, or why it cannot be shown. */
  note(text) {
    if (!this.noteElement) {
      this.noteElement = Object.assign(document.createElement("p"), {className: "map-note"});
      this.noteElement.setAttribute("role", "status");
      this.section.prepend(this.noteElement);
    }
    this.noteElement.textContent = text;
  }

  /** Ask for the clusters of the view shown, and draw them: one request at a time, and an answer for a view the
   *  map has left meanwhile dropped for one of the view it shows now. */
  async ask() {
    if (!this.map || this.section.hidden) return;
    clearTimeout(this.waiting);
    if (this.asking) {
      this.again = true;
      return;
    }
    this.asking = true;
    this.again = false;
    const place = this.place;
    const scope = scopeOf(place);
    const bounds = this.map.getBounds();
    // A map opened without a view is moved to where the photos are: all of them, not those of its first view.
    const view = this.fitted ? viewQuery(this.map.getZoom(), {west: bounds.getWest(), south: bounds.getSouth(),
      east: bounds.getEast(), north: bounds.getNorth()}) : WORLD;
    let answer = null;
    let problem = null;
    try {
      answer = await this.api.getJSON(`/map?${view}${scope}`);
    } catch (ex) {
      problem = ex;
    }
    this.asking = false;
    // The land is drawn under the photos' view, never before this first answer: asked for now, not beside Leaflet,
    // whose share of a slow link it took while the map waited for Leaflet.
    if (this.tiles === "none") this.outline ??= this.api.getJSON(OUTLINE);
    if (this.again || place !== this.place) return this.ask();
    if (this.fitted) this.drawLand();  // under the view shown, not under the world's it leaves at once
    if (problem) return this.note(`The photos' places cannot be read: ${problem.message}.`);
    if (!this.fitted) {
      this.fitted = true;
      if (!this.fit(answer.clusters)) this.ask();  // else asked again once the map is where they are
      return;
    }
    this.draw(answer.clusters);
    const shown = answer.clusters.reduce((sum, cluster) => sum + cluster.count, 0);
    this.note(answer.total === 0
      ? "No photo here has a place yet: photos whose camera or phone saved where they were taken show up on this map."
      : shown === answer.total ? `${photosText(answer.total)} with a place`
        : `${shown} of the ${photosText(answer.total)} with a place are in this part of the map`);
  }

  /** Draw the world's land under a map without tiles, and its copy beside it where the view reaches past the
   *  antimeridian: each copy drawn is projected again at every zoom, which a phone feels. */
  async drawLand() {
    if (!this.outline) return;
    const bounds = this.map.getBounds();
    const turns = [0, -360, 360].filter((turn) => !this.turns.has(turn) &&
      (turn === 0 || (turn < 0 ? bounds.getWest() < -180 : bounds.getEast() > 180)));
    if (!turns.length) return;
    turns.forEach((turn) => this.turns.add(turn));
    let land;
    try {
      land = await this.outline;
    } catch (ex) {
      return this.note(`The world's outline cannot be read: ${ex.message}.`);
    }
    for (const turn of turns) {
      this.L.geoJSON(land, {interactive: false, className: "land",
        coordsToLatLng: ([lon, lat]) => this.L.latLng(lat, lon + turn)}).addTo(this.map);
    }
  }

  /** Move a map opened without a view to where its photos are (around the biggest cluster, when they are too far
   *  apart for one screen): answer whether it moved. */
  fit(clusters) {
    if (!clusters.length) return false;
    const bounds = this.L.latLngBounds(clusters.map((cluster) => [cluster.lat, cluster.lon]));
    const before = this.map.getBounds();
    this.map.fitBounds(bounds, {padding: [48, 48], maxZoom: 12, animate: false});
    if (!this.map.getBounds().contains(bounds)) {
      const biggest = clusters.reduce((most, cluster) => (cluster.count > most.count ? cluster : most));
      this.map.setView([biggest.lat, biggest.lon], this.map.getZoom(), {animate: false});
    }
    return !this.map.getBounds().equals(before);
  }

  /** Draw the clusters, keeping the markers of those already drawn. */
  draw(clusters) {
    const L = this.L;
    const centre = this.map.getCenter().lng;
    const wanted = new Set();
    for (const cluster of clusters) {
      const key = `${cluster.cell}:${cluster.count}`;
      wanted.add(key);
      const known = this.markers.get(key);
      const at = [cluster.lat, nearest(cluster.lon, centre)];
      if (known) {
        known.marker.setLatLng(at);
        continue;
      }
      this.markers.set(key, this.marker(L, cluster, at));
    }
    for (const [key, known] of this.markers) {
      if (wanted.has(key)) continue;
      known.unload?.();
      known.marker.remove();
      this.markers.delete(key);
    }
  }

  /** A cluster's marker: a disc with its count, or a lone photo's thumbnail; a button either way. */
  marker(L, cluster, at) {
    const lone = cluster.count === 1;
    const name = typeof cluster.cover === "string" ? cluster.cover.split("/").pop() : "";
    const label = lone && name ? `1 photo: ${name}` : photosText(cluster.count);
    const size = lone ? 52 : discSize(cluster.count);
    const face = document.createElement("span");
    face.className = "face";
    let unload = null;
    if (lone && cluster.cover) {
      const img = Object.assign(document.createElement("img"), {alt: "", decoding: "async"});
      face.append(img);
      unload = this.api.loadThumb(img, cluster.cover);
    } else {
      face.textContent = cluster.count > 9999 ? `${Math.round(cluster.count / 1000)}k` : String(cluster.count);
    }
    const icon = L.divIcon({html: face, className: lone ? "map-photo" : "map-cluster", iconSize: [size, size]});
    const marker = L.marker(at, {icon, title: label, keyboard: true, riseOnHover: true}).addTo(this.clusters);
    const element = marker.getElement();
    element.setAttribute("aria-label", label);
    element.dataset.count = cluster.count;
    element.dataset.cell = cluster.cell;
    marker.on("click", () => this.open(cluster));
    marker.on("keydown", ({originalEvent: event}) => {  // a button's keys (Leaflet's Enter opens only popups)
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      this.open(cluster);
    });
    return {marker, unload};
  }

  /** A cluster clicked: a big one zoomed into while the map can go closer, else its photos listed. */
  open(cluster) {
    const zoom = this.map.getZoom();
    if (cluster.count > OPEN_AT_MOST && zoom < this.map.getMaxZoom()) {
      this.map.setView([cluster.lat, nearest(cluster.lon, this.map.getCenter().lng)],
        Math.min(zoom + ZOOM_STEP, this.map.getMaxZoom()));
      return;
    }
    const centre = this.map.getCenter();
    this.go({...this.place, map: viewText(zoom, centre.lat, centre.lng), cell: cluster.cell, view: null});
  }

  /** Forget the clusters drawn (another folder's map). */
  clear() {
    for (const known of this.markers.values()) {
      known.unload?.();
      known.marker.remove();
    }
    this.markers.clear();
  }

  /** The breadcrumbs of a cluster's photos: back to the map where it was. */
  backCrumbs(place) {
    const list = document.createElement("ol");
    const item = document.createElement("li");
    item.append(Object.assign(document.createElement("a"), {href: hashOf({...place, cell: null, view: null}),
      textContent: "Map"}));
    list.append(item);
    this.crumbs.replaceChildren(list);
  }
}
