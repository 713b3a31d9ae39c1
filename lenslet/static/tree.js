// The folder tree in the sidebar: opened a level at a time, down to the folder shown, which it marks.

import {enc} from "./api.js";
import {partOf} from "./dom.js";
import {nameOf} from "./paths.js";
import {hashOf} from "./router.js";

export class FolderTree {
  /** sidebar: the <nav> holding the tree's list; toggle: the button that shows it on a narrow screen. */
  constructor(sidebar, toggle, {api, rules, counts}) {
    Object.assign(this, {api, rules, counts});
    this.list = partOf(sidebar, ".tree");
    const body = sidebar.ownerDocument.body;
    toggle.addEventListener("click", () => {
      const open = body.classList.toggle("folders-open");
      toggle.setAttribute("aria-expanded", String(open));
    });
    sidebar.addEventListener("click", (event) => {
      if (event.target.closest("a")) body.classList.remove("folders-open");
    });
  }

  /** Build the tree again from the top, open down to path. */
  rebuild(path) {
    const root = this.node("", "branch");
    root.querySelector("a").textContent = "All photos";
    root.querySelector(".count").remove();  // the root's own images are few; its total would mislead
    this.list.replaceChildren(root);
    return this.mark(path);
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
    if (this.counts.has(path)) count.textContent = String(this.counts.get(path));
    node.append(toggle, link, count, document.createElement("ul"));
    return node;
  }

  async expand(node, open) {
    const toggle = node.querySelector(":scope > .twisty");
    const children = node.querySelector(":scope > ul");
    toggle.setAttribute("aria-expanded", String(open));
    children.hidden = !open;
    if (!open || node.dataset.loaded) return;
    node.dataset.loaded = "1";
    try {
      const path = node.dataset.folder;
      const manifest = await this.api.getJSON(`/folders?path=${enc(path)}`);
      this.counts.set(path, manifest.total);
      children.replaceChildren(...manifest.dirs.map((dir) => this.node(path ? `${path}/${dir.name}` : dir.name, dir.kind)));
      toggle.hidden = manifest.dirs.length === 0;
    } catch (ex) {
      delete node.dataset.loaded;
    }
  }

  /** Open the tree down to path and mark it as the current folder. */
  async mark(path) {
    const parts = path ? path.split("/") : [];
    let node = this.list.firstElementChild;
    for (let depth = 0; node && depth <= parts.length; depth++) {
      if (depth < parts.length) await this.expand(node, true);
      const want = parts.slice(0, depth + 1).join("/");
      if (depth < parts.length) node = node.querySelector(`:scope > ul > li[data-folder="${CSS.escape(want)}"]`);
    }
    this.list.querySelectorAll("[aria-current]").forEach((link) => link.removeAttribute("aria-current"));
    this.list.querySelector(`li[data-folder="${CSS.escape(path)}"] > a`)?.setAttribute("aria-current", "page");
  }
}
