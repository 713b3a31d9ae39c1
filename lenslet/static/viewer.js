// The large view of one image: its preview at once (the original at 100% and on download), EXIF,
// and its star, tags and notes; a slideshow, fullscreen, and swipes and pinches on a touch screen. A sign
// shows while a picture is on its way; notes typed and not saved are never left without a question.

import {ApiError, enc} from "./api.js";
import {partOf, placesCredit} from "./dom.js";
import {FaceBoxes, suggestPeople} from "./faces.js";

const SLIDE_SECONDS = 4;
const PREVIEW_PATIENCE_MS = 5000;
const SWIPE_PX = 50;  // a touch that moves at least this far sideways turns the page
const PINCH_LIMITS = [1, 8];  // how far two fingers zoom the picture: from fitting the screen to 8 times that

/** The picture's zoom {scale, x, y} (translate, then scale from its top left corner) after two
 *  fingers moved from first {a, b} to now {a, b} (points {x, y}), when the zoom was from and the
 *  picture's unzoomed top left corner is at corner: the point of the picture under the fingers'
 *  middle stays under it, and the picture grows as far as the fingers spread. */
export function pinched(from, first, now, corner) {
  const middle = ({a, b}) => ({x: (a.x + b.x) / 2, y: (a.y + b.y) / 2});
  const spread = ({a, b}) => Math.hypot(a.x - b.x, a.y - b.y) || 1;
  const scale = Math.min(PINCH_LIMITS[1], Math.max(PINCH_LIMITS[0], from.scale * spread(now) / spread(first)));
  if (scale === PINCH_LIMITS[0]) return {scale, x: 0, y: 0};
  const [was, is] = [middle(first), middle(now)];
  // The picture's point under the first middle, in its own unscaled pixels.
  const held = {x: (was.x - corner.x - from.x) / from.scale, y: (was.y - corner.y - from.y) / from.scale};
  return {scale, x: is.x - corner.x - scale * held.x, y: is.y - corner.y - scale * held.y};
}
// What a browser shows itself; HEIC and raw files are shown through their preview, even at 100%.
const SHOWN_AS_IS = /\.(jpe?g|png|webp|avif|gif)$/i;
// Videos (lenslet's list of them, layout.VIDEOS): played from the original, which lenslet serves with ranges.
const VIDEO = /\.(mp4|m4v|mov|webm|mkv|avi|3gp|mts|m2ts)$/i;
// The viewer's elements, found inside its <dialog>.
const PARTS = {stage: "#stage", image: "#view-image", video: "#view-video", notes: "#view-notes", prev: "#view-prev", next: "#view-next",
  zoom: "#view-zoom", slideshow: "#view-slideshow", fullscreen: "#view-fullscreen", download: "#view-download",
  rename: "#view-rename", trash: "#view-trash", close: "#view-close", name: "#view-name", exif: "#view-exif",
  stars: "#view-stars", tags: "#view-tags", tagForm: "#tag-form", tag: "#view-tag", saveNotes: "#view-save-notes",
  placeForm: "#place-form", place: "#view-place", placeClear: "#view-place-clear",
  dateForm: "#date-form", date: "#view-date", dateClear: "#view-date-clear",
  message: "#view-message", details: "#view-details", info: "#view-info", stack: "#view-stack",
  rotateLeft: "#view-rotate-left", rotateRight: "#view-rotate-right", people: "#view-people", faces: "#view-faces",
  drawFace: "#view-draw-face", personForm: "#person-form", person: "#view-person"};

export class Viewer {
  /** dialog: the viewer's <dialog>, holding all its parts. neighbour(path, step) names the image
   *  before/after; show(path) moves there; close() leaves; changed(item) tells the grid; trash(path)
   *  moves it to the trash; rename(path) asks for a new one; suggestTags(prefix) offers tags;
   *  askLeave(name) asks what becomes of unsaved notes ("save", "discard" or "stay"); stackOf(path) names
   *  the stack ({front, members, kind}) an image is part of, or null. */
  constructor(dialog, {api, neighbour, show, close, changed, trash, rename, say, suggestTags, askLeave, stackOf}) {
    Object.assign(this, {api, neighbour, show, leave: close, changed, trashIt: trash, renameIt: rename, say, suggestTags,
      askLeave, stackOf});
    this.dialog = dialog;
    this.el = Object.fromEntries(Object.entries(PARTS).map(([name, selector]) => [name, partOf(dialog, selector)]));
    this.image = this.el.image;
    this.notes = this.el.notes;
    this.path = null;
    this.etag = null;
    this.savedNotes = "";
    this.faceBoxes = new FaceBoxes(this.el.stage, this.image, this.el.faces, {drawToggle: this.el.drawFace,
      drawn: () => { this.el.person.placeholder = "who is this?"; this.el.person.focus(); },
      remove: (name) => this.edit({removePeople: [name]}, `name ${name}`)});
    this.buildStars();
    this.wire();
  }

