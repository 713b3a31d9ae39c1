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

export function setReadonly() {
  if (readonly) return;
  readonly = true;
  readonlyListeners.forEach((callback) => callback());
}

let tokenAsked = null;  // one question per page load, shared by every request that got a 401

function askToken() {
  tokenAsked ??= new Promise((resolve) => {
    const dialog = document.getElementById("token-dialog");
    const input = document.getElementById("token");
    dialog.addEventListener("close", () => {
      const token = dialog.returnValue === "ok" ? input.value.trim() : "";
      if (token) localStorage.setItem(TOKEN_KEY, token);
      resolve(Boolean(token));
    }, {once: true});
    dialog.showModal();
  });
  return tokenAsked;
}

/** Send a request; answer the Response or throw ApiError. json/form become the body. */
export async function request(method, url, {json, form, headers = {}} = {}) {
  for (let attempt = 0; ; attempt++) {
    const sent = new Headers(headers);
    const token = localStorage.getItem(TOKEN_KEY);
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
    if (answer.status === 401) {
      if (attempt === 0 && await askToken()) continue;
      localStorage.removeItem(TOKEN_KEY);  // a refused token is not kept
    }
    const error = await answer.json().catch(() => null);
    if (answer.status === 403 && method !== "GET") setReadonly();
    throw new ApiError(answer.status, error);
  }
}

export async function getJSON(url) {
  return (await request("GET", url)).json();
}

/** True when images must be fetched with the token rather than named in an <img src>. */
export function needsToken() { return Boolean(localStorage.getItem(TOKEN_KEY)); }

/** Load a path's original into an <img>; with a token it goes through fetch (an <img> cannot send one). */
export async function showOriginal(img, path) {
  const url = `/file?path=${enc(path)}`;
  if (!needsToken()) {
    img.src = url;
    return;
  }
  const blob = await (await request("GET", url)).blob();
  if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(blob);
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
  for (let tries = 0; tries < THUMB_TRIES && !job.cancelled; tries++) {
    let answer;
    try {
      answer = await request("GET", `/thumb?path=${enc(job.path)}`);
    } catch (ex) {
      job.img.closest(".tile")?.classList.add("broken");
      return;
    }
    if (answer.status === 202) {
      const seconds = Number(answer.headers.get("Retry-After")) || 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(seconds, 10) * 1000));
      continue;
    }
    const blob = await answer.blob();
    if (!job.cancelled) job.img.src = URL.createObjectURL(blob);
    return;
  }
}
