// What was shared to lenslet, shown before anything is sent (inbox.js keeps it): each file's picture,
// name and size, and the folder it would go to, with Send and Discard. Another site's page can post to
// the share target as the share sheet does, so only the person's Send uploads.

import {partOf} from "./dom.js";
import {formatBytes} from "./viewer.js";

export class InboxReview {
  /** dialog: the <dialog> holding #inbox-what, #inbox-in-tab, #inbox-folder and #inbox-list, and the Send and
   *  Discard buttons. */
  constructor(dialog) {
    this.dialog = dialog;
    this.what = partOf(dialog, "#inbox-what");
    this.inTab = partOf(dialog, "#inbox-in-tab");
    this.folder = partOf(dialog, "#inbox-folder");
    this.list = partOf(dialog, "#inbox-list");
  }

  /** Show files and where they would go; answer true for Send, false for Discard (or Escape). */
  ask(files, folder) {
    const bytes = files.reduce((sum, file) => sum + file.size, 0);
    this.what.textContent = `${files.length} ${files.length === 1 ? "file" : "files"} (${formatBytes(bytes)}) ` +
      "arrived for lenslet. Send uploads them; Discard forgets them. Send only what you shared: a page on " +
      "another website can send files here too.";
    // The share sheet opens the installed app's window; another site's form opens lenslet in a tab.
    this.inTab.hidden = !matchMedia("(display-mode: browser)").matches;
    this.folder.textContent = folder || "the top folder";
    const urls = files.map((file) => URL.createObjectURL(file));
    this.list.replaceChildren(...files.map((file, at) => this.row(file, urls[at])));
    this.dialog.returnValue = "";
    return new Promise((resolve) => {
      this.dialog.addEventListener("close", () => {
        urls.forEach((url) => URL.revokeObjectURL(url));
        this.list.replaceChildren();
        resolve(this.dialog.returnValue === "send");
      }, {once: true});
      this.dialog.showModal();
    });
  }

  /** A file's row: its picture (a video's first frame; none for a file the browser cannot draw), name, size. */
  row(file, url) {
    const kind = file.type.split("/")[0];
    const picture = kind === "video" ? Object.assign(document.createElement("video"), {muted: true, preload: "metadata"})
      : document.createElement(kind === "image" ? "img" : "span");
    if (kind === "video" || kind === "image") picture.src = url;
    if (kind === "image") picture.alt = "";  // the name beside it says what it is
    picture.className = "picture";
    const text = (className, textContent) => Object.assign(document.createElement("span"), {className, textContent});
    const row = document.createElement("li");
    row.append(picture, Object.assign(text("name", file.name), {title: file.name}), text("size", formatBytes(file.size)));
    return row;
  }
}
