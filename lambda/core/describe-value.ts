/** How an untrusted value looks in an error message: JSON, shortened to `max` characters. */
export function describeValue(value: unknown, max = 80): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
