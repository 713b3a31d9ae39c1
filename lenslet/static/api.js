// The lenslet API from the page: the token, read-only mode, errors and thumbnails, in one place.

const TOKEN_KEY = "lenslet.token";
const THUMBS_AT_ONCE = 6;  // what a browser opens per host anyway
const THUMB_TRIES = 30;    // a thumbnail still queued after this many Retry-Afters is shown as missing

export const enc = encodeURIComponent;

/** A non-2xx answer, carrying lenslet's JSON error body when there is one. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.description || body.title)) || `the server answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

let readonly = false;
const readonlyListeners = [];

export function isReadonly() { return readonly; }

/** Call back when the gallery turns out to be read-only. */
export function onReadonly(callback) { readonlyListeners.push(callback); }

/** Turn editing off for the whole page: only for what GET /health says (LENSLET_READONLY). A 403
 *  on one write is not this: a read-only pointer folder or a file's permissions refuse that write
 *  alone, and every other folder stays editable. */
export function setReadonly() {
  if (readonly) return;
  readonly = true;
  readonlyListeners.forEach((callback) => callback());
}

// The token question. Every request that meets a 401 while it is open waits for the same answer;
// once answered it closes, so a mistyped token is asked for again at the next 401.
let question = null;
let answers = 0;        // questions closed so far
let declined = false;   // the last question was cancelled

function askToken(refused) {
  question ??= new Promise((resolve) => {
    const dialog = document.getElementById("token-dialog");
    const input = document.getElementById("token");
    document.getElementById("token-refused").hidden = !refused;
    input.value = "";
    dialog.returnValue = "";  // Escape closes the dialog without setting it: the last "ok" must not stay
    dialog.addEventListener("close", () => {
      const token = dialog.returnValue === "ok" ? input.value.trim() : "";
      if (token) localStorage.setItem(TOKEN_KEY, token);
      declined = !token;
      question = null;
      answers++;
      resolve(Boolean(token));
    }, {once: true});
    dialog.showModal();
  });
  return question;
}

/** After a 401: true when the request should go again with a (new) token. */
async function tokenAgain(method, sent, round) {
  const stored = localStorage.getItem(TOKEN_KEY);
  if (sent && stored === sent) localStorage.removeItem(TOKEN_KEY);  // a refused token is not kept
  else if (stored) return true;  // another request's question gave a newer token meanwhile
  if (question) return question;
  // After a Cancel, what was sent before it and every read fail quietly (a grid of thumbnails
  // would ask once each); a write the person makes afterwards asks again.
  if (declined && (round !== answers || method === "GET")) return false;
  return askToken(Boolean(sent));
}

/** Send a request; answer the Response or throw ApiError. json/form become the body; a json body
 *  always says Content-Type: application/json (lenslet reads no JSON that does not). */
export async function request(method, url, {json, form, headers = {}} = {}) {
  for (;;) {
    const sent = new Headers(headers);
    const token = localStorage.getItem(TOKEN_KEY);
    const round = answers;
    if (token) sent.set("Authorization", `Bearer ${token}`);
    let body = form;
    if (json !== undefined) {
      sent.set("Content-Type", "application/json");
      body = JSON.stringify(json);
    }
    let answer;
    try {
      answer = await fetch(url, {method, headers: sent, body});
    } catch (ex) {
      throw new ApiError(0, {description: "the server cannot be reached"});
    }
    if (answer.ok) return answer;
    if (answer.status === 401 && await tokenAgain(method, token, round)) continue;
    throw new ApiError(answer.status, await answer.json().catch(() => null));
  }
}

export async function getJSON(url) {
  return (await request("GET", url)).json();
}

/** POST a JSON body and answer the JSON reply. */
export async function postJSON(url, body) {
  return (await request("POST", url, {json: body})).json();
}

/** True when images must be fetched with the token rather than named in an <img src>. */
export function needsToken() { return Boolean(localStorage.getItem(TOKEN_KEY)); }

/** A URL of a path's original for an <img>: its own address, or, when a token is needed (an <img>
 *  cannot send one), an object URL of the bytes fetched with it, which the caller revokes. */
export async function originalURL(path) {
  const url = `/file?path=${enc(path)}`;
  if (!needsToken()) return url;
  return URL.createObjectURL(await (await request("GET", url)).blob());
}

/** Save a path's original under its name: a plain link, or through fetch when a token is needed. */
export async function downloadOriginal(path) {
  const link = Object.assign(document.createElement("a"), {download: path.split("/").pop()});
  link.href = `/file?path=${enc(path)}`;
  if (needsToken()) link.href = URL.createObjectURL(await (await request("GET", link.href)).blob());
  document.body.append(link);
  link.click();
  link.remove();
  if (link.href.startsWith("blob:")) setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

/** GET an image that lenslet may still be making (202 + Retry-After): its bytes as a Blob. */
async function madeImage(url, isCancelled = () => false) {
  for (let tries = 0; tries < THUMB_TRIES; tries++) {
    const answer = await request("GET", url);
    if (answer.status !== 202) return answer.blob();
    const seconds = Number(answer.headers.get("Retry-After")) || 1;
    await new Promise((resolve) => setTimeout(resolve, Math.min(seconds, 10) * 1000));
    if (isCancelled()) return null;
  }
  throw new ApiError(202, {description: "lenslet is still making it"});
}

// Previews for the viewer: the few around the image shown are kept, so the next one shows at once.
const PREVIEWS_KEPT = 8;
const previews = new Map();  // path -> Promise of an object URL, oldest first

/** An object URL of a path's preview (GET /preview), fetched once while it stays among the kept. */
export function previewURL(path) {
  let found = previews.get(path);
  if (found) {
    previews.delete(path);  // used now: the newest
  } else {
    found = madeImage(`/preview?path=${enc(path)}`).then((blob) => URL.createObjectURL(blob));
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

// Thumbnails: a few at a time, retried while lenslet answers 202 (still being made).
const waiting = [];
let running = 0;

/** Queue a thumbnail for an <img>; answer a function that cancels it (or unloads it when done). */
export function loadThumb(img, path) {
  const job = {img, path, cancelled: false};
  waiting.push(job);
  pump();
  return () => {
    job.cancelled = true;
    if (img.src.startsWith("blob:")) {
      URL.revokeObjectURL(img.src);
      img.removeAttribute("src");
    }
  };
}

function pump() {
  while (running < THUMBS_AT_ONCE && waiting.length) {
    const job = waiting.shift();
    if (job.cancelled) continue;
    running++;
    fetchThumb(job).finally(() => { running--; pump(); });
  }
}

async function fetchThumb(job) {
  let blob;
  try {
    blob = await madeImage(`/thumb?path=${enc(job.path)}`, () => job.cancelled);
  } catch (ex) {
    job.img.closest(".tile")?.classList.add("broken");
    return;
  }
  if (blob && !job.cancelled) job.img.src = URL.createObjectURL(blob);
}
