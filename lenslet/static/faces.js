// People in the photos: their faces' boxes drawn over the viewer's photo on demand, the names known suggested
// when naming someone, and the Faces view (each person the photos show, with their count; a tap searches them).

import {reason} from "./api.js";
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

/** The search that finds a person's photos: their whole name, "_" for a space (docs/search.md). */
export const personQuery = (name) => `person:${name.replaceAll(" ", "_")}`;

export class FaceBoxes {
  /** stage: the viewer's stage; image: its <img>; toggle: the "Show faces" button. */
  constructor(stage, image, toggle) {
    Object.assign(this, {stage, image, toggle, people: []});
    this.layer = Object.assign(document.createElement("div"), {className: "faces", hidden: true});
    stage.append(this.layer);
    toggle.addEventListener("click", () => {
      toggle.setAttribute("aria-pressed", String(toggle.getAttribute("aria-pressed") !== "true"));
      this.draw();
    });
    image.addEventListener("load", () => this.draw());
    // the photo moves and scales with the window and the details beside or below it
    const moved = new ResizeObserver(() => this.draw());
    moved.observe(stage);
    moved.observe(image);
  }

  /** people: GET /item's, boxes as shown, in fractions of the picture's sides. */
  show(people) {
    this.people = (people || []).filter((person) => person.box);
    this.toggle.hidden = !this.people.length;
    this.draw();
  }

  draw() {
    const on = this.toggle.getAttribute("aria-pressed") === "true" && this.people.length > 0 && !this.image.hidden;
    this.toggle.textContent = on ? "Hide faces" : "Show faces";
    this.layer.hidden = !on;
    if (!on) return;
    // Over the picture where it stands in the stage (it is centred, and scaled to fit).
    const picture = this.image.getBoundingClientRect(), stage = this.stage.getBoundingClientRect();
    Object.assign(this.layer.style, {left: `${picture.left - stage.left + this.stage.scrollLeft}px`,
      top: `${picture.top - stage.top + this.stage.scrollTop}px`, width: `${picture.width}px`, height: `${picture.height}px`});
    this.layer.replaceChildren(...this.people.map(({name, box: [x, y, w, h]}) => {
      const face = Object.assign(document.createElement("div"), {className: "face", title: name});
      Object.assign(face.style, {left: `${x * 100}%`, top: `${y * 100}%`, width: `${w * 100}%`, height: `${h * 100}%`});
      face.append(Object.assign(document.createElement("span"), {textContent: name}));
      return face;
    }));
  }
}

export class FacesDialog {
  /** dialog: the <dialog> holding #faces-list and #faces-message; api: the page's Api;
   *  search(q): the page runs a search. */
  constructor(dialog, {api, search}) {
    Object.assign(this, {dialog, api, search});
    this.list = partOf(dialog, "#faces-list");
    this.message = partOf(dialog, "#faces-message");
  }

  async open() {
    this.message.textContent = "";
    this.list.replaceChildren();
    if (!this.dialog.open) this.dialog.showModal();
    let answer;
    try {
      answer = await this.api.getJSON("/people");
    } catch (ex) {
      this.message.textContent = `The people cannot be read: ${reason(ex)}`;
      return;
    }
    this.list.replaceChildren(...answer.people.map((person) => {
      const row = document.createElement("li");
      const button = Object.assign(document.createElement("button"), {type: "button", textContent: person.name});
      button.append(Object.assign(document.createElement("span"), {className: "count", textContent: ` ${person.count}`}));
      button.setAttribute("aria-label", `${person.name}: ${person.count} photo${person.count === 1 ? "" : "s"}`);
      button.addEventListener("click", () => {
        this.dialog.close();
        this.search(personQuery(person.name));
      });
      row.append(button);
      return row;
    }));
    if (!answer.people.length) {
      this.message.textContent = "No photo names anyone yet: name people in a photo's details, or in another photo tool.";
    }
  }
}
