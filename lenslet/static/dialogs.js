// The page's questions: a name or a folder to type, and what to do when an upload's name is taken.

import {partOf} from "./dom.js";

export class Dialogs {
  /** askDialog: the <dialog> asking for one line (with its list of folders); clashDialog: the one
   *  asking what to do with an upload whose name is taken; leaveDialog: the one asking what becomes of
   *  notes typed and not saved. */
  constructor(askDialog, clashDialog, leaveDialog) {
    this.askDialog = askDialog;
    this.clashDialog = clashDialog;
    this.leaveDialog = leaveDialog;
    this.parts = {
      input: partOf(askDialog, "#ask-input"), title: partOf(askDialog, "#ask-title"),
      label: partOf(askDialog, "#ask-label"), hint: partOf(askDialog, "#ask-hint"), ok: partOf(askDialog, "#ask-ok"),
      folders: partOf(askDialog, "#folder-list"),
      clashText: partOf(clashDialog, "#clash-text"), clashAll: partOf(clashDialog, "#clash-all"),
      clashAllLabel: partOf(clashDialog, "#clash-all-label"),
      leaveText: partOf(leaveDialog, "#leave-text"),
    };
  }

  /** Ask for one line of text in a dialog; answer it trimmed, or null when cancelled.
   *  folders: paths offered as suggestions (a folder to move to); suggested: other suggestions (a person's name);
   *  password: typed unseen. */
  ask({title, label, value = "", hint = "", ok = "OK", folders = [], suggested = [], password = false}) {
    const dialog = this.askDialog;
    const parts = this.parts;
    return new Promise((resolve) => {
      parts.title.textContent = title;
      parts.label.textContent = label;
      parts.hint.textContent = hint;
      parts.hint.hidden = !hint;
      parts.ok.textContent = ok;
      parts.folders.replaceChildren(...[...folders.map((path) => path || "/"), ...suggested].map((text) => new Option(text)));
      parts.input.value = value;
      parts.input.type = password ? "password" : "text";
      dialog.returnValue = "";
      dialog.addEventListener("close", () => {
        const answer = dialog.returnValue === "ok" ? parts.input.value.trim() : "";
        resolve(answer || null);
      }, {once: true});
      dialog.showModal();
      parts.input.focus();
      parts.input.select();
    });
  }

  /** An upload's name is taken: answer {action: "rename" | "replace" | "skip", all} where all means
   *  the same for every later name that is taken. Escape skips this one. */
  askClash(name, folder, more) {
    const dialog = this.clashDialog;
    const parts = this.parts;
    return new Promise((resolve) => {
      parts.clashText.textContent = `${folder ? `The folder ${folder}` : "This gallery's top folder"} already holds ` +
        `an image named ${name}. Keep both (the new one gets a number), replace the one there, or skip this file?`;
      parts.clashAll.checked = false;
      parts.clashAllLabel.hidden = !more;
      dialog.returnValue = "";
      dialog.addEventListener("close", () => {
        resolve({action: dialog.returnValue || "skip", all: more && parts.clashAll.checked});
      }, {once: true});
      dialog.showModal();
    });
  }

  /** Notes typed for name and not saved are about to be left: answer "save", "discard" or "stay"
   *  (Escape stays: nothing is lost by a key pressed once too often). */
  askLeave(name) {
    const dialog = this.leaveDialog;
    return new Promise((resolve) => {
      this.parts.leaveText.textContent = `The notes you typed for ${name} are not saved yet.`;
      dialog.returnValue = "";
      dialog.addEventListener("close", () => resolve(dialog.returnValue || "stay"), {once: true});
      dialog.showModal();
    });
  }
}
