// Where the person is: the URL hash (#path=&q=&sort=&order=&star=...&view=) names the folder, the
// search, its sort and filters and the open image, so links, reload and the back button keep them; the
// timeline, an album or the map (#map=<zoom>/<lat>/<lon>, a cluster's photos with &cell=) are places too.

import {ASKED, askedIn} from "./sorting.js";

/** The place a hash names: {path, q (null when not searching), view (null when no image is open)},
 *  and each sort and filter it names (sort, order, star, date, camera, type, tagged; null if not). */
export function readHash(hash) {
  const params = new URLSearchParams(hash.slice(1));
  const asked = Object.fromEntries(ASKED.map((name) => [name, params.get(name) || null]));
  return {path: params.get("path") || "", q: params.get("q"), ...asked, view: params.get("view"),
    timeline: params.get("timeline"), album: params.get("album"), map: params.get("map"), cell: params.get("cell")};
}

export function hashOf(place) {
  const {path, q, view, timeline, album, map, cell} = place;
  const params = new URLSearchParams();
  if (timeline != null) params.set("timeline", timeline);  // the timeline (timeline.js), or an album (albums.js)
  if (album != null) params.set("album", album);
  if (map != null) params.set("map", map);  // the map (map.js), and a cluster's photos on it
  if (map != null && cell != null) params.set("cell", cell);
  if (path) params.set("path", path);
  if (q != null) params.set("q", q);
  for (const [name, value] of Object.entries(askedIn(place))) params.set(name, value);
  if (view) params.set("view", view);
  return "#" + params.toString();
}

/** Whether place is the start page: the whole gallery's folder, nothing searched, not the timeline, an album or the map. */
export const isStartPage = (place) => !place.path && place.q == null && place.timeline == null && place.album == null &&
  place.map == null;

/** Which listing a place shows (a folder, or a search in a folder, as sorted and filtered); the
 *  open image aside, and where the map looks. */
export const keyOf = (place) => (place.timeline != null ? `t:${place.timeline}` : place.album != null
  ? `a:${place.album}` : place.map != null ? `m:${place.path}:${place.cell ?? ""}`
    : place.q != null ? `q:${place.path}:${place.q}` : `f:${place.path}`) +
  `?${new URLSearchParams(askedIn(place))}`;

export class Router {
  /** onChange(place, replaced) is called for every new place: replaced is true when the page
   *  changed the current history entry itself (the viewer's next image), false for a new entry. */
  constructor(window, onChange) {
    this.window = window;
    this.onChange = onChange;
    window.addEventListener("hashchange", () => onChange(this.place(), false));
  }

  place() {
    return readHash(this.window.location.hash);
  }

  /** Go to a place; replace=true changes the current history entry instead of adding one. */
  go(place, replace = false) {
    const hash = hashOf(place);
    const location = this.window.location;
    if (hash === location.hash || (hash === "#" && !location.hash)) return;
    if (replace) {
      this.window.history.replaceState(null, "", hash);
      this.onChange(this.place(), true);
    } else {
      location.hash = hash;
    }
  }
}
