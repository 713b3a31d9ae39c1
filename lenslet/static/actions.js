// What the page asks the server to do with files: trash, restore, delete, tag, move and rename
// images, make and move folders, download the images picked as a ZIP. Each says how far it got and what stopped it.

import {ApiError, enc, nameTaken, reason, where} from "./api.js";
import {folderOf, joined, nameOf, trimmed} from "./paths.js";

const TRASH_BATCH = 100;  // images per POST /trash: few requests, and progress to show between them
const ZIP_QUERY = 4000;  // characters of the images picked a download names (the server takes 4096)

/** How many files an answer says were done (a stack's other file counts too), else how many were asked. */
const doneCount = (answer, asked) => (Array.isArray(answer?.paths) ? answer.paths.length : asked.length);

export class Actions {
  /** folderRoots: the elements whose [data-folder] entries name the folders the page knows of (the
   *  tree as opened so far, the listing's subfolders). refresh() reads the listing, the tree and the
   *  counts again; refreshTree() the tree and the counts alone. */
  constructor({api, rules, dialogs, messages, router, listing, counts, folderRoots, refresh, refreshTree}) {
    Object.assign(this, {api, rules, dialogs, messages, router, listing, counts, folderRoots, refresh, refreshTree});
  }

  /** The folder a new folder or a moved image goes into by default: the one listed (not a search). */
  get folderShown() {
    const place = this.listing.place;
    return place?.q == null ? place?.path || "" : "";
  }

  /** The folders the page knows of, outside the trash. */
  knownFolders() {
    const found = new Set(this.folderRoots.flatMap((root) => [...root.querySelectorAll("[data-folder]")])
      .map((node) => node.dataset.folder));
    return [...found].filter((path) => !this.rules.inTrash(path)).sort();
  }

  /** Make a folder and any of its parents that are missing (below under, a folder known to be there). */
  async makeFolders(folder, under = "") {
    const parts = folder.split("/");
    for (let depth = under ? under.split("/").length + 1 : 1; depth <= parts.length; depth++) {
      try {
        await this.api.postJSON("/folder", {path: parts.slice(0, depth).join("/")});
      } catch (ex) {
        if (!(ex instanceof ApiError && ex.status === 409)) throw ex;  // there already
      }
    }
  }

  /** Make the folder a path goes into when the page does not know it yet. */
  async makeParent(path) {
    if (folderOf(path) && !this.knownFolders().includes(folderOf(path))) await this.makeFolders(folderOf(path));
  }

  /** POST /restore: back to the sidecar's originalPosition, recreating its folder if it is gone.
   *  conflict "rename" keeps both when another image has taken the name meanwhile. */
  restoreOne(path, conflict) {
    return this.api.postJSON("/restore", conflict ? {paths: [path], conflict} : {paths: [path]});
  }

  /** Tag each path in turn, saying how far it got; answer whether all were tagged. A refusal (a
   *  read-only pointer folder, say) stops here and says so: the tag typed stays for another try. */
  async tag(paths, tag) {
    const {messages} = this;
    messages.clear();
    for (const [at, path] of paths.entries()) {
      messages.say(`Tagging with ${tag}: ${at + 1} of ${paths.length}`);
      try {
        // addTags merges on the server, so no If-Match is needed: nobody's edit is lost.
        const item = await (await this.api.request("PATCH", `/item?path=${enc(path)}`, {json: {addTags: [tag]}})).json();
        this.listing.changed({...item, path});
      } catch (ex) {
        messages.notice(`Tagging with ${tag} stopped at ${nameOf(path)}: ${reason(ex)}`);
        return false;
      }
    }
    messages.say(`Tagged ${paths.length} with ${tag}.`);
    return true;
  }

  /** POST /dates: move the dates of the images picked by an amount asked for; all or none are moved. */
  async shiftDates(paths) {
    const shift = await this.dialogs.ask({title: "Shift dates", label: "Move each date by", ok: "Shift",
      hint: "A sign, then amounts of y, mo, d, h, min or s: +1 h, -1 y 2 d, +30 min"});
    if (!shift) return false;
    const {messages} = this;
    messages.clear();
    try {
      const {items} = await this.api.postJSON("/dates", {paths, shift});
      messages.say(`Shifted ${items.length} ${items.length === 1 ? "date" : "dates"} by ${shift}.`);
      this.refresh();
      return true;
    } catch (ex) {
      messages.notice(`No date was shifted: ${reason(ex)}`);
      return false;
    }
  }

