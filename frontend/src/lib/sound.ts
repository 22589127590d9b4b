// A short two-note chime for a new offer, played through WebAudio while the window is visible
// (the Go side raises the OS notification and its sound when it is not).

type AudioContextCtor = new () => AudioContext;

let ctx: AudioContext | null = null;
let enabled = true;

/** setSoundEnabled follows the user's sound setting. */
export function setSoundEnabled(on: boolean): void {
  enabled = on;
}

/** chime plays the offer sound; it does nothing when sound is off, hidden, muted by policy or without WebAudio. */
export function chime(): void {
  if (!enabled || typeof document === 'undefined' || document.visibilityState !== 'visible') return;
  const w = window as unknown as { AudioContext?: AudioContextCtor; webkitAudioContext?: AudioContextCtor };
  const Ctor = w.AudioContext ?? w.webkitAudioContext;
  if (!Ctor) return;
  try {
    ctx ??= new Ctor();
    if (ctx.state === 'suspended') void ctx.resume().catch(() => {});
    const start = ctx.currentTime + 0.01;
    note(ctx, 880, start, 0.12);
    note(ctx, 1320, start + 0.14, 0.18);
  } catch {
    // Sound is a courtesy; the card is what matters.
  }
}

function note(ac: AudioContext, freq: number, at: number, length: number) {
  const osc = ac.createOscillator();
  const gain = ac.createGain();
  osc.type = 'sine';
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.0001, at);
  gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
  osc.connect(gain).connect(ac.destination);
  osc.start(at);
  osc.stop(at + length + 0.02);
}
