// The Duplicates view: the groups of identical images (GET /duplicates) in a dialog, each image with
// its thumbnail and folder, and "Keep this one", which moves the group's other copies to the trash
// (POST /duplicates/trash; the server trashes only copies still identical, and a restore undoes it).

import {ApiError, reason} from "./api.js";
import {partOf} from "./dom.js";

export class DuplicatesDialog {
  /** dialog: the <dialog> holding #duplicates-list and #duplicates-message; api: the page's Api;
   *  trashed(): the page reads its listing and tree again. */
  constructor(dialog, {api, trashed}, view = "duplicates") {
    this.dialog = dialog;
    this.api = api;
    this.trashed = trashed;
    this.list = partOf(dialog, `#${view}-list`);
    this.message = partOf(dialog, `#${view}-message`);
    this.unloads = [];
  }

  async open() {
    this.message.textContent = "";
    if (!this.dialog.open) this.dialog.showModal();
    await this.load();
  }

  async load() {
    this.forget();
    this.list.replaceChildren();
    let answer;
    try {
      answer = await this.api.getJSON(this.source);
    } catch (ex) {
      this.message.textContent = `The ${this.what} cannot be read: ${ex.message}`;
      return;
    }
    this.list.replaceChildren(...answer.groups.map((group, number) => this.groupRow(group, number)));
    if (!answer.groups.length && !this.message.textContent) this.message.textContent = this.none;
    else if (answer.total > answer.groups.length) {
      const first = `The first ${answer.groups.length} of ${answer.total} groups: tidy these up, then look again.`;
      this.message.textContent = `${this.message.textContent} ${first}`.trim();
    }
  }

  get source() { return "/duplicates?limit=200"; }
  get what() { return "duplicates"; }
  get none() { return "No two images here are the same."; }

  groupRow(group) {
    const row = document.createElement("li");
    row.className = "copies";
    row.dataset.hash = group.hash;
    row.setAttribute("aria-label", `${group.items.length} copies of ${group.items[0].name}`);
    for (const item of group.items) {
      const copy = document.createElement("figure");
      copy.className = "copy";
      copy.dataset.path = item.path;
      const img = Object.assign(document.createElement("img"), {alt: ""});
      this.unloads.push(this.api.loadThumb(img, item.path, this.api.versionOf(item, "thumb")));
      const folder = item.path.slice(0, item.path.length - item.name.length - 1);
      const caption = document.createElement("figcaption");
      caption.append(Object.assign(document.createElement("span"), {className: "name", textContent: item.name}),
        Object.assign(document.createElement("span"), {className: "where", textContent: folder || "All photos"}));
      const keep = Object.assign(document.createElement("button"), {type: "button", className: "edit files keep",
        textContent: "Keep this one"});
      keep.setAttribute("aria-label", `Keep ${item.path}, trash the other copies`);
      keep.addEventListener("click", () => this.keep(group, item.path));
      copy.append(img, caption, keep);
      row.append(copy);
    }
    return row;
  }

  async keep(group, kept) {
    const others = group.items.map((item) => item.path).filter((path) => path !== kept);
    try {
      const answer = await (await this.api.request("POST", "/duplicates/trash",
        {json: {hash: group.hash, keep: kept, paths: others}})).json();
      const changed = answer.changed?.length ? ` Left alone, changed since: ${answer.changed.join(", ")}.` : "";
      this.message.textContent = `Kept ${kept}; moved ${answer.paths?.length ?? others.length} to the trash ` +
        `(restore them from there).${changed}`;
    } catch (ex) {
      this.message.textContent = ex instanceof ApiError && ex.status === 409
        ? `Nothing was trashed: ${ex.message}` : `The copies were not trashed: ${reason(ex)}`;
    }
    this.trashed();
    await this.load();
  }

  /** Stop the thumbnails' loads (or unload them). */
  forget() {
    for (const unload of this.unloads) unload();
    this.unloads = [];
  }
}
