// The timeline: every image by the date it was taken, newest first, read a slice at a time as the
// person scrolls (GET /timeline, from the `older` cursor of the slice before), with a scrubber of
// years and months (GET /timeline/months) that jumps to one (#timeline=2024-05), and the "On this
// day" strip of the start page (GET /on-this-day). Nothing happens on import.

import {enc} from "./api.js";
import {hashOf} from "./router.js";
import {paramsOf} from "./sorting.js";

const SLICE = 200;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const STRIP = 8;  // images of one earlier year in the strip

/** The timeline's filters: the listings' own, without a sort (the timeline is always by date). */
const filtersOf = (asked) => paramsOf({...asked, sort: "name", order: "asc"});

export class Timeline {
  /** scrubber: the element the years and months go in. */
  constructor(scrubber, {api}) {
    Object.assign(this, {scrubber, api});
    this.shownFor = null;  // the filters the scrubber shows the months of
  }

  /** What the listing reads for a place that names the timeline (#timeline=now, or a year, month or day
   *  to start at): {title, empty, next()}; null for any other place. */
  source(place, asked) {
    if (place.timeline == null) return null;
    const at = /^\d{4}(-\d{2}(-\d{2})?)?$/.test(place.timeline) ? place.timeline : null;
    const filters = filtersOf(asked);
    let older = null;
    const api = this.api;
    return {
      title: at ? `Timeline from ${at}` : "Timeline",
      empty: "No photos here yet: the timeline shows every photo by the date it was taken.",
      where: true,
      async next() {
        const from = older ? `&before=${enc(older)}` : at ? `&at=${at}` : "";
        const slice = await api.getJSON(`/timeline?limit=${SLICE}${filters}${from}`);
        older = slice.older;
        return {items: slice.items, total: slice.total, done: slice.older == null};
      },
    };
  }

  /** Show the scrubber on the timeline (its months read once for each set of filters), hide it elsewhere. */
  async show(place, asked) {
    const on = place.timeline != null;
    this.scrubber.hidden = !on;
    const filters = filtersOf(asked);
    if (!on || this.shownFor === filters) {
      this.mark(place.timeline);
      return;
    }
    this.shownFor = filters;
    let months = [];
    try {
      months = (await this.api.getJSON(`/timeline/months?${filters.slice(1)}`)).months;
    } catch (ex) {
      this.shownFor = null;
      return;
    }
    const years = new Map();
    for (const {month, count} of months) {
      const year = month.slice(0, 4);
      if (!years.has(year)) years.set(year, []);
      years.get(year).push({month, count});
    }
    const list = document.createElement("ol");
    for (const [year, inYear] of years) {
      const item = document.createElement("li");
      const total = inYear.reduce((sum, month) => sum + month.count, 0);
      item.append(Object.assign(document.createElement("a"), {className: "year", textContent: year,
        href: hashOf({timeline: year}), title: `${total} photos`}));
      for (const {month, count} of inYear) {
        const link = Object.assign(document.createElement("a"), {className: "month",
          textContent: MONTHS[Number(month.slice(5)) - 1], href: hashOf({timeline: month}), title: `${month}: ${count} photos`});
        link.dataset.month = month;
        item.append(link);
      }
      list.append(item);
    }
    this.scrubber.replaceChildren(list);
    this.mark(place.timeline);
  }

  mark(at) {
    this.scrubber.querySelectorAll("a").forEach((link) => {
      if (link.getAttribute("href") === hashOf({timeline: at})) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
  }
}

export class OnThisDay {
  /** strip: the start page's "On this day" section; open(path, day) opens an image on the timeline. */
  constructor(strip, {api, open}) {
    Object.assign(this, {strip, api, open});
    this.read = null;  // the answer, read once
  }

  /** Show the strip on the start page (the whole gallery's folder, nothing searched), when there is anything. */
  async show(place) {
    const start = !place.path && place.q == null && place.timeline == null && place.album == null;
    if (!start) {
      this.strip.hidden = true;
      return;
    }
    const today = new Date();
    const day = `${String(today.getMonth() + 1).padStart(2, "0")}-${String(today.getDate()).padStart(2, "0")}`;
    if (!this.read) this.read = this.api.getJSON(`/on-this-day?day=${day}`).catch(() => ({years: []}));
    const {years} = await this.read;
    this.strip.hidden = !years.length;
    if (!years.length || this.strip.childElementCount) return;
    const heading = Object.assign(document.createElement("h2"), {textContent: "On this day"});
    const rows = years.map(({year, count, items}) => {
      const row = document.createElement("div");
      row.className = "year";
      const ago = today.getFullYear() - year;
      row.append(Object.assign(document.createElement("span"), {className: "label",
        textContent: `${year} (${ago} ${ago === 1 ? "year" : "years"} ago, ${count})`}));
      for (const item of items.slice(0, STRIP)) {
        const button = Object.assign(document.createElement("button"), {type: "button", className: "memory",
          title: item.path});
        button.setAttribute("aria-label", `${item.name}, ${year}`);
        const img = Object.assign(document.createElement("img"), {alt: ""});
        button.append(img);
        button.addEventListener("click", () => this.open(item.path, `${year}-${day}`));
        this.api.loadThumb(img, item.path, this.api.versionOf(item, "thumb"));
        row.append(button);
      }
      return row;
    });
    this.strip.replaceChildren(heading, ...rows);
  }
}
