/** Check-digit algorithms for the identifiers the PII scan must tell apart from random digits. */

const digitsOf = (s: string) => s.replace(/\D/g, '').split('').map(Number);

/** Luhn (ISO/IEC 7812-1): payment card numbers. */
export function luhnValid(number: string): boolean {
  const d = digitsOf(number);
  if (d.length < 2) return false;
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let v = d[d.length - 1 - i];
    if (i % 2 === 1) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return sum % 10 === 0;
}

/**
 * Australian Tax File Number: 9 digits (weights 1,4,3,7,5,8,6,9,10) or the older 8 digits
 * (weights 10,7,8,4,6,3,5,1); valid when the weighted sum is divisible by 11.
 */
export function tfnValid(number: string): boolean {
  const d = digitsOf(number);
  const w = d.length === 9 ? [1, 4, 3, 7, 5, 8, 6, 9, 10] : d.length === 8 ? [10, 7, 8, 4, 6, 3, 5, 1] : null;
  if (!w) return false;
  return d.reduce((s, v, i) => s + v * w[i], 0) % 11 === 0;
}

/**
 * Australian Business Number: 11 digits; subtract 1 from the first digit, weight by
 * 10,1,3,5,7,9,11,13,15,17,19; valid when the sum is divisible by 89 (ATO's published method).
 */
export function abnValid(number: string): boolean {
  const d = digitsOf(number);
  if (d.length !== 11 || d[0] === 0) return false;
  const w = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
  d[0] -= 1;
  return d.reduce((s, v, i) => s + v * w[i], 0) % 89 === 0;
}

/**
 * Medicare card number: 10 digits (an 11th, the individual reference number, may follow).
 * The first digit is 2–6; the 9th is the check digit = (d1·1 + d2·3 + d3·7 + d4·9 + d5·1 +
 * d6·3 + d7·7 + d8·9) mod 10; the 10th (issue number) is 1–9.
 */
export function medicareValid(number: string): boolean {
  const d = digitsOf(number);
  if (d.length !== 10 && d.length !== 11) return false;
  if (d[0] < 2 || d[0] > 6 || d[9] === 0) return false;
  const w = [1, 3, 7, 9, 1, 3, 7, 9];
  return w.reduce((s, wt, i) => s + wt * d[i], 0) % 10 === d[8];
}
