// Upload: the Upload buttons (files, or a whole folder) and files and folders dropped anywhere on the
// page, sent one by one into the folder shown, each with a row saying how far it got and how it
// ended; folders dropped are made there first (POST /folder); a name that is taken asks what to do.

import {nameTaken} from "./api.js";
import {partOf} from "./dom.js";
import {joined} from "./paths.js";

/** The files and folders of a drop: [{file, dir}] (dir: the folder inside the drop, "" for a file
 *  dropped alone) and the folders met, empty ones too. Read from each item's entry where the
 *  browser gives one (webkitGetAsEntry), else its file. Entries must be taken during the drop event:
 *  the items are gone after it, so this is called synchronously and answers a Promise. */
export function droppedFiles(dataTransfer) {
  const entries = [];
  const loose = [];
  for (const item of dataTransfer.items || []) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else if (item.getAsFile()) loose.push({file: item.getAsFile(), dir: ""});
  }
  if (!entries.length && !loose.length) loose.push(...[...dataTransfer.files || []].map((file) => ({file, dir: ""})));
  return (async () => {
    const found = {files: loose, folders: []};
    for (const entry of entries) await walk(entry, "", found);
    return found;
  })();
}

async function walk(entry, dir, found) {
  if (entry.isFile) {
    found.files.push({file: await new Promise((resolve, reject) => entry.file(resolve, reject)), dir});
    return;
  }
  if (!entry.isDirectory) return;
  const here = joined(dir, entry.name);
  found.folders.push(here);
  const reader = entry.createReader();
  // readEntries answers a batch at a time (100 in Chromium) until it answers none.
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) break;
    for (const child of batch) await walk(child, here, found);
  }
}

/** The files an <input webkitdirectory> chose, each in its folder inside the one chosen. */
function chosenFolder(files) {
  const found = {files: [], folders: []};
  for (const file of files) {
    const dir = (file.webkitRelativePath || file.name).split("/").slice(0, -1).join("/");
    found.files.push({file, dir});
    if (dir) found.folders.push(dir);
  }
  return found;
}

