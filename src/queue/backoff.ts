/**
 * Retry delays for queued adds. Queues retries a message as soon as it is
 * told to unless given a delay, and has no backoff of its own, so the delay is
 * computed here from the attempt count: base × 2^(attempt − 1), capped, with
 * "equal jitter" (half fixed, half random) so adds that failed together during
 * an outage do not all come back in the same second. MemOS's Retry-After wins
 * when it asks for longer.
 */
import { QUEUE_MAX_DELAY_SECONDS } from "../config";

export interface BackoffOptions {
  baseSeconds: number;
  maxSeconds: number;
}

/** Seconds to wait before delivery `attempts + 1`, after delivery `attempts` (from 1) failed. */
export function retryDelaySeconds(
  attempts: number,
  options: BackoffOptions,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempts, 1) - 1, 30);
  const ceiling = Math.min(options.maxSeconds, options.baseSeconds * 2 ** exponent);
  const jittered = Math.ceil(ceiling / 2 + (random() * ceiling) / 2);
  return Math.min(QUEUE_MAX_DELAY_SECONDS, Math.max(jittered, Math.ceil(retryAfterSeconds ?? 0)));
}
