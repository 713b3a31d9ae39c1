// People in the photos: their faces' boxes drawn over the viewer's photo on demand, a face drawn there and named,
// the names known suggested, and the Faces view: each person's face and count, their photos on the timeline or
// the map, a person renamed or merged into another.

import {enc, reason} from "./api.js";
import {partOf} from "./dom.js";

/** Fill a <datalist> with the names GET /people knows; they are only suggestions, so a failure is quiet. */
export async function suggestPeople(api, list) {
  try {
    const {people} = await api.getJSON("/people");
    list.replaceChildren(...people.map((person) => Object.assign(document.createElement("option"), {value: person.name})));
  } catch {
    list.replaceChildren();
  }
}

export class FaceBoxes {
  /** stage: the viewer's stage; image: its <img>; toggle: the "Show faces" button; drawToggle: the "Draw a face"
   *  button; drawn(box): a box was drawn, to be named; remove(name): a face's x was pressed. */
  constructor(stage, image, toggle, {drawToggle, drawn, remove}) {
    Object.assign(this, {stage, image, toggle, drawToggle, drawn, remove, people: [], readonly: true, pending: null});
    this.layer = Object.assign(document.createElement("div"), {className: "faces", hidden: true});
    stage.append(this.layer);
    for (const button of [toggle, drawToggle]) {
      button.addEventListener("click", () => {
        button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true"));
        this.pending = null;
        this.draw();
      });
    }
    this.wireDrawing();
    image.addEventListener("load", () => this.draw());
    // the photo moves and scales with the window and the details beside or below it
    const moved = new ResizeObserver(() => this.draw());
    moved.observe(stage);
    moved.observe(image);
  }

  /** people: GET /item's, boxes as shown, in fractions of the picture's sides; readonly: no face may be drawn. */
  show(people, readonly) {
    this.people = (people || []).filter((person) => person.box);
    this.readonly = readonly;
    this.toggle.hidden = !this.people.length;
    this.drawToggle.hidden = readonly;
    this.pending = null;
    this.drawToggle.setAttribute("aria-pressed", "false");
    this.draw();
  }

  get drawing() {
    return this.drawToggle.getAttribute("aria-pressed") === "true" && !this.readonly;
  }

  draw() {
    const showing = this.toggle.getAttribute("aria-pressed") === "true" && this.people.length > 0;
    const on = (showing || this.drawing) && !this.image.hidden;
    this.toggle.textContent = showing ? "Hide faces" : "Show faces";
    this.layer.hidden = !on;
    this.layer.classList.toggle("drawing", this.drawing);
    if (!on) return;
    // Over the picture where it stands in the stage (it is centred, and scaled to fit).
    const picture = this.image.getBoundingClientRect(), stage = this.stage.getBoundingClientRect();
    Object.assign(this.layer.style, {left: `${picture.left - stage.left + this.stage.scrollLeft}px`,
      top: `${picture.top - stage.top + this.stage.scrollTop}px`, width: `${picture.width}px`, height: `${picture.height}px`});
    const faces = (showing ? this.people : []).map(({name, box}) => {
      const face = this.face(box, name);
      if (!this.readonly) {
        const remove = Object.assign(document.createElement("button"), {type: "button", className: "remove", textContent: "\u00d7"});
        remove.setAttribute("aria-label", `Remove the face of ${name}`);
        remove.addEventListener("click", () => this.remove(name));
        face.append(remove);
      }
      return face;
    });
    this.layer.replaceChildren(...faces, ...(this.pending ? [this.face(this.pending, "Who is this?", "face pending")] : []));
  }

  face([x, y, w, h], name, className = "face") {
    const face = Object.assign(document.createElement("div"), {className, title: name});
    Object.assign(face.style, {left: `${x * 100}%`, top: `${y * 100}%`, width: `${w * 100}%`, height: `${h * 100}%`});
    face.append(Object.assign(document.createElement("span"), {textContent: name}));
    return face;
  }

  /** A box dragged over the picture while drawing (mouse, pen or a finger), in fractions of its sides. */
  wireDrawing() {
    let start = null;
    const at = (event) => {
      const area = this.layer.getBoundingClientRect();
      const fraction = (value, from, size) => Math.min(1, Math.max(0, (value - from) / size));
      return {x: fraction(event.clientX, area.left, area.width), y: fraction(event.clientY, area.top, area.height)};
    };
    const boxTo = (end) => [Math.min(start.x, end.x), Math.min(start.y, end.y), Math.abs(end.x - start.x),
      Math.abs(end.y - start.y)].map((value) => Math.round(value * 10000) / 10000);
    this.layer.addEventListener("pointerdown", (event) => {
      if (!this.drawing || event.target.closest("button")) return;
      event.preventDefault();
      event.stopPropagation();  // not a pinch, nor a swipe to the next photo
      this.layer.setPointerCapture(event.pointerId);
      start = at(event);
    });
    this.layer.addEventListener("pointermove", (event) => {
      if (!start) return;
      this.pending = boxTo(at(event));
      this.draw();
    });
    this.layer.addEventListener("pointerup", (event) => {
      if (!start) return;
      this.pending = boxTo(at(event));
      start = null;
      if (this.pending[2] < 0.01 || this.pending[3] < 0.01) this.pending = null;  // a tap, not a box
      this.draw();
      if (this.pending) this.drawn(this.pending);
    });
    for (const type of ["touchstart", "touchend", "click"]) {
      this.layer.addEventListener(type, (event) => { if (this.drawing) event.stopPropagation(); });
    }
  }
}

