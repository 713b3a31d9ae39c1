// The page's questions: a name or a folder to type, and what to do when an upload's name is taken.

const $ = (id) => document.getElementById(id);

/** Ask for one line of text in a dialog; answer it trimmed, or null when cancelled.
 *  folders: paths offered as suggestions (a folder to move to). */
export function ask({title, label, value = "", hint = "", ok = "OK", folders = []}) {
  return new Promise((resolve) => {
    const dialog = $("ask-dialog");
    const input = $("ask-input");
    $("ask-title").textContent = title;
    $("ask-label").textContent = label;
    $("ask-hint").textContent = hint;
    $("ask-hint").hidden = !hint;
    $("ask-ok").textContent = ok;
    $("folder-list").replaceChildren(...folders.map((path) => new Option(path || "/")));
    input.value = value;
    dialog.returnValue = "";
    dialog.addEventListener("close", () => {
      const answer = dialog.returnValue === "ok" ? input.value.trim() : "";
      resolve(answer || null);
    }, {once: true});
    dialog.showModal();
    input.focus();
    input.select();
  });
}

/** An upload's name is taken: answer {action: "rename" | "replace" | "skip", all} where all means
 *  the same for every later name that is taken. Escape skips this one. */
export function askClash(name, folder, more) {
  return new Promise((resolve) => {
    const dialog = $("clash-dialog");
    $("clash-text").textContent = `${folder ? `The folder ${folder}` : "This gallery's top folder"} already holds ` +
      `an image named ${name}. Keep both (the new one gets a number), replace the one there, or skip this file?`;
    $("clash-all").checked = false;
    $("clash-all-label").hidden = !more;
    dialog.returnValue = "";
    dialog.addEventListener("close", () => {
      resolve({action: dialog.returnValue || "skip", all: more && $("clash-all").checked});
    }, {once: true});
    dialog.showModal();
  });
}
