// The timeline: every image by the date it was taken, newest first, read a slice at a time as the
// person scrolls (GET /timeline, from the `older` cursor of the slice before), a heading in the grid for
// each month (with what it holds) and day, and a slim scrubber of years and months on the right edge
// (GET /timeline/months) that jumps to one (#timeline=2024-05) and marks where the person is.
// Nothing happens on import.

import {enc} from "./api.js";
import {hashOf, isStartPage} from "./router.js";
import {filtered, paramsOf} from "./sorting.js";

const SLICE = 200;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const STRIP = 8;  // images of one earlier year in the strip

/** The timeline's filters: the listings' own, without a sort (the timeline is always by date). */
const filtersOf = (asked) => paramsOf({...asked, sort: "name", order: "asc"});

const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** What a month (or the whole timeline) holds, as its tiles show it: "12 photos, 2 videos"; with a filter,
 *  which shows each file found (the other file of a stack too), every file. */
export function tilesText({count, photos, videos}, asked) {
  if (filtered(asked) || !Number.isInteger(photos) || !Number.isInteger(videos)) return plural(count, "image");
  return videos ? `${plural(photos, "photo")}, ${plural(videos, "video")}` : plural(photos, "photo");
}

/** "May 2024" of "2024-05". */
export const monthName = (month) => `${MONTH_NAMES[Number(month.slice(5, 7)) - 1]} ${month.slice(0, 4)}`;

/** "Sun 12 May" of "2024-05-12" (the day the camera's clock said: no zone is applied). */
export function dayName(day) {
  const [year, month, date] = day.split("-").map(Number);
  return `${DAYS[new Date(Date.UTC(year, month - 1, date)).getUTCDay()]} ${date} ${MONTHS[month - 1]}`;
}

export class Timeline {
  /** scrubber: the element the years and months go in. */
  constructor(scrubber, {api}) {
    Object.assign(this, {scrubber, api});
    this.shownFor = null;  // the filters the scrubber shows the months of
    this.months = null;    // Promise of GET /timeline/months's months for shownFor
    this.seen = null;      // the month the person is looking at, marked in the scrubber
    addEventListener("scroll", () => {
      if (this.scrubber.hidden || this.looking) return;
      this.looking = requestAnimationFrame(() => {
        this.looking = null;
        this.follow();
      });
    }, {passive: true});
  }

  /** The months of a set of filters, read once for each. */
  monthsOf(filters) {
    if (this.shownFor !== filters || !this.months) {
      this.shownFor = filters;
      this.months = this.api.getJSON(`/timeline/months?${filters.slice(1)}`).then((answer) => answer.months);
      this.months.catch(() => { this.months = null; });
    }
    return this.months;
  }

  /** What the listing reads for a place that names the timeline (#timeline=now, or a year, month or day
   *  to start at): {title, empty, next(), headings(item)}; null for any other place. */
  source(place, asked) {
    if (place.timeline == null) return null;
    const at = /^\d{4}(-\d{2}(-\d{2})?)?$/.test(place.timeline) ? place.timeline : null;
    const filters = filtersOf(asked);
    let older = null;
    let counts = new Map();  // month -> its counts
    const api = this.api;
    const months = this.monthsOf(filters);
    return {
      title: at ? `Timeline from ${at}` : "Timeline",
      empty: "No photos here yet: the timeline shows every photo by the date it was taken.",
      where: true,
      async next() {
        const from = older ? `&before=${enc(older)}` : at ? `&at=${at}` : "";
        const [slice, known] = await Promise.all([api.getJSON(`/timeline?limit=${SLICE}${filters}${from}`),
          months.catch(() => [])]);
        older = slice.older;
        counts = new Map(known.map((month) => [month.month, month]));
        const sum = (name) => known.reduce((total, month) => total + (month[name] ?? 0), 0);
        const said = known.length ? tilesText({count: sum("count"), photos: sum("photos"), videos: sum("videos")}, asked)
          : null;
        return {items: slice.items, total: slice.total, done: slice.older == null, said};
      },
      /** The headings an item starts when it is the first of its month or day: [{key, level, text}]. */
      headings(item) {
        const day = typeof item.takenAt === "string" ? item.takenAt.slice(0, 10) : "";
        if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return [];
        const month = day.slice(0, 7);
        const holds = counts.get(month);
        return [{key: month, level: "month", text: monthName(month), note: holds ? tilesText(holds, asked) : ""},
          {key: day, level: "day", text: dayName(day), note: ""}];
      },
    };
  }

