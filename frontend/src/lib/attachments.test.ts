import { describe, expect, it } from 'vitest';
import { isImage, safeMediaUrl } from './attachments';

describe('safeMediaUrl', () => {
  it('keeps web addresses', () => {
    expect(safeMediaUrl('https://api.twilio.com/Media/ME1')).toBe('https://api.twilio.com/Media/ME1');
    expect(safeMediaUrl('http://127.0.0.1:41234/media/me_1')).toBe('http://127.0.0.1:41234/media/me_1');
  });
  it('refuses everything that could run script, read files or stay relative', () => {
    for (const bad of [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      ' javascript:alert(1)',
      'java\nscript:alert(1)',
      'vbscript:msgbox(1)',
      'data:text/html,<script>alert(1)</script>',
      'data:image/png;base64,AAAA',
      'file:///etc/passwd',
      'blob:https://x.example/1',
      '/media/me_1',
      '//evil.example/x.png',
      'evil.png',
      'https://user:pw@x.example/a',
      'https://x.example\\@evil.example/',
      '',
      null,
      undefined,
    ]) {
      expect(safeMediaUrl(bad), String(bad)).toBeNull();
    }
  });
});

describe('isImage', () => {
  it('shows raster images inline, never SVG', () => {
    expect(isImage('image/png')).toBe(true);
    expect(isImage('image/svg+xml')).toBe(false);
    expect(isImage('application/pdf')).toBe(false);
    expect(isImage(undefined)).toBe(false);
  });
});
