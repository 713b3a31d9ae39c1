// Who is signed in: GET /me's name and role in the header, "Change password", "App passwords" (a device's
// password for WebDAV), and "Sign out", which ends the session (in every web process) and forgets the token.
// Nothing happens on import: main.js makes one and calls load().

import {enc, reason} from "./api.js";
import {partOf} from "./dom.js";

// Host names whose page reaches lenslet from the same machine, where a device may send its password without TLS.
const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

export class People {
  /** root: the header's span holding the name (.who) and the Sign out button; api: the page's Api;
   *  signedOut(): called once signed out (the page asks who this is again). */
  constructor(root, {api, signedOut}) {
    this.root = root;
    this.api = api;
    this.me = null;
    root.querySelector("#sign-out").addEventListener("click", async () => {
      if (this.me?.proxy) {
        // Signed in by the sign-in service in front of lenslet, which would sign the next request in again.
        root.querySelector(".who").textContent = "Sign out at your sign-in service (it signed you in here)";
        return;
      }
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
    this.root.querySelector("#people-button").hidden = !this.managesPeople();
    return me;
  }

  /** Whether the one signed in is an admin of the users file (the People dialog). */
  managesPeople() { return this.me?.kind === "user" && this.me.role === "admin"; }

  /** Whether the one signed in may change things (tags, uploads, moves, trash, folders, shares). */
  canWrite() { return this.me?.canWrite !== false; }
}

/** The People dialog (admins): everyone in the users file, each with Change and Remove, and a form that
 *  adds someone (name, role, folders picked from the gallery's top folders or typed, a first password)
 *  or changes them (a new password ends their sessions everywhere, as a new role or folders does). */
export class PeopleDialog {
  /** dialog: the <dialog id="people-dialog">; api: the page's Api; trash: the trash folder's name (not offered). */
  constructor(dialog, {api, trash}) {
    this.dialog = dialog;
    this.api = api;
    this.trash = trash;
    this.editing = null;  // the user being changed, or null: adding
    this.removing = null;  // the name whose Remove was pressed once (a second press removes)
    const part = (css) => dialog.querySelector(css);
    this.parts = {list: part("#people-list"), heading: part("#person-heading"), name: part("#person-name"),
      role: part("#person-role"), folders: part("#person-folders"), more: part("#person-more"),
      password: part("#person-password"), passwordLabel: part("#person-password-label"),
      save: part("#person-save"), another: part("#person-new"), message: part("#people-message")};
    dialog.querySelector("form").addEventListener("submit", (event) => {
      if (event.submitter !== this.parts.save) return;  // Close closes
      event.preventDefault();
      this.save();
    });
    this.parts.another.addEventListener("click", () => this.adding());
  }

  async open() {
    let top = [];
    try {
      top = (await this.api.getJSON("/folders?path=")).dirs.map((dir) => dir.name).filter((name) => name !== this.trash);
    } catch (ex) {
      top = [];  // the folders are typed then
    }
    this.top = top;
    this.say("");
    this.adding();
    this.dialog.showModal();
    await this.list();
  }

  say(text) { this.parts.message.textContent = text; }

  async list() {
    let users = [];
    try {
      users = (await this.api.getJSON("/users")).users;
    } catch (ex) {
      this.say(`The people cannot be read: ${ex.message}`);
    }
    this.parts.list.replaceChildren(...users.map((user) => {
      const row = document.createElement("li");
      row.dataset.name = user.name;
      const folders = user.folders.map((f) => f || "every folder").join(", ");
      const text = Object.assign(document.createElement("span"), {
        textContent: `${user.name} (${user.role}): ${folders}${user.password ? "" : ", no password (token)"}` +
          (user.note ? ` (${user.note})` : "")});
      const change = Object.assign(document.createElement("button"), {type: "button", textContent: "Change"});
      change.addEventListener("click", () => this.changing(user));
      const remove = Object.assign(document.createElement("button"), {type: "button", textContent: "Remove",
        className: "danger"});
      remove.addEventListener("click", () => this.remove(user.name, remove));
      const buttons = document.createElement("span");
      buttons.append(change, " ", remove);
      row.append(text, buttons);
      return row;
    }));
  }

  /** Fill the form for a new person. */
  adding() {
    this.editing = null;
    this.fill({name: "", role: "view", folders: []});
    this.parts.name.readOnly = false;
    this.parts.heading.textContent = "Add a person";
    this.parts.passwordLabel.textContent = "First password (8 characters or more; they may keep it)";
    this.parts.save.textContent = "Add";
    this.parts.another.hidden = true;
    this.parts.name.focus();
  }

  /** Fill the form for changing someone. */
  changing(user) {
    this.editing = user;
    this.fill(user);
    this.parts.name.readOnly = true;
    this.parts.heading.textContent = `Change ${user.name}`;
    this.parts.passwordLabel.textContent = "New password (empty: unchanged)";
    this.parts.save.textContent = "Save";
    this.parts.another.hidden = false;
    this.parts.role.focus();
  }

  fill({name, role, folders}) {
    this.parts.name.value = name;
    this.parts.role.value = role;
    this.parts.password.value = "";
    const offered = ["", ...this.top];
    this.parts.folders.replaceChildren(this.parts.folders.querySelector("legend"), ...offered.map((folder) => {
      const box = Object.assign(document.createElement("input"), {type: "checkbox", value: folder,
        checked: folders.includes(folder)});
      const label = document.createElement("label");
      label.append(box, " ", folder || "Every folder");
      return label;
    }));
    this.parts.more.value = folders.filter((folder) => !offered.includes(folder)).join(", ");
  }

  chosenFolders() {
    const ticked = [...this.parts.folders.querySelectorAll("input:checked")].map((box) => box.value);
    const typed = this.parts.more.value.split(",").map((folder) => folder.trim()).filter(Boolean);
    return [...new Set([...ticked, ...typed])];
  }

  async save() {
    const folders = this.chosenFolders();
    const password = this.parts.password.value;
    try {
      if (this.editing) {
        const name = this.editing.name;
        const change = {};
        if (this.parts.role.value !== this.editing.role) change.role = this.parts.role.value;
        if (folders.join("\n") !== this.editing.folders.join("\n")) change.folders = folders;
        if (password) change.password = password;
        if (!Object.keys(change).length) return this.say("Nothing to change.");
        const changed = await (await this.api.request("PATCH", `/users/${encodeURIComponent(name)}`,
          {json: change})).json();
        this.say(`${name} changed${change.password ? ": the new password is theirs now" : ""}; ` +
          "they sign in again on every device.");
        this.changing(changed);
      } else {
        const name = this.parts.name.value.trim();
        await this.api.postJSON("/users", {name, role: this.parts.role.value, folders, password});
        this.say(`${name} added: they sign in with their name and that password.`);
        this.adding();
      }
    } catch (ex) {
      this.say(`Not saved: ${ex.message}`);
      return;
    }
    await this.list();
  }

  async remove(name, button) {
    if (this.removing !== name) {  // a second press removes: one slip of the mouse removes nobody
      this.removing = name;
      button.textContent = `Remove ${name}?`;
      return;
    }
    this.removing = null;
    try {
      await this.api.request("DELETE", `/users/${encodeURIComponent(name)}`);
      this.say(`${name} removed: signed out everywhere.`);
      if (this.editing?.name === name) this.adding();
    } catch (ex) {
      this.say(`Not removed: ${ex.message}`);
    }
    await this.list();
  }
}

/** The Change password dialog (anyone signed in): the current password and the new one twice (compared here);
 *  PUT /me/password ends their other sessions, and this browser goes on with the new session it sends. */
export class PasswordDialog {
  /** dialog: the <dialog id="password-dialog">; api: the page's Api; changed(): called once changed. */
  constructor(dialog, {api, changed}) {
    this.dialog = dialog;
    this.api = api;
    this.changed = changed;
    const part = (css) => dialog.querySelector(css);
    this.parts = {name: part("#password-name"), current: part("#password-current"), fresh: part("#password-new"),
      again: part("#password-again"), save: part("#password-save"), message: part("#password-message")};
    dialog.querySelector("form").addEventListener("submit", (event) => {
      if (event.submitter !== this.parts.save) return;  // Cancel closes
      event.preventDefault();
      this.save();
    });
  }

  /** Open for name (the one signed in: a password manager keeps the new password under it). */
  open(name) {
    this.parts.name.value = name;
    for (const input of [this.parts.current, this.parts.fresh, this.parts.again]) input.value = "";
    this.say("");
    this.dialog.showModal();
    this.parts.current.focus();
  }

  say(text) { this.parts.message.textContent = text; }

  async save() {
    const {current, fresh, again} = this.parts;
    if (fresh.value !== again.value) {
      this.say("The new password and its repetition differ: type them again.");
      again.focus();
      return;
    }
    this.parts.save.disabled = true;
    try {
      await this.api.request("PUT", "/me/password", {json: {current: current.value, password: fresh.value},
        own401: true});
    } catch (ex) {
      this.say(ex.status === 401 ? "That is not your current password: type it again."
        : ex.status === 429 ? `Too many wrong passwords: ${ex.message}.` : `Not changed: ${ex.message}.`);
      (ex.status === 401 ? current : fresh).focus();
      return;
    } finally {
      this.parts.save.disabled = false;
    }
    this.dialog.close();
    this.changed();
  }
}

/** The App passwords dialog (anyone in the users file, whatever their role): the passwords their devices sign in to
 *  WebDAV with, each named and revocable; a new one is shown once, with the address and name to type, and the page
 *  keeps it nowhere but in this dialog while it is open. */
export class AppPasswordsDialog {
  /** dialog: the <dialog id="app-passwords-dialog">; api: the page's Api. */
  constructor(dialog, {api}) {
    this.dialog = dialog;
    this.api = api;
    this.revoking = null;  // {id, button} whose Revoke was pressed once (a second press revokes)
    const part = (css) => partOf(dialog, css);
    this.parts = {list: part("#app-passwords-list"), none: part("#app-passwords-none"), tls: part("#app-password-tls"),
      device: part("#app-password-device"), make: part("#app-password-make"), made: part("#app-password-made"),
      heading: part("#app-password-heading"), address: part("#app-password-address"), user: part("#app-password-user"),
      password: part("#app-password-value"), message: part("#app-passwords-message")};
    dialog.querySelector("form").addEventListener("submit", (event) => {
      if (event.submitter !== this.parts.make) {  // Close closes, and forgets before the dialog is gone
        this.forget();
        return;
      }
      event.preventDefault();
      this.make();
    });
    part("#app-password-copy").addEventListener("click", () => this.copy(this.parts.password, "Password"));
    part("#app-password-copy-address").addEventListener("click", () => this.copy(this.parts.address, "Address"));
    dialog.addEventListener("close", () => this.forget());  // shown once: closed, the page no longer holds it
  }

  /** Whether the one signed in has app passwords to manage (GET answers 404 without a users file, or to
   *  someone not in it: a token). */
  async offered() {
    try {
      await this.api.getJSON("/me/app-passwords");
      return true;
    } catch (ex) {
      return false;
    }
  }

  async open() {
    this.forget();
    this.say("");
    this.parts.device.value = "";
    this.parts.tls.hidden = location.protocol === "https:" || LOOPBACK_HOSTS.includes(location.hostname);
    this.dialog.showModal();
    this.parts.device.focus();
    await this.list();
  }

  say(text) { this.parts.message.textContent = text; }

  async list() {
    let passwords = [];
    try {
      passwords = (await this.api.getJSON("/me/app-passwords")).appPasswords;
    } catch (ex) {
      this.say(`Your app passwords cannot be read: ${reason(ex)}`);
    }
    this.revoking = null;
    this.parts.none.hidden = passwords.length > 0;
    this.parts.list.replaceChildren(...passwords.map((password) => {
      const row = document.createElement("li");
      row.dataset.id = password.id;
      const text = Object.assign(document.createElement("span"),
        {textContent: `${password.name}, made ${new Date(password.created * 1000).toLocaleString()}`});
      const revoke = Object.assign(document.createElement("button"), {type: "button", textContent: "Revoke",
        className: "danger"});
      revoke.addEventListener("click", () => this.revoke(password, revoke));
      row.append(text, revoke);
      return row;
    }));
  }

  async make() {
    const name = this.parts.device.value.trim();
    if (!name) {
      this.say("Name the device first (Phone, Laptop, rclone): the list tells its passwords apart by it.");
      this.parts.device.focus();
      return;
    }
    this.parts.make.disabled = true;
    let made;
    try {
      made = await this.api.postJSON("/me/app-passwords", {name});
    } catch (ex) {
      this.say(`No app password made: ${reason(ex)}`);
      return;
    } finally {
      this.parts.make.disabled = false;
    }
    this.parts.device.value = "";
    this.parts.heading.textContent = `The app password for ${made.name}`;
    this.parts.address.textContent = `${location.origin}/dav/`;
    this.parts.user.textContent = made.user;
    this.parts.password.textContent = made.password;
    this.parts.made.hidden = false;
    this.say("");
    await this.list();
  }

  /** Drop the password shown, so nothing of it stays in the page. */
  forget() {
    this.parts.password.textContent = this.parts.user.textContent = this.parts.heading.textContent = "";
    this.parts.made.hidden = true;
  }

  async copy(shown, what) {
    try {
      await navigator.clipboard.writeText(shown.textContent);
    } catch (ex) {
      getSelection().selectAllChildren(shown);  // no clipboard permission (plain http): selected, for Ctrl+C
      document.execCommand?.("copy");
    }
    this.say(`${what} copied: paste it into the device.`);
  }

  async revoke(password, button) {
    if (this.revoking?.id !== password.id) {  // a second press revokes: one slip of the mouse cuts off no device
      if (this.revoking) this.revoking.button.textContent = "Revoke";
      this.revoking = {id: password.id, button};
      button.textContent = `Revoke ${password.name}?`;
      this.say(`Revoke ${password.name}? The device using it is refused from its next request on: press again to ` +
        "revoke.");
      return;
    }
    this.revoking = null;
    try {
      await this.api.request("DELETE", `/me/app-passwords/${enc(password.id)}`);
      this.say(`${password.name} revoked: that device is refused from its next request on.`);
    } catch (ex) {
      this.say(`Not revoked: ${reason(ex)}`);
    }
    await this.list();
  }
}
