/**
 * What a Slack incoming webhook refuses, checked the way Slack documents it, so that the local Slack
 * receiver answers `invalid_payload`, `no_text` or `invalid_blocks` where Slack would.
 *
 * Limits (checked against Slack's Block Kit reference, docs.slack.dev / api.slack.com):
 * - reference/block-kit/blocks: "up to 50 blocks in each message"; block_id at most 255 characters.
 * - header block: text is a `plain_text` text object of at most 150 characters.
 * - section block: text at most 3000 characters; `fields` at most 10 items of at most 2000
 *   characters each; text "is not required if a valid array of fields objects is provided".
 * - context block: `elements` (image elements and text objects), at most 10.
 * - composition-objects/text-object: `type` is `plain_text` or `mrkdwn`; `text` is required,
 *   "minimum length is 1 and maximum length is 3000 characters".
 * - changelog 2018-04-truncating-really-long-messages: a top-level `text` over 40,000 characters
 *   is truncated "but still posted" (incoming webhooks included), not refused.
 * Slack's webhook answers only the error name, never which limit was broken
 * (slackapi/java-slack-sdk#1017), so the reasons here are for the test's eyes only.
 *
 * Characters are counted as Unicode code points. Block types credwatch does not send are refused
 * as "not modelled" rather than waved through: add their limits here when a test needs them.
 */

/** The limits enforced, by name. */
export const BLOCK_KIT_LIMITS = {
  blocksPerMessage: 50,
  /** Top-level `text`: longer texts are truncated to this, not refused. */
  messageText: 40_000,
  blockId: 255,
  textObjectText: 3000,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  contextElements: 10,
} as const;

/** Block types this module checks. */
const CHECKED = new Set(['header', 'section', 'context', 'divider']);

/** Other Slack block types (reference/block-kit/blocks): real, but their limits are not modelled. */
const NOT_MODELLED = new Set([
  'actions',
  'context_actions',
  'file',
  'image',
  'input',
  'markdown',
  'rich_text',
  'table',
  'video',
]);

export type WebhookRefusal = 'invalid_payload' | 'no_text' | 'invalid_blocks';

export type WebhookVerdict =
  | {
      readonly ok: true;
      /** The payload parsed from the body. */
      readonly payload: Record<string, unknown>;
      /** The payload as a channel shows it: `text` cut to 40,000 characters. */
      readonly shown: Record<string, unknown>;
      readonly truncated: boolean;
    }
  | {
      readonly ok: false;
      /** The name Slack answers with (a key of the Slack fixture). */
      readonly error: WebhookRefusal;
      /** Why, one line per broken rule, each with its JSON path. */
      readonly reasons: readonly string[];
      /** The parsed body, or the raw text when it is not JSON. */
      readonly payload: unknown;
    };

/** Length in Unicode code points. */
export const charCount = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Slack's verdict on a webhook body: JSON (`application/json`), or the form encoding Slack also
 * accepts (`payload=<json>`).
 */
export function checkWebhookBody(body: string, contentType = 'application/json'): WebhookVerdict {
  let json = body;
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    const form = new URLSearchParams(body).get('payload');
    if (form === null) return refuse('invalid_payload', ['the form has no payload field'], body);
    json = form;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    return refuse('invalid_payload', ['the body is not JSON'], body);
  }
  return checkWebhookPayload(payload);
}

/** Slack's verdict on a parsed webhook payload. */
export function checkWebhookPayload(payload: unknown): WebhookVerdict {
  if (!isObject(payload)) return refuse('invalid_payload', ['the payload is not a JSON object'], payload);
  const { text, blocks, attachments } = payload;
  if (text !== undefined && typeof text !== 'string')
    return refuse('invalid_payload', [`/text: a ${typeof text}, not a string`], payload);
  if (blocks !== undefined) {
    const reasons = blockProblems(blocks);
    if (reasons.length > 0) return refuse('invalid_blocks', reasons, payload);
  }
  const hasText = typeof text === 'string' && text.length > 0;
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
  if (!hasText && !hasBlocks && !hasAttachments)
    return refuse('no_text', ['neither a non-empty text nor blocks (nor attachments)'], payload);
  const truncated = typeof text === 'string' && charCount(text) > BLOCK_KIT_LIMITS.messageText;
  const shown = truncated
    ? { ...payload, text: [...text].slice(0, BLOCK_KIT_LIMITS.messageText).join('') }
    : payload;
  return { ok: true, payload, shown, truncated };
}

/** Every broken Block Kit rule in a message's `blocks`, with its path; `[]` when they are valid. */
export function blockProblems(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return ['/blocks: not an array'];
  const problems: string[] = [];
  if (blocks.length > BLOCK_KIT_LIMITS.blocksPerMessage)
    problems.push(`/blocks: ${blocks.length} blocks, more than ${BLOCK_KIT_LIMITS.blocksPerMessage}`);
  blocks.forEach((block, i) => {
    problems.push(...blockErrors(block, `/blocks/${i}`));
  });
  return problems;
}

