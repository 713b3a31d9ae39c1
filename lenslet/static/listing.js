// The listing: a folder's manifest pages or search results, as a grid of folder and image tiles
// loaded page by page as the person scrolls, with the heading above it (breadcrumbs, title, count).

import {ASK_AGAIN_MS, enc, longerWait} from "./api.js";
import {countText, videoCountText} from "./counts.js";
import {partOf} from "./dom.js";
import {focusOf, GridLayout, ratioOf} from "./grid.js";
import {folderOf, nameOf} from "./paths.js";
import {hashOf} from "./router.js";
import {filtered, paramsOf} from "./sorting.js";

const SEARCH_PAGE = 200;  // and a sorted or filtered folder's slice
const NAVIGATION_KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"];
// Thumbnails are asked for this long a task at most: each picture started costs the page a moment, and a phone's
// page started on 80 at once (a screen and its margin) answers no tap meanwhile.
const THUMBS_TASK_MS = 2;

/** The type of what the grid's tiles carry when dragged: {images: [paths]} or {folder: path}. */
export const DRAGGED = "application/x-lenslet-move";

/** The first request of the folder listing place names, sorted and filtered as asked (sorting.js's askedOf); null
 *  for what is no folder's (a search, the timeline, an album, the map). */
export function firstPageURL(place, asked) {
  if (place.q != null || place.timeline != null || place.album != null || place.map != null) return null;
  const query = paramsOf(asked);
  return `/folders?path=${enc(place.path)}` + (query ? `${query}&limit=${SEARCH_PAGE}&offset=0` : "&page=0");
}

const starsText = (star) => (star ? "\u2605".repeat(star) : "");

