// The lenslet API from the page: signing in (a name and password, or a token), read-only mode, errors
// and thumbnails, in one place. A session lives in an HttpOnly cookie the browser sends by itself: no
// script of the page ever holds it.
// Nothing happens on import: main.js makes the one Api, and every part is handed it.

import {neededEdge, sizeFor} from "./grid.js";

const TOKEN_KEY = "lenslet.token";
const SHARE_KEY = "lenslet.share";  // the share link's key, in sessionStorage: this tab only, gone when it closes
const THUMBS_AT_ONCE = 6;  // what a browser opens per host anyway
const THUMB_TRIES = 30;    // a thumbnail still queued after this many Retry-Afters is shown as missing
const AGAIN_TRIES = 6;      // a larger size answered by the thumbnail is asked for again this many times
const PREVIEWS_KEPT = 8;   // the viewer's previews around the image shown, so the next one shows at once
const TAKEN = "Somebody made the first admin meanwhile: sign in with your name and password.";

export const enc = encodeURIComponent;
// How long the page waits before asking again for a folder's listing that may be a moment behind (getListing):
// twice as long each time the answer asked for again is behind too (while people tag in a folder its edits are
// under way most of the time, and a listing of 1,000 images is some 300 KB), up to 8 s.
export const ASK_AGAIN_MS = 500;
export const longerWait = (wait) => Math.min(2 * wait, 16 * ASK_AGAIN_MS);

/** The page's one call of fetch: every request of the page goes through request() or prefetch(), here. */
function send(url, options) {
  return fetch(url, options);
}

/** A non-2xx answer, carrying lenslet's JSON error body when there is one. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.description || body.title)) || `the server answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** A refusal because the name is taken: the one refusal the API lets the person answer (keep both). */
export const nameTaken = (ex) => ex instanceof ApiError && ex.status === 409 && ex.body?.title === "Already exists";

/** What to tell a person about a failure: the server's refusal, never a script's own error. */
export const reason = (ex) => (ex instanceof ApiError ? ex.message
  : "the page did not understand the server's answer (reload to see what was done)");

/** " (path)" naming what a refusal was about, when it says. */
export const where = (ex) => (ex.body?.path ? ` (${ex.body.path})` : "");

export class Api {
  /** tokenDialog: the <dialog> that asks for the token (its input and refusal note inside it). */
  constructor(tokenDialog) {
    this.tokenDialog = tokenDialog;
    tokenDialog.querySelector("#use-token")?.addEventListener("click", () => tokenDialog.close("token"));
    this.readonly = false;
    this.libraryReadonly = false;  // GET /health: the library is only read (LENSLET_STATE), its files never changed
    this.readonlyListeners = [];
    // The token question. Every request that meets a 401 while it is open waits for the same answer;
    // once answered it closes, so a mistyped token is asked for again at the next 401.
    this.question = null;
    this.answers = 0;        // questions closed so far
    this.declined = false;   // the last question was cancelled
    this.previews = new Map();  // path -> Promise of an object URL, oldest first
    this.waiting = [];          // thumbnails queued
    this.running = 0;           // thumbnails being fetched
    this.locked = null;         // async () => a share's unlocked key, or null (set by the shared view)
    this.passwordDeclined = false;  // the share's password was asked for and cancelled: not asked again
    this.imageSettings = null;  // /health's imageSettings: the last part of thumbnails' URL versions
  }

  /** The share link's key this tab opened (the shared view), or null: sent instead of any token. */
  shareKey() { return sessionStorage.getItem(SHARE_KEY); }

  setShareKey(key) {
    if (key) sessionStorage.setItem(SHARE_KEY, key);
    else sessionStorage.removeItem(SHARE_KEY);
  }

  /** Sign out: forget the token kept in this browser. */
  forgetToken() { localStorage.removeItem(TOKEN_KEY); }

  /** Sign out everywhere this browser is signed in: the session ended (on the server, for every process)
   *  and the token forgotten. */
  async signOut() {
    try {
      await this.request("DELETE", "/session", {bare: true});
    } catch (ex) {
      // the server cannot be reached: the token is forgotten all the same
    }
    this.forgetToken();
  }

  /** The credentials of a request: the share link's key, or the token. */
  credentials(headers) {
    const share = this.shareKey();
    if (share) headers.set("X-Lenslet-Share", share);
    const token = share ? null : localStorage.getItem(TOKEN_KEY);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return share || token;
  }

  isReadonly() { return this.readonly; }