  buildStars() {
    for (let star = 1; star <= 5; star++) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "star";
      button.textContent = "\u2605";
      button.setAttribute("aria-label", star === 1 ? "1 star" : `${star} stars`);
      button.setAttribute("aria-pressed", "false");
      // Clicking the rating already given clears it to 0.
      button.addEventListener("click", () => this.edit({star: this.star === star ? 0 : star}, `${star} stars`));
      this.el.stars.append(button);
    }
  }

  wire() {
    this.el.prev.addEventListener("click", () => this.go(-1));
    this.el.next.addEventListener("click", () => this.go(1));
    this.el.close.addEventListener("click", () => this.closeAsked());
    this.el.zoom.addEventListener("click", () => this.zoom());
    this.el.details.addEventListener("click", () => this.details());
    this.el.stack.addEventListener("click", async () => {
      if (this.other && await this.mayLeave()) this.show(this.other);
    });
    this.el.trash.addEventListener("click", async () => { if (await this.mayLeave()) this.trashIt(this.path); });
    this.el.rename.addEventListener("click", () => this.renameIt(this.path));
    this.el.rotateLeft.addEventListener("click", () => this.rotate(-90));
    this.el.rotateRight.addEventListener("click", () => this.rotate(90));
    this.el.slideshow.addEventListener("click", () => this.slideshow());
    this.el.fullscreen.addEventListener("click", () => this.fullscreen());
    this.el.download.addEventListener("click", (event) => {
      if (!this.api.needsToken()) return;  // the link itself does it
      event.preventDefault();
      this.api.downloadOriginal(this.path).catch((ex) => this.message(`The original cannot be downloaded: ${ex.message}`));
    });
    this.image.addEventListener("click", () => this.zoom());
    this.image.addEventListener("load", () => this.waiting(false));
    this.image.addEventListener("error", () => this.waiting(false));
    this.el.video.addEventListener("error", () => {
      if (this.path && this.el.video.getAttribute("src")) {
        this.message("This browser cannot play this video's format: Download it to watch it.");
      }
    });
    this.wireSwipes();
    this.wirePinch();
    this.dialog.addEventListener("cancel", (event) => { event.preventDefault(); this.closeAsked(); });
    // On the document: the focused button may have just been disabled (first or last image).
    this.dialog.ownerDocument.addEventListener("keydown", (event) => { if (this.dialog.open) this.key(event); });
    this.el.tagForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const tag = this.el.tag.value.trim();
      if (tag) this.edit({addTags: [tag]}, `tag ${tag}`).then((ok) => { if (ok) this.el.tag.value = ""; });
    });
    this.el.tag.addEventListener("input", () => this.suggestTags(this.el.tag.value));
    this.el.personForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = this.el.person.value.trim(), box = this.faceBoxes.drawing && this.faceBoxes.pending;
      if (!name) return;
      this.edit({addPeople: [box ? {name, box} : {name}]}, `name ${name}`).then((ok) => {
        if (!ok) return;
        Object.assign(this.el.person, {value: "", placeholder: "name someone in it"});
        if (box) this.el.faces.setAttribute("aria-pressed", "true");  // the face just named is shown
        this.faceBoxes.draw();
      });
    });
    this.el.person.addEventListener("focus", () => suggestPeople(this.api, partOf(document, "#person-suggestions")));
    this.wirePlace();
    this.wireDate();
    this.el.saveNotes.addEventListener("click", () => this.saveNotes());
    this.notes.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) this.saveNotes();
    });
  }

  /** The date form: the wall clock it was taken at (its offset kept) until "Use the camera's date". */
  wireDate() {
    const {date, dateForm, dateClear} = this.el;
    dateForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!date.value) return this.message("Choose a date and time first.");
      const offset = /[+-]\d\d:\d\d$/.exec(this.item?.takenAt || "")?.[0] || "";
      this.edit({takenAt: (date.value.length === 16 ? date.value + ":00" : date.value) + offset}, "date");
    });
    dateClear.addEventListener("click", () => this.edit({takenAt: null}, "date"));
  }

  /** The place form: a town of lenslet's table, chosen among the ones named as typed, is the photo's place until
   *  "Use the photo's own place" gives back the one its GPS says. */
  wirePlace() {
    const {place, placeForm, placeClear} = this.el;
    this.placesCredit = placesCredit();
    this.el.exif.after(this.placesCredit);
    const list = this.dialog.ownerDocument.getElementById("place-suggestions");
    this.placesNamed = new Map();  // label -> place, of the latest suggestions
    let timer = null;
    place.addEventListener("input", () => {
      clearTimeout(timer);
      const asked = place.value.trim();
      if (asked.length < 2 || this.placesNamed.has(place.value)) return;
      timer = setTimeout(async () => {
        try {
          const {places} = await this.api.getJSON(`/places?q=${enc(asked)}`);
          if (place.value.trim() !== asked) return;
          this.placesNamed = new Map(places.map((found) => [placeLabel(found), found]));
          list.replaceChildren(...[...this.placesNamed.keys()].map((label) => Object.assign(
            document.createElement("option"), {value: label})));
        } catch (ex) {
          this.message(`Places cannot be looked up: ${ex.message}`);
        }
      }, 200);
    });
    placeForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = this.placesNamed.get(place.value);
      if (!chosen) {
        this.message("Choose a place from the list that shows as you type its name.");
        return;
      }
      const {city, region, countryCode} = chosen;
      this.edit({place: {city, region, countryCode}}, "place").then((ok) => { if (ok) place.value = ""; });
    });
    placeClear.addEventListener("click", () => this.edit({place: null}, "place"));
  }

  key(event) {
    if (event.target.closest("input, textarea") || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "ArrowLeft") this.go(-1);
    else if (event.key === "ArrowRight") this.go(1);
    else if (event.key === "z") this.zoom();
    else if (event.key === "s") this.slideshow();
    else if (event.key === "f") this.fullscreen();
    else if ((event.key === "l" || event.key === "r") && !this.api.isReadonly()) this.rotate(event.key === "r" ? 90 : -90);
    else if (/^[0-5]$/.test(event.key) && !this.api.isReadonly()) this.edit({star: Number(event.key)}, `${event.key} stars`);
    else return;
    event.preventDefault();
  }

  /** Show path (fetching its metadata); keeps the notes typed for it if it is already open. unlisted: opened
   *  before its grid is drawn, which listed() then says. */
  async open(path, unlisted = false) {
    this.unlisted = unlisted;
    const same = path === this.path;
    this.path = path;
    this.showNeighbours(path);
    if (!this.dialog.open) this.dialog.showModal();
    if (!this.dialog.contains(document.activeElement)) this.el.close.focus();
    if (!same) {
      this.zoom(false);
      this.forgetOriginal();
      this.image.removeAttribute("src");
      this.waiting(true);
      this.image.alt = path.split("/").pop();
      this.el.name.textContent = path.split("/").pop();
      this.el.message.textContent = "";
      this.el.tag.value = "";
      this.el.download.href = `/file?path=${enc(path)}`;
      this.el.download.download = path.split("/").pop();
      this.notes.value = this.savedNotes = "";
      // The last photo's details are not shown under this one's name while its own are asked for.
      for (const part of [this.el.exif, this.el.tags, this.el.people]) part.replaceChildren();
      this.stopVideo();
      if (VIDEO.test(path)) {
        this.waiting(false);  // the player shows its own progress
        this.playVideo(path);
      } else {
        this.showPreview(path);
      }
    }
    // the notes were emptied for a new image: what is in them when its details come was typed for it
    this.loading = this.reload(false);
    if (await this.loading && !same && this.unsaved() && this.savedNotes) {
      this.message("This image has notes already; saving replaces them with what you typed. They are: ", this.savedNotes);
    }
  }

  /** Fetch and show the path's metadata and take its ETag; answer whether that was done. */
  async reload(replaceNotes = true) {
    const path = this.path;
    try {
      const answer = await this.api.request("GET", `/item?path=${enc(path)}`);
      const item = await answer.json();
      if (path !== this.path) return false;
      this.etag = answer.headers.get("ETag");
      this.render(item, replaceNotes);
      return true;
    } catch (ex) {
      if (path === this.path) this.message(`This image's details cannot be read: ${ex.message}`);
      return false;
    }
  }

  /** The preview at once (a few hundred KB, not the whole original); then the neighbours' previews,
   *  so the next image shows without waiting. A preview that cannot be made falls back to the original. */
  showPreview(path) {
    // A preview still being made (the worker's turn, on a busy server) is not waited for long:
    // the original is shown instead, as before there were previews.
    const patience = setTimeout(() => {
      if (path === this.path && !this.image.getAttribute("src")) this.showOriginal();
    }, PREVIEW_PATIENCE_MS);
    this.api.previewURL(path).finally(() => clearTimeout(patience)).then((url) => {
      if (path === this.path && !this.original) this.image.src = url;
    }, () => {
      if (path !== this.path || this.original) return;
      this.showOriginal();
      if (!this.original) this.waiting(false);  // nothing more is coming: no sign of it
    }).finally(() => this.fetchNeighbours(path));
  }

  /** The arrows to the images before and after path, and its stack's other member, as the grid has them. */
  showNeighbours(path) {
    this.el.prev.disabled = !this.neighbour(path, -1);
    this.el.next.disabled = !this.neighbour(path, 1);
    this.showStack(path);
  }

  /** The previews of the images before and after path, while it is shown. */
  fetchNeighbours(path) {
    if (path !== this.path) return;
    for (const step of [1, -1]) {
      const near = this.neighbour(path, step);
      if (near) this.api.previewURL(near).catch(() => {});
    }
  }

  /** The grid under the image, drawn after it was opened: its neighbours are known now, and a step asked for
   *  meanwhile is taken. */
  listed() {
    const asked = this.stepAsked;
    this.unlisted = false;
    this.stepAsked = null;
    if (!this.path) return;  // closed meanwhile
    this.showNeighbours(this.path);
    if (this.image.getAttribute("src")) this.fetchNeighbours(this.path);  // else once its picture comes
    if (asked) this.go(asked);
  }

  /** Play a video in the browser from its original, streamed with ranges; what the browser cannot play
   *  (its format) is said, and Download still gives the file. */
  playVideo(path) {
    const video = this.el.video;
    this.image.hidden = true;
    video.hidden = false;
    this.api.originalURL(path).then((url) => {
      if (path !== this.path) {
        if (url.startsWith("blob:")) URL.revokeObjectURL(url);
        return;
      }
      this.originalURL = url.startsWith("blob:") ? url : null;
      video.src = url;
    }, (ex) => {
      if (path === this.path) this.message(`The video cannot be played: ${ex.message}`);
    });
  }

  /** Stop and unload the video shown (a video left playing would go on being heard). */
  stopVideo() {
    const video = this.el.video;
    if (video.getAttribute("src")) {
      video.pause();
      video.removeAttribute("src");
      video.load();
    }
    video.hidden = true;
    this.image.hidden = false;
  }

  /** Replace the preview with the original (100% needs every pixel). */
  showOriginal() {
    if (this.original === this.path || !SHOWN_AS_IS.test(this.path)) return;
    const path = this.original = this.path;
    this.api.originalURL(path).then((url) => {
      const own = url.startsWith("blob:");
      if (path !== this.original) {
        if (own) URL.revokeObjectURL(url);
        return;
      }
      this.originalURL = own ? url : null;
      this.image.src = url;
    }, (ex) => {
      if (path !== this.path) return;
      this.waiting(false);
      this.message(`The image cannot be shown: ${ex.message}`);
    });
  }

  /** The button to the other file of the image's stack (its raw, its live video, or back to the picture). */
  showStack(path) {
    const stack = this.stackOf(path);
    const folder = path.slice(0, path.length - path.split("/").pop().length);
    const other = stack?.members.find((name) => folder + name !== path);
    this.other = other ? folder + other : null;
    this.el.stack.hidden = !other;
    if (!other) return;
    const front = other === stack.front;
    this.el.stack.textContent = front ? "Picture" : stack.kind === "live" ? "Live video" : "Raw";
    this.el.stack.title = `${front ? "The picture" : stack.kind === "live" ? "Its live video" : "Its raw file"}: ${other}`;
  }

  /** Show or hide the sign that a picture is on its way. */
  waiting(on) {
    this.el.stage.classList.toggle("waiting", on);
  }

  /** On a phone: show or hide (on: true or false; else toggle) the name, details, star, tags and notes. */
  details(on) {
    const view = this.el.info.parentElement;
    on = view.classList.toggle("details", on);
    this.el.details.setAttribute("aria-expanded", String(on));
  }

  /** Notes typed for the image shown and not saved yet. */
  unsaved() {
    return Boolean(this.path) && !this.api.isReadonly() && this.notes.value !== this.savedNotes;
  }

  /** Answer whether the image shown may be left: yes at once when no notes wait to be saved; else
   *  as the person says (saved first, or dropped, or staying). */
  async mayLeave() {
    if (!this.unsaved()) return true;
    const answer = await this.askLeave(this.path.split("/").pop());
    if (answer === "save") return this.saveNotes();
    if (answer !== "discard") {
      this.details(true);  // where the notes are, on a phone
      this.notes.focus();
      return false;
    }
    this.notes.value = this.savedNotes;
    return true;
  }

  /** Move to the image before (-1) or after (1), once unsaved notes are seen to. */
  async go(direction) {
    if (this.unlisted) this.stepAsked = direction;
    else if (this.neighbour(this.path, direction) && await this.mayLeave()) this.step(direction);
  }

  async closeAsked() {
    if (await this.mayLeave()) this.leave();
  }

  forgetOriginal() {
    // An original fetched with the token is this viewer's own blob; previews belong to their cache.
    if (this.originalURL) URL.revokeObjectURL(this.originalURL);
    this.original = this.originalURL = null;
  }

  close() {
    this.path = null;
    this.stopVideo();
    this.slideshow(false);
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    if (this.dialog.open) this.dialog.close();
    this.forgetOriginal();
    this.image.removeAttribute("src");
  }

  step(direction) {
    const next = this.neighbour(this.path, direction);
    if (next) this.show(next);
    return next;
  }

  zoom(actual) {
    if (document.body.classList.contains("no-download")) return;  // a share without its originals
    const stage = this.el.stage;
    const on = stage.classList.toggle("actual", actual);
    this.unpinch();  // 100% and back start from the picture fitting the screen
    if (on) this.showOriginal();
    this.el.zoom.setAttribute("aria-pressed", String(on));
    this.el.zoom.textContent = on ? "Fit" : "100%";
  }

  /** Start or stop (on: true or false; else toggle) showing the next image every few seconds. */
  slideshow(on) {
    const running = this.slides != null;
    if (on === undefined) on = !running;
    if (on === running) return;
    if (on) {
      // Notes being typed stop the slideshow rather than being left behind.
      this.slides = setInterval(() => { if (this.unsaved() || !this.step(1)) this.slideshow(false); }, SLIDE_SECONDS * 1000);
    } else {
      clearInterval(this.slides);
      this.slides = null;
    }
    this.el.slideshow.setAttribute("aria-pressed", String(on));
    this.el.slideshow.textContent = on ? "Stop slideshow" : "Slideshow";
  }

  fullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    } else {
      document.documentElement.requestFullscreen?.().catch((ex) => this.message(`No fullscreen here: ${ex.message}`));
    }
  }

  /** A sideways swipe on the picture goes to the next or previous image (not while at 100%, where
   *  a swipe scrolls the original). */
  wireSwipes() {
    let start = null;
    this.el.stage.addEventListener("touchstart", (event) => {
      start = event.touches.length === 1 ? {x: event.touches[0].clientX, y: event.touches[0].clientY} : null;
    }, {passive: true});
    this.el.stage.addEventListener("touchend", (event) => {
      const touch = event.changedTouches[0];
      // Not while zoomed (a swipe scrolls the original, or moves a pinched picture), nor after a pinch.
      if (!start || !touch || this.el.stage.classList.contains("actual") || this.pinch.scale > 1) return;
      const dx = touch.clientX - start.x, dy = touch.clientY - start.y;
      start = null;
      if (Math.abs(dx) >= SWIPE_PX && Math.abs(dx) > 2 * Math.abs(dy)) this.go(dx < 0 ? 1 : -1);
    });
  }

  /** Two fingers on the picture zoom it about their middle and move it as they move (pointer
   *  events: the stage takes no touch gestures of the browser's own, see gallery.css). Back at
   *  the size that fits, the picture is as it was; another image starts unzoomed. */
  wirePinch() {
    const stage = this.el.stage;
    const fingers = new Map();  // pointerId -> {x, y}
    let first = null;           // {a, b, from, corner} when the two fingers came down
    const two = () => {
      const [a, b] = [...fingers.values()];
      return {a, b};
    };
    this.pinch = {scale: 1, x: 0, y: 0};
    stage.addEventListener("pointerdown", (event) => {
      if (event.pointerType !== "touch" || stage.classList.contains("actual")) return;
      fingers.set(event.pointerId, {x: event.clientX, y: event.clientY});
      if (fingers.size !== 2) return;
      const box = this.image.getBoundingClientRect();
      first = {...two(), from: {...this.pinch}, corner: {x: box.left - this.pinch.x, y: box.top - this.pinch.y}};
    });
    stage.addEventListener("pointermove", (event) => {
      if (!fingers.has(event.pointerId)) return;
      fingers.set(event.pointerId, {x: event.clientX, y: event.clientY});
      if (fingers.size === 2 && first) this.unpinch(pinched(first.from, first, two(), first.corner));
    });
    const lift = (event) => {
      fingers.delete(event.pointerId);
      if (fingers.size < 2) first = null;
    };
    stage.addEventListener("pointerup", lift);
    stage.addEventListener("pointercancel", lift);
  }

  /** Zoom the picture as two fingers left it ({scale, x, y}), or back to fitting the screen. */
  unpinch(zoom = {scale: 1, x: 0, y: 0}) {
    this.pinch = zoom;
    const style = this.image.style;
    if (zoom.scale === 1) style.removeProperty("transform");
    else style.transform = `translate(${zoom.x}px, ${zoom.y}px) scale(${zoom.scale})`;
  }

  render(item, replaceNotes) {
    this.star = item.star ?? 0;
    this.item = item;
    [...this.el.stars.children].forEach((button, at) => {
      button.setAttribute("aria-pressed", String(at < this.star));
      button.disabled = this.api.isReadonly();
    });
    const list = this.el.tags;
    const readonly = this.api.isReadonly();
    list.replaceChildren(...item.tags.map((tag) => tagChip(tag, () => this.edit({removeTags: [tag]}, `tag ${tag}`), readonly)));
    this.el.people.replaceChildren(...(item.people || []).map(({name}) => tagChip(name,
      () => this.edit({removePeople: [name]}, `name ${name}`), readonly, "person")));
    this.faceBoxes.show(item.people, readonly || VIDEO.test(this.path || ""));
    // Notes the person typed and has not saved are never overwritten by what the server says.
    const dirty = this.notes.value !== this.savedNotes;
    this.savedNotes = item.notes || "";
    if (replaceNotes || !dirty) this.notes.value = this.savedNotes;
    this.notes.readOnly = this.api.isReadonly();
    this.el.exif.replaceChildren(...exifRows(item));
    this.el.placeClear.hidden = !item.placeSet || readonly;
    this.el.date.value = (item.takenAt || "").slice(0, 19);
    this.el.dateClear.hidden = item.dateSource !== "person" || readonly;
    this.placesCredit.hidden = typeof item.place !== "string" && readonly;  // shown beside a place, or its form
    if (item.originalPosition) this.el.trash.textContent = "Restore";
    else this.el.trash.textContent = "Move to trash";
  }

  saveNotes() {
    return this.edit({notes: this.notes.value}, "notes");
  }

  /** PATCH ops with If-Match; on 412 say so and keep what was typed. Answer whether it was saved. */
  async edit(ops, what, retried = false) {
    await this.loading;  // an edit builds on the version shown, so it waits for it (and its ETag)
    const path = this.path;
    if (!path || this.api.isReadonly()) return false;
    try {
      const answer = await this.api.request("PATCH", `/item?path=${enc(path)}`,
        {json: ops, headers: this.etag ? {"If-Match": this.etag} : {}});
      const item = await answer.json();
      if (path !== this.path) return true;
      this.etag = answer.headers.get("ETag");
      const shown = {...this.item, ...item, exif: this.item?.exif || {}};  // PATCH answers the sidecar alone
      if (!item.placeSet) delete shown.placeSet;
      if (!item.people) delete shown.people;
      this.render(shown, "notes" in ops);
      this.message("");
      this.say(`Saved ${what}.`);
      this.changed({...this.item});
      return true;
    } catch (ex) {
      if (path !== this.path) return false;
      if (ex instanceof ApiError && ex.status === 412) {
        if (!retried && await this.unchangedForPeople()) return this.edit(ops, what, true);
        this.conflict(what);
      } else {
        this.message(`Your ${what} was not saved: ${ex.message}`);
      }
      return false;
    }
  }

  /** Turn the picture a quarter (90: right, -90: left), kept on the server; the preview and the grid's
   *  tile are fetched again turned. The original is never changed. */
  async rotate(turn) {
    await this.loading;
    const path = this.path;
    if (!path || this.api.isReadonly() || VIDEO.test(path)) return;
    try {
      const answer = await this.api.request("POST", `/item/rotate?path=${enc(path)}`,
        {json: {turn}, headers: this.etag ? {"If-Match": this.etag} : {}});
      const item = await answer.json();
      if (path !== this.path) return;
      this.etag = answer.headers.get("ETag");
      this.item = {...this.item, turn: item.turn, w: item.w, h: item.h, orientation: item.orientation};
      this.api.forgetPreview(path);
      this.forgetOriginal();
      this.showPreview(path);
      this.say(turn > 0 ? "Rotated right." : "Rotated left.");
      this.changed({...this.item});
    } catch (ex) {
      if (path !== this.path) return;
      if (ex instanceof ApiError && ex.status === 412) this.conflict("rotation");
      else this.message(`The image was not rotated: ${ex.message}`);
    }
  }

  /** After a 412: true (and the new ETag taken) when only lenslet's own fields moved, such as the
   *  content hash recorded while the thumbnail was made; nobody's star, tags or notes changed. */
  async unchangedForPeople() {
    try {
      const answer = await this.api.request("GET", `/item?path=${enc(this.path)}`);
      const now = await answer.json();
      const seen = this.item || {};
      const same = now.star === seen.star && JSON.stringify(now.tags) === JSON.stringify(seen.tags) && now.notes === seen.notes;
      if (same) this.etag = answer.headers.get("ETag");
      return same;
    } catch (ex) {
      return false;
    }
  }

  conflict(what) {
    this.offer(`Someone else changed this image since you opened it, so your ${what} was not saved. ` +
      "Load their version to see it, then make your change again.", "Load their version", () => this.loadTheirs());
  }

  /** After a 412: show every field as the server has it now, so a save builds on their version
   *  and never writes back an old star, tags or notes. Notes typed and not saved are shown apart. */
  async loadTheirs() {
    const typed = this.notes.value !== this.savedNotes ? this.notes.value : "";
    this.loading = this.reload(true);
    if (!await this.loading) return;
    this.message(typed ? "Loaded their version. The notes you typed were not saved; here they are: " : "Loaded their version.",
      typed);
  }

  /** Say text, with notes quoted after it when given. */
  message(text, notes = "") {
    this.el.message.textContent = text;
    if (notes) this.el.message.append(Object.assign(document.createElement("q"), {className: "unsaved", textContent: notes}));
    if (text) this.details(true);  // on a phone the message is with the details: shown, so it is read
  }

  /** Say text with a button that does what can be done about it. */
  offer(text, label, action) {
    const button = Object.assign(document.createElement("button"), {type: "button", textContent: label});
    button.addEventListener("click", action);
    this.el.message.replaceChildren(text, button);
    this.details(true);
  }
}

