// Share links: the dialog that makes one for a folder, an image or the selected images (expiry, a password,
// downloads allowed or not, place and camera shown or not, a folder's guests' uploads; the full link and Copy)
// and lists the links made (what each opens, until when, Revoke), and the shared view's start (/s#<key>: the key
// kept for this tab, the password asked for when the share has one). Nothing happens on import.

import {ApiError, enc} from "./api.js";

const EXPIRIES = [["1d", "1 day"], ["7d", "7 days"], ["30d", "30 days"]];

export class ShareDialog {
  /** dialog: the share <dialog> (#share-path, #share-expires, #share-create, #share-link, #share-copy,
   *  #share-list, #share-message inside); api: the page's Api. */
  constructor(dialog, {api}) {
    this.dialog = dialog;
    this.api = api;
    this.path = "";
    const part = (css) => dialog.querySelector(css);
    this.parts = {path: part("#share-path"), what: part("#share-what"), expires: part("#share-expires"),
      create: part("#share-create"), password: part("#share-password"), download: part("#share-download"),
      details: part("#share-details"), uploads: part("#share-uploads"), upload: part("#share-upload"),
      show: part("#share-show"), maxFiles: part("#share-max-files"), uploadFolder: part("#share-upload-folder"),
      link: part("#share-link"), copy: part("#share-copy"), list: part("#share-list"), message: part("#share-message")};
    this.parts.expires.replaceChildren(...EXPIRIES.map(([value, label]) =>
      Object.assign(document.createElement("option"), {value, textContent: label, selected: value === "7d"})));
    this.parts.create.addEventListener("click", () => this.create());
    this.parts.copy.addEventListener("click", () => this.copy());
  }

  /** Open the dialog for a folder, an image, images of one folder or an album (kind "folder", "image", "images"
   *  (path then a list) or "album" (path its id; smart: a saved search's)), saying what its link will open. */
  open(path, kind, label = "", smart = false) {
    this.path = path;
    this.kind = kind;
    this.parts.path.textContent = kind === "images" ? `${path.length} images` : kind === "album" ? label
      : path || "All photos";
    this.parts.what.textContent = kind === "album" && smart
      ? "The link opens this smart album, read-only: what its search finds for you whenever it is opened."
      : kind === "album" ? "The link opens this album, read-only, as it is whenever it is opened."
      : kind === "image" ? "The link opens this one image, read-only."
      : kind === "images" ? `The link opens these ${path.length} images, read-only, and nothing else of their folder.`
        : path ? `The link opens the folder ${path} and every folder in it, read-only.`
          : "The link opens every photo in the gallery, read-only.";
    this.parts.link.value = "";
    this.parts.password.value = "";
    this.parts.download.checked = true;
    this.parts.details.checked = false;
    this.parts.uploads.hidden = kind !== "folder" && (kind !== "album" || smart);
    // An album has no folder: its link names the one its guests' photos land in (and are added to it from).
    this.parts.uploadFolder.placeholder = kind === "album" ? "Needed: the folder, e.g. Wedding/From guests"
      : "From guests";
    this.parts.upload.checked = false;
    this.parts.show.checked = true;
    this.parts.maxFiles.value = this.parts.uploadFolder.value = "";
    this.parts.copy.disabled = true;
    this.say("");
    this.dialog.showModal();
    this.list();
  }

  say(text) { this.parts.message.textContent = text; }

