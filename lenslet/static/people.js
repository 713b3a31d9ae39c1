// Who is signed in: GET /me's name and role in the header, and "Sign out", which ends the session (in every
// web process) and forgets the token. Nothing happens on import: main.js makes one and calls load().

export class People {
  /** root: the header's span holding the name (.who) and the Sign out button; api: the page's Api;
   *  signedOut(): called once signed out (the page asks who this is again). */
  constructor(root, {api, signedOut}) {
    this.root = root;
    this.api = api;
    this.me = null;
    root.querySelector("button").addEventListener("click", async () => {
      await api.signOut();
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
