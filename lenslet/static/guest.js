// A guest's uploads through a share link that takes them: Add photos, the guest's name asked once (kept on this
// device), then each photo or video sent in turn into the link's folder with its progress and how it ended.

import {enc} from "./api.js";
import {partOf} from "./dom.js";
import {uploadRow} from "./upload.js";

const GUEST_KEY = "lenslet.guest";  // the name this device's guest gave, in localStorage

export class GuestUpload {
  /** button, input: Add photos and its file chooser; panel: the list of uploads (a row a file);
   *  done(added) once every file was sent, with how many were kept. */
  constructor({button, input, panel}, {api, rules, dialogs, say, done}) {
    Object.assign(this, {api, rules, dialogs, say, done, panel, rows: partOf(panel, "ol")});
    input.accept = rules.accept;
    button.addEventListener("click", () => input.click());
    input.addEventListener("change", () => {
      this.send([...input.files]);
      input.value = "";
    });
  }

  /** The guest's name: the one given on this device before, else asked (null when they cancel). */
  async guest() {
    const known = localStorage.getItem(GUEST_KEY);
    if (known) return known;
    const name = await this.dialogs.ask({title: "Who is adding these photos?", label: "Your name", ok: "Add",
      hint: "Shown with each photo you add, so the people who shared this folder know who took it."});
    if (name) localStorage.setItem(GUEST_KEY, name);
    return name;
  }

  async send(files) {
    if (!files.length) return;
    const guest = await this.guest();
    if (!guest) return;
    this.rows.replaceChildren();
    this.panel.hidden = false;
    const rows = files.map((file) => uploadRow(this.rows, file.name));
    let added = 0;
    for (const [at, file] of files.entries()) {
      const {progress, end} = rows[at];
      if (!this.rules.isListed(file)) {
        end("not added: only photos and videos are", "failed");
        continue;
      }
      this.say(`Adding ${at + 1} of ${files.length}: ${file.name}`);
      try {
        await this.api.upload(`/shares/upload?name=${enc(file.name)}&guest=${enc(guest)}`, file, progress, "PUT");
        end("added", "done");
        added++;
      } catch (ex) {
        end(`not added: ${ex.message}`, "failed");
        if (ex.body?.field === "guest") localStorage.removeItem(GUEST_KEY);  // asked again next time
      }
    }
    this.say(`Added ${added} of ${files.length} ${files.length === 1 ? "file" : "files"}, as ${guest}.`);
    this.done(added);
  }
}
