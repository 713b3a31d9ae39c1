// How the grid is laid out (square tiles, or rows that keep each photo's shape) and how the
// keyboard moves in it; the thumbnail size a tile needs on this screen. The layout is remembered per browser.

const LAYOUT_KEY = "lenslet.layout";
const LAYOUTS = ["squares", "rows"];
// The tallest and widest shapes a tile takes (past them the photo is letterboxed in its tile): a
// panorama of 8:1 is shown whole, alone on its row.
const RATIO_LIMITS = [0.25, 8];

/** The device pixels the long edge of a w x h picture needs to fill its <img> (drawn as its object-fit says:
 *  covering its box, a portrait in a square is as wide as the square; contained, it fits inside) on this screen. */
export function neededEdge(img, w, h) {
  const box = img.getBoundingClientRect();
  if (!(box.width > 0 && box.height > 0)) return 0;
  const fit = getComputedStyle(img).objectFit === "contain" ? Math.min : Math.max;
  return Math.ceil(Math.max(w, h) * fit(box.width / w, box.height / h) * devicePixelRatio);
}

/** The smallest of sizes ([{edge}], smallest first) whose long edge has the pixels needed, or the original's own
 *  (original: its long edge, 0 when unknown: no size is larger than it); else the largest there is. */
export function sizeFor(sizes, needed, original = 0) {
  const enough = original > 0 ? Math.min(needed, original) : needed;
  return sizes.find((size) => size.edge >= enough) ?? sizes[sizes.length - 1];
}

/** The width/height a tile keeps for an item ({w, h} as the listing gives them, upright). */
export function ratioOf(item) {
  const ratio = item.w > 0 && item.h > 0 ? item.w / item.h : 1;
  return Math.min(RATIO_LIMITS[1], Math.max(RATIO_LIMITS[0], ratio));
}

export function currentLayout() {
  const stored = localStorage.getItem(LAYOUT_KEY);
  return LAYOUTS.includes(stored) ? stored : "squares";
}

/** The grid's layout: the one chosen before in this browser, changed by its buttons, and the
 *  photos' rows fitted again when the grid's width changes. */
export class GridLayout {
  /** grid: the grid element; buttons: {squares, rows}, the buttons that choose a layout. */
  constructor(grid, buttons) {
    this.grid = grid;
    this.buttons = buttons;
    for (const name of LAYOUTS) {
      buttons[name].addEventListener("click", () => {
        localStorage.setItem(LAYOUT_KEY, name);
        this.apply(name);
      });
    }
    let width = null;
    new ResizeObserver(() => {
      if (grid.clientWidth !== width) {  // the grid grows taller with every page: only a new width counts
        width = grid.clientWidth;
        this.justify();
      }
    }).observe(grid);
    this.apply(currentLayout());
  }

  apply(layout) {
    this.grid.classList.toggle("justified", layout === "rows");
    for (const name of LAYOUTS) this.buttons[name].setAttribute("aria-pressed", String(name === layout));
    this.justify();
  }

  justify() {
    justify(this.grid);
  }

  tileFrom(tile, key) {
    return tileFrom(this.grid, tile, key);
  }
}

const EDGES = 2;  // px: a tile's left and right borders, which hold no picture

/** In "Rows", give each image tile the width that makes the photos of its row one height and the
 *  row as wide as the grid. Rows are filled in order, each ending where its height comes closest to
 *  --row (with the photo that overflows, the row shrinks; without it, it grows); the last row (of the
 *  grid, or before a heading) keeps --row. Called after tiles are added, and when the layout or the grid's width changes. */
export function justify(grid) {
  const tiles = grid.querySelectorAll(".tile.image");
  if (!grid.classList.contains("justified")) {
    for (const tile of tiles) tile.style.removeProperty("width");
    return;
  }
  const style = getComputedStyle(grid);
  const width = grid.clientWidth;
  const gap = parseFloat(style.columnGap) || 0;
  const target = parseFloat(style.getPropertyValue("--row")) || 180;
  const ratio = (tile) => parseFloat(tile.style.getPropertyValue("--ratio")) || 1;
  // The height at which photos of these ratios fill the row exactly.
  const filling = (count, sum) => (width - count * EDGES - (count - 1) * gap) / sum;
  const place = (row, height) => {
    // Rounded down to 1/100 px: a row never overflows (and wraps) by a rounding error.
    for (const tile of row) tile.style.width = `${Math.floor((ratio(tile) * height + EDGES) * 100) / 100}px`;
  };
  let row = [];
  let sum = 0;
  // A heading across the grid (the timeline's month or day) ends a row: its last row keeps --row.
  const groupEnds = () => {
    if (row.length) place(row, Math.min(target, filling(row.length, sum)));
    row = [];
    sum = 0;
  };
  for (const tile of grid.children) {
    if (tile.classList.contains("group-heading")) groupEnds();
    if (!tile.matches(".tile.image")) continue;
    row.push(tile);
    sum += ratio(tile);
    if (sum * target + row.length * EDGES + (row.length - 1) * gap < width) continue;
    const withIt = filling(row.length, sum);
    const without = row.length > 1 ? filling(row.length - 1, sum - ratio(tile)) : Infinity;
    if (Math.abs(withIt - target) <= Math.abs(without - target)) {
      place(row, withIt);
      row = [];
      sum = 0;
    } else {
      place(row.slice(0, -1), without);
      row = [tile];
      sum = ratio(tile);
    }
  }
  groupEnds();
}

/** The one focusable element of a tile (its only Tab stop). */
export const focusOf = (tile) => (tile.classList.contains("folder") ? tile : tile.querySelector(".open"));

/** The tile a grid key moves to from tile (in reading order, or by position for up and down), or null. */
export function tileFrom(grid, tile, key) {
  const tiles = [...grid.children].filter((node) => node.classList.contains("tile"));
  const at = tiles.indexOf(tile);
  if (key === "ArrowLeft") return tiles[at - 1] || null;
  if (key === "ArrowRight") return tiles[at + 1] || null;
  if (key === "Home") return tiles[0] || null;
  if (key === "End") return tiles[tiles.length - 1] || null;
  if (key !== "ArrowDown" && key !== "ArrowUp") return null;
  // Up and down: the nearest tile by its middle in the row above or below, whatever the layout.
  const here = tile.getBoundingClientRect();
  const middle = here.left + here.width / 2;
  const down = key === "ArrowDown";
  const candidates = (down ? tiles.slice(at + 1) : tiles.slice(0, at).reverse())
    .map((other) => [other, other.getBoundingClientRect()])
    .filter(([, box]) => (down ? box.top >= here.bottom - 1 : box.bottom <= here.top + 1));
  if (!candidates.length) return null;
  const rowTop = candidates[0][1].top;
  const row = candidates.filter(([, box]) => Math.abs(box.top - rowTop) < 2);
  const distance = ([, box]) => Math.abs(box.left + box.width / 2 - middle);
  return row.reduce((best, next) => (distance(next) < distance(best) ? next : best))[0];
}
