/**
 * `JSON.stringify(value, null, 2)` in pieces, for documents too large to hold twice (a 50,000-user
 * report's OCSF is 120 MB): the pieces, joined, are exactly the bytes of `JSON.stringify(value,
 * null, 2)` (test/unit/formats/json-chunks.test.ts), but only one element of an array is turned into
 * text at a time, and a {@link LazyJsonArray} builds its elements only as they are written.
 */

/** An array whose elements are made one at a time, as they are written (never all held at once). */
export class LazyJsonArray<T> {
  constructor(readonly items: Iterable<T>) {}
}

const isPlainObject = (v: object): v is Record<string, unknown> => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** What JSON.stringify writes of a value nested at `indent`, or undefined where it writes nothing. */
function nested(value: unknown, indent: string): string | undefined {
  const text = JSON.stringify(value, null, 2) as string | undefined;
  return text === undefined || indent === '' ? text : text.replace(/\n/g, `\n${indent}`);
}

/**
 * The pieces of `JSON.stringify(value, null, 2)`. Arrays, {@link LazyJsonArray}s and plain objects
 * are written element by element (to `depth` levels; deeper values whole); anything else (strings,
 * numbers, `Date`s and other objects with `toJSON`, class instances) as JSON.stringify writes it.
 */
export function* jsonChunks(value: unknown, depth = 3, indent = ''): Generator<string> {
  const inner = `${indent}  `;
  if (value instanceof LazyJsonArray) {
    let first = true;
    for (const item of value.items as Iterable<unknown>) {
      yield first ? `[\n${inner}` : `,\n${inner}`;
      first = false;
      yield* element(item, depth - 1, inner);
    }
    yield first ? '[]' : `\n${indent}]`;
    return;
  }
  if (
    depth <= 0 ||
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    const text = nested(value, indent);
    if (text !== undefined) yield text;
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield '[]';
      return;
    }
    for (let i = 0; i < value.length; i++) {
      yield i === 0 ? `[\n${inner}` : `,\n${inner}`;
      yield* element(value[i], depth - 1, inner);
    }
    yield `\n${indent}]`;
    return;
  }
  if (!isPlainObject(value)) {
    const text = nested(value, indent);
    if (text !== undefined) yield text;
    return;
  }
  let first = true;
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (!writes(v)) continue;
    yield `${first ? '{\n' : ',\n'}${inner}${JSON.stringify(key)}: `;
    first = false;
    yield* jsonChunks(v, depth - 1, inner);
  }
  yield first ? '{}' : `\n${indent}}`;
}

/** An array element: what JSON.stringify leaves out of an object (undefined, a function) is `null` in an array. */
function* element(item: unknown, depth: number, indent: string): Generator<string> {
  if (writes(item)) yield* jsonChunks(item, depth, indent);
  else yield 'null';
}

/** Whether JSON.stringify writes a property of this value (it leaves out undefined, functions and symbols). */
function writes(v: unknown): boolean {
  if (v instanceof LazyJsonArray) return true;
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return false;
  // An object whose toJSON answers undefined is left out too.
  if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    return (v as { toJSON: (key: string) => unknown }).toJSON('') !== undefined;
  }
  return true;
}

/** A JSON document as the formats end it: {@link jsonChunks}, then a newline. */
export function* jsonDocumentChunks(value: unknown, depth: number): Generator<string> {
  yield* jsonChunks(value, depth);
  yield '\n';
}

/** All the pieces as one string (for tests and small documents). */
export function joinChunks(chunks: Iterable<string>): string {
  let text = '';
  for (const chunk of chunks) text += chunk;
  return text;
}