export class Listing {
  /** content: the element holding the heading, the grid and its end marker. view(path) opens an
   *  image; pick(index, how, on) and picked(path) are the selection's; newFolder() and moveFolder()
   *  are the heading's buttons; served: /health's storage (which folder the gallery shows);
   *  chosen() answers the paths picked, which go together when one of them is dragged; dropping(event)
   *  answers whether a drag carries tiles, dropped(folder, event) moves them onto a folder tile;
   *  refused(ex) is told the server's 400 to a sort or filter, itemsShown(items) each slice of items shown. */
  constructor(content, {api, rules, counts, served, view, pick, picked, chosen, dropping, dropped, newFolder,
    moveFolder, refused, itemsShown = () => {}, source = () => null, selecting = () => false}) {
    // source(place, asked): what else than a folder or a search a place lists (the timeline, an album):
    // {title, empty, next() -> {items, total, done, title}}, or null.
    Object.assign(this, {api, rules, counts, served, view, pick, picked, chosen, refused, source, itemsShown, selecting});
    this.el = Object.fromEntries(Object.entries({
      crumbs: "#crumbs", title: "#title", count: "#count", newFolder: "#new-folder", folderMove: "#folder-move",
      squares: "#layout-squares", rows: "#layout-rows", empty: "#empty", grid: "#grid", more: "#more",
    }).map(([name, selector]) => [name, partOf(content, selector)]));
    this.grid = this.el.grid;
    this.layout = new GridLayout(this.grid, {squares: this.el.squares, rows: this.el.rows});
    this.current = null;  // {key, path, q, asked, sliced, items, page, pageCount, total, folderTotal, loading}
    this.thumbs = new Map();  // tile -> unload(): only tiles near the screen hold a thumbnail
    this.nearing = new Map();  // tile -> its fetch priority: near the screen, its thumbnail not asked for yet
    this.behind = false;  // whether the viewer is over the grid: its thumbnails asked low, after the viewer's photo
    this.nearScreen = new IntersectionObserver((entries) => this.showThumbs(entries), {rootMargin: "600px"});
    // A picture drawn larger (Rows, a new window width, a zoom) is fetched again at a size that has its pixels.
    this.redrawn = new ResizeObserver((entries) => {
      for (const {target} of entries) this.thumbs.get(target.closest(".tile"))?.again();
    });
    this.endSeen = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && this.current) this.loadMore();
    }, {rootMargin: "800px"});
    this.endSeen.observe(this.el.more);
    this.grid.addEventListener("click", (event) => this.click(event));
    this.grid.addEventListener("keydown", (event) => this.onKey(event));
    // A long press on a photo picks it, as in a phone's photo app (the browser's menu for it is not shown).
    this.grid.addEventListener("contextmenu", (event) => {
      const tile = event.target.closest(".tile.image");
      if (!tile || this.api.isReadonly() || !matchMedia("(pointer: coarse)").matches) return;
      event.preventDefault();
      this.pick(Number(tile.dataset.index), "toggle", !this.picked(tile.dataset.path));
    });
    const folderTile = (event) => (dropping(event) ? event.target.closest?.(".tile.folder") : null);
    const hover = (tile) => {
      this.grid.querySelectorAll(".drop-here").forEach((other) => { if (other !== tile) other.classList.remove("drop-here"); });
      tile?.classList.add("drop-here");
    };
    this.grid.addEventListener("dragover", (event) => {
      const tile = folderTile(event);
      hover(tile);
      if (!tile) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    });
    this.grid.addEventListener("dragleave", (event) => { if (!this.grid.contains(event.relatedTarget)) hover(null); });
    this.grid.addEventListener("drop", (event) => {
      const tile = folderTile(event);
      hover(null);
      if (!tile) return;
      event.preventDefault();
      event.stopPropagation();  // not an upload
      dropped(tile.dataset.folder, event);
    });
    this.el.newFolder.addEventListener("click", () => newFolder());
    this.el.folderMove.addEventListener("click", () => moveFolder(this.current.path));
  }

  get key() { return this.current?.key ?? null; }

  get items() { return this.current?.items ?? []; }

  /** {path, q} of what is listed, or null before the first listing. */
  get place() { return this.current && {path: this.current.path, q: this.current.q}; }

  /** Whether the listing is the trash folder (or a folder in it), not a search. */
  get inTrash() { return Boolean(this.current && this.current.q == null && this.rules.inTrash(this.current.path)); }

  /** The listing changed on the server: it is read again at the next route. */
  forget() {
    if (this.current) this.current.key = null;
  }

  /** Show the listing of place (a folder, or a search when place.q is set), sorted and filtered as
   *  asked (sorting.js's askedOf); answer when its first page is shown. */
  open(place, asked, key) {
    const searching = place.q != null;
    const {rules, el} = this;
    // A folder sorted or filtered is read in slices of one order (offset, limit); else its stored pages.
    const query = paramsOf(asked);
    clearTimeout(this.again);
    this.current = {place, key, path: place.path, q: place.q, asked, query, sliced: !searching && query !== "", items: [],
      behind: new Map(),
      page: 0, pageCount: 1, total: null, folderTotal: null, loading: false, source: this.source(place, asked)};
    this.thumbs.forEach((unload) => unload());
    this.thumbs.clear();
    this.nearing.clear();
    this.grid.replaceChildren();
    el.empty.hidden = true;
    el.title.textContent = searching ? `Search: ${place.q || "everything"}` : place.path === rules.trash ? "Trash"
      : nameOf(place.path);
    el.count.textContent = "";
    this.grid.ownerDocument.title = `${el.title.textContent} - lenslet`;
    this.crumbs(place.path, searching);
    el.folderMove.hidden = searching || !place.path || rules.inTrash(place.path);
    el.newFolder.hidden = searching || rules.inTrash(place.path);
    if (this.current.source) {
      el.title.textContent = this.current.source.title;
      el.crumbs.replaceChildren();
      el.folderMove.hidden = el.newFolder.hidden = true;
    }
    return this.loadMore();
  }

  /** A folder's listing. One that may be a moment behind (api.getListing) is asked for again in a moment,
   *  and what differs shown (again). */
  async listed(url, read = this.api.getListing(url)) {
    const current = this.current;
    const [listing, behind] = await read;
    if (behind) this.askAgain(current, url, listing);
    return listing;
  }

  /** Ask again for url, whose answer shown was a moment behind: nothing is drawn again when it did not change
   *  (a grid drawn anew for nothing moves what someone was about to click), only the tiles that changed when
   *  it lists the same images (as the worker makes their thumbnails: a folder drawn from its start would
   *  lose the place of someone far down it), else the folder from its start. */
  askAgain(current, url, shown, wait = ASK_AGAIN_MS) {
    clearTimeout(this.again);
    this.again = setTimeout(async () => {
      if (current !== this.current) return;
      let listing = null;
      let behind = false;
      try {
        [listing, behind] = await this.api.getListing(url);
      } catch (ex) {
        listing = null;  // said by the folder shown again, as any listing that cannot be read
      }
      if (current !== this.current) return;
      if (behind) this.askAgain(current, url, shown, longerWait(wait));
      else if (listing === null || !this.patched(current, shown, listing)) this.open(current.place, current.asked, current.key);
    }, wait);
  }

  /** Draw again the tiles of listing's images that changed since shown, when both list the same images and
   *  folders in the same order; answer whether that was all there was to show. */
  patched(current, shown, listing) {
    const drawn = (answer) => JSON.stringify({...answer, generatedAt: null, builtAt: null});
    if (drawn(shown) === drawn(listing)) return true;
    const outline = ({items, dirs, total, pageCount, images, videos, allImages, cover}) => JSON.stringify(
      {paths: items.map((item) => [item.path, behind(item)]), dirs, total, pageCount, images, videos, allImages, cover});
    if (current.q != null || current.sliced || current.source || outline(shown) !== outline(listing)) return false;
    const before = new Map(shown.items.map((item) => [item.path, JSON.stringify(item)]));
    for (const item of listing.items) {
      if (before.get(item.path) === JSON.stringify(item)) continue;
      if (behind(item)) {
        current.behind.set(item.path, item);
        continue;
      }
      const at = current.items.findIndex((known) => known.path === item.path);
      const tile = this.tileOf(item.path);
      if (at < 0 || !tile) return false;
      current.items[at] = item;
      this.forgetTile(tile);
      tile.replaceWith(this.imageTile(item, at));
    }
    this.layout.justify();
    return true;
  }

  /** The first page of the folder at path as the listing reads it (a promise as api.getListing's), or null when it
   *  shows another (or is to read it again): the tree takes it rather than ask for it again. */
  firstPageOf(path) {
    const current = this.current;
    return (current?.key != null && current.path === path && current.firstPage) || null;
  }

  /** A tile leaving the grid: its thumbnail unloaded, and no longer watched. */
  forgetTile(tile) {
    this.dropThumb(tile);
    this.nearScreen.unobserve(tile);
  }

  /** A tile's thumbnail unloaded, or no longer to be asked for. */
  dropThumb(tile) {
    this.nearing.delete(tile);
    this.thumbs.get(tile)?.();
    if (this.thumbs.delete(tile)) this.redrawn.unobserve(tile.querySelector("img"));
  }

  async loadMore() {
    const current = this.current;
    if (current.loading || current.page >= current.pageCount) return;
    current.loading = true;
    const {el} = this;
    try {
      let items;
      const slice = `&limit=${SEARCH_PAGE}&offset=${current.items.length}`;
      if (current.source) {
        const found = await current.source.next();
        if (current !== this.current) return;
        if (found.title) el.title.textContent = found.title;
        items = found.items;
        current.total = found.total;
        current.said = found.said ?? null;
        current.page = found.done ? 1 : 0;
      } else if (current.q != null || current.sliced) {
        const found = current.sliced ? await this.listed(`/folders?path=${enc(current.path)}${current.query}${slice}`)
          : await this.api.getJSON(`/search?q=${enc(current.q)}&path=${enc(current.path)}${current.query}${slice}`);
        if (current !== this.current) return;
        if (current.sliced && !current.items.length) {
          this.counts.fromListing(current.path, {...found, total: found.folderTotal});  // the folder's own count
          this.showFolders(found.dirs);
        }
        items = found.items;
        current.total = found.total;
        current.folderTotal = found.folderTotal ?? null;
        current.page = !items.length || current.items.length + items.length >= found.total ? 1 : 0;
      } else {
        const url = `/folders?path=${enc(current.path)}&page=${current.page}`;
        const read = this.api.getListing(url);
        if (current.page === 0) current.firstPage = read;
        const manifest = await this.listed(url, read);
        if (current !== this.current) return;
        if (current.page === 0) {
          current.videos = Number.isInteger(manifest.videos) ? manifest.videos : 0;  // of total: said apart
          this.counts.fromListing(current.path, manifest);
          this.showFolders(manifest.dirs);
        }
        items = manifest.items;
        current.total = manifest.total ?? manifest.items.length;
        current.pageCount = manifest.pageCount;
        current.page += 1;
      }
      // A stack (a raw and its JPEG, a live photo's picture and video) is one tile, its front's: the other
      // file is kept aside, reached from the viewer. A filter may keep the other file alone: then it shows.
      if (current.q == null && !filtered(current.asked)) {
        for (const item of items.filter(behind)) current.behind.set(item.path, item);
        items = items.filter((item) => !behind(item));
      }
      const start = current.items.length;
      current.items.push(...items);
      this.itemsShown(items);
      this.grid.append(...items.flatMap((item, at) => [...this.headingsOf(current, item), this.imageTile(item, start + at)]));
      this.layout.justify();
      // A folder of folders says nothing rather than "0 images".
      const onlyFolders = !(current.sliced ? current.folderTotal : current.total) && current.q == null &&
        this.grid.children.length > 0;
      el.count.textContent = onlyFolders ? "" : current.said ? current.said : current.sliced && filtered(current.asked)
        ? `${current.total} of ${countText(current.folderTotal)}`
        : current.q == null && current.videos ? videoCountText(current.total, current.videos) : countText(current.total, current.q != null);
      el.empty.hidden = current.items.length > 0 || this.grid.children.length > 0;
      if (!el.empty.hidden) this.explainEmpty(current);
    } catch (ex) {
      if (current !== this.current) return;
      el.empty.hidden = false;
      if (ex.status === 400 && (current.query || current.q)) {
        this.refused(ex);  // said beside the sort and filters, which can put it right
        el.empty.replaceChildren("Nothing is shown: the sort or a filter was refused.");
      } else {
        el.empty.replaceChildren(ex.status === 404 ? "There is no such folder." : `This cannot be shown: ${ex.message}`);
      }
      current.page = current.pageCount;  // stop asking
    } finally {
      current.loading = false;
    }
    // A short page may leave the end marker in view: keep going until it is not.
    if (current !== this.current || current.page >= current.pageCount) return;
    if (this.nearEnd()) {
      this.loadMore();
    } else {
      // Scrolled to the end again before the page was drawn, the marker was in view at both of the observer's
      // looks, which tells only changes: nothing more was loaded. Observed anew, it says where it is now.
      this.endSeen.unobserve(this.el.more);
      this.endSeen.observe(this.el.more);
    }
  }

  /** The headings an item starts (the timeline's month and day, when it is the first of them), as elements. */
  headingsOf(current, item) {
    current.groups ??= {};
    return (current.source?.headings?.(item) ?? []).filter(({level, key}) => current.groups[level] !== key)
      .map(({level, key, text, note}) => {
        current.groups[level] = key;
        const heading = document.createElement("div");
        heading.className = `group-heading ${level}`;
        heading.setAttribute("role", "listitem");
        heading.dataset.key = key;
        heading.append(Object.assign(document.createElement(level === "month" ? "h2" : "h3"), {textContent: text}));
        if (note) heading.append(Object.assign(document.createElement("span"), {className: "note", textContent: note}));
        return heading;
      });
  }

  /** Say why nothing is shown, and for an empty gallery which folder it shows and how to add photos. */
  explainEmpty(current) {
    const lines = [];
    const readonly = this.api.isReadonly();
    const addable = this.api.canChangeFiles() && !this.rules.inTrash(current.path);
    if (current.source) {
      lines.push(current.source.empty);
    } else if (current.q != null) {
      lines.push("Nothing matches.");
    } else if (filtered(current.asked)) {
      lines.push("Nothing in this folder matches the filters.");
    } else if (current.path) {
      lines.push(this.rules.inTrash(current.path) ? "The trash is empty." : "No images in this folder yet.");
      if (addable) lines.push("Drop photos anywhere on this page, or use Upload, to add them here.");
    } else {
      const served = this.served;
      const where = served?.name ? `${served.backend === "s3" ? "the bucket folder" : "the folder"} \u201c${served.name}\u201d`
        : "its folder";
      lines.push(`This gallery shows ${where} on the server, and there are no images in it yet.`);
      lines.push((addable ? "Drop photos anywhere on this page or use Upload, or copy" : "Copy") +
        " photos (JPEG, PNG, WebP, AVIF, GIF, HEIC, camera raw files) into that folder: they appear here within seconds, with their subfolders.");
      lines.push(readonly ? "This gallery is read-only: lenslet writes nothing into that folder." :
        this.api.libraryReadonly ? "lenslet keeps its own files (thumbnails, listings, your tags) in its state " +
        "folder and never writes into that folder." :
        "lenslet writes a few files of its own beside them: a small thumbnail per image " +
        "(photo.jpg.thumbnail), a listing per folder (_index.json) and, once you tag or rate a photo, " +
        "its sidecar (photo.jpg.json). \u201clenslet clean\u201d removes them all again, keeping your tags.");
    }
    this.el.empty.replaceChildren(...lines.map((line) => Object.assign(document.createElement("p"), {textContent: line})));
  }

  nearEnd() {
    return this.el.more.getBoundingClientRect().top < innerHeight + 800;
  }

  crumbs(path, searching) {
    const parts = path ? path.split("/") : [];
    const links = [["All photos", ""], ...parts.map((part, at) => [this.rules.label(part), parts.slice(0, at + 1).join("/")])];
    const list = document.createElement("ol");
    links.forEach(([label, to], at) => {
      const item = document.createElement("li");
      const link = Object.assign(document.createElement("a"), {href: hashOf({path: to}), textContent: label});
      if (at === links.length - 1 && !searching) link.setAttribute("aria-current", "page");
      item.append(link);
      list.append(item);
    });
    this.el.crumbs.replaceChildren(list);
  }

  showFolders(dirs) {
    const tiles = dirs.map((dir) => {
      const path = this.current.path ? `${this.current.path}/${dir.name}` : dir.name;
      const tile = document.createElement("a");
      tile.className = "tile folder";
      tile.href = hashOf({path});
      tile.setAttribute("role", "listitem");
      tile.dataset.folder = path;
      const label = document.createElement("span");
      label.className = "name";
      label.textContent = path === this.rules.trash ? "Trash" : dir.name;
      const count = document.createElement("span");
      count.className = "count";
      this.counts.show(count, path);
      // A cover when the listing names one (a server that does not shows the folder icon).
      const cover = typeof dir.cover === "string" && dir.cover ? dir.cover : null;
      const icon = document.createElement(cover ? "img" : "span");
      icon.className = cover ? "cover" : "folder-icon";
      if (cover) {
        icon.alt = "";
        tile.dataset.cover = cover;
        this.nearScreen.observe(tile);
      }
      icon.setAttribute("aria-hidden", "true");
      tile.append(icon, label, count);
      if (this.movable(path)) tile.addEventListener("dragstart", (event) => this.dragFrom(event, {folder: path}));
      else tile.draggable = false;
      return tile;
    });
    const rowsBreak = Object.assign(document.createElement("span"), {className: "rows-break"});  // "Rows": photos start a row
    rowsBreak.setAttribute("aria-hidden", "true");
    this.grid.prepend(...tiles, ...(tiles.length ? [rowsBreak] : []));
    this.counts.fill(tiles.map((tile) => tile.dataset.folder));
  }

  showThumbs(entries) {
    for (const entry of entries) {
      const tile = entry.target;
      if (entry.isIntersecting && !this.thumbs.has(tile)) {
        // The top of the screen first, before the rest and the margin below: on a slow link the first rows are
        // not kept waiting by the bytes of the whole screen's (the first look's largest paint is one of them).
        const {top, bottom} = entry.boundingClientRect;
        this.nearing.set(tile, top < innerHeight / 3 && bottom > 0 ? "high" : "low");
      } else if (!entry.isIntersecting) {
        this.dropThumb(tile);
      }
    }
    this.askNearing();
  }

  /** Ask for the thumbnails of the tiles come near the screen, in the grid's order, the rest in a later task. */
  askNearing() {
    clearTimeout(this.asking);
    const until = performance.now() + THUMBS_TASK_MS;
    for (const [tile, priority] of this.nearing) {
      if (performance.now() > until) {
        this.asking = setTimeout(() => this.askNearing());
        return;
      }
      this.nearing.delete(tile);
      const img = tile.querySelector("img");
      img.fetchPriority = this.behind ? "low" : priority;
      this.thumbs.set(tile, this.api.loadThumb(img, tile.dataset.path ?? tile.dataset.cover, tile.dataset.version,
                                               this.sharp(tile)));
      this.redrawn.observe(img);
    }
  }

  /** What api.loadThumb needs to fetch a tile's picture at the size it is drawn with: its shape (unknown for a
   *  folder's cover: the thumbnail tells it) and the versions of its larger sizes. */
  sharp(tile) {
    const {w, h, large, preview} = tile.dataset;
    return {w: Number(w) || 0, h: Number(h) || 0, large: large ?? "", preview: preview ?? ""};
  }

  imageTile(item, index) {
    const tile = document.createElement("div");
    tile.className = "tile image";
    tile.setAttribute("role", "listitem");
    tile.dataset.path = item.path;
    tile.dataset.version = this.api.versionOf(item, "thumb");
    tile.dataset.index = index;
    tile.style.setProperty("--ratio", ratioOf(item).toFixed(4));  // the justified rows keep the photo's shape
    // Search results (and the timeline's, and an album's images) say where each one is.
    const folder = this.current.q != null || this.current.source ? folderOf(item.path) : null;
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
    pick.checked = this.picked(item.path);  // a tile drawn again (patched) stays picked
    tile.classList.toggle("selected", pick.checked);
    const caption = document.createElement("span");
    caption.className = "caption";
    caption.append(Object.assign(document.createElement("span"), {className: "name", textContent: item.name, title: item.name}));
    caption.append(Object.assign(document.createElement("span"), {className: "rating", textContent: starsText(item.star)}));
    if (folder != null) {
      caption.append(Object.assign(document.createElement("span"), {
        className: "where", textContent: folder === "" ? "All photos" : this.rules.label(folder),
        title: `in ${folder || "All photos"}`}));
    }
    if (item.stack?.front === item.name) {
      const other = item.stack.members.find((name) => name !== item.name);
      const badge = Object.assign(document.createElement("span"), {className: "badge",
        textContent: item.stack.kind === "live" ? "LIVE" : "RAW", title: `With ${other}`});
      open.append(badge);
      open.setAttribute("aria-label", `${item.name} (with ${other})`);
    }
    tile.append(open, pick, caption);
    if (item.kind === "video") tile.classList.add("video");
    // No picture of it can be made (a video without a poster): a placeholder, never a thumbnail asked for.
    const shown = !(item.kind === "video" && item.preview === false);
    if (!shown) tile.classList.add("placeholder");
    // Its shape and the versions of its sizes: the one fetched is the smallest that has the pixels it is drawn with.
    if (item.w > 0 && item.h > 0) Object.assign(tile.dataset, {w: item.w, h: item.h});
    Object.assign(tile.dataset, {large: this.api.versionOf(item, "large"), preview: this.api.versionOf(item, "preview")});
    tile.draggable = this.api.canChangeFiles();  // dragged onto a folder is a move
    tile.addEventListener("dragstart", (event) => {
      const images = this.picked(item.path) ? this.chosen() : [item.path];
      this.dragFrom(event, {images});
    });
    if (shown) this.nearScreen.observe(tile);
    return tile;
  }

  /** Whether a folder tile can be dragged elsewhere: not the trash itself. */
  movable(path) {
    return path !== this.rules.trash && this.api.canChangeFiles();
  }

  /** Start dragging images ({images: [paths]}) or a folder ({folder: path}) towards a folder in the tree. */
  dragFrom(event, what) {
    if (this.api.isReadonly()) {
      event.preventDefault();
      return;
    }
    event.dataTransfer.setData(DRAGGED, JSON.stringify(what));
    event.dataTransfer.setData("text/plain", what.folder ?? what.images.join("\n"));
    event.dataTransfer.effectAllowed = "move";
  }

  tileOf(path) {
    return this.grid.querySelector(`.tile.image[data-path="${CSS.escape(path)}"]`);
  }

  /** The image tiles shown, in order. */
  get tiles() {
    return this.grid.querySelectorAll(".tile.image");
  }

  click(event) {
    const tile = event.target.closest(".tile.image");
    if (!tile) return;
    const index = Number(tile.dataset.index);
    const editable = !this.api.isReadonly();
    if (event.target.classList.contains("pick")) {
      this.pick(index, event.shiftKey ? "range" : "toggle", event.target.checked);
    } else if (event.target.closest(".open")) {
      if (event.shiftKey && editable) this.pick(index, "range", true);
      else if ((event.ctrlKey || event.metaKey || this.selecting()) && editable) {
        this.pick(index, "toggle", !this.picked(tile.dataset.path));
      }
      else this.view(tile.dataset.path);
    }
  }

  /** The keyboard in the grid: arrows move between tiles, Space selects. */
  onKey(event) {
    const tile = event.target.closest(".tile");
    if (!tile || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === " " && tile.classList.contains("image")) {
      if (!this.api.isReadonly()) {
        this.pick(Number(tile.dataset.index), event.shiftKey ? "range" : "toggle", !this.picked(tile.dataset.path));
      }
      event.preventDefault();
      return;
    }
    const next = this.layout.tileFrom(tile, event.key);
    if (next === null && !NAVIGATION_KEYS.includes(event.key)) return;
    event.preventDefault();
    if (next) {
      focusOf(next).focus();
      if (event.key === "ArrowDown" || event.key === "End") this.loadMore();  // the next page, before the end is reached
    }
  }

  /** The image before (step -1) or after (step 1) path in the listing, or null; asks for the next
   *  page when the last one loaded is reached. */
  neighbour(path, step) {
    const items = this.items;
    const hidden = this.current?.behind.get(path);  // the other file of a stack: its front's neighbours
    if (hidden) path = path.slice(0, path.length - hidden.name.length) + hidden.stack.front;
    const at = items.findIndex((item) => item.path === path);
    if (at < 0) return null;
    const next = items[at + step];
    if (!next && step > 0 && this.current.page < this.current.pageCount) this.loadMore();
    return next ? next.path : null;
  }

  /** The stack ({front, members, kind}) the listed image at path is part of, or null. */
  stackOf(path) {
    return (this.current?.behind.get(path) ?? this.items.find((item) => item.path === path))?.stack ?? null;
  }

  /** An item was edited: show its new star in the grid, and a turned one drawn again in its new shape. */
  changed(item) {
    const known = this.items.find((entry) => entry.path === item.path);
    const turned = known && (known.turn ?? 1) !== (item.turn ?? 1);
    if (known) Object.assign(known, {star: item.star, tags: item.tags, notes: item.notes, turn: item.turn, w: item.w, h: item.h});
    const tile = this.tileOf(item.path);
    if (tile && turned) {
      this.forgetTile(tile);
      tile.replaceWith(this.imageTile(known, Number(tile.dataset.index)));
      this.layout.justify();
    } else if (tile) {
      tile.querySelector(".rating").textContent = starsText(item.star);
    }
  }
}

/** Whether a listed item is the other file of a stack, behind its front's tile. */
function behind(item) {
  return Boolean(item.stack) && item.stack.front !== item.name;
}
