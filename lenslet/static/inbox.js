// Photos and videos shared to lenslet from another app (the manifest's share target): the service
// worker keeps one share's files in this browser's IndexedDB, and the next page opened takes them and
// shows them to send or discard, so a share that arrives signed out survives the sign-in and nothing
// is sent unasked. Also where they go: a folder each person sets on this device.

const DB = "lenslet-shared";
const FILES = "files";

function opened() {
  return new Promise((resolve, reject) => {
    const asked = indexedDB.open(DB, 1);
    asked.onupgradeneeded = () => asked.result.createObjectStore(FILES, {autoIncrement: true});
    asked.onsuccess = () => {
      asked.result.onversionchange = () => asked.result.close();  // never blocks the browser clearing the site
      resolve(asked.result);
    };
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
      done.onabort = () => reject(done.error || new Error("the browser closed its store"));  // an answer, never a hang
    });
  } finally {
    db.close();
  }
}

// What one share may leave in the browser: another site's form can post here too, again and again.
export const MOST_FILES = 100;
export const MOST_BYTES = 1024 ** 3;

/** Keep the files of one share in place of any kept before; answer false, keeping nothing, past the bounds. */
export async function keepShared(files) {
  if (files.length > MOST_FILES || files.reduce((sum, file) => sum + file.size, 0) > MOST_BYTES) {
    await forgetShared();
    return false;
  }
  await inStore("readwrite", (store) => {
    store.clear();
    for (const file of files) store.add(file);
    return store.count();
  });
  return true;
}

/** Take the files kept: the browser forgets them, and what the page does not send is gone. */
export async function takeShared() {
  const kept = await inStore("readwrite", (store) => {
    const files = store.getAll();
    store.clear();
    return files;
  });
  return kept.filter((file) => file instanceof File);  // anything else in the store is no share
}

function forgetShared() {
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
