// Sorting and filtering a listing (a folder or a search): what the address asks (#sort=&order=&star=
// &date=&camera=&country=&type=&tagged=&person=), the sort remembered in this browser, the API parameters they
// make, and the controls that choose them. The values are the API's own (docs/search.md):
// the server reads and checks them, and what it refuses (400) is said beside the controls.

import {partOf, placesCredit} from "./dom.js";

const SORT_KEY = "lenslet.sort";
const SORTS = ["name", "date", "rating", "size"];
const ORDERS = ["asc", "desc"];
const FILTERS = ["star", "date", "camera", "country", "type", "tagged", "person"];
/** What the address may say about sorting and filtering, in the order it says it. */
export const ASKED = ["sort", "order", ...FILTERS];
const PLAIN = {sort: "name", order: "asc"};

/** The sort chosen last in this browser, {sort, order}; name ascending when none was. */
export function rememberedSort() {
  const [sort, order] = (localStorage.getItem(SORT_KEY) || "").split(" ");
  return SORTS.includes(sort) && ORDERS.includes(order) ? {sort, order} : PLAIN;
}

/** The sorting and filtering parts a place names (those it leaves out left out). */
export function askedIn(place) {
  return Object.fromEntries(ASKED.filter((name) => place[name] != null && place[name] !== "")
    .map((name) => [name, place[name]]));
}

/** What a listing of place asks: {sort, order, star, date, camera, country, type, tagged} (a filter not asked
 *  is null). The address's sort, else the one remembered: a link to a folder names none. */
export function askedOf(place, remembered) {
  const named = askedIn(place);
  const sort = named.sort ?? remembered.sort;
  const order = named.order ?? (named.sort != null ? "asc" : remembered.order);
  return {sort, order, ...Object.fromEntries(FILTERS.map((name) => [name, named[name] ?? null]))};
}

const filtersOf = (asked) => FILTERS.filter((name) => asked[name]);

/** Whether a listing asks for a filter. */
export const filtered = (asked) => filtersOf(asked).length > 0;

/** The API parameters of what is asked ("&sort=date&order=desc&star=4"); "" for the plain listing
 *  (name order, ascending, nothing filtered), which a folder answers from its stored pages. */
export function paramsOf(asked) {
  const params = new URLSearchParams();
  if (asked.sort !== PLAIN.sort || asked.order !== PLAIN.order) {
    params.set("sort", asked.sort);
    params.set("order", asked.order);
  }
  for (const name of filtersOf(asked)) params.set(name, asked[name]);
  const text = params.toString();
  return text ? `&${text}` : "";
}

/** Choose value in a <select>, adding it when the address names one the menu does not offer. */
function select(menu, value) {
  if (![...menu.options].some((option) => option.value === value)) menu.append(new Option(value, value));
  menu.value = value;
}

let regionNames = null;  // made once: making one costs more than naming every country with it

/** "Portugal" of "PT" in the browser's language; the code itself when the browser cannot name it. */
function countryName(code) {
  try {
    regionNames = regionNames || new Intl.DisplayNames([], {type: "region"});
    return regionNames.of(code) || code;
  } catch (ex) {
    return code;
  }
}