  async trash(paths) {
    const {messages} = this;
    messages.clear();
    let done = 0;
    try {
      for (let at = 0; at < paths.length; at += TRASH_BATCH) {
        messages.say(`Moving to trash: ${at + 1} of ${paths.length}`);
        const batch = paths.slice(at, at + TRASH_BATCH);
        done += doneCount(await this.api.postJSON("/trash", {paths: batch}), batch);
      }
      messages.say(`Moved ${done} to the trash.`);
    } catch (ex) {
      messages.notice(`Moving to trash stopped: ${reason(ex)}${where(ex)}`);
    }
    this.refresh();
  }

  /** Restore one image at a time: a refusal names its image and can be answered for the rest. */
  async restore(paths, conflict) {
    const {messages} = this;
    messages.clear();
    for (const [at, path] of paths.entries()) {
      messages.say(`Restoring: ${at + 1} of ${paths.length}`);
      try {
        await this.restoreOne(path, conflict);
      } catch (ex) {
        const rest = paths.slice(at);
        const text = `${nameOf(path)} was not restored: ${reason(ex)}${where(ex)}`;
        if (nameTaken(ex)) {
          messages.notice(text, [rest.length > 1 ? "Restore these under new names" : "Restore under a new name",
            () => this.restore(rest, "rename")]);
        } else {
          messages.notice(text);
        }
        this.refresh();
        return;
      }
    }
    messages.say(`Restored ${paths.length}.`);
    this.refresh();
  }

  /** Delete for good (the person has confirmed). */
  async remove(paths) {
    this.messages.clear();
    try {
      await this.api.postJSON("/delete", {paths});
      this.messages.say(`Deleted ${paths.length}.`);
    } catch (ex) {
      this.messages.notice(`Not deleted: ${reason(ex)}${where(ex)}`);
    }
    this.refresh();
  }

  /** Move images into a folder the person names (made when it is not there yet). */
  async move(paths) {
    const dest = await this.dialogs.ask({title: `Move ${paths.length} ${paths.length === 1 ? "image" : "images"}`,
      label: "To the folder", value: this.folderShown, ok: "Move", folders: this.knownFolders(),
      hint: "A folder path such as 2024/summer; a folder that does not exist yet is made."});
    if (dest == null) return;
    const folder = trimmed(dest);
    this.messages.clear();
    try {
      if (folder && !this.knownFolders().includes(folder)) await this.makeFolders(folder);
      const done = await this.api.postJSON("/move", {src: paths, dest: folder});
      this.messages.say(`Moved ${doneCount(done, paths)} to ${folder || "All photos"}.`);
    } catch (ex) {
      this.messages.notice(`Moving stopped: ${reason(ex)}${where(ex)}`);
    }
    this.refresh();
  }

  /** Images or a folder dragged onto a folder ({images: [paths]} or {folder: path}): moved into it. */
  async dropOnto(folder, {images, folder: dragged}) {
    if (Array.isArray(images)) {
      const paths = images.filter((path) => typeof path === "string" && folderOf(path) !== folder);
      if (!paths.length) return;
      if (folder === this.rules.trash) return this.trash(paths);
      this.messages.clear();
      this.messages.say(`Moving ${paths.length} to ${this.rules.label(folder) || "All photos"}\u2026`);
      try {
        const done = await this.api.postJSON("/move", {src: paths, dest: folder});
        this.messages.say(`Moved ${doneCount(done, paths)} to ${this.rules.label(folder) || "All photos"}.`);
      } catch (ex) {
        this.messages.notice(`Moving stopped: ${reason(ex)}${where(ex)}`);
      }
      this.refresh();
    } else if (typeof dragged === "string" && dragged && folderOf(dragged) !== folder && dragged !== folder) {
      await this.moveFolderTo(dragged, joined(folder, nameOf(dragged)));
    }
  }

  async newFolder() {
    const parent = this.folderShown;
    const name = await this.dialogs.ask({title: "New folder", label: `Name of the new folder in ${parent || "All photos"}`,
      ok: "Create", hint: "A slash makes folders inside folders: trips/2024."});
    if (name == null) return;
    const path = joined(parent, trimmed(name));
    this.messages.clear();
    try {
      await this.makeFolders(path);
      this.messages.say(`Made the folder ${path}.`);
      this.router.go({path});
      this.refreshTree();
    } catch (ex) {
      this.messages.notice(`The folder was not made: ${reason(ex)}${where(ex)}`);
    }
  }

