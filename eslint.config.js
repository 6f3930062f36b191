// ESLint for the browser scripts (static/js): the recommended rules, ES modules, browser globals;
// the node:test files under static/js/tests run in Node instead.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
    },
    rules: {
      // A page's live state (a board folded from events) must never be replaced by a value worked
      // out from a copy read before an await: the events folded meanwhile would be lost. A flag a
      // handler sets before its await and clears after is the one exception, named where it is.
      "require-atomic-updates": ["error", { allowProperties: false }],
    },
  },
  {
    files: ["static/js/tests/**/*.js"],
    languageOptions: { globals: globals.node },
  },
];