function tagChip(tag, remove, readonly, kind = "tag") {
  const chip = document.createElement("li");
  chip.className = "tag";
  chip.append(tag);
  if (!readonly) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "\u00d7";
    button.setAttribute("aria-label", `Remove ${kind} ${tag}`);
    button.addEventListener("click", remove);
    chip.append(button);
  }
  return chip;
}

/** A place of GET /places as one line, "Nazaré, Leiria, Portugal", as lenslet lists it. */
function placeLabel(place) {
  return [...new Set([place.city, place.region, place.country].filter(Boolean))].join(", ");
}

function exifRows(item) {
  const exif = item.exif || {};
  const camera = [exif.make, exif.model].filter(Boolean);
  // Most cameras repeat the maker in the model ("Canon" + "Canon EOS 5D").
  if (camera.length === 2 && camera[1].startsWith(camera[0])) camera.shift();
  const rows = [
    ["Camera", camera.join(" ")],
    ["Lens", typeof exif.lens === "string" ? exif.lens : ""],
    ["Exposure", exposureText(exif)],
    ["Taken", item.takenAt ? item.takenAt.replace("T", " ") + (item.dateSource === "person" ? " (set by a person)" : "")
      : "No date"],
    ["Place", typeof item.place === "string" ? item.place + (item.placeSet ? " (set by a person)" : "") : ""],
    ["Position", placeText(exif)],
    ["Size", item.w && item.h ? `${item.w} \u00d7 ${item.h} px` : ""],
    ["Length", Number.isFinite(item.duration) ? formatDuration(item.duration) : ""],
    ["File", item.size != null ? `${formatBytes(item.size)}, ${item.type || ""}` : ""],
    ["From", item.originalPosition || ""],
    // A guest who added it through a share link, by the name they gave, and that link's id.
    ["Added by", item.addedBy ? `${item.addedBy}, through share link ${item.addedVia || ""}` : ""],
    // Who changed it last (a signed-in user's name; "api" is what lenslet records without users).
    ["Edited", item.updatedBy && item.updatedBy !== "api"
      ? `by ${item.updatedBy}${item.updatedAt ? ", " + String(item.updatedAt).slice(0, 16).replace("T", " ") : ""}` : ""],
  ];
  return rows.filter(([, value]) => value).flatMap(([name, value]) => {
    const term = document.createElement("dt");
    const detail = document.createElement("dd");
    term.textContent = name;
    detail.textContent = value;
    // A map only when the admin chose a map service (LENSLET_MAP_LINK): a position is nobody else's business.
    if (name === "Position" && typeof item.mapLink === "string" && item.mapLink.startsWith("https://")) {
      detail.append(" ", Object.assign(document.createElement("a"), {
        href: item.mapLink, textContent: "Map", target: "_blank", rel: "noopener noreferrer"}));
    }
    return [term, detail];
  });
}

