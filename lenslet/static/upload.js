// Upload: the Upload button and files dropped anywhere on the page, sent one by one into the folder
// shown; a name that is taken asks what to do.

import {nameTaken} from "./api.js";

export class Upload {
  /** button, input: the Upload button and its file chooser; hint: what shows while files are dragged
   *  over the page. folder() answers where files go; done(folder, problems) when all were sent, with what was not. */
  constructor({button, input, hint}, {api, rules, dialogs, say, folder, done}) {
    Object.assign(this, {api, rules, dialogs, say, folder, done});
    input.accept = rules.accept;
    button.addEventListener("click", () => input.click());
    input.addEventListener("change", () => {
      this.send(input.files);
      input.value = "";
    });
    // The page as a whole is the drop target: dragenter and dragleave come for every element crossed.
    const page = hint.ownerDocument.defaultView;
    let depth = 0;
    const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
    page.addEventListener("dragenter", (event) => {
      if (!carriesFiles(event) || api.isReadonly()) return;
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
      this.send(event.dataTransfer.files);
    });
  }

  /** Upload files one by one into the folder shown; a name that is taken asks what to do (keep both,
   *  replace, skip; for one or all), and what is not an image, or is refused, is said by name. */
  async send(files) {
    if (this.api.isReadonly() || !files.length) return;
    const chosen = [...files];
    const images = chosen.filter((file) => this.rules.isImage(file));
    const problems = chosen.filter((file) => !this.rules.isImage(file))
      .map((file) => `${file.name} is not an image lenslet shows (JPEG, PNG, WebP, AVIF, GIF, HEIC or a camera's ` +
        "raw file): not uploaded.");
    const folder = this.folder();
    let done = 0;
    let skipped = 0;
    let always = null;  // the answer given "for every name that is taken"
    for (const [at, file] of images.entries()) {
      this.say(`Uploading ${at + 1} of ${images.length}: ${file.name}`);
      let conflict = null;
      for (;;) {
        try {
          await this.sendFile(file, folder, conflict);
          done++;
        } catch (ex) {
          if (nameTaken(ex) && conflict == null) {
            const answer = always || await this.dialogs.askClash(file.name, folder, at < images.length - 1);
            if (answer.all) always = answer;
            if (answer.action !== "skip") {
              conflict = answer.action;
              continue;
            }
            skipped++;
          } else {
            problems.push(`${file.name} was not uploaded: ${ex.message}`);
          }
        }
        break;
      }
    }
    this.say(`Uploaded ${done} ${done === 1 ? "image" : "images"}${skipped ? `, skipped ${skipped}` : ""}.`);
    this.done(folder, problems);
  }

  sendFile(file, folder, conflict) {
    const form = new FormData();
    form.append("dest", "/" + folder);
    if (conflict) form.append("conflict", conflict);
    form.append("file", file, file.name);
    return this.api.request("POST", "/file", {form});
  }
}
