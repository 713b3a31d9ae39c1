// The gallery page: folders, the grid, search, selection, upload, trash, and moving and renaming.
// The URL hash (#path=&q=&view=) says where the person is, so links and the back button work.

import {ApiError, enc, getJSON, isReadonly, loadThumb, onReadonly, postJSON, request, setReadonly} from "./api.js";
import {ask, askClash} from "./dialogs.js";
import {focusOf, justify, ratioOf, tileFrom, wireLayouts} from "./grid.js";
import {Viewer, suggestTags} from "./viewer.js";

const $ = (id) => document.getElementById(id);
const TRASH = "_trash_";
const SEARCH_PAGE = 200;
const TRASH_BATCH = 100;  // images per POST /trash: few requests, and progress to show between them

// --- where we are -------------------------------------------------------------------------

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return {path: params.get("path") || "", q: params.get("q"), view: params.get("view")};
}

function hashOf({path, q, view}) {
  const params = new URLSearchParams();
  if (path) params.set("path", path);
  if (q != null) params.set("q", q);
  if (view) params.set("view", view);
  return "#" + params.toString();
}

/** Go to a place; replace=true changes the current history entry instead of adding one. */
function go(place, replace = false) {
  const hash = hashOf(place);
  if (hash === location.hash || (hash === "#" && !location.hash)) return;
  if (replace) {
    history.replaceState(null, "", hash);
    route();
  } else {
    location.hash = hash;
  }
}

const nameOf = (path) => path.split("/").pop() || "All photos";
const folderOf = (path) => path.split("/").slice(0, -1).join("/");
const joined = (folder, name) => (folder ? `${folder}/${name}` : name);
const inTrash = (path) => path === TRASH || path.startsWith(TRASH + "/");

function say(text) {
  $("status").textContent = text;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { $("status").textContent = ""; }, 6000);
}

const keyOf = (place) => (place.q != null ? `q:${place.path}:${place.q}` : `f:${place.path}`);
let noticeKey = null;

/** Say what went wrong with an action on the grid, with buttons [label, action] for what can be
 *  done about it; it stays until the next action or until the person leaves this listing. */
function notice(text, ...actions) {
  noticeAt(readHash(), text, ...actions);
}

/** notice(), for the listing of place (where the page is about to go). */
function noticeAt(place, text, ...actions) {
  noticeKey = keyOf(place);
  $("notice").replaceChildren(text, ...actions.map(([label, action]) => {
    const button = Object.assign(document.createElement("button"), {type: "button", textContent: label});
    button.addEventListener("click", action);
    return button;
  }));
}

function clearNotice() {
  $("notice").replaceChildren();
}

// --- the listing: a folder's manifest pages or search results --------------------------------

let listing = null;
const selected = new Set();
let lastPicked = -1;

async function route() {
  const place = readHash();
  const key = keyOf(place);
  if (!listing || listing.key !== key) await openListing(place, key);
  if (place.view) viewer.open(place.view);
  else if (viewer.path) closeViewer();
}

async function openListing(place, key) {
  const searching = place.q != null;
  if (key !== noticeKey) clearNotice();
  listing = {key, path: place.path, q: place.q, items: [], page: 0, pageCount: 1, total: null, loading: false};
  selected.clear();
  lastPicked = -1;
  updateSelection();
  thumbs.forEach((unload) => unload());
  thumbs.clear();
  $("grid").replaceChildren();
  $("empty").hidden = true;
  $("search").value = place.q || "";
  $("title").textContent = searching ? `Search: ${place.q || "everything"}` : place.path === TRASH ? "Trash" : nameOf(place.path);
  $("count").textContent = "";
  document.title = `${$("title").textContent} - lenslet`;
  crumbs(place.path, searching);
  markTree(place.path);
  document.body.classList.toggle("in-trash", inTrash(place.path) && !searching);
  $("folder-move").hidden = searching || !place.path || inTrash(place.path);
  $("new-folder").hidden = searching || inTrash(place.path);
  await loadMore();
}

