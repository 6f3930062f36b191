// The service guide. The list narrows as the resident types (the search form still works without
// scripts, through ?q=); the material list prints from its button.

import { pageWords, setBoth } from "./page.js";

// The same normalising as the server's catalog_pages.searchable: no spaces, no case.
const plain = (text) => text.replace(/\s+/g, "").toLowerCase();


function narrowAsYouType(root) {
  const { pair, has } = pageWords(root); // key → [the page's language, English or ""]
  const input = document.getElementById("catalog-q");
  const count = document.getElementById("catalog-count");
  const showAll = document.getElementById("catalog-all");
  const items = [...root.querySelectorAll(".catalog-item")];
  const sections = [...root.querySelectorAll(".catalog-dept")];
  const chips = [...root.querySelectorAll(".dept-index li")];

  function narrow() {
    const query = input.value.trim();
    const needle = plain(query);
    let shown = 0;
    for (const item of items) {
      item.hidden = !item.dataset.search.includes(needle);
      if (!item.hidden) shown += 1;
    }
    const emptyDepartments = new Set();
    for (const section of sections) {
      section.hidden = !section.querySelector(".catalog-item:not([hidden])");
      if (section.hidden) emptyDepartments.add(section.dataset.department);
    }
    for (const chip of chips) chip.hidden = emptyDepartments.has(chip.dataset.department);
    const key = !needle ? "count" : shown ? "found" : "none";
    // The "_one" form for one, as the server says it (catalog_pages._counted).
    setBoth(count, pair(shown === 1 && has(`${key}_one`) ? `${key}_one` : key, { n: shown, q: query }));
    if (showAll) showAll.hidden = !needle;
    // The address keeps the search, so a reload or a shared link shows the same list.
    const url = new URL(window.location.href);
    if (query) url.searchParams.set("q", query);
    else url.searchParams.delete("q");
    window.history.replaceState(null, "", url);
  }

  input.addEventListener("input", narrow);
}

const catalog = document.getElementById("catalog");
if (catalog) narrowAsYouType(catalog);
document.getElementById("print-sheet")?.addEventListener("click", () => window.print());