export class Upload {
  /** button, input: Upload and its file chooser; folderButton, folderInput: Upload folder and its
   *  chooser (webkitdirectory); hint: what shows while files are dragged over the page; panel: the
   *  list of uploads, a row a file. folder() answers where files go; makeFolders(path, under) makes a
   *  folder and its parents below under; done(folder, problems) when all were sent, with what was not. */
  constructor({button, input, folderButton, folderInput, hint, panel}, {api, rules, dialogs, say, folder, makeFolders, done}) {
    Object.assign(this, {api, rules, dialogs, say, folder, makeFolders, done, panel});
    this.rows = partOf(panel, "ol");
    partOf(panel, ".close").addEventListener("click", () => { panel.hidden = true; });
    input.accept = rules.accept;
    button.addEventListener("click", () => input.click());
    input.addEventListener("change", () => {
      this.send({files: [...input.files].map((file) => ({file, dir: ""})), folders: []});
      input.value = "";
    });
    folderButton.addEventListener("click", () => folderInput.click());
    folderInput.addEventListener("change", () => {
      this.send(chosenFolder([...folderInput.files]));
      folderInput.value = "";
    });
    // The page as a whole is the drop target: dragenter and dragleave come for every element crossed.
    const page = hint.ownerDocument.defaultView;
    let depth = 0;
    const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
    page.addEventListener("dragenter", (event) => {
      if (!carriesFiles(event) || !api.canChangeFiles()) return;
      depth++;
      hint.hidden = false;
    });
    page.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; hint.hidden = true; } });
    page.addEventListener("dragover", (event) => { if (carriesFiles(event)) event.preventDefault(); });
    page.addEventListener("drop", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      hint.hidden = true;
      droppedFiles(event.dataTransfer).then((found) => this.send(found),
        (ex) => this.say(`The files dropped cannot be read: ${ex.message}`));
    });
  }

  row(name) { return uploadRow(this.rows, name); }

  /** Upload {files: [{file, dir}], folders} into the folder shown (or into): folders made first, then each photo
   *  or video in turn with its row; a name that is taken asks what to do (keep both, replace, skip; for one or
   *  all), and what lenslet does not list, or refuses, is said by name. */
  async send({files, folders}, folder = this.folder()) {
    if (!this.api.canChangeFiles() || (!files.length && !folders.length)) return;
    const images = files.filter(({file}) => this.rules.isListed(file));
    const others = files.filter(({file}) => !this.rules.isListed(file)).map(({file, dir}) => joined(dir, file.name));
    const problems = [];
    if (others.length) {
      const what = others.length === 1 ? "it is not a photo or video" : "they are not photos or videos";
      problems.push(`Not uploaded, as ${what} lenslet shows (JPEG, PNG, WebP, AVIF, GIF, HEIC, a camera's raw file; ` +
        `MP4, MOV, WebM, MKV, AVI, MTS): ${others.join(", ")}.`);
    }
    this.rows.replaceChildren();
    this.panel.hidden = !images.length;
    const rows = images.map(({file, dir}) => this.row(joined(dir, file.name)));
    // Folders first, parents before children, empty ones too (a folder dropped is a folder made).
    const made = new Set();
    for (const dir of [...new Set([...folders, ...images.map(({dir}) => dir)])].filter(Boolean).sort()) {
      try {
        await this.makeFolders(joined(folder, dir), folder);
        made.add(dir);
      } catch (ex) {
        problems.push(`The folder ${dir} was not made: ${ex.message}`);
      }
    }
    let done = 0;
    let skipped = 0;
    let always = null;  // the answer given "for every name that is taken"
    for (const [at, {file, dir}] of images.entries()) {
      const {progress, end} = rows[at];
      if (dir && !made.has(dir)) {
        end("not uploaded: its folder was not made", "failed");
        continue;
      }
      const into = joined(folder, dir);
      this.say(`Uploading ${at + 1} of ${images.length}: ${file.name}`);
      let conflict = null;
      for (;;) {
        try {
          const answer = await this.sendFile(file, into, conflict, progress);
          const saved = answer?.path?.split("/").pop();
          end(conflict === "replace" ? "replaced" : saved && saved !== file.name ? `uploaded as ${saved}` : "uploaded", "done");
          done++;
        } catch (ex) {
          if (nameTaken(ex) && conflict == null) {
            const answer = always || await this.dialogs.askClash(file.name, into, at < images.length - 1);
            if (answer.all) always = answer;
            if (answer.action !== "skip") {
              conflict = answer.action;
              progress(0);
              continue;
            }
            end("skipped: the name is taken", "skipped");
            skipped++;
          } else {
            end(`not uploaded: ${ex.message}`, "failed");
            problems.push(`${joined(dir, file.name)} was not uploaded: ${ex.message}`);
          }
        }
        break;
      }
    }
    this.say(`Uploaded ${done} ${done === 1 ? "file" : "files"}${skipped ? `, skipped ${skipped}` : ""}.`);
    this.done(folder, problems);
  }

  sendFile(file, folder, conflict, progress) {
    const form = new FormData();
    form.append("dest", "/" + folder);
    if (conflict) form.append("conflict", conflict);
    form.append("file", file, file.name);
    return this.api.upload("/file", form, progress);
  }
}

/** A row in an upload list for one file: its name, a progress bar and how it ended. */
export function uploadRow(rows, name) {
  const row = document.createElement("li");
  const bar = Object.assign(document.createElement("progress"), {max: 1, value: 0});
  bar.setAttribute("aria-label", `Uploading ${name}`);
  const result = Object.assign(document.createElement("span"), {className: "result"});
  row.append(Object.assign(document.createElement("span"), {className: "name", textContent: name, title: name}),
    bar, result);
  rows.append(row);
  const end = (text, how) => {
    result.textContent = text;
    row.className = how;
    bar.value = how === "done" ? 1 : bar.value;
  };
  return {progress: (fraction) => { bar.value = fraction; }, end};
}
