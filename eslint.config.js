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
  },
  {
    files: ["static/js/tests/**/*.js"],
    languageOptions: { globals: globals.node },
  },
];
