// Small DOM helpers for component tests (happy-dom).
import { flushSync } from 'svelte';

/** $ finds the first element with a data-testid. */
export const $ = <T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document) =>
  root.querySelector<T>(`[data-testid="${id}"]`);

/** $$ finds every element with a data-testid. */
export const $$ = <T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document) => [
  ...root.querySelectorAll<T>(`[data-testid="${id}"]`),
];

/** until flushes Svelte and polls fn until it returns something truthy, or throws after ms. */
export async function until<T>(fn: () => T | null | undefined | false, ms = 2000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    flushSync();
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** type sets a field's value and fires input, as typing does. */
export function type(el: HTMLInputElement | HTMLTextAreaElement, value: string) {
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
}

/** choose picks a select's option by value and fires change. */
export function choose(el: HTMLSelectElement, value: string) {
  el.value = value;
  el.dispatchEvent(new Event('change', { bubbles: true }));
  flushSync();
}

/** key fires a keydown on el (window by default). */
export function key(init: KeyboardEventInit, el: EventTarget = window) {
  const ev = new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...init });
  el.dispatchEvent(ev);
  return ev;
}
