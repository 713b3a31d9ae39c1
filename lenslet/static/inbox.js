// Photos and videos shared to lenslet from another app (the manifest's share target): the service
// worker keeps them in this browser's IndexedDB until the page has uploaded them, so a share that
// arrives signed out survives the sign-in. Also where they go: a folder each person sets on this device.

const DB = "lenslet-shared";
const FILES = "files";

function opened() {
  return new Promise((resolve, reject) => {
    const asked = indexedDB.open(DB, 1);
    asked.onupgradeneeded = () => asked.result.createObjectStore(FILES, {autoIncrement: true});
    asked.onsuccess = () => resolve(asked.result);
    asked.onerror = () => reject(asked.error);
  });
}

async function inStore(mode, work) {
  const db = await opened();
  try {
    return await new Promise((resolve, reject) => {
      const done = db.transaction(FILES, mode);
      const answer = work(done.objectStore(FILES));
      done.oncomplete = () => resolve(answer.result);
      done.onerror = () => reject(done.error);
    });
  } finally {
    db.close();
  }
}

/** Keep the files shared until the page takes them. */
export function keepShared(files) {
  return inStore("readwrite", (store) => {
    for (const file of files) store.add(file);
    return store.count();
  });
}

/** The files shared and not yet uploaded. */
export function sharedFiles() {
  return inStore("readonly", (store) => store.getAll());
}

/** Forget the files shared, once the page has sent them. */
export function forgetShared() {
  return inStore("readwrite", (store) => store.clear());
}

const FOLDER_KEY = "lenslet.uploadFolder.";

/** Where shared photos go for this person on this device: theirs to set, else Inbox in their first folder. */
export function uploadFolder(me) {
  const set = localStorage.getItem(FOLDER_KEY + (me?.name || ""));
  if (set != null) return set;
  const first = me?.folders?.[0] || "";
  return first ? `${first}/Inbox` : "Inbox";
}

export function setUploadFolder(me, folder) {
  localStorage.setItem(FOLDER_KEY + (me?.name || ""), folder);
}
