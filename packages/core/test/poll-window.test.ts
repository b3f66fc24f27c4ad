import { PollWindow } from '../src/poll-window';

// Times in ms as performance.now() gives them; windows in µs as the options take them.
function feed(window: PollWindow, start: number, gapMs: number, count: number): number {
  let now = start;
  for (let i = 0; i < count; i++) {
    now += gapMs;
    window.arrived(now);
  }
  return now;
}

describe('PollWindow', () => {
  test('a sparse stream polls for the base window only', () => {
    const w = new PollWindow(200, 2000);
    const last = feed(w, 0, 5, 100); // one batch every 5 ms
    expect(w.dense).toBe(false);
    expect(w.shouldPoll(last + 0.19)).toBe(true);
    expect(w.shouldPoll(last + 0.21)).toBe(false);
  });

  test('a periodic stream just slower than the base window never becomes dense', () => {
    const w = new PollWindow(200, 2000);
    feed(w, 0, 0.25, 1000);
    expect(w.dense).toBe(false);
  });

  test('a dense stream polls for the busy window, and rides out a cluster of slow replies', () => {
    const w = new PollWindow(200, 2000);
    let now = feed(w, 0, 0.01, 100); // a ping-pong at 10 µs
    expect(w.dense).toBe(true);
    expect(w.shouldPoll(now + 1.9)).toBe(true);
    expect(w.shouldPoll(now + 2.1)).toBe(false);
    now = feed(w, now, 0.5, 5); // five hiccups in a row
    expect(w.dense).toBe(true);
  });

  test('a stream that stops being dense returns to the base window', () => {
    const w = new PollWindow(200, 2000);
    let now = feed(w, 0, 0.01, 100);
    now = feed(w, now, 10, 30);
    expect(w.dense).toBe(false);
    expect(w.shouldPoll(now + 0.3)).toBe(false);
  });

  test('sending restarts the window', () => {
    const w = new PollWindow(200, 2000);
    w.arrived(10);
    expect(w.shouldPoll(11)).toBe(false);
    w.sent(11);
    expect(w.shouldPoll(11.1)).toBe(true);
    w.sent(5); // an older time never moves the window back
    expect(w.shouldPoll(11.1)).toBe(true);
  });

  test('poll 0 never polls; a busy window below the base acts as the base', () => {
    const zero = new PollWindow(0, 2000);
    const end = feed(zero, 0, 0.001, 100);
    expect(zero.shouldPoll(end)).toBe(false);
    const narrow = new PollWindow(500, 100);
    const last = feed(narrow, 0, 0.01, 100);
    expect(narrow.shouldPoll(last + 0.4)).toBe(true);
    expect(narrow.shouldPoll(last + 0.6)).toBe(false);
  });
});
