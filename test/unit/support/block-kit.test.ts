import { checkWebhookBody, checkWebhookPayload } from '../../support/block-kit';

const chars = (n: number, ch = 'x') => ch.repeat(n);
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const plain = (text: string) => ({ type: 'plain_text', text });
const times = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);
const withBlocks = (blocks: unknown[]) => checkWebhookPayload({ text: 'fallback', blocks });

/** Each limit, by Slack's Block Kit reference: a message built with exactly `n` of the thing. */
const LIMITS: [string, number, (n: number) => unknown[]][] = [
  ['blocks in a message', 50, (n) => times(n, () => ({ type: 'divider' }))],
  ['characters of a header', 150, (n) => [{ type: 'header', text: plain(chars(n)) }]],
  ['characters of a section text', 3000, (n) => [{ type: 'section', text: mrkdwn(chars(n)) }]],
  ['fields in a section', 10, (n) => [{ type: 'section', fields: times(n, () => mrkdwn('f')) }]],
  ['characters of a section field', 2000, (n) => [{ type: 'section', fields: [mrkdwn(chars(n))] }]],
  ['elements in a context block', 10, (n) => [{ type: 'context', elements: times(n, () => mrkdwn('c')) }]],
  ['characters of a context text', 3000, (n) => [{ type: 'context', elements: [plain(chars(n))] }]],
  ['characters of a block_id', 255, (n) => [{ type: 'divider', block_id: chars(n) }]],
  // Characters are code points: 150 emoji are 300 UTF-16 units and still fit a header.
  ['emoji of a header', 150, (n) => [{ type: 'header', text: plain(chars(n, '😀')) }]],
];

describe('Block Kit limits', () => {
  it.each(LIMITS)('accepts the most %s Slack allows (%i)', (_, limit, build) => {
    expect(withBlocks(build(limit))).toMatchObject({ ok: true, truncated: false });
  });

  it.each(LIMITS)('refuses one more %s than %i with invalid_blocks', (_, limit, build) => {
    const verdict = withBlocks(build(limit + 1));
    expect(verdict).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(verdict.ok ? [] : verdict.reasons).toEqual([expect.stringContaining(`more than ${limit}`)]);
  });

  it.each<[string, unknown]>([
    ['a mrkdwn header', { type: 'header', text: mrkdwn('Findings') }],
    ['a header without text', { type: 'header' }],
    ['an empty header', { type: 'header', text: plain('') }],
    ['a section with neither text nor fields', { type: 'section' }],
    ['a section with an empty text', { type: 'section', text: mrkdwn('') }],
    ['a section with empty fields and no text', { type: 'section', fields: [] }],
    ['a text object of an unknown type', { type: 'section', text: { type: 'markdown', text: 'x' } }],
    ['a text object without a type', { type: 'section', text: { text: 'x' } }],
    ['a text object whose text is not a string', { type: 'section', text: { type: 'mrkdwn', text: 5 } }],
    ['a text given as a bare string', { type: 'section', text: 'x' }],
    ['an emoji flag that is not a boolean', { type: 'header', text: { ...plain('x'), emoji: 'yes' } }],
    ['a context block without elements', { type: 'context', elements: [] }],
    ['a context image without alt_text', { type: 'context', elements: [{ type: 'image', image_url: 'u' }] }],
    ['a block_id that is not a string', { type: 'divider', block_id: 7 }],
    ['a block without a type', { text: mrkdwn('x') }],
    ['an unknown block type', { type: 'paragraph', text: mrkdwn('x') }],
    ['a block type the stand-in does not model', { type: 'actions', elements: [] }],
    ['a block that is not an object', 'divider'],
  ])('refuses %s with invalid_blocks', (_, block) => {
    const verdict = withBlocks([block]);
    expect(verdict).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(verdict.ok ? [] : verdict.reasons).toEqual([expect.stringMatching(/^\/blocks\/0/)]);
  });

  it.each<[string, unknown]>([
    ['a section with fields only', { type: 'section', fields: [mrkdwn('a'), plain('b')] }],
    ['a section with an accessory', { type: 'section', text: mrkdwn('x'), accessory: { type: 'button' } }],
    ['a plain_text header with emoji', { type: 'header', text: { ...plain('Hi :wave:'), emoji: true } }],
    ['a context image', { type: 'context', elements: [{ type: 'image', image_url: 'u', alt_text: 'a' }] }],
    ['a divider', { type: 'divider', block_id: 'd1' }],
  ])('accepts %s', (_, block) => {
    expect(withBlocks([block])).toMatchObject({ ok: true });
  });

  it('names every broken rule with its path', () => {
    const verdict = withBlocks([
      { type: 'header', text: mrkdwn(chars(151)) },
      { type: 'divider' },
      { type: 'section', text: mrkdwn(chars(3001)) },
    ]);
    expect(verdict.ok ? [] : verdict.reasons).toEqual([
      '/blocks/0/text/type: "mrkdwn", expected plain_text',
      '/blocks/0/text/text: 151 characters, more than 150',
      '/blocks/2/text/text: 3001 characters, more than 3000',
    ]);
  });

  it('refuses blocks that are not an array', () => {
    expect(checkWebhookPayload({ text: 'x', blocks: { type: 'divider' } })).toMatchObject({
      ok: false,
      error: 'invalid_blocks',
    });
  });
});

