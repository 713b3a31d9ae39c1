// The "More" menus of a phone-sized screen: a button (.more-toggle, aria-controls naming its .menu)
// opens the rarer actions beneath it; a choice made, a click elsewhere or Escape closes it. On a wider
// screen the buttons are hidden and the menus' actions stand where they are (gallery.css).

/** Wire each .more-toggle found in root (the document) to the menu it controls. */
export function wireMenus(root) {
  const toggles = [...root.querySelectorAll(".more-toggle")];
  const menuOf = (toggle) => root.getElementById(toggle.getAttribute("aria-controls"));
  const shut = (except) => {
    for (const toggle of toggles) {
      if (toggle === except) continue;
      toggle.setAttribute("aria-expanded", "false");
      menuOf(toggle).classList.remove("open");
    }
  };
  for (const toggle of toggles) {
    const menu = menuOf(toggle);
    toggle.addEventListener("click", () => {
      const open = !menu.classList.contains("open");
      shut(toggle);
      menu.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
      if (open) menu.querySelector("button:not([hidden]), a")?.focus();
    });
    // A choice made closes the menu (what it opened, a dialog, takes over).
    menu.addEventListener("click", (event) => { if (event.target.closest("button, a")) shut(); });
  }
  root.addEventListener("click", (event) => {
    if (!event.target.closest(".more-toggle, .menu")) shut();
  });
  root.addEventListener("keydown", (event) => {
    const open = toggles.find((toggle) => toggle.getAttribute("aria-expanded") === "true");
    if (event.key !== "Escape" || !open) return;
    shut();
    open.focus();
    event.preventDefault();  // only the menu closes, not the viewer under it
    event.stopPropagation();
  }, true);
}