function blockErrors(block: unknown, at: string): string[] {
  if (!isObject(block)) return [`${at}: not an object`];
  const { type } = block;
  if (typeof type !== 'string') return [`${at}/type: missing`];
  const problems: string[] = [];
  const { block_id: blockId } = block;
  if (blockId !== undefined) {
    if (typeof blockId !== 'string') problems.push(`${at}/block_id: not a string`);
    else if (charCount(blockId) > BLOCK_KIT_LIMITS.blockId)
      problems.push(
        `${at}/block_id: ${charCount(blockId)} characters, more than ${BLOCK_KIT_LIMITS.blockId}`,
      );
  }
  if (!CHECKED.has(type)) {
    problems.push(
      NOT_MODELLED.has(type)
        ? `${at}/type: "${type}" blocks are not modelled by this stand-in (add their limits to test/support/block-kit.ts)`
        : `${at}/type: "${type}" is not a Block Kit block type`,
    );
    return problems;
  }
  switch (type) {
    case 'header':
      problems.push(...textErrors(block.text, `${at}/text`, BLOCK_KIT_LIMITS.headerText, ['plain_text']));
      break;
    case 'section':
      problems.push(...sectionErrors(block, at));
      break;
    case 'context':
      problems.push(...contextErrors(block.elements, `${at}/elements`));
      break;
    // divider: nothing but type and block_id.
  }
  return problems;
}

function sectionErrors(block: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  const { text, fields, accessory } = block;
  if (text !== undefined) problems.push(...textErrors(text, `${at}/text`, BLOCK_KIT_LIMITS.sectionText));
  if (fields !== undefined) {
    if (!Array.isArray(fields)) problems.push(`${at}/fields: not an array`);
    else {
      if (fields.length > BLOCK_KIT_LIMITS.sectionFields)
        problems.push(`${at}/fields: ${fields.length} fields, more than ${BLOCK_KIT_LIMITS.sectionFields}`);
      fields.forEach((field, i) => {
        problems.push(...textErrors(field, `${at}/fields/${i}`, BLOCK_KIT_LIMITS.sectionFieldText));
      });
    }
  }
  if (text === undefined && !(Array.isArray(fields) && fields.length > 0))
    problems.push(`${at}: a section needs text or fields`);
  if (accessory !== undefined && !(isObject(accessory) && typeof accessory.type === 'string'))
    problems.push(`${at}/accessory: not a block element`);
  return problems;
}

function contextErrors(elements: unknown, at: string): string[] {
  if (!Array.isArray(elements)) return [`${at}: not an array`];
  const problems: string[] = [];
  if (elements.length === 0) problems.push(`${at}: empty`);
  if (elements.length > BLOCK_KIT_LIMITS.contextElements)
    problems.push(`${at}: ${elements.length} elements, more than ${BLOCK_KIT_LIMITS.contextElements}`);
  elements.forEach((element, i) => {
    const path = `${at}/${i}`;
    if (isObject(element) && element.type === 'image') {
      const source = typeof element.image_url === 'string' || isObject(element.slack_file);
      if (!source || typeof element.alt_text !== 'string')
        problems.push(`${path}: an image element needs image_url (or slack_file) and alt_text`);
    } else problems.push(...textErrors(element, path, BLOCK_KIT_LIMITS.textObjectText));
  });
  return problems;
}

/** A text object: `plain_text` or `mrkdwn`, 1..`max` characters (and never over 3000). */
function textErrors(
  value: unknown,
  at: string,
  max: number,
  types: readonly string[] = ['plain_text', 'mrkdwn'],
): string[] {
  if (!isObject(value)) return [`${at}: not a text object`];
  const problems: string[] = [];
  if (typeof value.type !== 'string' || !types.includes(value.type))
    problems.push(`${at}/type: ${JSON.stringify(value.type)}, expected ${types.join(' or ')}`);
  if (typeof value.text !== 'string') problems.push(`${at}/text: not a string`);
  else {
    const n = charCount(value.text);
    const limit = Math.min(max, BLOCK_KIT_LIMITS.textObjectText);
    if (n === 0) problems.push(`${at}/text: empty`);
    else if (n > limit) problems.push(`${at}/text: ${n} characters, more than ${limit}`);
  }
  for (const flag of ['emoji', 'verbatim'] as const)
    if (value[flag] !== undefined && typeof value[flag] !== 'boolean')
      problems.push(`${at}/${flag}: not a boolean`);
  return problems;
}

function refuse(error: WebhookRefusal, reasons: readonly string[], payload: unknown): WebhookVerdict {
  return { ok: false, error, reasons, payload };
}
