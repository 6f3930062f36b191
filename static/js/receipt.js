// The receipt prints from its button: a page without scripts still prints from the browser's menu.
document.getElementById("print-receipt")?.addEventListener("click", () => window.print());
