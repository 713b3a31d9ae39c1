// Albums: the list in the sidebar, an album's view (#album=<id>: its images in the maker's order, a page at
// a time), and what the page does with them: add the selected images to an album (a new one, or one of
// the person's), remove them, move one earlier or later, rename, share and delete an album (never its
// photos). Nothing happens on import.

import {enc} from "./api.js";
import {partOf} from "./dom.js";
import {hashOf} from "./router.js";

const PAGE = 200;

export class Albums {
  /** list: the sidebar's album list; tools: the album view's buttons; bar: the selection bar (its album
   *  buttons). go(place) goes to a place; reread() reads the listing again; chosen() the selected paths. */
  constructor({list, tools, bar}, {api, dialogs, sharer, go, reread, chosen, say}) {
    Object.assign(this, {list, tools, api, dialogs, sharer, go, reread, chosen, say});
    this.albums = [];
    this.current = null;  // the album shown, as its last page said
    this.el = Object.fromEntries(Object.entries({
      add: "#add-to-album", remove: "#remove-from-album", earlier: "#move-earlier", later: "#move-later",
    }).map(([name, selector]) => [name, partOf(bar, selector)]));
    const tool = (selector, run) => partOf(tools, selector).addEventListener("click", () => run());
    tool("#album-rename", () => this.rename());
    tool("#album-share", () => this.current
      && this.sharer.open(this.current.id, "album", this.current.name, this.current.smart != null));
    tool("#album-delete", () => this.remove());
    this.el.add.addEventListener("click", () => this.addTo(this.chosen()));
    this.el.remove.addEventListener("click", () => this.change({remove: this.chosen()}, "Removed from the album."));
    this.el.earlier.addEventListener("click", () => this.step(-1));
    this.el.later.addEventListener("click", () => this.step(1));
    this.items = () => [];
  }

  /** Read the person's albums again, into the sidebar. */
  async refresh(place) {
    try {
      this.albums = (await this.api.getJSON("/albums")).albums;
    } catch (ex) {
      this.albums = [];
    }
    this.list.replaceChildren(...this.albums.map((album) => {
      const item = document.createElement("li");
      const link = Object.assign(document.createElement("a"), {href: hashOf({album: album.id}),
        textContent: album.name, title: `${album.count ?? "search"}${album.count != null ? " photos" : ""}`});
      link.dataset.album = album.id;
      if (place?.album === album.id) link.setAttribute("aria-current", "page");
      item.append(link);
      return item;
    }));
  }

  /** What the listing reads for #album=<id>: {title, empty, next()}; null for any other place. */
  source(place) {
    if (place.album == null) return null;
    const albums = this;
    let offset = 0;
    return {
      title: "Album", where: true,
      empty: "This album is empty: select photos anywhere and use \u201cAdd to album\u201d.",
      async next() {
        const page = await albums.api.getJSON(`/albums/${enc(place.album)}?offset=${offset}&limit=${PAGE}`);
        offset = page.offset + page.items.length;  // the server's offsets count only what it shows
        albums.current = page;
        return {items: page.items, total: page.total, title: page.name, done: offset >= page.total || !page.items.length};
      },
    };
  }

  /** Show the album's tools on an album, and the selection's album buttons that fit. */
  show(place, picked = 0) {
    const inAlbum = place.album != null;
    this.tools.hidden = !inAlbum || this.api.isReadonly();
    if (!inAlbum) this.current = null;
    this.el.remove.hidden = !inAlbum;
    this.el.earlier.hidden = this.el.later.hidden = !inAlbum || picked !== 1;
    this.list.querySelectorAll("a").forEach((link) => {
      if (link.dataset.album === place.album) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  }

  /** Add images to an album: one of the person's (by its name), or a new one of that name. */
  async addTo(paths) {
    if (!paths.length) return;
    await this.refresh();  // the albums as they are now: one made in another tab is offered too
    const name = await this.dialogs.ask({title: `Add ${paths.length} ${paths.length === 1 ? "photo" : "photos"} to an album`,
      label: "Album", hint: "One of your albums, or a new album's name", ok: "Add",
      folders: this.albums.filter((album) => !album.smart).map((album) => album.name)});
    if (!name) return;
    const known = this.albums.find((album) => album.name === name && !album.smart);
    try {
      const album = known
        ? await (await this.api.request("PATCH", `/albums/${enc(known.id)}`, {json: {add: paths}})).json()
        : await this.api.postJSON("/albums", {name, images: paths});
      this.say(`Added to the album ${album.name} (${album.count} photos).`);
    } catch (ex) {
      this.say(`Not added: ${ex.message}`);
    }
    this.refresh();
  }

  async change(body, done) {
    if (!this.current) return;
    try {
      await this.api.request("PATCH", `/albums/${enc(this.current.id)}`, {json: body});
      this.say(done);
    } catch (ex) {
      this.say(`The album was not changed: ${ex.message}`);
    }
    this.reread();
    this.refresh();
  }

  /** Move the one selected image a place earlier (-1) or later (1) in the album. */
  step(by) {
    const [path] = this.chosen();
    const order = (this.current?.items || []).map((item) => item.path);
    const at = order.indexOf(path);
    if (at < 0 || at + by < 0 || at + by >= order.length) return;
    const before = by < 0 ? order[at - 1] : order[at + 2] ?? null;
    this.change({move: [{path, before}]}, by < 0 ? "Moved earlier." : "Moved later.");
  }

  async rename() {
    if (!this.current) return;
    const name = await this.dialogs.ask({title: "Rename the album", label: "Name", value: this.current.name, ok: "Rename"});
    if (name) this.change({name}, `Renamed to ${name}.`);
  }

  async remove() {
    if (!this.current || !confirm(`Delete the album ${this.current.name}? Its photos stay where they are.`)) return;
    try {
      await this.api.request("DELETE", `/albums/${enc(this.current.id)}`);
      this.say("Album deleted; its photos are where they were.");
      this.go({path: ""});
    } catch (ex) {
      this.say(`Not deleted: ${ex.message}`);
    }
    this.refresh();
  }
}