async function loadMore() {
  const current = listing;
  if (current.loading || current.page >= current.pageCount) return;
  current.loading = true;
  try {
    let items;
    if (current.q != null) {
      const found = await getJSON(`/search?q=${enc(current.q)}&path=${enc(current.path)}&limit=${SEARCH_PAGE}` +
        `&offset=${current.items.length}`);
      items = found.items;
      current.total = found.total;
      current.page = current.items.length + items.length >= found.total ? 1 : 0;
    } else {
      const manifest = await getJSON(`/folders?path=${enc(current.path)}&page=${current.page}`);
      if (current.page === 0) showFolders(manifest.dirs);
      items = manifest.items;
      current.total = manifest.total ?? manifest.items.length;
      current.pageCount = manifest.pageCount;
      current.page += 1;
      folderCount(current.path, current.total);
    }
    if (current !== listing) return;
    const start = current.items.length;
    current.items.push(...items);
    $("grid").append(...items.map((item, at) => imageTile(item, start + at)));
    justify();
    // A folder of folders says nothing rather than "0 images".
    const onlyFolders = !current.total && current.q == null && $("grid").children.length > 0;
    $("count").textContent = onlyFolders ? "" : countText(current.total, current.q != null);
    $("empty").hidden = current.items.length > 0 || $("grid").children.length > 0;
    if (!$("empty").hidden) explainEmpty(current);
  } catch (ex) {
    if (current !== listing) return;
    $("empty").hidden = false;
    $("empty").replaceChildren(ex.status === 404 ? "There is no such folder." : `This cannot be shown: ${ex.message}`);
    current.page = current.pageCount;  // stop asking
  } finally {
    current.loading = false;
  }
  // A short page may leave the sentinel in view: keep going until it is not.
  if (current === listing && current.page < current.pageCount && nearEnd()) loadMore();
}

let served = null;  // GET /health's storage: which folder (or bucket) this gallery shows

/** Say why nothing is shown, and for an empty gallery which folder it shows and how to add photos. */
function explainEmpty(current) {
  const lines = [];
  const addable = !isReadonly() && !inTrash(current.path);
  if (current.q != null) {
    lines.push("Nothing matches.");
  } else if (current.path) {
    lines.push(inTrash(current.path) ? "The trash is empty." : "No images in this folder yet.");
    if (addable) lines.push("Drop photos anywhere on this page, or use Upload, to add them here.");
  } else {
    const where = served?.name ? `${served.backend === "s3" ? "the bucket folder" : "the folder"} \u201c${served.name}\u201d`
      : "its folder";
    lines.push(`This gallery shows ${where} on the server, and there are no images in it yet.`);
    lines.push((addable ? "Drop photos anywhere on this page or use Upload, or copy" : "Copy") +
      " photos (JPEG, PNG, WebP, AVIF, GIF, HEIC, camera raw files) into that folder: they appear here within seconds, with their subfolders.");
    lines.push(isReadonly() ? "This gallery is read-only: lenslet writes nothing into that folder." :
      "lenslet writes a few files of its own beside them: a small thumbnail per image " +
      "(photo.jpg.thumbnail), a listing per folder (_index.json) and, once you tag or rate a photo, " +
      "its sidecar (photo.jpg.json). \u201clenslet clean\u201d removes them all again, keeping your tags.");
  }
  $("empty").replaceChildren(...lines.map((line) => Object.assign(document.createElement("p"), {textContent: line})));
}

const countText = (total, searching) => `${total} ${total === 1 ? "image" : "images"}${searching ? " found" : ""}`;

function nearEnd() {
  return $("more").getBoundingClientRect().top < innerHeight + 800;
}

new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting) && listing) loadMore();
}, {rootMargin: "800px"}).observe($("more"));