  /** Whether files may be added, moved, renamed, trashed or deleted: not where the library is only read
   *  (tags, stars, notes and shares still are). */
  canChangeFiles() { return !this.readonly && !this.libraryReadonly; }

  /** Call back when the gallery turns out to be read-only. */
  onReadonly(callback) { this.readonlyListeners.push(callback); }

  /** Turn editing off for the whole page: only for what GET /health says (LENSLET_READONLY). A 403
   *  on one write is not this: a read-only pointer folder or a file's permissions refuse that write
   *  alone, and every other folder stays editable. */
  setReadonly() {
    if (this.readonly) return;
    this.readonly = true;
    this.readonlyListeners.forEach((callback) => callback());
  }

  /** Ask who this is, once for every request that meets a 401 meanwhile: with a users file (signIn
   *  "password") a name and a password, which POST /session turns into a session cookie; else, or when
   *  the person asks for it, a token kept in this browser. Answer whether to send the request again. */
  askToken(refused, signIn) {
    const way = signIn === "password" || signIn === "setup" ? signIn : "token";
    this.question ??= this.signIn(refused, way).then((answered) => {
      this.declined = !answered;
      this.question = null;
      this.answers++;
      return answered;
    });
    return this.question;
  }

  /** way: "password" (a name and password), "setup" (the first admin: the setup code too) or "token". */
  async signIn(refused, way) {
    const dialog = this.tokenDialog;
    const part = (css) => dialog.querySelector(css);
    let note = refused ? "That token was refused: type it again." : "";
    for (;;) {
      const byPassword = way !== "token";
      part("#token-title").textContent = way === "setup" ? "Make the first admin" : byPassword ? "Sign in" : "Access token";
      part("#token-ok").textContent = way === "setup" ? "Make me the admin" : byPassword ? "Sign in" : "Use token";
      part("#by-password").hidden = !byPassword;
      part("#by-setup").hidden = way !== "setup";
      part("#by-token").hidden = byPassword;
      part("#sign-in-name").required = part("#sign-in-password").required = byPassword;
      part("#setup-code").required = way === "setup";
      part("#sign-in-password").autocomplete = way === "setup" ? "new-password" : "current-password";
      part("#token").required = !byPassword;
      part(".refused").hidden = !note;
      part(".refused").textContent = note;
      part("#token").value = part("#sign-in-password").value = "";
      dialog.returnValue = "";  // Escape closes the dialog without setting it: the last "ok" must not stay
      const closed = new Promise((resolve) => dialog.addEventListener("close", resolve, {once: true}));
      dialog.showModal();
      part(!byPassword ? "#token" : way === "setup" && !part("#setup-code").value ? "#setup-code"
        : part("#sign-in-name").value ? "#sign-in-password" : "#sign-in-name").focus();
      await closed;
      const answer = dialog.returnValue;
      if (answer === "token") {
        way = "token";
        note = "";
        continue;
      }
      if (answer !== "ok") return false;
      if (!byPassword) {
        const token = part("#token").value.trim();
        if (token) localStorage.setItem(TOKEN_KEY, token);
        return Boolean(token);
      }
      const name = part("#sign-in-name").value.trim();
      const password = part("#sign-in-password").value;
      note = way === "setup"
        ? await this.startSession("/setup", {code: part("#setup-code").value, name, password})
        : await this.startSession("/session", {name, password});
      if (note === TAKEN) way = "password";  // someone made the first admin meanwhile: sign in as anyone
      if (!note) return true;
    }
  }

  /** POST /session (or /setup): "" when signed in (the cookie set), else what to tell the person. */
  async startSession(url, body) {
    let answer;
    try {
      answer = await this.request("POST", url, {json: body, bare: true});
    } catch (ex) {
      return "The server cannot be reached: try again.";
    }
    if (answer.ok) {
      localStorage.removeItem(TOKEN_KEY);  // the session is who this is now
      return "";
    }
    const refusal = await answer.json().catch(() => null);
    if (answer.status === 401) {
      return url === "/setup" ? "That is not the setup code lenslet printed: type it again."
        : "That name and password do not match: type them again.";
    }
    if (answer.status === 409 && url === "/setup") return TAKEN;
    return (refusal && refusal.description) || `The server answered ${answer.status}.`;
  }

