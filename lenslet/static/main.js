// The gallery page: the one module that does something when loaded. It finds each part's root
// element, reads the server's rules and read-only mode from GET /health, and wires the parts
// (router, listing, sort and filter controls, tree, selection, upload, search, viewer) to one another.
// What the first look at a folder does not draw (the viewer, the timeline, the map, the rarer dialogs) is
// imported when first used, so a phone evaluates only the folder's modules at the start.

import {Actions} from "./actions.js";
import {Albums} from "./albums.js";
import {Api, enc} from "./api.js";
import {FolderCounts} from "./counts.js";
import {Dialogs} from "./dialogs.js";
import {MOST_BYTES, MOST_FILES, setUploadFolder, takeShared, uploadFolder} from "./inbox.js";
import {DRAGGED, firstPageURL, Listing} from "./listing.js";
import {wireMenus} from "./menus.js";
import {Messages} from "./messages.js";
import {Rules} from "./rules.js";
import {AppPasswordsDialog, PasswordDialog, People, PeopleDialog} from "./people.js";
import {hashOf, isStartPage, keyOf, readHash, Router} from "./router.js";
import {SearchBox, TagSuggestions} from "./search.js";
import {Selection} from "./selection.js";
import {passwordAsker, ShareDialog, takeShareKey} from "./share.js";
import {askedIn, askedOf, rememberedSort, SortControls} from "./sorting.js";
import {FolderTree} from "./tree.js";
import {Upload} from "./upload.js";

/** A part of the page made at its first use: make()'s promise, kept (forgotten on failure, so tried again). */
function once(make) {
  let made = null;
  return () => (made ??= make().catch((ex) => { made = null; throw ex; }));
}