export class SortControls {
  /** content: the element holding the sort menu (#sort), its direction (#sort-order), the filters'
   *  button (#filters-toggle) and form (#filters: #filter-star, -type, -tagged, -date, -camera, -country, -person,
   *  #filters-clear) and the message the server's refusal is said in (#sort-message). choose(asked)
   *  is called with the sort and filters chosen (as askedOf answers them); rules: the server's. */
  constructor(content, {rules, choose}) {
    this.el = Object.fromEntries(["sort", "sort-order", "filters-toggle", "filters", "filters-clear", "sort-message",
      ...FILTERS.map((name) => `filter-${name}`)].map((id) => [id, partOf(content, `#${id}`)]));
    this.choose = choose;
    this.asked = askedOf({}, PLAIN);
    this.shownKey = null;
    this.countries = new Set();  // the countries the listing shown holds, offered as choices
    this.named = false;  // whether the country menu offers them by name yet (done when the filters open)
    for (const name of rules.typeNames) this.el["filter-type"].append(new Option(name, name));
    this.el["filter-type"].append(new Option("any camera raw", "raw"));
    this.el["filter-country"].after(" ", placesCredit());  // hidden with the menu's label
    this.el.sort.addEventListener("change", () => this.chosen({sort: this.el.sort.value}, true));
    this.el["sort-order"].addEventListener("click", () =>
      this.chosen({order: this.asked.order === "desc" ? "asc" : "desc"}, true));
    this.el["filters-toggle"].addEventListener("click", () => this.unfold(this.el.filters.hidden));
    const form = this.el.filters;
    form.addEventListener("change", () => this.chosen(this.typed()));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.chosen(this.typed());
    });
    this.el["filters-clear"].addEventListener("click", () => {
      this.chosen(Object.fromEntries(FILTERS.map((name) => [name, null])));
      this.el["filter-star"].focus();  // the button is about to be hidden: the focus stays in the form
    });
  }

  /** The filters as the form says them (an empty field: not filtered). */
  typed() {
    return Object.fromEntries(FILTERS.map((name) => [name, this.el[`filter-${name}`].value.trim() || null]));
  }

  /** The person changed something: the listing is asked again; a sort chosen is remembered. */
  chosen(change, sorting = false) {
    const asked = {...this.asked, ...change};
    if (sorting) localStorage.setItem(SORT_KEY, `${asked.sort} ${asked.order}`);
    this.asked = asked;  // a second choice before the listing is shown builds on this one
    this.choose(asked);
  }

  /** Open (or close) the filters. */
  unfold(open) {
    this.el.filters.hidden = !open;
    if (open) this.nameCountries();
    this.el["filters-toggle"].setAttribute("aria-expanded", String(open));
  }

  /** Show what a listing asks (askedOf's answer); key names the listing: the filters open when
   *  another one is shown filtered, so a filter at work is never out of sight. */
  show(asked, key) {
    this.asked = asked;
    const {el} = this;
    select(el.sort, asked.sort);
    const descending = asked.order === "desc";
    el["sort-order"].setAttribute("aria-pressed", String(descending));
    el["sort-order"].textContent = descending ? "\u2193" : "\u2191";
    el["sort-order"].title = descending ? "Descending: click for ascending" : "Ascending: click for descending";
    for (const name of FILTERS) {
      const field = el[`filter-${name}`];
      const value = name === "star" ? (asked.star || "").replace(/\+$/, "") : asked[name] || "";
      if (field.tagName === "SELECT") select(field, value);
      else field.value = value;
    }
    const count = filtersOf(asked).length;
    el["filters-toggle"].textContent = count ? `Filter (${count})` : "Filter";
    el["filters-toggle"].classList.toggle("active", count > 0);
    el["filters-clear"].hidden = !count;
    if (count && key !== this.shownKey) this.unfold(true);
    // Another folder or search (not the same one filtered otherwise): its own countries.
    if (key?.split("?")[0] !== this.shownKey?.split("?")[0]) this.countries.clear();
    this.shownKey = key;
    this.offer([]);
    this.say(null);
  }

  /** Offer the countries items were taken in (their ISO codes, "PT") among the country filter's choices,
   *  by name; the filter is hidden while it has nothing to offer. */
  offer(items) {
    const known = this.countries.size;
    for (const item of items) if (/^[A-Z]{2}$/.test(item.country ?? "")) this.countries.add(item.country);
    if (items.length && this.countries.size === known) return;  // an open menu stays open
    this.el["filter-country"].closest("label").hidden = !this.countries.size && !this.asked.country;
    this.named = false;
    if (!this.el.filters.hidden) this.nameCountries();
  }

  /** The country menu's choices, named when the filters are open: naming them is a long task on a phone. */
  nameCountries() {
    if (this.named) return;
    this.named = true;
    const menu = this.el["filter-country"];
    const options = [...this.countries].map((code) => new Option(countryName(code), code))
      .sort((a, b) => a.text.localeCompare(b.text));
    menu.replaceChildren(new Option("any", ""), ...options);
    select(menu, this.asked.country || "");  // one the address names is offered too
  }

  /** The server refused what is asked (400): say its message here, and mark the field it names. */
  refused(ex) {
    this.say(ex.message, ex.body?.param);
  }

  say(text, param) {
    const {el} = this;
    el["sort-message"].textContent = text || "";
    for (const name of ASKED) {
      const field = name === "sort" ? el.sort : name === "order" ? el["sort-order"] : el[`filter-${name}`];
      if (text && name === param) {
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-errormessage", "sort-message");
      } else {
        field.removeAttribute("aria-invalid");
        field.removeAttribute("aria-errormessage");
      }
    }
    if (text && FILTERS.includes(param)) this.unfold(true);
  }
}