  /** After a 401: true when the request should go again with a (new) token or a session. */
  async tokenAgain(method, sent, round, signIn) {
    const stored = localStorage.getItem(TOKEN_KEY);
    if (sent && stored === sent) localStorage.removeItem(TOKEN_KEY);  // a refused token is not kept
    else if (stored) return true;  // another request's question gave a newer token meanwhile
    if (this.question) return this.question;
    // After a Cancel, what was sent before it and every read fail quietly (a grid of thumbnails
    // would ask once each); a write the person makes afterwards asks again.
    if (this.declined && (round !== this.answers || method === "GET")) return false;
    return this.askToken(Boolean(sent), signIn);
  }

  /** Send a request; answer the Response or throw ApiError. json/form become the body; a json body
   *  always says Content-Type: application/json (lenslet reads no JSON that does not). bare: send no
   *  credentials and answer whatever Response comes (a share's unlock, which must not send the locked key).
   *  own401: a 401 is this request's own refusal (a wrong current password), thrown without asking who this is. */
  async request(method, url, {json, form, headers = {}, bare = false, own401 = false, cache} = {}) {
    if (method === "GET" && this.early?.url === url) {
      const early = await this.early.answer;
      this.early = null;
      if (early?.ok) return early;
    }
    for (;;) {
      const sent = new Headers(headers);
      const token = bare ? null : this.credentials(sent);
      const round = this.answers;
      let body = form;
      if (json !== undefined) {
        sent.set("Content-Type", "application/json");
        body = JSON.stringify(json);
      }
      let answer;
      try {
        answer = await send(url, {method, headers: sent, body, cache});
      } catch (ex) {
        throw new ApiError(0, {description: "the server cannot be reached"});
      }
      if (answer.ok || bare) return answer;
      const refusal = await answer.json().catch(() => null);
      if (answer.status === 401 && this.shareKey()) {
        if (refusal?.share === "locked" && await this.unlocked(token)) continue;
        throw new ApiError(answer.status, refusal);
      }
      if (answer.status === 401 && !own401 && await this.tokenAgain(method, token, round, refusal?.signIn)) continue;
      throw new ApiError(answer.status, refusal);
    }
  }

  /** After a share's 401 "locked": true when a password gave the key to send instead (one question at a time). */
  async unlocked(sent) {
    if (this.shareKey() !== sent) return true;  // another request unlocked it meanwhile
    // Once cancelled, every request fails as locked (one question, not one per request).
    if (!this.locked || this.passwordDeclined) return false;
    this.unlocking ??= this.locked().finally(() => { this.unlocking = null; });
    const key = await this.unlocking;
    if (key) this.setShareKey(key);
    else this.passwordDeclined = true;
    return Boolean(key);
  }

