import { hash } from 'node:crypto';

/** sha256 as lowercase hex. One-shot `crypto.hash` is ~3× faster than createHash for small inputs (measured). */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), 'hex');
}