describe('the top-level text', () => {
  it('is delivered whole up to 40,000 characters', () => {
    const verdict = checkWebhookPayload({ text: chars(40_000) });
    expect(verdict).toMatchObject({ ok: true, truncated: false });
    expect(verdict.ok && (verdict.shown.text as string).length).toBe(40_000);
  });

  it('is delivered cut to 40,000 characters beyond that, not refused', () => {
    const verdict = checkWebhookPayload({ text: chars(40_001), blocks: [{ type: 'divider' }] });
    expect(verdict).toMatchObject({ ok: true, truncated: true });
    expect(verdict.ok && (verdict.shown.text as string).length).toBe(40_000);
    expect(verdict.ok && verdict.shown.blocks).toEqual([{ type: 'divider' }]);
    expect(verdict.ok && (verdict.payload.text as string).length).toBe(40_001);
  });
});

describe('what a webhook needs', () => {
  it.each<[string, unknown]>([
    ['an empty object', {}],
    ['an empty text', { text: '' }],
    ['an empty blocks array', { blocks: [] }],
    ['only other fields', { username: 'credwatch', icon_emoji: ':lock:' }],
  ])('answers no_text to %s', (_, payload) => {
    expect(checkWebhookPayload(payload)).toMatchObject({ ok: false, error: 'no_text' });
  });

  it.each<[string, unknown]>([
    ['a text', { text: 'x' }],
    ['blocks without text', { blocks: [{ type: 'divider' }] }],
    ['legacy attachments', { attachments: [{ fallback: 'x' }] }],
  ])('accepts %s', (_, payload) => {
    expect(checkWebhookPayload(payload)).toMatchObject({ ok: true });
  });

  it.each<[string, string]>([
    ['a body that is not JSON', 'text=hello'],
    ['truncated JSON', '{"text":"x"'],
    ['a JSON array', '[{"text":"x"}]'],
    ['a JSON string', '"hello"'],
    ['JSON null', 'null'],
    ['an empty body', ''],
    ['a text that is not a string', '{"text":42}'],
  ])('answers invalid_payload to %s', (_, body) => {
    expect(checkWebhookBody(body)).toMatchObject({ ok: false, error: 'invalid_payload' });
  });

  it('reads the form encoding Slack also takes (payload=<json>)', () => {
    const body = new URLSearchParams({ payload: JSON.stringify({ text: 'hi' }) }).toString();
    expect(checkWebhookBody(body, 'application/x-www-form-urlencoded')).toMatchObject({
      ok: true,
      payload: { text: 'hi' },
    });
    expect(checkWebhookBody('text=hi', 'application/x-www-form-urlencoded')).toMatchObject({
      ok: false,
      error: 'invalid_payload',
    });
  });
});