function showFolders(dirs) {
  const tiles = dirs.map((dir) => {
    const path = listing.path ? `${listing.path}/${dir.name}` : dir.name;
    const tile = document.createElement("a");
    tile.className = "tile folder";
    tile.href = hashOf({path});
    tile.setAttribute("role", "listitem");
    tile.dataset.folder = path;
    const label = document.createElement("span");
    label.className = "name";
    label.textContent = path === TRASH ? "Trash" : dir.name;
    const count = document.createElement("span");
    count.className = "count";
    tile.append(folderIcon(), label, count);
    return tile;
  });
  const rowsBreak = Object.assign(document.createElement("span"), {className: "rows-break"});  // "Rows": photos start a row
  rowsBreak.setAttribute("aria-hidden", "true");
  $("grid").prepend(...tiles, ...(tiles.length ? [rowsBreak] : []));
  countFolders(tiles.map((tile) => tile.dataset.folder));
}

function folderIcon() {
  const icon = document.createElement("span");
  icon.className = "folder-icon";
  icon.setAttribute("aria-hidden", "true");
  return icon;
}

// Folder counts: a subfolder's first manifest page says how many images it holds.
const counts = new Map();

async function countFolders(paths) {
  for (const path of paths.slice(0, 60)) {
    if (!counts.has(path)) {
      try {
        folderCount(path, (await getJSON(`/folders?path=${enc(path)}`)).total);
      } catch (ex) {
        continue;
      }
    } else {
      folderCount(path, counts.get(path));
    }
  }
}

function folderCount(path, total) {
  if (total == null) return;
  counts.set(path, total);
  document.querySelectorAll(`[data-folder="${CSS.escape(path)}"] > .count`).forEach((node) => {
    node.textContent = String(total);
    node.setAttribute("aria-label", countText(total, false));
  });
}

// --- image tiles ----------------------------------------------------------------------------

const thumbs = new Map();  // tile -> unload(): only tiles near the screen hold a thumbnail

const nearScreen = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const tile = entry.target;
    if (entry.isIntersecting && !thumbs.has(tile)) {
      thumbs.set(tile, loadThumb(tile.querySelector("img"), tile.dataset.path));
    } else if (!entry.isIntersecting && thumbs.has(tile)) {
      thumbs.get(tile)();
      thumbs.delete(tile);
    }
  }
}, {rootMargin: "600px"});

function imageTile(item, index) {
  const tile = document.createElement("div");
  tile.className = "tile image";
  tile.setAttribute("role", "listitem");
  tile.dataset.path = item.path;
  tile.dataset.index = index;
  tile.style.setProperty("--ratio", ratioOf(item).toFixed(4));  // the justified rows keep the photo's shape
  const folder = listing.q != null ? folderOf(item.path) : null;  // search results say where each one is
  const open = document.createElement("button");
  open.type = "button";
  open.className = "open";
  open.setAttribute("aria-label", item.name);
  open.title = folder != null ? item.path : item.name;  // the whole name, however the caption cuts it
  const img = document.createElement("img");
  img.alt = "";
  img.decoding = "async";
  open.append(img);
  const pick = document.createElement("input");
  pick.type = "checkbox";
  pick.className = "pick edit";
  pick.tabIndex = -1;  // one Tab stop per tile: Space on the tile selects it
  pick.setAttribute("aria-label", `Select ${item.name}`);
  const caption = document.createElement("span");
  caption.className = "caption";
  caption.append(Object.assign(document.createElement("span"), {className: "name", textContent: item.name, title: item.name}));
  caption.append(Object.assign(document.createElement("span"), {className: "rating", textContent: starsText(item.star)}));
  if (folder != null) {
    caption.append(Object.assign(document.createElement("span"), {
      className: "where", textContent: folder === "" ? "All photos" : folder === TRASH ? "Trash" : folder,
      title: `in ${folder || "All photos"}`}));
  }
  tile.append(open, pick, caption);
  nearScreen.observe(tile);
  return tile;
}

const starsText = (star) => (star ? "\u2605".repeat(star) : "");

function tileOf(path) {
  return $("grid").querySelector(`.tile.image[data-path="${CSS.escape(path)}"]`);
}

