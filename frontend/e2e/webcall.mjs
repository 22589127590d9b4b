// A website visitor calls from the chat widget in headless Chromium, whose
// fake microphone plays a WAV file. Driven by app/softphone's TestWebCall:
//
//   PAGE_URL=http://127.0.0.1:PORT/ FAKE_WAV=tone.wav SHOT=webcall.png node frontend/e2e/webcall.mjs
//
// It opens the widget, starts a call, waits until an agent answers, then
// measures the tones in what the visitor hears (Goertzel over the remote
// stream through WebAudio), prints them as one JSON line, and hangs up.
import { chromium } from 'playwright-core';

const STEP = 30_000;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-audio-capture=${process.env.FAKE_WAV}`, '--autoplay-policy=no-user-gesture-required'],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error('page:', m.text()));
  await page.goto(process.env.PAGE_URL);
  await page.locator('#switchboard-widget .sb-bubble').click();
  await page.locator('#switchboard-widget .sb-prechat input[name=name]').fill('Wendy Web');
  await page.locator('#switchboard-widget .sb-prechat button').click();
  await page.locator('#switchboard-widget .sb-call').click({ timeout: STEP });
  console.log(JSON.stringify({ step: 'calling' }));
  await page.locator('#switchboard-widget .sb-callstate', { hasText: 'On the call' }).waitFor({ timeout: STEP });
  const tones = await page.evaluate(async (freqs) => {
    const audio = document.querySelector('#switchboard-widget').shadowRoot.querySelector('.sb-remote');
    const ctx = new AudioContext();
    await ctx.resume();
    const src = ctx.createMediaStreamSource(audio.srcObject);
    const proc = ctx.createScriptProcessor(4096, 1, 1);
    const samples = [];
    src.connect(proc); proc.connect(ctx.destination);
    await new Promise((ok) => {
      proc.onaudioprocess = (e) => { samples.push(...e.inputBuffer.getChannelData(0)); if (samples.length > ctx.sampleRate * 1.5) ok(); };
    });
    proc.disconnect();
    const frame = Math.round(ctx.sampleRate / 50); // 20 ms, as the Go side judges
    const share = (f) => {
      let hits = 0, frames = 0;
      for (let i = 0; i + frame <= samples.length; i += frame) {
        const coeff = 2 * Math.cos(2 * Math.PI * f / ctx.sampleRate);
        let s1 = 0, s2 = 0, energy = 0;
        for (let j = i; j < i + frame; j++) { const x = samples[j]; energy += x * x; const s0 = x + coeff * s1 - s2; s2 = s1; s1 = s0; }
        const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
        frames++;
        if (energy > 0 && 2 * power / (frame * energy) >= 0.5) hits++;
      }
      return frames ? hits / frames : 0;
    };
    return Object.fromEntries(freqs.map((f) => [f, share(f)]));
  }, [440, 1000]);
  console.log(JSON.stringify({ step: 'heard', tones }));
  if (process.env.SHOT) await page.screenshot({ path: process.env.SHOT });
  await page.locator('#switchboard-widget .sb-hangup').click();
  await page.locator('#switchboard-widget .sb-callbar').waitFor({ state: 'hidden', timeout: STEP });
  console.log(JSON.stringify({ step: 'hung up' }));
} finally {
  await browser.close();
}