  /** Show the scrubber on the timeline (its months read once for each set of filters), hide it elsewhere. */
  async show(place, asked) {
    const on = place.timeline != null;
    this.scrubber.hidden = !on;
    document.body.classList.toggle("on-timeline", on);
    if (!on) return;
    const filters = filtersOf(asked);
    const drawnFor = this.scrubber.dataset.filters;
    let months = [];
    try {
      months = await this.monthsOf(filters);
    } catch (ex) {
      return;
    }
    if (drawnFor !== filters) this.draw(months, filters);
    this.mark(place.timeline);
  }

  /** The scrubber: a year a line, the months of the year looked at (or pointed at) beneath it. */
  draw(months, filters) {
    const years = new Map();
    for (const month of months) {
      const year = month.month.slice(0, 4);
      if (!years.has(year)) years.set(year, []);
      years.get(year).push(month);
    }
    const list = document.createElement("ol");
    for (const [year, inYear] of years) {
      const item = document.createElement("li");
      item.dataset.year = year;
      const total = inYear.reduce((sum, month) => sum + month.count, 0);
      item.append(Object.assign(document.createElement("a"), {className: "year", textContent: year,
        href: hashOf({timeline: year}), title: `${year}: ${plural(total, "image")}`}));
      const inside = document.createElement("ol");
      inside.className = "months";
      for (const {month, count} of inYear) {
        const link = Object.assign(document.createElement("a"), {className: "month",
          textContent: MONTHS[Number(month.slice(5)) - 1], href: hashOf({timeline: month}),
          title: `${monthName(month)}: ${plural(count, "image")}`});
        link.dataset.month = month;
        const entry = document.createElement("li");
        entry.append(link);
        inside.append(entry);
      }
      item.append(inside);
      list.append(item);
    }
    this.scrubber.replaceChildren(list);
    this.scrubber.dataset.filters = filters;
    this.seen = null;
  }

  mark(at) {
    this.scrubber.querySelectorAll("a").forEach((link) => {
      if (link.getAttribute("href") === hashOf({timeline: at})) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
    this.follow();
  }

  /** Mark the month whose heading was passed last (the one at the top of the screen) and open its year. */
  follow() {
    const headings = document.querySelectorAll("#grid .group-heading.month");
    const line = (document.querySelector(".bar")?.getBoundingClientRect().bottom ?? 0) + 8;
    let seen = headings[0]?.dataset.key ?? null;
    for (const heading of headings) {
      // The headings passed stay stuck at the top, one over the other: the last of them is the month shown.
      if (heading.getBoundingClientRect().top <= line) seen = heading.dataset.key;
      else break;
    }
    if (seen === this.seen) return;
    this.seen = seen;
    this.scrubber.querySelectorAll(".seen").forEach((node) => node.classList.remove("seen"));
    if (!seen) return;
    this.scrubber.querySelector(`li[data-year="${seen.slice(0, 4)}"]`)?.classList.add("seen");
    this.scrubber.querySelector(`a[data-month="${seen}"]`)?.classList.add("seen");
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
    if (!isStartPage(place)) {
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
    const pictures = [];
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
        pictures.push([img, item]);
        row.append(button);
      }
      return row;
    });
    this.strip.replaceChildren(heading, ...rows);
    // Drawn first: the size fetched is the one with the pixels each is drawn with.
    for (const [img, item] of pictures) {
      this.api.loadThumb(img, item.path, this.api.versionOf(item, "thumb"), {w: item.w, h: item.h,
        large: this.api.versionOf(item, "large"), preview: this.api.versionOf(item, "preview")});
    }
  }
}
