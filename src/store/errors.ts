/** The embedded D1 store failed (not the caller's input: that is checked before). */
export class StoreError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "StoreError";
  }
}