$("grid").addEventListener("click", (event) => {
  const tile = event.target.closest(".tile.image");
  if (!tile) return;
  const index = Number(tile.dataset.index);
  if (event.target.classList.contains("pick")) {
    pick(index, event.shiftKey ? "range" : "toggle", event.target.checked);
  } else if (event.target.closest(".open")) {
    if (event.shiftKey && !isReadonly()) pick(index, "range", true);
    else if ((event.ctrlKey || event.metaKey) && !isReadonly()) pick(index, "toggle", !selected.has(tile.dataset.path));
    else go({...readHash(), view: tile.dataset.path});
  }
});

// The keyboard in the grid: arrows move between tiles, Space selects, Escape clears the selection.
$("grid").addEventListener("keydown", (event) => {
  const tile = event.target.closest(".tile");
  if (!tile || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === " " && tile.classList.contains("image")) {
    if (!isReadonly()) pick(Number(tile.dataset.index), event.shiftKey ? "range" : "toggle", !selected.has(tile.dataset.path));
    event.preventDefault();
    return;
  }
  const next = tileFrom(tile, event.key);
  if (next === null && !["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(event.key)) return;
  event.preventDefault();
  if (next) {
    focusOf(next).focus();
    if (event.key === "ArrowDown" || event.key === "End") loadMore();  // the next page, before the end is reached
  }
});

addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !selected.size || document.querySelector("dialog[open]")) return;
  selected.clear();
  updateSelection();
  say("Selection cleared.");
});

// --- selection ------------------------------------------------------------------------------

function pick(index, how, on) {
  const items = listing.items;
  const from = how === "range" && lastPicked >= 0 ? Math.min(lastPicked, index) : index;
  const to = how === "range" && lastPicked >= 0 ? Math.max(lastPicked, index) : index;
  for (let at = from; at <= to; at++) {
    if (on) selected.add(items[at].path);
    else selected.delete(items[at].path);
  }
  lastPicked = index;
  updateSelection();
}

function updateSelection() {
  for (const tile of $("grid").querySelectorAll(".tile.image")) {
    const on = selected.has(tile.dataset.path);
    tile.classList.toggle("selected", on);
    tile.querySelector(".pick").checked = on;
  }
  $("selection-bar").hidden = selected.size === 0 || isReadonly();
  $("selection-count").textContent = `${selected.size} selected`;
  const trash = listing && inTrash(listing.path) && listing.q == null;
  $("trash-button").hidden = trash;
  $("restore-button").hidden = !trash;
  $("delete-button").hidden = !trash;
}

$("clear-selection").addEventListener("click", () => { selected.clear(); updateSelection(); });

$("bulk-tag-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const tag = $("bulk-tag").value.trim();
  if (!tag) return;
  tagSelected([...selected], tag).then((done) => { if (done) $("bulk-tag").value = ""; });
});
$("bulk-tag").addEventListener("input", () => suggestTags($("bulk-tag").value));

const trash = (paths) => postJSON("/trash", {paths});

/** POST /restore: back to the sidecar's originalPosition, recreating its folder if it is gone.
 *  conflict "rename" keeps both when another image has taken the name meanwhile. */
const restore = (path, conflict) => postJSON("/restore", conflict ? {paths: [path], conflict} : {paths: [path]});

/** A restore refused because the name is taken now: the one refusal the API lets the person answer. */
const nameTaken = (ex) => ex instanceof ApiError && ex.status === 409 && ex.body?.title === "Already exists";

const where = (ex) => (ex.body?.path ? ` (${ex.body.path})` : "");

$("trash-button").addEventListener("click", () => trashSelected([...selected]));
$("move-button").addEventListener("click", () => moveSelected([...selected]));
$("restore-button").addEventListener("click", () => restoreSelected([...selected]));
$("delete-button").addEventListener("click", async () => {
  const paths = [...selected];
  if (!confirm(`Delete ${paths.length} ${paths.length === 1 ? "image" : "images"} forever?`)) return;
  clearNotice();
  try {
    await postJSON("/delete", {paths});
    say(`Deleted ${paths.length}.`);
  } catch (ex) {
    notice(`Not deleted: ${ex.message}${where(ex)}`);
  }
  refresh();
});

