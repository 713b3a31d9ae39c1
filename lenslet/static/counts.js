// How many images each folder holds, as the folder's first manifest page says: shown on the
// folder's tile and in the tree, kept until the listing is read again.

export const countText = (total, searching) => `${total} ${total === 1 ? "image" : "images"}${searching ? " found" : ""}`;

export class FolderCounts {
  /** roots: the elements whose [data-folder] entries show a count (the tree, the grid). */
  constructor(roots) {
    this.roots = roots;
    this.totals = new Map();
  }

  has(path) { return this.totals.has(path); }

  get(path) { return this.totals.get(path); }

  clear() { this.totals.clear(); }

  set(path, total) {
    if (total == null) return;
    this.totals.set(path, total);
    for (const root of this.roots) {
      root.querySelectorAll(`[data-folder="${CSS.escape(path)}"] > .count`).forEach((node) => {
        node.textContent = String(total);
        node.setAttribute("aria-label", countText(total, false));
      });
    }
  }
}
