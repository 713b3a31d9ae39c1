// Who is signed in: GET /me's name and role in the header, and "Sign out", which forgets the token.
// Nothing happens on import: main.js makes one and calls load() once the token is accepted.

export class People {
  /** root: the header's span holding the name (.who) and the Sign out button; api: the page's Api;
   *  signedOut(): called after the token is forgotten (the page asks for one again). */
  constructor(root, {api, signedOut}) {
    this.root = root;
    this.api = api;
    this.me = null;
    root.querySelector("button").addEventListener("click", () => {
      api.forgetToken();
      signedOut();
    });
  }

  /** Read GET /me and show who it names; answer it (null when it cannot be read). */
  async load() {
    try {
      this.me = await this.api.getJSON("/me");
    } catch (ex) {
      this.me = null;
    }
    const me = this.me;
    // "open" (no users file) and a share link name nobody to show or sign out.
    this.root.hidden = !me || me.kind !== "user";
    if (me) this.root.querySelector(".who").textContent = `${me.name} (${me.role})`;
    return me;
  }

  /** Whether the one signed in may change things (tags, uploads, moves, trash, folders, shares). */
  canWrite() { return this.me?.canWrite !== false; }
}