/** Tag each path in turn, saying how far it got; answer whether all were tagged. A refusal (a
 *  read-only pointer folder, say) stops here and says so: the tag typed stays for another try. */
async function tagSelected(paths, tag) {
  clearNotice();
  for (const [at, path] of paths.entries()) {
    say(`Tagging with ${tag}: ${at + 1} of ${paths.length}`);
    try {
      // addTags merges on the server, so no If-Match is needed: nobody's edit is lost.
      const item = await (await request("PATCH", `/item?path=${enc(path)}`, {json: {addTags: [tag]}})).json();
      changed({...item, path});
    } catch (ex) {
      notice(`Tagging with ${tag} stopped at ${nameOf(path)}: ${ex.message}`);
      return false;
    }
  }
  say(`Tagged ${paths.length} with ${tag}.`);
  return true;
}

async function trashSelected(paths) {
  clearNotice();
  let done = 0;
  try {
    for (let at = 0; at < paths.length; at += TRASH_BATCH) {
      say(`Moving to trash: ${at + 1} of ${paths.length}`);
      done += (await trash(paths.slice(at, at + TRASH_BATCH))).paths.length;
    }
    say(`Moved ${done} to the trash.`);
  } catch (ex) {
    notice(`Moving to trash stopped: ${ex.message}${where(ex)}`);
  }
  refresh();
}

/** Restore one image at a time: a refusal names its image and can be answered for the rest. */
async function restoreSelected(paths, conflict) {
  clearNotice();
  for (const [at, path] of paths.entries()) {
    say(`Restoring: ${at + 1} of ${paths.length}`);
    try {
      await restore(path, conflict);
    } catch (ex) {
      const rest = paths.slice(at);
      const text = `${nameOf(path)} was not restored: ${ex.message}${where(ex)}`;
      if (nameTaken(ex)) notice(text, [rest.length > 1 ? "Restore these under new names" : "Restore under a new name",
        () => restoreSelected(rest, "rename")]);
      else notice(text);
      refresh();
      return;
    }
  }
  say(`Restored ${paths.length}.`);
  refresh();
}

/** Move images into a folder the person names (made when it is not there yet). */
async function moveSelected(paths) {
  const dest = await ask({title: `Move ${paths.length} ${paths.length === 1 ? "image" : "images"}`, label: "To the folder",
    value: listing?.q == null ? listing?.path || "" : "", ok: "Move", folders: knownFolders(),
    hint: "A folder path such as 2024/summer; a folder that does not exist yet is made."});
  if (dest == null) return;
  const folder = dest.replace(/^\/+|\/+$/g, "");
  clearNotice();
  try {
    if (folder && !knownFolders().includes(folder)) await makeFolders(folder);
    const done = await postJSON("/move", {src: paths, dest: folder});
    say(`Moved ${done.paths.length} to ${folder || "All photos"}.`);
  } catch (ex) {
    notice(`Moving stopped: ${ex.message}${where(ex)}`);
  }
  refresh(true);
}

/** Make a folder and any of its parents that are missing. */
async function makeFolders(folder) {
  const parts = folder.split("/");
  for (let depth = 1; depth <= parts.length; depth++) {
    try {
      await postJSON("/folder", {path: parts.slice(0, depth).join("/")});
    } catch (ex) {
      if (!(ex instanceof ApiError && ex.status === 409)) throw ex;  // there already
    }
  }
}

/** The folders the page knows of (the tree as opened so far, and this listing's subfolders). */
function knownFolders() {
  const found = new Set([...document.querySelectorAll("[data-folder]")].map((node) => node.dataset.folder));
  return [...found].filter((path) => !inTrash(path)).sort();
}

$("new-folder").addEventListener("click", async () => {
  const parent = listing?.q == null ? listing?.path || "" : "";
  const name = await ask({title: "New folder", label: `Name of the new folder in ${parent || "All photos"}`, ok: "Create",
    hint: "A slash makes folders inside folders: trips/2024."});
  if (name == null) return;
  const path = joined(parent, name.replace(/^\/+|\/+$/g, ""));
  clearNotice();
  try {
    await makeFolders(path);
    say(`Made the folder ${path}.`);
    go({path});
    refreshTree();
  } catch (ex) {
    notice(`The folder was not made: ${ex.message}${where(ex)}`);
  }
});

