// What the page says: a passing status line, and a notice about an action on the grid that stays
// (with buttons for what can be done about it) until the next action or another listing.

import {keyOf} from "./router.js";

const STATUS_SECONDS = 6;

export class Messages {
  /** status, notice: their elements; place() answers where the page is now. */
  constructor(status, notice, place) {
    Object.assign(this, {status, noticeBox: notice, place});
    this.timer = null;
    this.noticeKey = null;  // the listing the notice is about
  }

  say(text) {
    this.status.textContent = text;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.status.textContent = ""; }, STATUS_SECONDS * 1000);
  }

  /** Say what went wrong with an action on the grid, with buttons [label, action]. */
  notice(text, ...actions) {
    this.noticeAt(this.place(), text, ...actions);
  }

  /** notice(), for the listing of place (where the page is about to go). */
  noticeAt(place, text, ...actions) {
    this.noticeKey = keyOf(place);
    this.noticeBox.replaceChildren(text, ...actions.map(([label, action]) => {
      const button = Object.assign(document.createElement("button"), {type: "button", textContent: label});
      button.addEventListener("click", action);
      return button;
    }));
  }

  clear() {
    this.noticeBox.replaceChildren();
  }

  /** Another listing is shown: a notice stays only when it was given for that one. */
  showing(key) {
    if (key !== this.noticeKey) this.clear();
  }
}