const finite = (value) => typeof value === "number" && Number.isFinite(value);

/** "50 mm (75 mm in 35 mm) · f/1.8 · 1/250 s · ISO 400": what the EXIF says of how it was taken. */
export function exposureText(exif) {
  const parts = [];
  if (finite(exif.focalLength)) {
    const film = finite(exif.focalLength35) && Math.round(exif.focalLength35) !== Math.round(exif.focalLength)
      ? ` (${Math.round(exif.focalLength35)} mm in 35 mm)` : "";
    parts.push(`${+exif.focalLength.toFixed(1)} mm${film}`);
  }
  if (finite(exif.fNumber)) parts.push(`f/${+exif.fNumber.toFixed(1)}`);
  if (finite(exif.exposureTime) && exif.exposureTime > 0) {
    const t = exif.exposureTime;
    parts.push(t >= 0.3 ? `${+t.toFixed(1)} s` : `1/${Math.round(1 / t)} s`);
  }
  if (finite(exif.iso)) parts.push(`ISO ${Math.round(exif.iso)}`);
  return parts.join(" \u00b7 ");
}

/** "48.858370° N, 2.294481° E": a GPS position as people read it. */
export function placeText(exif) {
  if (!finite(exif.latitude) || !finite(exif.longitude)) return "";
  const side = (value, plus, minus) => `${Math.abs(value).toFixed(6)}\u00b0 ${value < 0 ? minus : plus}`;
  return `${side(exif.latitude, "N", "S")}, ${side(exif.longitude, "E", "W")}`;
}

/** A video's length as people read it: "0:02", "12:05", "1:02:03". */
export function formatDuration(seconds) {
  const whole = Math.round(seconds);
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor(whole / 60) % 60, whole % 60];
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

export function formatBytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(0)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}