$("folder-move").addEventListener("click", async () => {
  const path = listing.path;
  const to = await ask({title: `Rename or move ${nameOf(path)}`, label: "New path of the folder", value: path,
    ok: "Rename or move", folders: knownFolders(), hint: "Change its name, or the folders before it to move it (with everything in it)."});
  if (to == null) return;
  const target = to.replace(/^\/+|\/+$/g, "");
  if (target === path) return;
  clearNotice();
  try {
    if (folderOf(target) && !knownFolders().includes(folderOf(target))) await makeFolders(folderOf(target));
    await postJSON("/move", {src: path, to: target});
    say(`Moved ${path} to ${target}.`);
    counts.clear();
    go({path: target});
    refreshTree();
  } catch (ex) {
    notice(`The folder was not moved: ${ex.message}${where(ex)}`);
  }
});

/** The viewer's rename: a new name or path for one image. */
async function renameImage(path) {
  const to = await ask({title: `Rename or move ${nameOf(path)}`, label: "New path of the image", value: path,
    ok: "Rename or move", folders: knownFolders(), hint: "Its sidecar and thumbnail go with it."});
  if (to == null) return;
  const target = to.replace(/^\/+/, "");
  if (target === path) return;
  try {
    if (folderOf(target) && !knownFolders().includes(folderOf(target))) await makeFolders(folderOf(target));
    const done = await postJSON("/move", {src: path, to: target});
    say(`Renamed to ${done.path}.`);
    if (listing) listing.key = null;  // the listing changed: read again, then show the image at its new path
    go({...readHash(), view: done.path}, true);
  } catch (ex) {
    viewer.message(`Not renamed: ${ex.message}${where(ex)}`);
  }
}

/** Read the listing again; withTree: the folder tree too (a folder appeared, moved or went). */
function refresh(withTree = false) {
  if (listing) listing.key = null;
  counts.clear();
  if (withTree) refreshTree();
  route();
}

/** Build the folder tree again, open down to the current folder. */
function refreshTree() {
  $("tree").replaceChildren(rootNode());
  markTree(readHash().path);
}

// --- upload ---------------------------------------------------------------------------------

const IMAGE_NAME = /\.(jpe?g|png|webp|avif|gif|heic|heif|dng|cr2|nef|arw|orf|rw2|raf|pef)$/i;
const isImageFile = (file) => IMAGE_NAME.test(file.name) || /^image\/(jpeg|png|webp|avif|gif|heic|heif)$/.test(file.type);

/** Upload files one by one into the folder shown; a name that is taken asks what to do (keep both,
 *  replace, skip; for one or all), and what is not an image, or is refused, is said by name. */
