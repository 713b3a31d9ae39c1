// How many images each folder holds: its own (`images`, or a manifest page's `total`) and with every
// folder below it (`allImages`, when the listing says), shown on the folder's tile and in the tree.
// Read defensively from what the listing answers; kept until the listing is read again.

export const countText = (total, searching) => `${total} ${total === 1 ? "image" : "images"}${searching ? " found" : ""}`;

/** "12 images, 3 videos": a folder's items (total, videos among them) said apart. */
export const videoCountText = (total, videos) => `${countText(total - videos)}, ${videos} ${videos === 1 ? "video" : "videos"}`;

/** {own, all} of a folder as a listing names it: a dirs entry, or a manifest page (the folder itself).
 *  Either may be missing (an older server gives a page's `total` only, and nothing for its dirs). */
export function countOf(entry) {
  const number = (value) => (Number.isInteger(value) && value >= 0 ? value : null);
  const own = number(entry?.images) ?? number(entry?.total);
  const all = number(entry?.allImages);
  return own == null && all == null ? null : {own, all};
}

/** What a count shows, and what it says to a screen reader: "12", or "12 (40)" when its subfolders hold more. */
export function countLabel({own, all}) {
  const deeper = all != null && all !== own;
  const text = own == null ? `(${all})` : deeper ? `${own} (${all})` : String(own);
  const words = own == null ? `${countText(all)} with its subfolders`
    : deeper ? `${countText(own)} here, ${all} with its subfolders` : countText(own);
  return {text, words};
}

const COUNTED_AT_ONCE = 60;  // folders whose count is read one by one when their listing names none

export class FolderCounts {
  /** roots: the elements whose [data-folder] entries show a count (the tree, the grid); read(path)
   *  answers a folder's first manifest page, for a folder its parent's listing gave no count for. */
  constructor(roots, read) {
    this.roots = roots;
    this.read = read;
    this.totals = new Map();  // path -> {own, all}
    this.round = 0;  // cleared this many times: a count read before the last clear is not shown
  }

  has(path) { return this.totals.has(path); }

  get(path) { return this.totals.get(path); }

  clear() {
    this.totals.clear();
    this.round++;
  }

  /** Take a folder's count (a number: its own images; or {own, all}) and show it wherever it is named. */
  set(path, count) {
    if (count == null) return;
    const known = typeof count === "number" ? {own: count, all: this.totals.get(path)?.all ?? null} : count;
    this.totals.set(path, known);
    for (const root of this.roots) {
      root.querySelectorAll(`[data-folder="${CSS.escape(path)}"] > .count`).forEach((node) => this.show(node, path));
    }
  }

  /** Take the counts a manifest page gives: the folder's own, and each of its dirs' when it names them. */
  fromListing(path, page) {
    this.set(path, countOf(page));
    for (const dir of page?.dirs || []) {
      const count = countOf(dir);
      if (count && typeof dir.name === "string") this.set(path ? `${path}/${dir.name}` : dir.name, count);
    }
  }

  /** Show the counts of folders the listings named without one, reading each one's own listing. */
  async fill(paths) {
    const round = this.round;
    for (const path of paths.slice(0, COUNTED_AT_ONCE)) {
      if (round !== this.round) return;  // an operation since: the counts are read again anyway
      if (this.totals.has(path)) {
        this.set(path, this.totals.get(path));
        continue;
      }
      try {
        const count = countOf(await this.read(path));
        if (round === this.round) this.set(path, count);
      } catch (ex) {
        continue;  // a folder gone meanwhile shows no count
      }
    }
  }

  /** Write path's count into a .count element (empty while it is not known). */
  show(node, path) {
    const count = this.totals.get(path);
    if (!count) {
      node.textContent = "";
      node.removeAttribute("aria-label");
      node.removeAttribute("title");
      return;
    }
    const {text, words} = countLabel(count);
    node.textContent = text;
    node.setAttribute("aria-label", words);
    node.title = words;
  }
}