async function start() {
  const $ = (id) => document.getElementById(id);
  // The page's own files kept for a fast start and an answer offline; photos shared to lenslet (sw.js).
  navigator.serviceWorker?.register("/static/sw.js", {scope: "/", type: "module"}).catch(() => {});
  const sharedIn = new URLSearchParams(location.search).get("shared");  // the service worker's redirect
  if (sharedIn != null) history.replaceState(null, "", location.pathname + location.hash);
  const api = new Api($("token-dialog"));
  // A share link's page (/s#<key>): read-only, its folder or image alone, the key sent with every request.
  const shared = Boolean(takeShareKey(api, location, history));
  document.body.classList.toggle("shared", shared);
  // The listing and the image the address names are asked for now, beside who this is and /health, not after them.
  const named = readHash(location.hash);
  const listed = firstPageURL(named, askedOf(named, rememberedSort()));
  if (listed && !shared) api.prefetch(listed);
  if (named.view && !shared) api.previewURL(named.view).catch(() => {});  // kept for the viewer (api.previews)
  // The viewer, for the image the link opens, fetched beside /me (with the module it imports, not after it).
  if (named.view) Promise.all([import("./viewer.js"), import("./faces.js")]).catch(() => {});
  // The map, for a link to it: its module, Leaflet and its first request, beside /me (Leaflet, map.js's LEAFLET,
  // fetched beside map.js rather than once map.js runs after this start: a round trip less on a phone).
  if (named.map != null && !shared) {
    import("/static/vendor/leaflet/leaflet.js").catch(() => {});
    import("./map.js").then((map) => map.prefetch(api, named)).catch(() => {});
  }
  // Files shared to lenslet, taken from the browser now: what this page does not send is gone (inbox.js).
  const arriving = shared ? Promise.resolve([]) : takeShared().catch(() => []);
  const dialogs = new Dialogs($("ask-dialog"), $("clash-dialog"), $("leave-dialog"));
  wireMenus(document);
  api.locked = passwordAsker(api, dialogs);
  // Who asks: the page signs in (or a share's password is typed) at the first 401. /health, asked beside /me, is
  // asked again when that changed who asks, so it answers what this one may know (an admin: the folder shown).
  const people = new People($("me"), {api, signedOut: () => location.reload()});
  // The rules and read-only mode (LENSLET_READONLY) come from /health alone; a 403 refuses its one action only.
  const readHealth = () => api.getJSON("/health").catch((ex) => ex.body);  // degraded storage: a 503, the same report
  const round = api.answers;
  const healthRead = readHealth();
  const me = await people.load();
  const health = await (api.answers === round ? healthRead : readHealth());
  const rules = new Rules(health?.rules);
  api.imageSettings = health?.imageSettings || null;
  if (health?.libraryReadonly === true) {
    api.libraryReadonly = true;
    document.body.classList.add("library-readonly");  // hides every .files control: upload, move, trash, delete
  }
  let returnFocus = null;  // the image opened from the grid: its tile takes the focus when the viewer closes

  const router = new Router(window, (place, replaced) => {
    if (place.view && !replaced) returnFocus = place.view;
    route();
  });
  const messages = new Messages($("status"), $("notice"), () => router.place());
  const sharer = new ShareDialog($("share-dialog"), {api});
  const peopleDialog = new PeopleDialog($("people-dialog"), {api, trash: rules.trash});
  $("people-button").addEventListener("click", () => peopleDialog.open());
  const passwordDialog = new PasswordDialog($("password-dialog"), {api, changed: () => messages.say(
    "Password changed: your other devices sign in again with the new one.")});
  $("password-button").addEventListener("click", () => passwordDialog.open(people.me.name));
  const appPasswords = new AppPasswordsDialog($("app-passwords-dialog"), {api});
  $("app-passwords-button").addEventListener("click", () => appPasswords.open());
  // Offered once GET /me/app-passwords answers: a person in the users file, and a gallery that takes changes.
  if (me?.kind === "user" && health?.readonly !== true) {
    appPasswords.offered().then((offered) => { $("app-passwords-button").hidden = !offered; });
  }
  $("upload-folder-setting").addEventListener("click", async () => {
    const folder = await dialogs.ask({title: "Where shared photos go", label: "Folder",
      value: uploadFolder(me), ok: "Keep", folders: actions.knownFolders(),
      hint: "Photos and videos shared to lenslet from another app on this device are uploaded here."});
    if (folder != null) setUploadFolder(me, folder.replace(/^\/+|\/+$/g, ""));
  });
  if (health?.readonly === true) $("password-button").hidden = true;  // nothing is changed here (LENSLET_READONLY)
  const duplicates = once(async () => {
    const dialog = new (await import("./duplicates.js")).DuplicatesDialog($("duplicates-dialog"), {api, trashed: () => refresh()});
    $("duplicates-dialog").addEventListener("close", () => dialog.forget());
    return dialog;
  });
  $("duplicates-button").addEventListener("click", async () => (await duplicates()).open());
  const similar = once(async () => {
    const dialog = new (await import("./similar.js")).SimilarDialog($("similar-dialog"), {api, trashed: () => refresh()});
    $("similar-dialog").addEventListener("close", () => dialog.forget());
    return dialog;
  });
  $("similar-button").addEventListener("click", async () => (await similar()).open());
  const faces = once(async () => new (await import("./faces.js")).FacesDialog($("faces-dialog"), {api,
    go: (place) => router.go(place), ask: (question) => dialogs.ask(question)}));
  $("faces-button").addEventListener("click", async () => (await faces()).open());
  $("filter-person").addEventListener("focus", async () => {
    (await import("./faces.js")).suggestPeople(api, $("person-suggestions"));
  });
  const tags = new TagSuggestions(api, $("tag-suggestions"));
  const suggestTags = (prefix) => tags.suggest(prefix);
  const counts = new FolderCounts([$("tree"), $("grid")], (path) => api.getJSON(`/folders?path=${enc(path)}`));
  // Tiles dragged onto a folder (in the tree, or a folder tile in the grid) move there.
  const drops = {
    dropping: (event) => [...(event.dataTransfer?.types || [])].includes(DRAGGED) && api.canChangeFiles(),
    dropped(folder, event) {
      let what;
      try {
        what = JSON.parse(event.dataTransfer.getData(DRAGGED));
      } catch (ex) {
        return;  // not what this page's tiles carry
      }
      actions.dropOnto(folder, what || {});
    },
  };
  const tree = new FolderTree($("sidebar"), $("folders-toggle"), {api, rules, counts, ...drops});

  const listing = new Listing($("content"), {
    api, rules, counts, served: health?.storage || null,
    view: (path) => router.go({...router.place(), view: path}),
    pick: (index, how, on) => selection.pick(index, how, on),
    picked: (path) => selection.has(path),
    chosen: () => selection.chosen(), selecting: () => selection.selecting, ...drops,
    newFolder: () => actions.newFolder(),
    moveFolder: (path) => actions.moveFolder(path),
    refused: (ex) => sorting.refused(ex), itemsShown: (items) => sorting.offer(items),
    source: (place, asked) => timeline?.source(place, asked) ?? albums.source(place) ?? places?.source(place) ?? null,
  });
  // The timeline and albums: other lists of images than a folder's (timeline.js, albums.js); the start page's
  // photos of this day in other years.
  let timeline = null, onThisDay = null;
  const loadTimeline = once(async () => {
    const {OnThisDay, Timeline} = await import("./timeline.js");
    timeline = new Timeline($("scrubber"), {api});
    onThisDay = new OnThisDay($("on-this-day"), {api, open: (path, day) => router.go({timeline: day, view: path})});
  });
  // The map: where the photos were taken, and a cluster's photos listed (map.js).
  let places = null;
  const loadMap = once(async () => {
    places = new (await import("./map.js")).MapView($("map"), $("crumbs"), {api, settings: health?.map,
      go: (place, replace) => router.go(place, replace)});
  });
  // A sort or filter chosen is a new place: the address keeps it for reload and the back button.
  const sorting = new SortControls($("content"), {rules,
    choose: (asked) => router.go({...router.place(), ...asked, view: null})});
  const actions = new Actions({api, rules, dialogs, messages, router, listing, counts,
    folderRoots: [$("tree"), $("grid")], refresh, refreshTree});
  const selection = new Selection($("selection-bar"), {api, listing, actions, suggestTags, selectButton: $("select-mode"),
    say: (text) => messages.say(text), shown: (count) => albums?.show(router.place(), count)});
  const albums = new Albums({list: $("album-list"), tools: $("album-tools"), bar: $("selection-bar")}, {
    api, dialogs, sharer, go: (place) => router.go(place), chosen: () => selection.chosen(),
    say: (text) => messages.say(text), reread: () => { listing.forget(); route(); }});
  // The folder listed, when it is one (not a search): where a search starts and uploads go.
  const folderListed = () => (listing.place?.q == null ? listing.place?.path : null);
  const search = new SearchBox($("search-form"), {api, search(q) {
    const path = folderListed() ?? router.place().path;
    const asked = askedIn(router.place());  // searching keeps the sort and filters, and so does leaving it
    router.go(q ? {...asked, path: rules.inTrash(path) ? "" : path, q} : {...asked, path});
  }});
  const upload = new Upload({button: $("upload-button"), input: $("upload-input"),
    folderButton: $("upload-folder-button"), folderInput: $("upload-folder-input"), hint: $("drop-hint"),
    panel: $("uploads")}, {
    api, rules, dialogs, say: (text) => messages.say(text),
    makeFolders: (path, under) => actions.makeFolders(path, under),
    folder() {
      const folder = folderListed();
      return folder != null && !rules.inTrash(folder) ? folder : "";
    },
    done(folder, problems) {
      const now = router.place();
      const place = now.path === folder && now.q == null ? {...now, view: null} : {path: folder};
      if (now.path !== folder || now.q != null) router.go(place);
      refresh();
      if (problems.length) messages.noticeAt(place, problems.join(" "));
    },
  });
  let viewer = null;  // made when an image is first opened
  const openViewer = once(async () => (viewer = new (await import("./viewer.js")).Viewer($("viewer"), {
    api, suggestTags,
    neighbour: (path, step) => listing.neighbour(path, step),
    show: (path) => router.go({...router.place(), view: path}, true),
    close: () => router.go({...router.place(), view: null}),
    changed: (item) => listing.changed(item),
    trash: (path) => actions.trashOrRestore(path, viewer),
    rename: (path) => actions.renameImage(path, viewer),
    say: (text) => messages.say(text),
    askLeave: (name) => dialogs.askLeave(name),
    stackOf: (path) => listing.stackOf(path),
  })));
  // Share the images picked (one, or several of one folder), else what the page shows: a folder's listing,
  // that folder. A search's results are no folder, and the folder searched in holds far more than they do.
  $("share-folder").addEventListener("click", () => {
    const picked = selection.chosen();
    const folderOf = (path) => path.split("/").slice(0, -1).join("/");
    if (picked.length === 1) return sharer.open(picked[0], "image");
    if (picked.length > 1 && new Set(picked.map(folderOf)).size === 1) return sharer.open(picked, "images");
    if (picked.length > 1) return messages.say("Images shared together are of one folder: pick them in one folder.");
    const folder = folderListed();
    if (folder != null) return sharer.open(folder, "folder");
    messages.say("Search results are not shared: pick images to share them, or open a folder to share the folder.");
  });
  $("download-zip").addEventListener("click", () => actions.downloadZip(selection.chosen()));
  $("view-share").addEventListener("click", () => { if (viewer?.path) sharer.open(viewer.path, "image"); });
  $("viewer").addEventListener("close", () => { if (viewer?.path) router.go({...router.place(), view: null}); });

  /** Show what the address names: its listing (read when it is another one), and the image open. */
  async function route() {
    let place = router.place();
    // Left another way (the back button, a link) with notes unsaved: asked too; staying names the image again.
    if (viewer?.path && place.view !== viewer.path && !await viewer.mayLeave()) {
      router.go({...place, view: viewer.path}, true);
      return;
    }
    place = router.place();
    const address = location.hash;
    // The timeline's and the map's places list what their module reads, and an image opens in the viewer's: each is
    // loaded first, awaited only then (a folder's listing is asked for at once, where the tree takes it; the map's
    // moves stay in order).
    const needed = [place.timeline != null && !timeline && loadTimeline(), place.map != null && !places && loadMap(),
      place.view != null && !viewer && openViewer()].filter(Boolean);
    if (needed.length) await Promise.all(needed);
    if (location.hash !== address) return;  // the address changed while a module came: its own route shows it
    const key = keyOf(place);
    listing.behind = place.view != null;  // the viewer over the grid: its photo first on a slow link
    // An image the address opens is shown while its folder is read, not once its grid is drawn.
    const early = place.view && listing.key !== key ? viewer : null;
    early?.open(place.view, true);
    if (listing.key !== key) {
      messages.showing(key);
      const asked = askedOf(place, rememberedSort());
      sorting.show(asked, key);
      const shown = listing.open(place, asked, key);
      selection.reset();
      search.show(place.q);
      tree.mark(place.path, listing.firstPageOf(place.path));
      document.body.classList.toggle("in-trash", rules.inTrash(place.path) && place.q == null);
      albums.show(place);
      timeline?.show(place, asked);
      places?.show(place);
      if (onThisDay || isStartPage(place)) loadTimeline().then(() => onThisDay.show(router.place()), () => {});
      await shown;
      if (place.timeline != null) timeline.follow();  // the month at the top, marked in the scrubber
    } else {
      places?.follow(place);  // another view of the same map: a link, or the back button
    }
    if (early) {
      early.listed();
    } else if (place.view) {
      viewer.open(place.view);
    } else if (viewer?.path) {
      viewer.close();
      if (returnFocus) listing.tileOf(returnFocus)?.querySelector(".open").focus();
    }
  }

  /** Read the folder tree and the counts again (after any operation: a folder may have appeared,
   *  moved or gone, the trash been made or emptied, and counts changed). */
  function refreshTree() {
    counts.clear();
    tree.refresh(router.place().path);
  }

  /** Read the listing, the tree and the counts again. */
  function refresh() {
    listing.forget();
    refreshTree();
    route();
  }

  api.onReadonly(() => {
    document.body.classList.add("readonly");
    selection.show();
    if (!shared) messages.say(people.canWrite() ? "This gallery is read-only: editing is off." : "You may look here, not change.");
  });
  if (shared) {
    api.setReadonly();
    if (!me?.share) {
      const empty = $("empty");
      empty.hidden = false;
      // A password not typed (the dialog cancelled) is not a dead link: say what opens it.
      empty.textContent = api.passwordDeclined
        ? "This share link needs its password: reload the page to type it."
        : "This share link has expired, was revoked, or is mistyped: it shows nothing.";
      $("title").textContent = api.passwordDeclined ? "Password needed" : "Nothing shared here";
      return;
    }
    if (me.share.upload) {  // guests add photos: Add photos, and nothing else when the link shows no photos
      const showPhotos = me.share.upload.showPhotos;
      const {GuestUpload} = await import("./guest.js");
      document.body.classList.add("takes-uploads");  // Add photos shown once it works
      new GuestUpload({button: $("guest-add"), input: $("guest-input"), panel: $("uploads")}, {api, rules, dialogs,
        say: (text) => messages.say(text), done: () => { if (showPhotos) refresh(); }});
      if (!showPhotos) {
        document.body.classList.add("upload-only");
        $("title").textContent = "Add your photos";
        Object.assign($("empty"), {hidden: false, textContent: "Pick photos and videos on this device: they are "
          + "added for the people who shared this link with you. The link shows no photos."});
        return;
      }
    }
    // Open what is shared; an image opens in the viewer over its folder. Without downloads, no original is offered.
    const {path, kind, album} = me.share;
    document.body.classList.toggle("no-download", me.share.allowDownload === false);
    // Without details, an original comes without its GPS position, or as its preview when it cannot be taken out.
    if (me.share.details === false) {
      Object.assign($("view-download"), {textContent: "Download (no place)", title: "Downloaded through this link, a "
        + "photo comes without the GPS position it holds; a file it cannot be taken out of (HEIC, raw, video) comes "
        + "as its large preview (WebP)"});
    }
    const place = router.place();
    if (kind === "album" && place.album == null) {
      history.replaceState(null, "", hashOf({album}));
    } else if (!place.path && !place.view && kind !== "album") {
      const folder = kind === "image" ? path.split("/").slice(0, -1).join("/") : path;
      history.replaceState(null, "", hashOf({path: folder, view: kind === "image" ? path : null}));
    }
  } else if (health?.readonly === true || !people.canWrite()) {
    api.setReadonly();
  }
  // Every part wired, the first listing is drawn in a task of its own: a phone's page is held for two short ones.
  await new Promise((resolve) => setTimeout(resolve));
  const shown = route();
  if (!shared) {  // after the listing is asked for: the tree takes its answer for the folder shown
    tree.rebuild(router.place().path, listing.firstPageOf(router.place().path));
    albums.refresh(router.place());
  }
  await shown;
  if (!shared) await reviewShared();

  /** Show what was shared to lenslet from another app; upload it into this person's folder only on Send. */
  async function reviewShared() {
    if (sharedIn === "unreadable") messages.say("What was shared to lenslet could not be read: share it again.");
    if (sharedIn === "lost") {
      messages.say("What was shared did not reach lenslet, as this device had not opened it yet: share it again.");
    }
    if (sharedIn === "too-much") {
      messages.say(`Nothing was kept of what was shared: share at most ${MOST_FILES} files, ` +
        `${MOST_BYTES / 1024 ** 3} GB in all, at once.`);
    }
    const arrived = await arriving;
    if (!arrived.length) return;
    const folder = uploadFolder(me);
    const files = `The ${arrived.length} shared ${arrived.length === 1 ? "file was" : "files were"}`;
    if (!api.canChangeFiles() || api.isReadonly()) {
      messages.say(`${files} not uploaded to ${folder}: you may look here, not change.`);
      return;
    }
    const {InboxReview} = await import("./inbox-review.js");
    if (!await new InboxReview($("inbox-dialog")).ask(arrived, folder)) {
      messages.say(`${files} discarded: nothing was uploaded.`);
      return;
    }
    try {
      await actions.makeFolders(folder);
    } catch (ex) {
      messages.say(`${files} not uploaded to ${folder}: ${ex.message}.`);
      return;
    }
    await upload.send({files: arrived.map((file) => ({file, dir: ""})), folders: []}, folder);
  }
}

start();
