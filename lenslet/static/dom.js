// Finding a part's elements inside its own root: no part of the page reaches into another's.

/** Find one element of a part of the page inside its root; a missing one is a mistake in
 *  index.html, said at once rather than as a click that does nothing. */
export function partOf(root, selector) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`the page has no ${selector} inside ${root.id || root.tagName}`);
  return found;
}
