// The service guide. The list narrows as the resident types (the search form still works without
// scripts, through ?q=); the material list prints from its button.

// The same normalising as the server's catalog_pages.searchable: no spaces, no case.
const plain = (text) => text.replace(/\s+/g, "").toLowerCase();

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function setBoth(element, [main, english], values) {
  const first = document.createElement("span");
  first.className = "main";
  first.textContent = fill(main, values);
  element.replaceChildren(first);
  if (english) {
    const second = document.createElement("span");
    second.className = "en";
    second.lang = "en";
    second.textContent = fill(english, values);
    element.append(second);
  }
}

function narrowAsYouType(root) {
  const words = JSON.parse(root.dataset.words); // key → [the page's language, English or ""]
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
    setBoth(count, words[shown === 1 && `${key}_one` in words ? `${key}_one` : key], { n: shown, q: query });
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
