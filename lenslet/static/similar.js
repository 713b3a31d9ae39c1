// The Similar photos view: the groups of a moment's near-copies (GET /similar: one folder, close in time, their
// perceptual hashes near) in a dialog, each photo with its size, sharpness and star; the one picked to keep
// (the largest, then the sharpest, unless a person picks another) stays, the others go to the trash in one step
// (POST /trash), from where they can be restored.

import {reason} from "./api.js";
import {DuplicatesDialog} from "./duplicates.js";

const weight = (bytes) => bytes < 1e6 ? `${Math.round(bytes / 1e3)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;

export class SimilarDialog extends DuplicatesDialog {
  /** dialog: the <dialog> holding #similar-list and #similar-message; api: the page's Api;
   *  trashed(): the page reads its listing and tree again. */
  constructor(dialog, options) {
    super(dialog, options, "similar");
  }

  get source() { return "/similar?limit=100"; }
  get what() { return "similar photos"; }
  get none() { return "No photos here look alike."; }

  groupRow(group, number) {
    const row = document.createElement("li");
    row.className = "copies";
    row.setAttribute("aria-label", `${group.count} photos like ${group.items[0].name}`);
    for (const item of group.items) {
      const photo = document.createElement("figure");
      photo.className = "copy";
      photo.dataset.path = item.path;
      const img = Object.assign(document.createElement("img"), {alt: ""});
      this.unloads.push(this.api.loadThumb(img, item.path, this.api.versionOf(item, "thumb")));
      const facts = [item.w && item.h ? `${item.w}×${item.h}` : "", weight(item.size || 0),
        `sharpness ${Math.round(item.sharpness || 0)}`, item.star ? "★".repeat(item.star) : ""];
      const caption = document.createElement("figcaption");
      caption.append(Object.assign(document.createElement("span"), {className: "name", textContent: item.name}),
        Object.assign(document.createElement("span"), {className: "facts", textContent: facts.filter(Boolean).join(" · ")}));
      const pick = Object.assign(document.createElement("input"), {type: "radio", name: `keep-${number}`,
        value: item.path, checked: item.path === group.keep});
      pick.setAttribute("aria-label", `Keep ${item.path}`);
      const label = document.createElement("label");
      label.append(pick, " Keep");
      photo.append(img, caption, label);
      row.append(photo);
    }
    const others = group.items.length - 1;
    const trash = Object.assign(document.createElement("button"), {type: "button", className: "edit files keep",
      textContent: `Keep the one picked, trash ${others} other${others === 1 ? "" : "s"}`});
    trash.setAttribute("aria-label", `Trash the photos like ${group.items[0].name} but the one picked`);
    trash.addEventListener("click", () => {
      const kept = row.querySelector("input:checked")?.value ?? group.keep;
      this.keep(kept, group.items.map((item) => item.path).filter((path) => path !== kept));
    });
    row.append(trash);
    return row;
  }

  async keep(kept, others) {
    try {
      const answer = await (await this.api.request("POST", "/trash", {json: {paths: others}})).json();
      this.message.textContent = `Kept ${kept}; moved ${answer.paths?.length ?? others.length} to the trash ` +
        "(restore them from there).";
    } catch (ex) {
      this.message.textContent = `The photos were not trashed: ${reason(ex)}`;
    }
    this.trashed();
    await this.load();
  }
}