export class FacesDialog {
  /** dialog: the <dialog> holding #faces-list and #faces-message; api: the page's Api; go(place): the page goes
   *  there (a person's photos on the timeline or the map); ask(question): Dialogs.ask. */
  constructor(dialog, {api, go, ask}) {
    Object.assign(this, {dialog, api, go, ask, covers: []});
    this.list = partOf(dialog, "#faces-list");
    this.message = partOf(dialog, "#faces-message");
    // a cover is fetched (with the page's credentials) once its row is in sight
    this.sight = new IntersectionObserver((seen) => seen.filter((entry) => entry.isIntersecting).forEach(({target}) => {
      this.sight.unobserve(target);
      this.api.madeImage(target.dataset.src).then((blob) => {
        target.src = URL.createObjectURL(blob);
        this.covers.push(target.src);
      }, () => target.classList.add("broken"));
    }), {root: this.list});
  }

  async open() {
    this.message.textContent = "";
    this.show([]);  // last time's rows go: none is tapped while the list is read again
    if (!this.dialog.open) this.dialog.showModal();
    try {
      this.show((await this.api.getJSON("/people")).people);
    } catch (ex) {
      this.show([]);
      this.message.textContent = `The people cannot be read: ${reason(ex)}`;
      return;
    }
    if (!this.people.length) {
      this.message.textContent = "No photo names anyone yet: name people in a photo's details, or in another photo tool.";
    }
  }

  /** people: GET /people's, most photos first. */
  show(people) {
    this.covers.splice(0).forEach((url) => URL.revokeObjectURL(url));
    this.people = people;
    const names = people.map((person) => person.name);
    this.list.replaceChildren(...people.map((person) => this.row(person, names)));
  }

  /** A person's row: their face and count (a tap: their photos on the timeline), and a menu of the rest. */
  row({name, count, cover}, names) {
    const row = Object.assign(document.createElement("li"), {className: "person"});
    const photos = Object.assign(document.createElement("button"), {type: "button", textContent: name});
    photos.setAttribute("aria-label", `${name}: ${count} photo${count === 1 ? "" : "s"}`);
    const face = Object.assign(document.createElement("img"), {className: "cover", alt: ""});
    face.dataset.src = cover.box ? `/face?path=${enc(cover.path)}&box=${cover.box.join(",")}` : `/thumb?path=${enc(cover.path)}`;
    this.sight.observe(face);
    photos.prepend(face);
    photos.append(Object.assign(document.createElement("span"), {className: "count", textContent: ` ${count}`}));
    const menu = Object.assign(document.createElement("details"), {className: "person-menu"});
    const summary = Object.assign(document.createElement("summary"), {textContent: "\u22ef"});
    summary.setAttribute("aria-label", `More for ${name}`);
    menu.append(summary);
    const action = (text, act, edit = false) => {
      const button = Object.assign(document.createElement("button"), {type: "button", textContent: text});
      if (edit) button.className = "edit";
      button.addEventListener("click", act);
      menu.append(button);
    };
    const shown = (place) => () => {
      this.dialog.close();
      this.go({...place, person: name});
    };
    photos.addEventListener("click", shown({timeline: ""}));
    action("On the map", shown({map: ""}));
    action("Rename", () => this.rename(name, {title: `Rename ${name}`, label: "New name", value: name, ok: "Rename",
      hint: "On every photo you may change; a name another person already has merges the two."}), true);
    action("Merge into\u2026", () => this.rename(name, {title: `Merge ${name} into`, label: "Who they are",
      ok: "Merge", suggested: names.filter((other) => other !== name)}), true);
    row.append(photos, menu);
    return row;
  }

  /** Ask a person's new name (or the person to merge them into) and rename them everywhere; the list is changed
   *  here, as the server counts it once its search has read the edits. */
  async rename(name, question) {
    const to = await this.ask(question);
    if (!to || to === name) return;
    let renamed, refused;
    try {
      ({renamed, refused} = await this.api.postJSON("/people/rename", {name, to}));
    } catch (ex) {
      this.message.textContent = `${name} was not renamed: ${reason(ex)}`;
      return;
    }
    const moved = this.people.find((person) => person.name === name);
    const into = this.people.find((person) => person !== moved && person.name.toLowerCase() === to.toLowerCase());
    moved.count -= renamed;
    if (into) into.count += renamed;
    const people = [...this.people, ...(into ? [] : [{...moved, name: to, count: renamed}])];
    this.show(people.filter((person) => person.count > 0).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)));
    this.message.textContent = `${renamed} photo${renamed === 1 ? "" : "s"} now name ${to}.` + (refused.length
      ? ` ${refused.length} kept the name ${name}: ${refused[0].description}` : "");
  }
}