async function upload(files) {
  if (isReadonly() || !files.length) return;
  const chosen = [...files];
  const images = chosen.filter(isImageFile);
  const problems = chosen.filter((file) => !isImageFile(file))
    .map((file) => `${file.name} is not an image lenslet shows (JPEG, PNG, WebP, AVIF, GIF, HEIC or a camera's ` +
      "raw file): not uploaded.");
  const folder = listing && listing.q == null && !inTrash(listing.path) ? listing.path : "";
  let done = 0;
  let skipped = 0;
  let always = null;  // the answer given "for every name that is taken"
  for (const [at, file] of images.entries()) {
    say(`Uploading ${at + 1} of ${images.length}: ${file.name}`);
    let conflict = null;
    for (;;) {
      try {
        await sendFile(file, folder, conflict);
        done++;
      } catch (ex) {
        if (nameTaken(ex) && conflict == null) {
          const answer = always || await askClash(file.name, folder, at < images.length - 1);
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
  say(`Uploaded ${done} ${done === 1 ? "image" : "images"}${skipped ? `, skipped ${skipped}` : ""}.`);
  const place = {path: folder};
  if (readHash().path !== folder || readHash().q != null) go(place);
  else refresh();
  if (problems.length) noticeAt(place, problems.join(" "));
}

function sendFile(file, folder, conflict) {
  const form = new FormData();
  form.append("dest", "/" + folder);
  if (conflict) form.append("conflict", conflict);
  form.append("file", file, file.name);
  return request("POST", "/file", {form});
}

$("upload-button").addEventListener("click", () => $("upload-input").click());
$("upload-input").addEventListener("change", () => {
  upload($("upload-input").files);
  $("upload-input").value = "";
});

let dragDepth = 0;
const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
addEventListener("dragenter", (event) => {
  if (!carriesFiles(event) || isReadonly()) return;
  dragDepth++;
  $("drop-hint").hidden = false;
});
addEventListener("dragleave", () => { if (--dragDepth <= 0) { dragDepth = 0; $("drop-hint").hidden = true; } });
addEventListener("dragover", (event) => { if (carriesFiles(event)) event.preventDefault(); });
addEventListener("drop", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  $("drop-hint").hidden = true;
  upload(event.dataTransfer.files);
});

// --- breadcrumbs and the folder tree --------------------------------------------------------

function crumbs(path, searching) {
  const parts = path ? path.split("/") : [];
  const links = [["All photos", ""], ...parts.map((part, at) => [part === TRASH ? "Trash" : part, parts.slice(0, at + 1).join("/")])];
  const list = document.createElement("ol");
  links.forEach(([label, to], at) => {
    const item = document.createElement("li");
    const link = Object.assign(document.createElement("a"), {href: hashOf({path: to}), textContent: label});
    if (at === links.length - 1 && !searching) link.setAttribute("aria-current", "page");
    item.append(link);
    list.append(item);
  });
  $("crumbs").replaceChildren(list);
}

function treeNode(path, kind) {
  const node = document.createElement("li");
  node.dataset.folder = path;
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "twisty";
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-label", `Show folders in ${nameOf(path)}`);
  toggle.hidden = kind === "leaf-real";
  toggle.addEventListener("click", () => expand(node, toggle.getAttribute("aria-expanded") !== "true"));
  const link = Object.assign(document.createElement("a"), {href: hashOf({path}), textContent: path === TRASH ? "Trash" : nameOf(path)});
  const count = Object.assign(document.createElement("span"), {className: "count"});
  if (counts.has(path)) count.textContent = String(counts.get(path));
  node.append(toggle, link, count, document.createElement("ul"));
  return node;
}

async function expand(node, open) {
  const toggle = node.querySelector(":scope > .twisty");
  const children = node.querySelector(":scope > ul");
  toggle.setAttribute("aria-expanded", String(open));
  children.hidden = !open;
  if (!open || node.dataset.loaded) return;
  node.dataset.loaded = "1";
  try {
    const path = node.dataset.folder;
    const manifest = await getJSON(`/folders?path=${enc(path)}`);
    folderCount(path, manifest.total);
    children.replaceChildren(...manifest.dirs.map((dir) => treeNode(path ? `${path}/${dir.name}` : dir.name, dir.kind)));
    toggle.hidden = manifest.dirs.length === 0;
  } catch (ex) {
    delete node.dataset.loaded;
  }
}

/** Open the tree down to path and mark it as the current folder. */
async function markTree(path) {
  const parts = path ? path.split("/") : [];
  let node = $("tree").firstElementChild;
  for (let depth = 0; node && depth <= parts.length; depth++) {
    if (depth < parts.length) await expand(node, true);
    const want = parts.slice(0, depth + 1).join("/");
    if (depth < parts.length) node = node.querySelector(`:scope > ul > li[data-folder="${CSS.escape(want)}"]`);
  }
  $("tree").querySelectorAll("[aria-current]").forEach((link) => link.removeAttribute("aria-current"));
  $("tree").querySelector(`li[data-folder="${CSS.escape(path)}"] > a`)?.setAttribute("aria-current", "page");
}

$("folders-toggle").addEventListener("click", () => {
  const open = document.body.classList.toggle("folders-open");
  $("folders-toggle").setAttribute("aria-expanded", String(open));
});
$("sidebar").addEventListener("click", (event) => {
  if (event.target.closest("a")) document.body.classList.remove("folders-open");
});

// --- search ---------------------------------------------------------------------------------

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const q = $("search").value.trim();
  const path = listing && listing.q == null ? listing.path : readHash().path;
  if (q) go({path: inTrash(path) ? "" : path, q});
  else go({path});
});

let suggesting = 0;
$("search").addEventListener("input", async () => {
  const asked = ++suggesting;
  const words = $("search").value.split(/\s+/);
  const last = words.pop();
  if (!last) return;
  try {
    const found = await getJSON(`/search/suggest?q=${enc(last)}`);
    if (asked !== suggesting) return;
    const lead = words.length ? words.join(" ") + " " : "";
    const options = [...found.tags.map(({tag, count}) => [tag, count]), ...found.words.map(({word, count}) => [word, count])];
    $("search-suggestions").replaceChildren(...options.map(([text, count]) => new Option(`${text} (${count})`, lead + text)));
  } catch (ex) {
    // no suggestions then
  }
});

// --- the viewer -----------------------------------------------------------------------------

let returnFocus = null;

const viewer = new Viewer({
  neighbour(path, step) {
    const at = listing ? listing.items.findIndex((item) => item.path === path) : -1;
    if (at < 0) return null;
    const next = listing.items[at + step];
    if (!next && step > 0 && listing.page < listing.pageCount) loadMore();
    return next ? next.path : null;
  },
  show(path) { go({...readHash(), view: path}, true); },
  close() { go({...readHash(), view: null}); },
  changed,
  trash: trashOrRestore,
  rename: renameImage,
  say,
});

/** The viewer's trash button (it restores an image that is in the trash); then the next image is shown,
 *  or the one before when it was the last. */
async function trashOrRestore(path, conflict) {
  const restoring = inTrash(path);
  const next = viewer.neighbour(path, 1) || viewer.neighbour(path, -1);
  try {
    await (restoring ? restore(path, conflict) : trash([path]));
    say(restoring ? "Restored." : "Moved to trash.");
    if (listing) listing.key = null;  // read the listing again without it, then show the next one
    go({...readHash(), view: next}, true);
  } catch (ex) {
    const text = `${restoring ? "Not restored" : "Not moved to the trash"}: ${ex.message}${where(ex)}`;
    if (restoring && nameTaken(ex)) viewer.offer(text, "Restore under a new name", () => trashOrRestore(path, "rename"));
    else viewer.message(text);
  }
}

function closeViewer() {
  viewer.close();
  const tile = returnFocus && tileOf(returnFocus);
  tile?.querySelector(".open").focus();
}

$("viewer").addEventListener("close", () => { if (viewer.path) go({...readHash(), view: null}); });
addEventListener("hashchange", () => {
  const {view} = readHash();
  if (view) returnFocus = view;
  route();
});

/** An item was edited: show its new star in the grid. */
function changed(item) {
  const known = listing?.items.find((entry) => entry.path === item.path);
  if (known) Object.assign(known, {star: item.star, tags: item.tags, notes: item.notes});
  const tile = tileOf(item.path);
  if (tile) tile.querySelector(".rating").textContent = starsText(item.star);
}

// --- start ----------------------------------------------------------------------------------

onReadonly(() => {
  document.body.classList.add("readonly");
  updateSelection();
  say("This gallery is read-only: editing is off.");
});

async function start() {
  // Read-only mode comes from here alone (LENSLET_READONLY); a 403 refuses its one action only.
  let health;
  try {
    health = await getJSON("/health");
  } catch (ex) {
    health = ex.body;  // degraded storage answers 503 with the same report
  }
  if (health?.readonly === true) setReadonly();
  served = health?.storage || null;
  wireLayouts();
  $("tree").replaceChildren(rootNode());
  await route();
}

function rootNode() {
  const root = treeNode("", "branch");
  root.querySelector("a").textContent = "All photos";
  root.querySelector(".count").remove();  // the root's own images are few; its total would mislead
  return root;
}

start();
