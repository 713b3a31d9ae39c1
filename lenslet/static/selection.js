// Selection: images picked in the grid (a click with Shift or Ctrl, a checkbox, Space), and the bar
// of what can be done with them.

import {partOf} from "./dom.js";

export class Selection {
  /** bar: the selection bar (count, tag form, buttons). listing: the grid the images are picked in.
   *  actions: {tag(paths, tag), move(paths), shiftDates(paths), trash(paths), restore(paths), remove(paths)}. */
  constructor(bar, {api, listing, actions, say, suggestTags, selectButton, shown = () => {}}) {
    Object.assign(this, {api, listing, shown, selectButton});  // shown(count): told of each change (albums.js's buttons)
    this.bar = bar;
    this.selecting = false;  // Select pressed (a phone's way): a tap on a photo picks it rather than opens it
    this.el = Object.fromEntries(Object.entries({
      count: "#selection-count", tagForm: "#bulk-tag-form", tag: "#bulk-tag", move: "#move-button",
      shiftDates: "#shift-dates-button", trash: "#trash-button", restore: "#restore-button", remove: "#delete-button", clear: "#clear-selection",
    }).map(([name, selector]) => [name, partOf(bar, selector)]));
    this.paths = new Set();
    this.lastPicked = -1;
    const {el} = this;
    el.clear.addEventListener("click", () => { this.selecting = false; this.clear(); });
    selectButton.addEventListener("click", () => { this.selecting = !this.selecting; this.show(); });
    el.tagForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const tag = el.tag.value.trim();
      if (tag) actions.tag([...this.paths], tag).then((done) => { if (done) el.tag.value = ""; });
    });
    el.tag.addEventListener("input", () => suggestTags(el.tag.value));
    el.trash.addEventListener("click", () => actions.trash([...this.paths]));
    el.move.addEventListener("click", () => actions.move([...this.paths]));
    el.shiftDates.addEventListener("click", () => actions.shiftDates([...this.paths]));
    el.restore.addEventListener("click", () => actions.restore([...this.paths]));
    el.remove.addEventListener("click", () => {
      const paths = [...this.paths];
      if (confirm(`Delete ${paths.length} ${paths.length === 1 ? "image" : "images"} forever?`)) actions.remove(paths);
    });
    // Escape clears the selection, unless it closes a dialog.
    bar.ownerDocument.defaultView.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !(this.paths.size || this.selecting) || bar.ownerDocument.querySelector("dialog[open]")) {
        return;
      }
      this.selecting = false;
      this.clear();
      say("Selection cleared.");
    });
  }

  has(path) {
    return this.paths.has(path);
  }

  /** The paths picked, in the listing's order. */
  chosen() {
    return this.listing.items.map((item) => item.path).filter((path) => this.paths.has(path));
  }

  /** Pick (on) or unpick the image at index: alone ("toggle") or with those since the last picked ("range"). */
  pick(index, how, on) {
    const items = this.listing.items;
    const from = how === "range" && this.lastPicked >= 0 ? Math.min(this.lastPicked, index) : index;
    const to = how === "range" && this.lastPicked >= 0 ? Math.max(this.lastPicked, index) : index;
    for (let at = from; at <= to; at++) {
      if (on) this.paths.add(items[at].path);
      else this.paths.delete(items[at].path);
    }
    this.lastPicked = index;
    this.show();
  }

  /** Nothing picked; a Shift-click still ranges from the image picked last. */
  clear() {
    this.paths.clear();
    this.show();
  }

  /** A new listing: nothing picked, and no image picked last. */
  reset() {
    this.lastPicked = -1;
    this.selecting = false;
    this.clear();
  }

  /** Mark the picked tiles, and show the bar with the actions that fit the listing. */
  show() {
    for (const tile of this.listing.tiles) {
      const on = this.paths.has(tile.dataset.path);
      tile.classList.toggle("selected", on);
      tile.querySelector(".pick").checked = on;
    }
    const {el} = this;
    this.bar.hidden = (this.paths.size === 0 && !this.selecting) || this.api.isReadonly();
    this.selectButton.setAttribute("aria-pressed", String(this.selecting));
    this.bar.ownerDocument.body.classList.toggle("selecting", this.selecting || this.paths.size > 0);
    el.count.textContent = `${this.paths.size} selected`;
    const trash = this.listing.inTrash;
    el.trash.hidden = trash;
    el.restore.hidden = !trash;
    el.remove.hidden = !trash;
    this.shown(this.paths.size);
  }
}
