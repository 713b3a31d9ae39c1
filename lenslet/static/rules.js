// The server's rules the page must agree with, read from GET /health's `rules` (never copied
// here): the trash folder's name and the image and video files lenslet lists.

export class Rules {
  /** rules: {trash: "_trash_", images: {".jpg": "image/jpeg", ...}, videos: {".mp4": "video/mp4", ...}} as /health
   *  answers it. */
  constructor({trash = null, images = {}, videos = {}} = {}) {
    this.trash = trash;
    const taken = {...images, ...videos};  // what an upload takes
    this.extensions = Object.keys(taken).map((extension) => extension.toLowerCase());
    this.types = [...new Set(Object.values(taken))];
    // The names the API's `type` filter takes are the extensions without their dot: one a type
    // (jpg, not jpeg as well), in the order the server lists them.
    const named = new Map();
    for (const [extension, type] of Object.entries(images)) {
      if (!named.has(type)) named.set(type, extension.slice(1).toLowerCase());
    }
    this.typeNames = [...named.values()];
  }

  /** Whether path is the trash folder or inside it. */
  inTrash(path) {
    return this.trash != null && (path === this.trash || path.startsWith(this.trash + "/"));
  }

  /** What a folder is called on the page: the trash folder is "Trash". */
  label(name) {
    return name === this.trash ? "Trash" : name;
  }

  /** Whether a chosen or dropped file is a photo or video lenslet lists (by its extension, as the server
   *  decides, or by the type the browser gives it). */
  isListed(file) {
    const dot = file.name.lastIndexOf(".");
    return (dot > 0 && this.extensions.includes(file.name.slice(dot).toLowerCase())) || this.types.includes(file.type);
  }

  /** The file chooser's accept attribute: every type and extension lenslet lists. */
  get accept() {
    return [...this.types, ...this.extensions].join(",");
  }
}
