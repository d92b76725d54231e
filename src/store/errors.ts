/** The embedded D1 store failed (not the caller's input: that is checked before). */
export class StoreError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "StoreError";
  }
}

/** A call the embedded store does not serve (a MemOS-only delete filter, say): the caller's to change, a 400. */
export class UnsupportedByStoreError extends Error {
  readonly field: string | undefined;

  constructor(message: string, field?: string) {
    super(message);
    this.name = "UnsupportedByStoreError";
    this.field = field;
  }
}
