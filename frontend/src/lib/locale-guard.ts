// uPlot formats numbers with Intl.NumberFormat(navigator.language) when it loads. Under a POSIX
// locale (LANG=C) WebKitGTK reports a language tag Intl refuses, and the chart module fails to
// load; this module, imported before uPlot, makes such a tag read as English.
function usable(tag: string): boolean {
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

if (typeof navigator !== 'undefined' && !usable(navigator.language)) {
  Object.defineProperty(navigator, 'language', { configurable: true, get: () => 'en-US' });
}

export { usable as localeUsable };
