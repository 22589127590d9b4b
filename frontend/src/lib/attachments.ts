// What the conversation view may do with an attachment's URL. Attachments
// come from customers and platforms, so only a web address becomes a link or
// an image; anything else (javascript:, data:, file:, relative paths…) is
// shown as a plain file name. The Go side already resolves the engine's own
// file paths to absolute URLs, and the engine drops unsafe URLs it receives.

/** safeMediaUrl returns url when it is an absolute http: or https: address, else null. */
export function safeMediaUrl(url: string | null | undefined): string | null {
  if (!url || /[\s\\]/.test(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || !parsed.hostname || parsed.username || parsed.password) {
    return null;
  }
  return parsed.href;
}

/** isImage reports whether an attachment may be shown inline as a picture. */
export function isImage(type: string | null | undefined): boolean {
  return !!type && type.startsWith('image/') && type !== 'image/svg+xml';
}
