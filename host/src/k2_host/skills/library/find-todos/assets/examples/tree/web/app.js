import { render } from "./render.js";

// TODO(carol): debounce the search box
export function onSearch(query) {
  /* FIXME: the API returns 500 for queries with a "%" in them */
  return fetch(`/api/search?q=${encodeURIComponent(query)}`).then((r) => r.json());
}

export function start() {
  render(document.body); // BUG: renders twice on hot reload
}
