// Finding a part's elements inside its own root: no part of the page reaches into another's.

/** Find one element of a part of the page inside its root; a missing one is a mistake in
 *  index.html, said at once rather than as a click that does nothing. */
export function partOf(root, selector) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`the page has no ${selector} inside ${root.id || root.tagName}`);
  return found;
}

/** The credit GeoNames' licence (CC BY 4.0) asks for wherever lenslet shows its place names. */
export function placesCredit() {
  const credit = Object.assign(document.createElement("small"), {className: "places-credit"});
  const link = (href, textContent) => Object.assign(document.createElement("a"), {href, textContent,
    target: "_blank", rel: "noopener noreferrer"});
  credit.append("Place names: ", link("https://www.geonames.org/", "GeoNames"), " (geonames.org), ",
    link("https://creativecommons.org/licenses/by/4.0/", "CC BY 4.0"));
  return credit;
}
