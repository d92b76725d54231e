/** Build-time stand-in for `ajv-formats` (see ./ajv.ts): formats for a validator that never runs. */
export default function addFormats<T>(ajv: T): T {
  return ajv;
}
