// The search box (names, tags, notes) and the suggestions offered while typing, there and for tags.

import {enc} from "./api.js";
import {partOf} from "./dom.js";

export class SearchBox {
  /** form: the search form (its input and its list of suggestions inside); search(q) is called with
   *  what was submitted, trimmed ("" to stop searching). */
  constructor(form, {api, search}) {
    this.api = api;
    this.input = partOf(form, "input[type=search]");
    this.suggestions = partOf(form, "datalist");
    this.asked = 0;  // the latest question: an older answer arriving late is dropped
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      search(this.input.value.trim());
    });
    this.input.addEventListener("input", () => this.suggest());
  }

  /** Show what is searched for (empty when not searching). */
  show(q) {
    this.input.value = q || "";
  }

  /** Offer tags and words that start like the last word typed. */
  async suggest() {
    const asked = ++this.asked;
    const words = this.input.value.split(/\s+/);
    const last = words.pop();
    if (!last) return;
    try {
      const found = await this.api.getJSON(`/search/suggest?q=${enc(last)}`);
      if (asked !== this.asked) return;
      const lead = words.length ? words.join(" ") + " " : "";
      const options = [...found.tags.map(({tag, count}) => [tag, count]), ...found.words.map(({word, count}) => [word, count])];
      this.suggestions.replaceChildren(...options.map(([text, count]) => new Option(`${text} (${count})`, lead + text)));
    } catch (ex) {
      // no suggestions then
    }
  }
}

export class TagSuggestions {
  /** list: the <datalist> that the tag inputs (the viewer's, the selection's) name. */
  constructor(api, list) {
    this.api = api;
    this.list = list;
    this.asked = 0;
  }

  /** Fill the list with tags starting with what is typed. */
  async suggest(prefix) {
    const asked = ++this.asked;
    if (!prefix.trim()) return;
    try {
      const found = await this.api.getJSON(`/search/suggest?q=${enc(prefix.trim())}`);
      if (asked !== this.asked) return;
      this.list.replaceChildren(...found.tags.map(({tag}) => new Option(tag)));
    } catch (ex) {
      // Suggestions are a convenience; typing goes on without them.
    }
  }
}