  /** POST a form (or PUT a file) with XMLHttpRequest, whose upload reports its progress (fetch cannot, in most
   *  browsers): progress(fraction) as the bytes go; answer the JSON reply or throw ApiError. */
  async upload(url, form, progress, method = "POST") {
    for (;;) {
      const token = localStorage.getItem(TOKEN_KEY);
      const round = this.answers;
      const answer = await new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open(method, url);
        if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
        if (this.shareKey()) xhr.setRequestHeader("X-Lenslet-Share", this.shareKey());
        xhr.upload.addEventListener("progress", (event) => {
          if (event.lengthComputable && event.total) progress(event.loaded / event.total);
        });
        xhr.addEventListener("load", () => resolve({status: xhr.status, text: xhr.responseText}));
        xhr.addEventListener("error", () => resolve({status: 0, text: ""}));
        xhr.addEventListener("abort", () => resolve({status: 0, text: ""}));
        xhr.send(form);
      });
      let body = null;
      try {
        body = answer.text ? JSON.parse(answer.text) : null;
      } catch (ex) {
        body = null;  // not lenslet's JSON: a proxy's page
      }
      if (answer.status >= 200 && answer.status < 300) return body;
      if (answer.status === 0) throw new ApiError(0, {description: "the server cannot be reached"});
      if (answer.status === 401 && await this.tokenAgain(method, token, round, body?.signIn)) continue;
      throw new ApiError(answer.status, body);
    }
  }

  /** Send now a GET the page makes later, once it knows who this is: request() takes its answer when that
   *  is a success, and else asks again (signing in, a share's password), as it would have. */
  prefetch(url) {
    const sent = new Headers();
    this.credentials(sent);
    this.early = {url, answer: send(url, {headers: sent}).catch(() => null)};
  }

  async getJSON(url) {
    return (await this.request("GET", url)).json();
  }

  /** GET a folder's listing: [its JSON, whether it may be a moment behind]. The server says so
   *  (X-Lenslet-Checking) when it answered from the stored listing while it looked at the changed folder
   *  again: ask again in ASK_AGAIN_MS. */
  async getListing(url) {
    const answer = await this.request("GET", url);
    return [await answer.json(), answer.headers.has("X-Lenslet-Checking")];
  }

  /** POST a JSON body and answer the JSON reply. */
  async postJSON(url, body) {
    return (await this.request("POST", url, {json: body})).json();
  }

  /** True when images must be fetched with the token rather than named in an <img src>. */
  needsToken() { return Boolean(this.shareKey() || localStorage.getItem(TOKEN_KEY)); }

  /** A URL of a path's original for an <img>: its own address, or, when a token is needed (an <img>
   *  cannot send one), an object URL of the bytes fetched with it, which the caller revokes. */
  async originalURL(path) {
    const url = `/file?path=${enc(path)}`;
    if (!this.needsToken()) return url;
    return URL.createObjectURL(await (await this.request("GET", url)).blob());
  }

  /** Save a path's original under its name. */
  async downloadOriginal(path) { return this.download(`/file?path=${enc(path)}`, path.split("/").pop()); }

  /** Save what a URL answers: a plain link (the browser streams it to disk), or through fetch when a token is
   *  needed (a link cannot send one). */
  async download(url, name) {
    const link = Object.assign(document.createElement("a"), {download: name, href: url});
    if (this.needsToken()) {
      const answer = await this.request("GET", url);
      // The server names what it sends in place of the file (a link without details: a preview), as a link saves it.
      const named = /filename\*=UTF-8''([^;]+)/.exec(answer.headers.get("Content-Disposition") || "");
      if (named) link.download = decodeURIComponent(named[1]);
      link.href = URL.createObjectURL(await answer.blob());
    }
    document.body.append(link);
    link.click();
    link.remove();
    if (link.href.startsWith("blob:")) setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }

  /** GET an image that lenslet may still be making (202 + Retry-After): its bytes as a Blob. */
  async madeImage(url, isCancelled = () => false, cache = undefined) {
    for (let tries = 0; tries < THUMB_TRIES; tries++) {
      const answer = await this.request("GET", url, {cache});
      if (answer.status !== 202) return answer.blob();
      const seconds = Number(answer.headers.get("Retry-After")) || 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(seconds, 10) * 1000));
      if (isCancelled()) return null;
    }
    throw new ApiError(202, {description: "lenslet is still making it"});
  }

  /** An object URL of a path's preview (GET /preview), fetched once while it stays among the kept. */
  previewURL(path) {
    const previews = this.previews;
    let found = previews.get(path);
    if (found) {
      previews.delete(path);  // used now: the newest
    } else {
      // Asked again each time (a 304 while unchanged): its ETag names a turn a person gave it since.
      found = this.madeImage(`/preview?path=${enc(path)}`, () => false, "no-cache").then((blob) => URL.createObjectURL(blob));
      found.catch(() => previews.delete(path));  // a failure is not kept: asked again next time
    }
    previews.set(path, found);
    while (previews.size > PREVIEWS_KEPT) {
      const [oldest, url] = previews.entries().next().value;
      previews.delete(oldest);
      url.then((made) => URL.revokeObjectURL(made), () => {});
    }
    return found;
  }

  /** Forget the preview kept for a path (it was turned): the next one is fetched. */
  forgetPreview(path) {
    const found = this.previews.get(path);
    this.previews.delete(path);
    found?.then((url) => URL.revokeObjectURL(url), () => {});
  }

  /** The version a thumbnail's (kind "thumb") or preview's URL carries, as the server makes it (layout.py's
   *  url_version): the item's size and mtime (in microseconds) in hexadecimal, the settings /health names
   *  and the item's turn; "" when any is unknown. Asked for by its version, a thumbnail is cached for good:
   *  a returning visitor fetches none again, and a changed image (new settings, a turn) has another URL. */
  versionOf(item, kind) {
    const settings = this.imageSettings?.[kind];
    if (!settings || !Number.isFinite(item?.size) || !Number.isFinite(item?.mtime)) return "";
    const turn = item.turn > 1 ? `-t${item.turn}` : "";  // a person's turn: another picture, another URL
    return `${item.size.toString(16)}-${Math.trunc(item.mtime * 1e6).toString(16)}-${settings}${turn}`;
  }

  /** Queue a thumbnail for an <img> (a few at a time, retried while lenslet answers 202, still
   *  being made); answer a function that cancels it (or unloads it when done). sharp: the picture's
   *  {w, h (0 when unknown), large, preview: their URL versions ("" when unknown)}: then the size fetched is
   *  the smallest that has the pixels the <img> is drawn with (sizeFor), and a larger one when it is drawn
   *  larger later (again()). */
  loadThumb(img, path, version = "", sharp = null) {
    const job = {img, path, version, sharp, cancelled: false, edge: 0};
    if (sharp && this.sizesOf(job).length) this.sharpThumb(job);
    else this.waiting.push(job);  // a server that names no sizes: its thumbnail
    this.pump();
    const unload = () => {
      job.cancelled = true;
      img.onload = img.onerror = null;
      if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
      img.removeAttribute("src");
    };
    unload.again = () => { if (!job.cancelled && job.edge) this.sharpThumb(job); };
    return unload;
  }

  /** The sizes a picture can be fetched at, smallest first: [{edge: its long edge at most, url}] (the
   *  thumbnail, the large thumbnail, the viewer's preview), as /health's imageSettings name them. */
  sizesOf(job) {
    const edge = (kind) => parseInt(this.imageSettings?.[kind], 10);
    const versioned = (url, version) => (version ? `${url}&v=${enc(version)}` : url);
    const base = `/thumb?path=${enc(job.path)}`;
    return [
      {edge: edge("thumb"), url: versioned(base, job.version)},
      {edge: edge("large"), url: versioned(`${base}&size=large`, job.sharp.large)},
      {edge: edge("preview"), url: versioned(`/preview?path=${enc(job.path)}`, job.sharp.preview)},
    ].filter((size) => size.edge > 0);
  }

  /** Fetch the size of a picture its <img> needs now (sizeFor), when it is larger than the one it holds:
   *  named in the <img> itself where it may (no token, no share key), else fetched (202s waited out). A
   *  picture whose shape is not known yet (a folder's cover) takes the thumbnail first, and its shape from it. */
  sharpThumb(job) {
    const {img, sharp} = job;
    const sizes = this.sizesOf(job);
    let [w, h] = [sharp.w, sharp.h];
    if (!(w > 0 && h > 0) && img.naturalWidth > 0) {
      [w, h] = [img.naturalWidth, img.naturalHeight];
      // A thumbnail smaller than its size is the original's own size: nothing larger is made of it.
      if (Math.max(w, h) < sizes[0]?.edge && job.edge === sizes[0].edge) return;
    }
    const size = w > 0 && h > 0 ? sizeFor(sizes, neededEdge(img, w, h), Math.max(sharp.w, sharp.h)) : sizes[0];
    if (!size || size.edge <= job.edge) return;
    job.edge = size.edge;
    job.url = size.url;
    img.onload = () => {
      // A large size not made in time is answered by the thumbnail meanwhile (not kept): asked again in a moment.
      const long = Math.max(img.naturalWidth, img.naturalHeight);
      const smaller = job.edge > sizes[0].edge && long <= sizes[0].edge &&
        long < Math.min(job.edge, Math.max(sharp.w, sharp.h) || Infinity) - 1;
      if (smaller && (job.tries = (job.tries ?? 0) + 1) <= AGAIN_TRIES) {
        setTimeout(() => {
          if (job.cancelled) return;
          this.waiting.push(job);
          this.pump();
        }, 1000 * job.tries);
      }
      if (!(sharp.w > 0)) this.sharpThumb(job);  // its shape known now
    };
    if (this.needsToken()) {
      this.waiting.push(job);
      this.pump();
      return;
    }
    img.onerror = () => {  // still being made (202), or refused: fetched, waiting for it
      img.onerror = null;
      if (!job.cancelled) {
        this.waiting.push(job);
        this.pump();
      }
    };
    img.src = size.url;
  }

  pump() {
    while (this.running < THUMBS_AT_ONCE && this.waiting.length) {
      const job = this.waiting.shift();
      if (job.cancelled) continue;
      this.running++;
      this.fetchThumb(job).finally(() => { this.running--; this.pump(); });
    }
  }

  async fetchThumb(job) {
    let blob;
    try {
      const url = job.url ?? `/thumb?path=${enc(job.path)}` + (job.version ? `&v=${enc(job.version)}` : "");
      blob = await this.madeImage(url, () => job.cancelled);
    } catch (ex) {
      if (job.url) {  // a larger size that cannot be had: the thumbnail, then
        job.url = null;
        return this.fetchThumb(job);
      }
      job.img.closest(".tile")?.classList.add("broken");
      return;
    }
    if (!blob || job.cancelled) return;
    if (job.img.src.startsWith("blob:")) URL.revokeObjectURL(job.img.src);
    job.img.src = URL.createObjectURL(blob);
  }
}
