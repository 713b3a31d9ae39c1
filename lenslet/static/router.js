// Where the person is: the URL hash (#path=&q=&view=) names the folder, the search and the open
// image, so links and the back button work.

/** The place a hash names: {path, q (null when not searching), view (null when no image is open)}. */
export function readHash(hash) {
  const params = new URLSearchParams(hash.slice(1));
  return {path: params.get("path") || "", q: params.get("q"), view: params.get("view")};
}

export function hashOf({path, q, view}) {
  const params = new URLSearchParams();
  if (path) params.set("path", path);
  if (q != null) params.set("q", q);
  if (view) params.set("view", view);
  return "#" + params.toString();
}

/** Which listing a place shows (a folder, or a search in a folder); the open image aside. */
export const keyOf = (place) => (place.q != null ? `q:${place.path}:${place.q}` : `f:${place.path}`);

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
