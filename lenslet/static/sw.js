// The service worker: keeps the page's own files (never a photo, a thumbnail or an answer of the API)
// so the page starts fast and says so when lenslet cannot be reached, and keeps photos shared to lenslet.
// The server writes the page files' version and names below, so a new release replaces the kept ones.

import {keepShared} from "./inbox.js";

const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const KEPT = `lenslet-page-${VERSION}`;
const OFFLINE = "/static/offline.html";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(KEPT).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== KEPT) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  if (request.method === "POST" && url.pathname === "/share-target") {
    event.respondWith(shared(request));
  } else if (request.mode === "navigate") {
    // The page itself from the server (it says who may see what); this answer only when it cannot be reached.
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
  } else if (request.method === "GET" && SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((kept) => kept || fetch(request)));
  }
});

/** Keep the photos and videos of a share for the page, which shows them to send or discard. */
async function shared(request) {
  if (anotherSite(request)) {
    return Response.json({title: "Forbidden", description: "a share from another site is refused: photos are shared " +
      "to lenslet from the device's share sheet"}, {status: 403});
  }
  try {
    const form = await request.formData();
    if (!await keepShared(form.getAll("media").filter((value) => value instanceof File))) {
      return Response.redirect("/?shared=too-much", 303);
    }
  } catch (ex) {
    return Response.redirect("/?shared=unreadable", 303);
  }
  return Response.redirect("/?shared=1", 303);
}

/** Tell another site's form: a share from the share sheet is a whole-window navigation naming no page (no
 *  referrer, Origin absent or null). A form that hides its referrer passes too, so the page asks first. */
function anotherSite(request) {
  const named = [request.headers.get("Origin"), request.referrer].filter((site) => site && site !== "null");
  return request.mode !== "navigate" || request.destination !== "document" ||
    named.some((site) => URL.parse(site)?.origin !== location.origin);
}
