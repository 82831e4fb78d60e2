/**
 * Timers for any duration. setTimeout takes a signed 32-bit delay: from 2^31 ms
 * (about 24.8 days) on it fires at once. A long timer is a chain of shorter
 * ones, each re-armed for what is left.
 */

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer that can be cleared, whatever its length. */
export interface LongTimer {
  clear(): void;
}

/** Calls `fn` once after `ms` milliseconds (any finite length; Infinity never fires). */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let cleared = false;
  const due = performance.now() + Math.max(0, ms);
  const arm = () => {
    if (cleared || !Number.isFinite(due)) return;
    const left = due - performance.now();
    if (left <= MAX_TIMER_MS) {
      handle = setTimeout(() => {
        if (!cleared) fn();
      }, Math.max(0, Math.ceil(left)));
      return;
    }
    handle = setTimeout(arm, MAX_TIMER_MS);
  };
  arm();
  return {
    clear() {
      cleared = true;
      if (handle !== undefined) clearTimeout(handle);
    },
  };
}

/** Waits `ms` milliseconds, or until `abort` fires; never rejects. */
export function abortableSleep(ms: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (abort.aborted || ms <= 0) return resolve();
    const timer = setLongTimeout(done, ms);
    function done() {
      timer.clear();
      abort.removeEventListener("abort", done);
      resolve();
    }
    abort.addEventListener("abort", done, { once: true });
  });
}
