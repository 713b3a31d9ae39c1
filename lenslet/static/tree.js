// The folder tree in the sidebar: opened a level at a time (the top one from the start), down to
// the folder shown, which it marks; read again after every operation, keeping what was open. Its
// folders take images and folders dragged onto them.

import {ASK_AGAIN_MS, enc, longerWait} from "./api.js";
import {partOf} from "./dom.js";
import {nameOf} from "./paths.js";
import {hashOf} from "./router.js";

export class FolderTree {
  /** sidebar: the <nav> holding the tree's list; toggle: the button that shows it on a narrow screen.
   *  dropping(event) answers whether a drag carries what a folder takes; dropped(folder, event) takes it. */
  constructor(sidebar, toggle, {api, rules, counts, dropping, dropped}) {
    Object.assign(this, {api, rules, counts});
    this.list = partOf(sidebar, ".tree");
    this.reads = 0;  // the latest rebuild: an older one still reading stops
    const body = sidebar.ownerDocument.body;
    toggle.addEventListener("click", () => {
      const open = body.classList.toggle("folders-open");
      toggle.setAttribute("aria-expanded", String(open));
    });
    sidebar.addEventListener("click", (event) => {
      if (event.target.closest("a")) body.classList.remove("folders-open");
    });
    // A folder in the tree is a drop target for images and folders dragged from the grid.
    const target = (event) => (dropping(event) ? event.target.closest?.("li[data-folder]") : null);
    this.list.addEventListener("dragover", (event) => {
      const node = target(event);
      if (!node) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      this.hover(node);
    });
    this.list.addEventListener("dragleave", (event) => {
      if (!this.list.contains(event.relatedTarget)) this.hover(null);
    });
    this.list.addEventListener("drop", (event) => {
      const node = target(event);
      this.hover(null);
      if (!node) return;
      event.preventDefault();
      event.stopPropagation();  // not an upload
      dropped(node.dataset.folder, event);
    });
  }

  hover(node) {
    this.list.querySelectorAll(".drop-here").forEach((other) => { if (other !== node) other.classList.remove("drop-here"); });
    node?.classList.add("drop-here");
  }

  /** Build the tree again from the top, its first level open, and open down to path. shown: the listing's
   *  answer for path (api.getListing's promise) when it reads it now, taken rather than asked for again. */
  rebuild(path, shown = null) {
    return this.refresh(path, [""], shown);
  }

  /** Read the tree again (a folder appeared, moved, went, or its count changed): the folders open
   *  stay open when they are still there (open: their paths, else those open now), and path is marked. */
  async refresh(path, open = this.openFolders(), shown = null) {
    const read = ++this.reads;
    const root = this.node("", "branch");
    root.querySelector("a").textContent = "All photos";
    root.querySelector(".count").remove();  // the root's own images are few; its total would mislead
    const fresh = document.createElement("ul");
    fresh.append(root);
    // Read off the page, then swapped in at once: the tree does not flicker closed and open again.
    for (const folder of [...new Set(["", ...open])].sort((a, b) => a.split("/").length - b.split("/").length)) {
      const node = folder === "" ? root : fresh.querySelector(`li[data-folder="${CSS.escape(folder)}"]`);
      if (node) await this.expand(node, true, folder === path ? shown : null);
      if (read !== this.reads) return;
    }
    this.list.replaceChildren(...fresh.children);
    // Counts read while the new tree was off the page are shown now.
    for (const count of this.list.querySelectorAll("li[data-folder] > .count")) this.counts.show(count, count.parentElement.dataset.folder);
    await this.mark(path, shown);
  }

  /** The folders whose subfolders are shown now. */
  openFolders() {
    return [...this.list.querySelectorAll('li > .twisty[aria-expanded="true"]')].map((toggle) => toggle.parentElement.dataset.folder);
  }

  node(path, kind) {
    const node = document.createElement("li");
    node.dataset.folder = path;
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "twisty";
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-label", `Show folders in ${nameOf(path)}`);
    toggle.hidden = kind === "leaf-real";
    toggle.addEventListener("click", () => this.expand(node, toggle.getAttribute("aria-expanded") !== "true"));
    const link = Object.assign(document.createElement("a"), {href: hashOf({path}),
      textContent: path === this.rules.trash ? "Trash" : nameOf(path)});
    const count = Object.assign(document.createElement("span"), {className: "count"});
    this.counts.show(count, path);
    node.append(toggle, link, count, document.createElement("ul"));
    return node;
  }

  async expand(node, open, shown = null) {
    const toggle = node.querySelector(":scope > .twisty");
    const children = node.querySelector(":scope > ul");
    toggle.setAttribute("aria-expanded", String(open));
    children.hidden = !open;
    if (!open || node.dataset.loaded) return;
    node.dataset.loaded = "1";
    try {
      const path = node.dataset.folder;
      const [manifest, behind] = await (shown ?? this.api.getListing(`/folders?path=${enc(path)}`));
      if (behind) this.askAgainSoon();
      this.counts.fromListing(path, manifest);
      const paths = manifest.dirs.map((dir) => (path ? `${path}/${dir.name}` : dir.name));
      children.replaceChildren(...manifest.dirs.map((dir, at) => this.node(paths[at], dir.kind)));
      toggle.hidden = manifest.dirs.length === 0;
      this.counts.fill(paths);
    } catch (ex) {
      delete node.dataset.loaded;
    }
  }

  /** Read the tree again in a moment: a folder's answer may be a moment behind (api.getListing); longer,
   *  when it is asked for because the last time it was asked again it was behind too. */
  askAgainSoon() {
    clearTimeout(this.again);
    const wait = this.askingAgain ?? ASK_AGAIN_MS;
    this.again = setTimeout(async () => {
      this.askingAgain = longerWait(wait);
      try {
        await this.refresh(this.marked ?? "");
      } finally {
        this.askingAgain = null;
      }
    }, wait);
  }

  /** Open the tree down to path and its subfolders (a folder made there shows at once), and mark
   *  it as the current folder (shown: as rebuild's). */
  async mark(path, shown = null) {
    this.marked = path;  // asked again later even when its folder is not listed yet
    const parts = path ? path.split("/") : [];
    let node = this.list.firstElementChild;
    for (let depth = 0; node && depth <= parts.length; depth++) {
      await this.expand(node, true, depth === parts.length ? shown : null);
      const want = parts.slice(0, depth + 1).join("/");
      if (depth < parts.length) node = node.querySelector(`:scope > ul > li[data-folder="${CSS.escape(want)}"]`);
    }
    this.list.querySelectorAll("[aria-current]").forEach((link) => link.removeAttribute("aria-current"));
    this.list.querySelector(`li[data-folder="${CSS.escape(path)}"] > a`)?.setAttribute("aria-current", "page");
  }
}