  async moveFolder(path) {
    const to = await this.dialogs.ask({title: `Rename or move ${nameOf(path)}`, label: "New path of the folder",
      value: path, ok: "Rename or move", folders: this.knownFolders(),
      hint: "Change its name, or the folders before it to move it (with everything in it)."});
    if (to == null) return;
    const target = trimmed(to);
    if (target !== path) await this.moveFolderTo(path, target);
  }

  /** Move or rename a folder; the page follows it when it was showing it or a folder in it. */
  async moveFolderTo(path, target) {
    this.messages.clear();
    try {
      await this.makeParent(target);
      await this.api.postJSON("/move", {src: path, to: target});
      this.messages.say(`Moved ${path} to ${target}.`);
      const shown = this.router.place();
      if (shown.path === path || shown.path.startsWith(path + "/")) {
        this.router.go({path: target + shown.path.slice(path.length)});
      }
      this.refresh();
    } catch (ex) {
      this.messages.notice(`The folder was not moved: ${reason(ex)}${where(ex)}`);
    }
  }

  /** The viewer's rename: a new name or path for one image. */
  async renameImage(path, viewer) {
    const to = await this.dialogs.ask({title: `Rename or move ${nameOf(path)}`, label: "New path of the image",
      value: path, ok: "Rename or move", folders: this.knownFolders(), hint: "Its sidecar and thumbnail go with it."});
    if (to == null) return;
    const target = to.replace(/^\/+/, "");
    if (target === path) return;
    try {
      await this.makeParent(target);
      const done = await this.api.postJSON("/move", {src: path, to: target});
      this.messages.say(`Renamed to ${done.path}.`);
      this.refreshTree();  // a folder may have been made, and counts change
      this.listing.forget();  // the listing changed: read again, then show the image at its new path
      this.router.go({...this.router.place(), view: done.path}, true);
    } catch (ex) {
      viewer.message(`Not renamed: ${reason(ex)}${where(ex)}`);
    }
  }

  /** The viewer's trash button (it restores an image that is in the trash); then the next image is
   *  shown, or the one before when it was the last. */
  async trashOrRestore(path, viewer, conflict) {
    const restoring = this.rules.inTrash(path);
    const next = viewer.neighbour(path, 1) || viewer.neighbour(path, -1);
    try {
      await (restoring ? this.restoreOne(path, conflict) : this.api.postJSON("/trash", {paths: [path]}));
      this.messages.say(restoring ? "Restored." : "Moved to trash.");
      this.refreshTree();  // the first trash makes the trash folder; counts change
      this.listing.forget();  // read the listing again without it, then show the next one
      this.router.go({...this.router.place(), view: next}, true);
    } catch (ex) {
      const text = `${restoring ? "Not restored" : "Not moved to the trash"}: ${reason(ex)}${where(ex)}`;
      if (restoring && nameTaken(ex)) {
        viewer.offer(text, "Restore under a new name", () => this.trashOrRestore(path, viewer, "rename"));
      } else {
        viewer.message(text);
      }
    }
  }

  /** Download the images picked, else the album or folder shown, as one ZIP the server streams. */
  downloadZip(chosen) {
    const {messages} = this;
    const folderOf = (path) => path.slice(0, path.length - path.split("/").pop().length);
    // A stack's files go together: a raw with its JPEG, a live photo's picture with its video.
    const picked = chosen.flatMap((path) => this.listing.stackOf(path)?.members.map(
      (name) => folderOf(path) + name) ?? [path]);
    const place = this.router.place(), listed = this.listing.place;
    const folder = place.timeline == null && place.map == null && listed?.q == null ? listed?.path : null;
    const query = picked.length ? picked.map((path) => `paths=${enc(path)}`).join("&")
      : place.album != null ? `album=${enc(place.album)}` : folder != null ? `path=${enc(folder)}` : null;
    if (query == null) return messages.say("Pick the images to download, or open a folder or an album.");
    if (query.length > ZIP_QUERY) {
      return messages.say("Too many images picked to download at once: download their folder, or an album of them.");
    }
    const name = picked.length || !folder ? "photos.zip" : `${folder.split("/").pop()}.zip`;
    this.api.download(`/zip?${query}`, name).catch((ex) => messages.say(`The download failed: ${ex.message}`));
  }
}