  async create() {
    try {
      const what = this.kind === "images" ? {paths: this.path} : this.kind === "album" ? {album: this.path}
        : {path: this.path};
      const asked = {...what,
        expires: this.parts.expires.value, allowDownload: this.parts.download.checked,
        details: this.parts.details.checked};
      if (this.parts.password.value) asked.password = this.parts.password.value;
      if (!this.parts.uploads.hidden && this.parts.upload.checked) {
        Object.assign(asked, {allowUpload: true, showPhotos: this.parts.show.checked,
          maxFiles: this.parts.maxFiles.value ? Number(this.parts.maxFiles.value) : null});
        if (this.parts.uploadFolder.value.trim()) asked.uploadFolder = this.parts.uploadFolder.value.trim();
      }
      const made = await this.api.postJSON("/shares", asked);
      // The full link, with the host this browser reached the gallery by (what the people it goes to use too).
      this.parts.link.value = new URL(made.link, location.href).href;
      this.parts.copy.disabled = false;
      this.say("Link made: anyone with it sees this until it expires or is revoked.");
    } catch (ex) {
      this.say(`Not shared: ${ex.message}`);
    }
    this.list();
  }

  async copy() {
    const link = this.parts.link;
    try {
      await navigator.clipboard.writeText(link.value);
    } catch (ex) {
      link.select();  // no clipboard permission (plain http): selected, for Ctrl+C
      document.execCommand?.("copy");
    }
    this.say("Link copied.");
  }

  /** List the share links (the caller's; an admin's: all), each with Revoke. */
  async list() {
    let shares = [];
    try {
      shares = (await this.api.getJSON("/shares")).shares;
    } catch (ex) {
      this.say(`The share links cannot be read: ${ex.message}`);
    }
    this.parts.list.replaceChildren(...shares.map((share) => {
      const row = document.createElement("li");
      row.dataset.id = share.id;
      const when = share.expired ? "expired" : `until ${new Date(share.expires).toLocaleString()}`;
      const text = Object.assign(document.createElement("span"),
        {textContent: `${shareOf(share)}, ${when}${share.password ? ", password" : ""}` +
          `${share.allowDownload ? "" : ", no downloads"}${share.details ? ", place and camera shown" : ""}` +
          `${share.allowUpload ? `, takes uploads (${share.uploaded?.files ?? 0} added)` : ""}`});
      const revoke = Object.assign(document.createElement("button"), {type: "button", textContent: "Revoke"});
      revoke.addEventListener("click", () => this.revoke(share.id));
      row.append(text, revoke);
      return row;
    }));
  }

  async revoke(id) {
    try {
      await this.api.request("DELETE", `/shares/${enc(id)}`);
      this.say("Revoked: the link opens nothing now.");
    } catch (ex) {
      this.say(`Not revoked: ${ex.message}`);
    }
    this.list();
  }
}

/** What a share opens, in a few words: "family (folder)", "family/a.jpg (image)", "3 images of family". */
function shareOf(share) {
  if (share.kind === "images") return `${share.images.length} images of ${share.path || "All photos"}`;
  if (share.kind === "album") return "an album";
  return `${share.path || "All photos"} (${share.kind})`;
}

/** The shared view's key: taken from /s#<key> (and kept for this tab, so the page's own #path=
 *  addresses and a reload keep it), or the one kept before; null when the page is not a share's. */
export function takeShareKey(api, location, history) {
  if (location.pathname !== "/s") {
    api.setShareKey(null);  // this tab left the shared view for the gallery: its own token, not the link
    return null;
  }
  const hash = location.hash.slice(1);
  if (hash && !hash.includes("=")) {
    api.setShareKey(decodeURIComponent(hash));
    history.replaceState(null, "", "/s#");
  }
  return api.shareKey();
}

/** Ask for a share's password (through the page's one-line dialog) and answer the key POST
 *  /shares/unlock gives for it, or null when the person cancels. */
export function passwordAsker(api, dialogs) {
  return async () => {
    let refused = false;
    for (;;) {
      const password = await dialogs.ask({title: "This link needs its password", label: "Password",
        hint: refused ? "That password was refused: type it again." : "", ok: "Open", password: true});
      if (!password) return null;
      const answer = await api.request("POST", "/shares/unlock", {json: {key: api.shareKey(), password}, bare: true});
      if (answer.ok) return (await answer.json()).key;
      if (answer.status !== 404) throw new ApiError(answer.status, await answer.json().catch(() => null));
      refused = true;
    }
  };
}
